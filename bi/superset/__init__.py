"""The Superset dashboards as code.

| module | one job |
|---|---|
| `dashboards.yml` | the spec: database, datasets, charts, dashboards (Vietnamese titles) |
| `bundle.py` | the spec -> Superset's import ZIP (no password inside) |
| `importer.py` | log in to Superset's REST API and import the ZIP, the tthc_bi password in the request |
| `superset_config.py` | Superset's configuration (compose and the live test) |
| `start.sh` | the compose service: migrate, admin, init, serve, import |

bundle.py and importer.py need only the standard library, PyYAML and requests, so Superset's own
Python runs them in its container. docs/dashboards.md says how to use them.
"""
