"""Turn one received record into a raw row, or into a quarantine row with the reason.

Every field is checked against the source's contract (extractors/contract.py): a record that
passes can be cast by every staging model, and one that does not is quarantined whole, with
the first problem as its reason, never taking a good record of its page with it. Semantic
oddities (unknown procedure codes, a received dossier without a receipt time) pass to the
warehouse, where dbt tests and the quality gate look at them. docs/contract-checks.md has the rules.

What PostgreSQL cannot store is handled here too: a NUL character (U+0000) is removed from
strings (it carries no meaning in text, and jsonb refuses the whole COPY page for it) and a
lone UTF-16 surrogate becomes U+FFFD; in a key field either quarantines the record instead,
and in a code, time or date field the contract check refuses it. The payload is otherwise
stored exactly as received.

Keys: one field's trimmed value as is; a composite key joins its parts with '|' after
escaping '\\' as '\\\\' and '|' as '\\|' in each part, so no two keys differ only by where a
separator falls, and keys whose parts hold neither character are what they always were.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from extractors import contract as C
from extractors.entities import ONE_STOP, Entity
from extractors.timefmt import parse_iso, parse_local


@dataclass(frozen=True)
class RawRow:
    key: str
    updated: datetime
    payload: str  # canonical JSON text of the record as received (text cleaned, see above)
    payload_hash: str


@dataclass(frozen=True)
class Rejected:
    key: str | None
    reason: str
    raw_text: str  # the record as JSON text PostgreSQL's text type accepts (quarantine_text)


def encode_key(parts: list[str] | tuple[str, ...]) -> str:
    """The record key of a business key's parts (see the module docstring)."""
    if len(parts) == 1:
        return parts[0]
    return "|".join(p.replace("\\", "\\\\").replace("|", "\\|") if ("\\" in p or "|" in p) else p for p in parts)


def decode_key(key: str, parts: int) -> list[str]:
    """The parts of a record key (the inverse of encode_key for a key of `parts` fields)."""
    if parts == 1:
        return [key]
    out, current, i = [], [], 0
    while i < len(key):
        ch = key[i]
        if ch == "\\" and i + 1 < len(key):
            current.append(key[i + 1])
            i += 2
            continue
        if ch == "|":
            out.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    out.append("".join(current))
    return out


def canonical_json(value: Any) -> bytes:
    """Sorted-key JSON; the slow exact path only for what orjson cannot write (huge integers)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def quarantine_text(value: Any) -> str:
    """Any decoded record as JSON text that a PostgreSQL text column accepts and json.loads
    gives back unchanged (for replay): NUL and control characters escaped, NaN and Infinity
    kept as written, a lone surrogate escaped as \\uXXXX."""
    try:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=True, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return repr(value)[:100_000].replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: only ASCII escapes can carry them
        text = json.dumps(value, sort_keys=True, ensure_ascii=True, allow_nan=True, separators=(",", ":"))
    return text


def clean_text(value: Any) -> Any:
    """`value` with NUL removed from every string (field names included) and lone surrogates
    replaced by U+FFFD; a new structure (the slow path: only records that need it get here)."""
    t = type(value)
    if t is str:
        if "\x00" in value:
            value = value.replace("\x00", "")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                # UTF-16 round trip: a surrogate pair becomes its character, a lone one U+FFFD
                value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return value
    if t is list:
        return [clean_text(v) for v in value]
    if t is dict:
        return {clean_text(k): clean_text(v) for k, v in value.items()}
    return value


def _storable(text: str) -> bool:
    """No NUL and no lone surrogate: a key PostgreSQL can hold unchanged."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class _Plan:
    """What parse_record needs of one entity, computed once."""

    key: tuple[tuple[str, bool, C.Field], ...]  # (field, is it text, spec)
    updated: str
    local: bool
    checker: C.Checker


_PLANS: dict[str, _Plan] = {}


def _plan(entity: Entity) -> _Plan:
    plan = _PLANS.get(entity.table)
    if plan is None:
        fields = C.fields_of(entity)
        plan = _PLANS[entity.table] = _Plan(
            key=tuple((name, fields[name].kind == C.TEXT, fields[name]) for name in entity.key),
            updated=entity.updated,
            local=entity.source == ONE_STOP,
            checker=C.checker(entity),
        )
    return plan


def _key_part(name: str, spec: C.Field, value: Any) -> tuple[str | None, str | None]:
    """(the key part, None) or (None, why the key field is unusable)."""
    kind = spec.kind
    if kind == C.INTEGER:
        if type(value) is not int:
            return None, f"key field {name} is {C.json_type(value)}, not an integer"
        if not spec.low <= value <= spec.high:
            return None, f"key field {name} {C.shown(value)} is out of range [{spec.low}, {spec.high}]"
        return str(value), None
    if type(value) is not str:
        return None, f"key field {name} is {C.json_type(value)}, not a string"
    part = value.strip()
    if not _storable(part):
        return None, f"key field {name} holds a NUL character or a lone surrogate, which PostgreSQL cannot store"
    return part, None  # a date key part (HieuLucTu, validFrom) is checked with the other fields, under its key


def parse_record(entity: Entity, record: Any) -> RawRow | Rejected:
    if type(record) is not dict:
        return Rejected(None, f"record is {C.json_type(record)}, not an object", quarantine_text(record))
    plan = _PLANS.get(entity.table) or _plan(entity)

    parts = []
    for name, is_text, spec in plan.key:
        value = record.get(name)
        if is_text and type(value) is str:  # the common case, inline
            part = value.strip()
            if part and "\x00" not in part and (part.isascii() or _storable(part)):
                parts.append(part)
                continue
        if value is None or (type(value) is str and not value.strip()):
            return Rejected(None, f"missing key field {name}", quarantine_text(record))
        part, problem = _key_part(name, spec, value)
        if problem:
            return Rejected(None, problem, quarantine_text(record))
        parts.append(part)
    key = parts[0] if len(parts) == 1 else encode_key(parts)

    raw_updated = record.get(plan.updated)
    if type(raw_updated) is not str or not raw_updated.strip():
        return Rejected(key, f"missing {plan.updated}", quarantine_text(record))
    if plan.local:
        valid = C.is_local_time(raw_updated)
    else:
        valid = C.is_iso_time(raw_updated)
    if not valid:
        return Rejected(key, f"{plan.updated} {C.shown(raw_updated)} is not a valid time", quarantine_text(record))
    updated = parse_local(raw_updated) if plan.local else parse_iso(raw_updated)

    problem = plan.checker.problem(record)
    if problem:
        return Rejected(key, problem, quarantine_text(record))

    try:
        payload = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
        if b"\\u0000" in payload:  # a NUL somewhere (or the text "\u0000", which cleaning leaves alone)
            payload = canonical_json(clean_text(record))
    except TypeError:  # a lone surrogate, or an integer past 64 bits in a field the contract does not list
        try:
            payload = canonical_json(clean_text(record))
        except (TypeError, ValueError) as exc:
            return Rejected(key, f"record cannot be stored as JSON: {type(exc).__name__}", quarantine_text(record))
    return RawRow(key, updated, payload.decode(), hashlib.sha256(payload).hexdigest())


def forget_compiled() -> None:
    """Drop the compiled checks, so a change to contract.CONTRACTS in this process takes effect
    (a deployed change needs nothing: a new process compiles the new contract)."""
    _PLANS.clear()
    C.forget_compiled()
