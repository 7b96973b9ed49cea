"""Business-intelligence assets shipped as code (bi/superset: the Superset dashboards)."""
