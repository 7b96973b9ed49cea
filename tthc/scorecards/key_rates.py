"""The key rates of the sub-unit table (key_rates.yml beside this module, or TTHC_KEY_RATES)."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import yaml

from tthc.scorecards.model import KeyRate

DEFAULT = Path(__file__).with_name("key_rates.yml")


class KeyRatesError(ValueError):
    """The key rates file is malformed."""


def load_key_rates(path: str | Path | None = None) -> list[KeyRate]:
    """The key rates in the file's order; thresholds are rates 0..1 with warn_at <= good_at."""
    path = Path(path or os.environ.get("TTHC_KEY_RATES") or DEFAULT)
    try:
        entries = (yaml.safe_load(path.read_text(encoding="utf-8")) or {})["key_rates"]
    except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise KeyRatesError(f"{path}: cannot read the key rates ({exc.__class__.__name__}: {exc})") from exc
    out, seen = [], set()
    for i, entry in enumerate(entries or [], 1):
        try:
            rate = KeyRate(
                metric_code=str(entry["metric_code"]),
                label=str(entry["label"]),
                good_at=Decimal(str(entry["good_at"])),
                warn_at=Decimal(str(entry["warn_at"])),
            )
        except (KeyError, TypeError, ArithmeticError) as exc:
            raise KeyRatesError(f"{path}: entry {i} needs metric_code, label, good_at, warn_at ({exc})") from exc
        if not (Decimal(0) <= rate.warn_at <= rate.good_at <= Decimal(1)):
            raise KeyRatesError(f"{path}: entry {i} ({rate.metric_code}): need 0 <= warn_at <= good_at <= 1")
        if rate.metric_code in seen:
            raise KeyRatesError(f"{path}: metric {rate.metric_code} is listed twice")
        seen.add(rate.metric_code)
        out.append(rate)
    if not out:
        raise KeyRatesError(f"{path}: no key rates")
    return out
