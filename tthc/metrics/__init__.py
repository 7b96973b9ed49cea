"""The 766 metrics in one place: `registry.py` reads the seeds metric_registry and metric_groups
(dbt/seeds), `docs_page.py` writes docs/metrics.md from them."""
