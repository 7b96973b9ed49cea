"""A whole simulated province: units, procedures, offerings, dossiers and their process logs,
each as versioned records that can be read "as of" any time.

    world = World(WorldConfig(seed=7, dossiers_per_year=2000))
    world.records("one_stop", "ho_so", as_of)   # ground truth, exactly as the server serves it
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cached_property

import numpy as np

from simulator import dossiers as D
from simulator import showcase
from simulator.catalogue import Catalogue
from simulator.config import WorldConfig
from simulator.dossier_payload import DossierRenderer
from simulator.faults import FaultConfig, apply_record_fault, record_fault
from simulator.process_log import StepRenderer, build_steps
from simulator.timefmt import day_of, day_stamp, from_aware, stamp
from simulator.units import UnitSet, unit_versions
from simulator.versions import ExplicitRecords, VersionIndex
from simulator.worktime import WorkCalendar

ONE_STOP, DVC_PORTAL = "one_stop", "dvc_portal"
ONE_STOP_ENTITIES = ("don_vi", "thu_tuc", "thu_tuc_don_vi", "ho_so", "qua_trinh_xu_ly")
PORTAL_ENTITIES = ("payments", "sync_status", "feedback", "ratings", "online_services")


def _one_stop_dates(body: dict) -> dict:
    return {k: (day_stamp(v) if isinstance(v, date) else v) for k, v in body.items()}


class World:
    def __init__(self, config: WorldConfig = WorldConfig()):
        self.config = config
        self.calendar = WorkCalendar(config.holidays_csv)
        self.calendar.check_range(config.start - timedelta(days=10), config.end + timedelta(days=200))
        # the catalogue and units exist a while before the first dossier
        self.epoch = day_of(config.start) - 90 * 86400 + 8 * 3600
        self.units = UnitSet(config)
        for u, (_, versions) in zip(self.units.units, unit_versions(self.units, self.epoch)):
            u.versions = versions
        self.catalogue = Catalogue(config, self.units, self.calendar, self.epoch)
        self.plan = D.generate(config, self.units, self.catalogue, self.calendar)
        generated = self.plan.n
        if config.showcase_at:
            self.plan = showcase.extend(self.plan, config, self.units, self.catalogue, self.calendar)
        self.steps = build_steps(self.plan, config.seed, generated)
        self._indexes: dict[tuple[str, str], VersionIndex] = {}

    # -- entity indexes ----------------------------------------------------------------------
    def index(self, source: str, entity: str) -> VersionIndex:
        key = (source, entity)
        if key not in self._indexes:
            builders = {
                (ONE_STOP, "don_vi"): self._don_vi,
                (ONE_STOP, "thu_tuc"): self._thu_tuc,
                (ONE_STOP, "thu_tuc_don_vi"): self._thu_tuc_don_vi,
                (ONE_STOP, "ho_so"): self._ho_so,
                (ONE_STOP, "qua_trinh_xu_ly"): self._qua_trinh_xu_ly,
            }
            if key not in builders:
                if source == DVC_PORTAL and entity in PORTAL_ENTITIES:
                    return self.portal.index(entity)  # built per entity, on first use
                else:
                    raise KeyError(f"unknown entity {source}/{entity}")
            else:
                self._indexes[key] = builders[key]()
        return self._indexes[key]

    def _don_vi(self) -> VersionIndex:
        records = unit_versions(self.units, self.epoch)
        return ExplicitRecords(records, "NgayCapNhat", stamp, _one_stop_dates).index

    def _thu_tuc(self) -> VersionIndex:
        records = [((p.code,), p.versions) for p in self.catalogue.procedures]
        return ExplicitRecords(records, "NgayCapNhat", stamp, _one_stop_dates).index

    def _thu_tuc_don_vi(self) -> VersionIndex:
        records = []
        for o in self.catalogue.offerings:
            body = o.versions[0][1]
            records.append(((body["MaDinhDanh"], body["MaTTHC"], day_stamp(body["HieuLucTu"])), o.versions))
        return ExplicitRecords(records, "NgayCapNhat", stamp, _one_stop_dates).index

    def _ho_so(self) -> VersionIndex:
        plan = self.plan
        render = DossierRenderer(plan, self.units, self.catalogue)
        t = plan.t
        # NgayCapNhat trails the event by a few seconds, differently per dossier and event
        offset = 5 + (plan.personal[:, None] >> np.arange(D.N_SLOTS, dtype=np.uint64)[None, :]) % np.uint64(55)
        ok = t >= 0
        rec = np.broadcast_to(np.arange(plan.n)[:, None], t.shape)[ok]
        times = t[ok] + offset[ok].astype(np.int64)
        return VersionIndex(times, rec, rank_strings(plan.code), render, render.key)

    def _qua_trinh_xu_ly(self) -> VersionIndex:
        s = self.steps
        render = StepRenderer(s, self.plan, self.units, self.catalogue)
        m = len(s)
        offset = 10 + (np.arange(m) * 7919) % 110
        edited = s.edited >= 0
        times = np.concatenate([s.time + offset, s.edited[edited] + offset[edited]])
        recs = np.concatenate([np.arange(m), np.flatnonzero(edited)])
        dossier_rank = rank_strings(self.plan.code)
        key_rank = dossier_rank[s.dossier] * 64 + s.stt
        return VersionIndex(times, recs, key_rank, render, render.key)

    @cached_property
    def portal(self):
        from simulator.portal.world import PortalWorld

        return PortalWorld(self)

    # -- ground truth ---------------------------------------------------------------------------
    def entities(self) -> list[tuple[str, str]]:
        """(source, entity) pairs this world serves."""
        out = [(ONE_STOP, e) for e in ONE_STOP_ENTITIES]
        if self.has_portal:
            out += [(DVC_PORTAL, e) for e in PORTAL_ENTITIES]
        return out

    @property
    def has_portal(self) -> bool:
        try:
            import simulator.portal.world  # noqa: F401
        except ImportError:
            return False
        return True

    def records(self, source: str, entity: str, as_of: datetime, faults: FaultConfig | None = None) -> list[dict]:
        """Every record of the entity existing at `as_of`, as served then, sorted by key.

        With `faults`, rows carry the record faults (malformed, "" dates, padded codes) the
        server would serve under that FaultConfig.
        """
        idx = self.index(source, entity)
        rows = idx.payloads(idx.current(from_aware(as_of)))
        if faults is not None and faults.has_record_faults:
            rows = [apply_record_fault(faults, entity, r) for r in rows]
        return rows

    def keys(self, source: str, entity: str, as_of: datetime) -> list[tuple]:
        idx = self.index(source, entity)
        return [idx.key_of(p) for p in idx.current(from_aware(as_of))]

    def malformed_keys(self, source: str, entity: str, as_of: datetime, faults: FaultConfig) -> dict[tuple, str]:
        """Keys of records existing at `as_of` served malformed under `faults`, with the kind
        (bad_date, unknown_code, missing_key): what a pipeline should quarantine."""
        out = {}
        for key in self.keys(source, entity, as_of):
            fault = record_fault(faults, entity, key)
            if fault and fault.startswith("malformed:"):
                out[key] = fault.split(":", 1)[1]
        return out

    def faulted_keys(self, source: str, entity: str, as_of: datetime, faults: FaultConfig) -> dict[tuple, str]:
        """Every record fault as of `as_of`: key -> malformed:<kind> | empty_dates | padded_codes."""
        out = {}
        for key in self.keys(source, entity, as_of):
            fault = record_fault(faults, entity, key)
            if fault:
                out[key] = fault
        return out

    def counts(self, as_of: datetime) -> dict[str, int]:
        """Records per entity existing at `as_of` (for tests and ground-truth summaries)."""
        t = from_aware(as_of)
        out = {}
        for name in ONE_STOP_ENTITIES:
            out[f"{ONE_STOP}__{name}"] = int(self.index(ONE_STOP, name).window(t).size)
        return out


def rank_strings(values) -> np.ndarray:
    arr = np.asarray(values, dtype=str)
    order = np.argsort(arr, kind="stable")
    out = np.empty(arr.size, dtype=np.int64)
    out[order] = np.arange(arr.size)
    return out
