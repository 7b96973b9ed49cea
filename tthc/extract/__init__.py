"""The standardized monthly extract for the province (contract: province-extract.md, schema 1.0).

write_package renders rows into a versioned, atomic package in the outbox; deliver_package
pushes one package to the province's inbox; pending_deliveries lists what still has to go.
"""
from tthc.extract.delivery import DeliveryResult, deliver_package, delivery_log, pending_deliveries
from tthc.extract.errors import ExtractError
from tthc.extract.package import PackageResult, write_package
from tthc.extract.spec import TABLES, WORKBOOK_NAME

__all__ = ["DeliveryResult", "ExtractError", "PackageResult", "TABLES", "WORKBOOK_NAME", "deliver_package",
           "delivery_log", "pending_deliveries", "write_package"]
