"""The one error the package writer raises for bad input or a broken outbox."""

from __future__ import annotations


class PackageError(ValueError):
    """Input that would make a package break the delivery contract; nothing was written."""
