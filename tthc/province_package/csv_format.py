"""A prepared table as contract CSV bytes: UTF-8 with BOM, comma, CRLF, RFC 4180 quoting.

Written by hand rather than with the csv module so that every byte is ours to state:
a field is quoted only when it holds a comma, a double quote, CR or LF, and its quotes doubled.
"""

from __future__ import annotations

from tthc.province_package.tables import PreparedTable
from tthc.province_package.values import to_text

BOM = "\ufeff"
CRLF = "\r\n"
_NEEDS_QUOTES = (",", '"', "\r", "\n")


def quote(field: str) -> str:
    if any(ch in field for ch in _NEEDS_QUOTES):
        return '"' + field.replace('"', '""') + '"'
    return field


def render_csv(table: PreparedTable) -> bytes:
    lines = [",".join(quote(name) for name in table.spec.column_names)]
    lines += [",".join(quote(to_text(value)) for value in row) for row in table.rows]
    return (BOM + CRLF.join(lines) + CRLF).encode("utf-8")
