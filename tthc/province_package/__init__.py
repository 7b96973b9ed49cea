"""The province's monthly package: the marts' month, written as the contract says and delivered.

The contract (docs/spec/contracts/province-extract.md, schema 1.0) calls it the province's
"extract"; in the code it is the package, so that it is never confused with `extractors/`, which
pulls data in.

Its modules and decisions: README.md beside this file.
"""

from tthc.province_package.delivery import DeliveryResult, deliver_package, delivery_log, pending_deliveries
from tthc.province_package.errors import PackageError
from tthc.province_package.package import PackageResult, write_package
from tthc.province_package.spec import TABLES, WORKBOOK_NAME

__all__ = [
    "DeliveryResult",
    "PackageError",
    "PackageResult",
    "TABLES",
    "WORKBOOK_NAME",
    "deliver_package",
    "delivery_log",
    "pending_deliveries",
    "write_package",
]
