"""What a simulated world is made from: a seed, a scale and a date range (plus a few knobs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from simulator.worktime import DEFAULT_SEED

MERGER_DAY = date(2025, 7, 1)  # two-tier local government: districts end, communes merge


@dataclass(frozen=True)
class WorldConfig:
    seed: int = 7
    dossiers_per_year: int = 2000
    start: date = date(2024, 1, 1)  # first day dossiers are submitted
    end: date = date(2025, 12, 31)  # last day dossiers are submitted (inclusive)
    province_code: str = "H56"  # last group of every MaDinhDanh
    province_name: str = "An Hòa"  # fictional province
    departments: int = 12  # sở (at most the 15 named ones)
    districts: int = 6  # huyện before the merger
    communes_per_district: int = 10  # xã per huyện before the merger (on average)
    merge_group: int = 3  # old communes per new commune (on average)
    procedures: int = 300  # size of the TTHC catalogue
    holidays_csv: Path = field(default=DEFAULT_SEED)
    # moments (aware datetimes) at which one commune's lists hold every case of docs/acting-today.md (§11)
    # (simulator/showcase.py); empty: the world is exactly what the generator makes
    showcase_at: tuple[datetime, ...] = ()

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError(f"WorldConfig: end {self.end} is before start {self.start}")
        if self.dossiers_per_year < 0:
            raise ValueError("WorldConfig: dossiers_per_year must be >= 0")
        if not 1 <= self.departments <= 15:
            raise ValueError("WorldConfig: departments must be 1..15")
        if not 1 <= self.districts <= 60 or not 1 <= self.communes_per_district <= 40:
            raise ValueError("WorldConfig: districts 1..60, communes_per_district 1..40")
        if self.merge_group < 1:
            raise ValueError("WorldConfig: merge_group must be >= 1")
        if any(m.tzinfo is None for m in self.showcase_at):
            raise ValueError("WorldConfig: showcase_at moments need a UTC offset")
        if self.procedures < 30:
            raise ValueError("WorldConfig: procedures must be >= 30 (every field needs some)")

    @property
    def years(self) -> float:
        return ((self.end - self.start).days + 1) / 365.25

    @property
    def total_dossiers(self) -> int:
        return int(round(self.dossiers_per_year * self.years))
