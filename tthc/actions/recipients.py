"""Who receives each unit's daily message: a YAML or CSV file, path in TTHC_ACTION_RECIPIENTS.

Unset (or empty): nobody is messaged; the workbooks are still written. A set path that is
missing or wrong fails loudly, naming the file and line, so a typo never silences the messages.

YAML (docs/action-recipients.example.yml): a mapping of unit code → `email` and/or `webhook`,
each one address or a list of them.

    "000.00.00.H12":
      email: [lanh.dao@example.invalid, mot.cua@example.invalid]
      webhook: https://chat.example.invalid/hooks/T0KEN

CSV (docs/action-recipients.example.csv): header `unit_code,email,webhook`, one recipient or
two per row (either cell may be empty, not both), as many rows per unit as needed.

An address is personal data and a webhook URL often carries a token: neither is logged nor
stored in the warehouse; logs and meta.action_messages name a recipient by `key`, a SHA-256 of
its channel and address.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ENV = "TTHC_ACTION_RECIPIENTS"
EMAIL, WEBHOOK = "email", "webhook"
CHANNELS = (EMAIL, WEBHOOK)
CSV_HEADER = ["unit_code", "email", "webhook"]
_UNIT = re.compile(r"^[0-9A-Za-z.]{1,40}$")
# Deliberately plain: one local part, one domain with a dot; no spaces, commas or angle brackets
# (a header injection or two addresses in one cell would pass a looser pattern).
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


class RecipientsError(ValueError):
    """The recipients file cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Recipient:
    unit_code: str
    channel: str  # email | webhook
    address: str  # never logged: use key / label
    line: int  # where the file names it (for errors about it)

    @property
    def key(self) -> str:
        """Stable, address-free id: what the message log stores and the logs show."""
        address = self.address.lower() if self.channel == EMAIL else self.address
        return hashlib.sha256(f"{self.channel}:{address}".encode()).hexdigest()

    @property
    def label(self) -> str:
        """For logs and reports: the channel, the webhook's host (not its path, which may hold a
        token) and the key's first characters; never an e-mail address."""
        if self.channel == WEBHOOK:
            return f"webhook {urlsplit(self.address).hostname} #{self.key[:10]}"
        return f"e-mail #{self.key[:10]}"

    def __repr__(self) -> str:
        return f"Recipient({self.unit_code}, {self.label})"


def configured_path(path: str | Path | None = None) -> Path | None:
    """The file given, else TTHC_ACTION_RECIPIENTS, else None (nobody is messaged)."""
    if path is not None and str(path).strip():
        return Path(path)
    env = os.environ.get(ENV, "").strip()
    return Path(env) if env else None


def load_recipients(path: str | Path | None = None) -> dict[str, list[Recipient]]:
    """{unit code: its recipients, in file order, each (channel, address) once}; {} when none is configured."""
    file = configured_path(path)
    if file is None:
        return {}
    if not file.is_file():
        raise RecipientsError(f"{file}: the recipients file ({ENV}) does not exist")
    text = file.read_text(encoding="utf-8-sig")
    suffix = file.suffix.lower()
    if suffix in (".yml", ".yaml"):
        found = _from_yaml(text, file)
    elif suffix == ".csv":
        found = _from_csv(text, file)
    else:
        raise RecipientsError(f"{file}: a recipients file is .yml/.yaml or .csv, not {suffix or 'no extension'!r}")
    out: dict[str, list[Recipient]] = {}
    seen: set[tuple[str, str, str]] = set()
    for r in found:
        ident = (r.unit_code, r.channel, r.key)
        if ident not in seen:
            seen.add(ident)
            out.setdefault(r.unit_code, []).append(r)
    return out


def _check(file: Path, line: int, unit: str, channel: str, address: str) -> Recipient:
    where = f"{file} line {line}"
    if not _UNIT.match(unit):
        raise RecipientsError(f"{where}: {unit!r} is not a unit code (MaDinhDanh: letters, digits and dots)")
    address = address.strip()
    if channel == EMAIL and not _EMAIL.match(address):
        raise RecipientsError(f"{where}: unit {unit}: the e-mail address is not valid (one plain address per entry)")
    if channel == WEBHOOK:
        parts = urlsplit(address)
        if parts.scheme not in ("http", "https") or not parts.hostname or re.search(r"\s", address):
            raise RecipientsError(f"{where}: unit {unit}: the webhook is not an http(s) URL with a host")
    return Recipient(unit, channel, address, line)


def _from_csv(text: str, file: Path) -> list[Recipient]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != CSV_HEADER:
        raise RecipientsError(f"{file} line 1: the header must be {','.join(CSV_HEADER)}")
    out = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        if len(row) != 3:
            raise RecipientsError(f"{file} line {line}: expected 3 cells ({','.join(CSV_HEADER)}), got {len(row)}")
        unit, email, webhook = (cell.strip() for cell in row)
        if not email and not webhook:
            raise RecipientsError(f"{file} line {line}: unit {unit}: neither an e-mail nor a webhook")
        out += [
            _check(file, line, unit, channel, value) for channel, value in ((EMAIL, email), (WEBHOOK, webhook)) if value
        ]
    return out


def _from_yaml(text: str, file: Path) -> list[Recipient]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise RecipientsError(f"{file}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        raise RecipientsError(
            f"{file} line {root.start_mark.line + 1}: expected a mapping of unit code → email/webhook"
        )
    out = []
    for key_node, value_node in root.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            raise RecipientsError(f"{file} line {line}: a unit code must be plain text")
        unit = key_node.value.strip()
        if not _UNIT.match(unit):
            raise RecipientsError(
                f"{file} line {line}: {unit!r} is not a unit code (MaDinhDanh: letters, digits and dots)"
            )
        if not isinstance(value_node, yaml.MappingNode) or not value_node.value:
            raise RecipientsError(f"{file} line {line}: unit {unit}: give `email` and/or `webhook` under it")
        for field_node, addresses in value_node.value:
            field_line = field_node.start_mark.line + 1
            field = field_node.value if isinstance(field_node, yaml.ScalarNode) else None
            if field not in CHANNELS:
                raise RecipientsError(
                    f"{file} line {field_line}: unit {unit}: unknown key {field!r} (only {' and '.join(CHANNELS)})"
                )
            items = addresses.value if isinstance(addresses, yaml.SequenceNode) else [addresses]
            if not items:
                raise RecipientsError(f"{file} line {field_line}: unit {unit}: {field} is an empty list")
            for item in items:
                item_line = item.start_mark.line + 1
                if not isinstance(item, yaml.ScalarNode) or not item.value.strip():
                    raise RecipientsError(
                        f"{file} line {item_line}: unit {unit}: {field} must be text (one address, or a list of them)"
                    )
                out.append(_check(file, item_line, unit, field, item.value))
    return out
