"""tthc-warehouse: orchestration, the embedded warehouse, marts publishing and the CLI."""

__version__ = "0.1.0"
