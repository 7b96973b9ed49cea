"""What the DVC admin portal holds about the province, derived from the one-stop world.

Payments (INIT -> SUCCESS, FAILED attempts, REFUNDED, CANCELLED), sync status (lags, ERROR
rows, and the 5/6/8 -> 9 status remap some units apply), citizen feedback (PAKN, incl. the 1022
hotline) with deadlines, ratings, and the online-service configuration. Each is a set of
versioned records with ISO 8601 +07:00 timestamps and `updatedAt` as the update field.

The two big entities (payments, sync status: about one record per dossier) are drawn for all
dossiers at once with numpy and rendered only when a page asks for them, as the dossier side
is; the small ones (feedback, ratings, online services) are explicit records. Each entity is
built on first use, so a one-stop-only client never pays for the portal. The arrays behind the
records (`SyncView`, `Feedback`, `Ratings`, `Services`, `Payments`) also feed the portal's own
766 scores (`simulator.portal.scores`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np

from simulator import dossiers as D
from simulator.rand import stream
from simulator.timefmt import iso, iso_date
from simulator.versions import NEVER, ExplicitRecords, VersionIndex

DVC = "dvc_portal"
BANKS = ("VCB", "BIDV", "CTG", "AGRIBANK", "TCB", "MB", "VPB", "ACB")
FEEDBACK_TEXT = (
    "Hồ sơ đã quá hạn nhưng chưa nhận được kết quả",
    "Cán bộ hướng dẫn chưa rõ ràng",
    "Đề nghị cho biết tiến độ giải quyết hồ sơ",
    "Thái độ phục vụ chưa tốt",
    "Phản ánh về thủ tục rườm rà",
)
SYNC_ERROR_TEXT = "Lỗi đồng bộ: thiếu thông tin mã TTHC trên Cổng DVCQG"
# status slots of a dossier plan, in slot order, and the status each sets (-1: the end status)
STATUS_SLOTS = np.array([s for s in range(D.N_SLOTS) if D.SLOT_STATUS[s] != 0])
REMAPPED = (5, 6, 8)  # what remapping units sync as 9
CLOSING = (7, 8, 9, 10)


def _convert(body: dict) -> dict:
    return {k: (iso_date(v) if isinstance(v, date) else v) for k, v in body.items()}


def rank_strings(values) -> np.ndarray:
    arr = np.asarray(values, dtype=str)
    order = np.argsort(arr, kind="stable")
    out = np.empty(arr.size, dtype=np.int64)
    out[order] = np.arange(arr.size)
    return out


# -- sync status ---------------------------------------------------------------------------------------
@dataclass
class SyncView:
    """One sync record per received dossier; a version each time its status changes (+ lag)."""

    dossier: np.ndarray  # plan index of each record's dossier
    unit: np.ndarray
    fails: np.ndarray  # every sync of this dossier fails (ERROR rows): a sync gap
    lag: np.ndarray  # seconds from an event to its sync
    remap: np.ndarray  # the dossier's unit syncs 5/6/8 as 9
    slot_time: np.ndarray  # (n, len(STATUS_SLOTS)) event times, -1 where none (or before reception)
    slot_status: np.ndarray  # status each slot syncs as (after the remap)

    def __len__(self) -> int:
        return int(self.dossier.size)


class SyncRenderer:
    def __init__(self, view: SyncView, plan: D.Plan, unit_codes: list[str]):
        self.v = view
        self.codes = plan.code
        self.unit_codes = unit_codes
        self.dossier = view.dossier.tolist()
        self.unit = view.unit.tolist()
        self.fails = view.fails.tolist()
        self.lag = view.lag.tolist()
        self.times = view.slot_time.tolist()
        self.status = view.slot_status.tolist()
        self.recv = plan.t[view.dossier, D.RECV].tolist()

    def key(self, r: int) -> tuple:
        return (self.codes[self.dossier[r]],)

    def __call__(self, r: int, v: int) -> dict:
        body = {
            "dossierCode": self.codes[self.dossier[r]],
            "departmentCode": self.unit_codes[self.unit[r]],
            "receivedAt": iso(self.recv[r]),
        }
        if self.fails[r]:
            return {
                **body,
                "syncedAt": None,
                "portalStatus": None,
                "syncResult": "ERROR",
                "errorMessage": SYNC_ERROR_TEXT,
                "updatedAt": iso(v),
            }
        # the status of the latest event synced by v (ties: the later slot)
        lag, best, status = self.lag[r], -1, None
        for x, s in zip(self.times[r], self.status[r]):
            if x >= 0 and x + lag <= v and x >= best:
                best, status = x, s
        return {
            **body,
            "syncedAt": iso(v),
            "portalStatus": status,
            "syncResult": "SUCCESS",
            "errorMessage": None,
            "updatedAt": iso(v),
        }


# -- payments --------------------------------------------------------------------------------------------
@dataclass
class Payments:
    """Transactions: kind 0 a failed attempt, 1 the payment, 2 an abandoned (cancelled) attempt."""

    dossier: np.ndarray
    kind: np.ndarray
    suffix: np.ndarray
    v1: np.ndarray  # created (INIT)
    v2: np.ndarray  # FAILED / SUCCESS / CANCELLED
    v3: np.ndarray  # REFUNDED, -1 never
    ids: list[str]

    def __len__(self) -> int:
        return int(self.dossier.size)


class PaymentRenderer:
    SECOND = {0: ("FAILED", "51"), 1: ("SUCCESS", "00"), 2: ("CANCELLED", "24")}

    def __init__(self, pay: Payments, plan: D.Plan, unit_codes: list[str], procs):
        self.p = pay
        self.ids = pay.ids
        self.cols = {c: getattr(pay, c).tolist() for c in ("dossier", "kind", "v1", "v2", "v3")}
        self.codes = plan.code
        self.unit = plan.unit.tolist()
        self.proc = plan.proc.tolist()
        self.fee = plan.fee.tolist()
        self.pay_value = plan.pay_value.tolist()
        self.personal = plan.personal.tolist()
        self.unit_codes = unit_codes
        self.procs = procs

    def key(self, r: int) -> tuple:
        return (self.ids[r],)

    def __call__(self, r: int, v: int) -> dict:
        c = self.cols
        i, kind, created = c["dossier"][r], c["kind"][r], c["v1"][r]
        proc = self.procs[self.proc[i]]
        if v < c["v2"][r]:
            status, result, paid = "INIT", None, None
        elif kind == 1:
            status, result, paid = ("REFUNDED" if 0 <= c["v3"][r] <= v else "SUCCESS"), "00", iso(c["v2"][r])
        else:
            (status, result), paid = self.SECOND[kind], None
        return {
            "transactionId": self.ids[r],
            "dossierCode": self.codes[i],
            "departmentCode": self.unit_codes[self.unit[i]],
            "procedureCode": proc.code,
            "feeCode": "LP01",
            "feeType": "PHI" if proc.fee_kind == 1 else "LE_PHI",
            "amount": self.fee[i],
            "channel": "PAYGOV" if self.pay_value[i] == 1 else "LOCAL_GATEWAY",
            "bankCode": BANKS[self.personal[i] % len(BANKS)],
            "status": status,
            "resultCode": result,
            "createdAt": iso(created),
            "paidAt": paid,
            "updatedAt": iso(v),
        }


# -- small entities as arrays (for the scores) ---------------------------------------------------------------
@dataclass
class Feedback:
    unit: np.ndarray
    dossier: np.ndarray  # plan index, -1 when not linked to a dossier
    received: np.ndarray
    due: np.ndarray
    handled: np.ndarray  # -1 never
    rated: np.ndarray  # when likes/dislikes/reraised are known, -1 never
    likes: np.ndarray
    dislikes: np.ndarray
    reraised: np.ndarray


@dataclass
class Ratings:
    unit: np.ndarray
    dossier: np.ndarray
    level: np.ndarray
    rated: np.ndarray


@dataclass
class Services:
    """Online services (offerings at a level above KHONG) as the portal configures them."""

    unit: np.ndarray
    proc: np.ndarray
    valid_from: np.ndarray  # day numbers
    valid_to: np.ndarray  # day numbers, NEVER when open-ended
    published: np.ndarray
    payment: np.ndarray
    known: np.ndarray  # time the portal first holds the row


class PortalWorld:
    def __init__(self, world):
        self.world = world
        self.plan = world.plan
        self.cal = world.calendar
        rng = stream(world.config.seed, "portal")
        n_units = len(world.units)
        # per unit: sync lag (seconds), share of dossiers failing to sync, whether it remaps 5/6/8 -> 9
        self.sync_lag = rng.integers(60, 3 * 86400, n_units)
        self.sync_error = rng.uniform(0.0, 0.06, n_units)
        self.remaps = rng.random(n_units) < 0.25
        self.feedback_rate = rng.uniform(0.002, 0.02, n_units)
        self.rating_rate = rng.uniform(0.02, 0.25, n_units)
        self.dislike_rate = rng.uniform(0.0, 0.15, n_units)
        # a third of the units sync cleanly: no sync gaps at all
        self.sync_error = np.where(rng.random(n_units) < 0.35, 0.0, self.sync_error)
        self.unit_codes = [u.code for u in world.units.units]
        self._lock = threading.Lock()
        self._indexes: dict[str, VersionIndex] = {}

    def index(self, entity: str) -> VersionIndex:
        with self._lock:  # server threads may ask at once; build each entity once
            if entity not in self._indexes:
                build = {
                    "payments": self._payments_index,
                    "sync_status": self._sync_index,
                    "feedback": self._feedback_index,
                    "ratings": self._ratings_index,
                    "online_services": self._services_index,
                }[entity]
                self._indexes[entity] = build()
            return self._indexes[entity]

    @cached_property
    def offers(self) -> Offers:
        return offers_of(self.world)

    def indexes(self) -> dict[tuple[str, str], VersionIndex]:
        return {(DVC, e): self.index(e) for e in ("payments", "sync_status", "feedback", "ratings", "online_services")}

    # -- payments ------------------------------------------------------------------------------------------
    @cached_property
    def payments(self) -> Payments:
        plan = self.plan
        rng = stream(self.world.config.seed, "portal-payments")
        P = np.flatnonzero(plan.pay_slot >= 0)
        m = P.size
        paid_at = plan.t[P, plan.pay_slot[P]]
        failed_first = rng.random(m) < 0.15
        fail_created = paid_at - rng.integers(600, 3600, m)
        created = paid_at - rng.integers(30, 300, m)
        refunded = (plan.path[P] == D.REFUSED) | (rng.random(m) < 0.02)  # refused at intake, or paid twice
        refund_at = paid_at + rng.integers(3 * 86400, 20 * 86400, m)
        cancelled = rng.random(m) < 0.02
        main_suffix = failed_first.astype(np.int64)
        f, c = np.flatnonzero(failed_first), np.flatnonzero(cancelled)
        dossier = np.concatenate([P[f], P, P[c]])
        kind = np.concatenate([np.zeros(f.size, np.int64), np.ones(m, np.int64), np.full(c.size, 2)])
        suffix = np.concatenate([np.zeros(f.size, np.int64), main_suffix, main_suffix[c] + 1])
        v1 = np.concatenate([fail_created[f], created, paid_at[c] + 600])
        v2 = np.concatenate([fail_created[f] + 120, paid_at, paid_at[c] + 2400])
        v3 = np.concatenate([np.full(f.size, -1), np.where(refunded, refund_at, -1), np.full(c.size, -1)])
        stripped = {}
        codes = plan.code
        ids = []
        for i, k in zip(dossier.tolist(), suffix.tolist()):
            s = stripped.get(i)
            if s is None:
                s = stripped[i] = "GD" + codes[i].replace(".", "").replace("-", "")
            ids.append(f"{s}{k}")
        return Payments(dossier, kind, suffix, v1, v2, v3, ids)

    def _payments_index(self) -> VersionIndex:
        pay = self.payments
        render = PaymentRenderer(pay, self.plan, self.unit_codes, self.world.catalogue.procedures)
        r = np.arange(len(pay))
        has3 = pay.v3 >= 0
        times = np.concatenate([pay.v1, pay.v2, pay.v3[has3]])
        recs = np.concatenate([r, r, r[has3]])
        return VersionIndex(times, recs, rank_strings(pay.ids), render, render.key)

    # -- sync status ---------------------------------------------------------------------------------------
    @cached_property
    def sync(self) -> SyncView:
        plan = self.plan
        rng = stream(self.world.config.seed, "portal-sync")
        R = np.flatnonzero(plan.t[:, D.RECV] >= 0)
        u = plan.unit[R]
        fails = (rng.random(R.size) < self.sync_error[u]) | plan.never_synced[R]
        lag = (self.sync_lag[u] * rng.uniform(0.5, 1.5, R.size)).astype(np.int64)
        recv = plan.t[R, D.RECV]
        times = plan.t[R][:, STATUS_SLOTS]
        times = np.where(times >= recv[:, None], times, -1)
        raw = np.broadcast_to(D.SLOT_STATUS[STATUS_SLOTS][None, :], times.shape)
        status = np.where(raw == -1, plan.end_status[R][:, None], raw)
        remap = self.remaps[u]
        status = np.where(remap[:, None] & np.isin(status, REMAPPED), 9, status)
        return SyncView(R, u, fails, lag, remap, times, status)

    def _sync_index(self) -> VersionIndex:
        view = self.sync
        render = SyncRenderer(view, self.plan, self.unit_codes)
        ok = view.slot_time >= 0
        rec = np.broadcast_to(np.arange(len(view))[:, None], ok.shape)[ok]
        times = (view.slot_time + view.lag[:, None])[ok]
        return VersionIndex(times, rec, rank_strings(self.plan.code[view.dossier]), render, render.key)

    # -- feedback and ratings ---------------------------------------------------------------------------------
    @cached_property
    def _feedback_build(self) -> tuple[list, Feedback]:
        plan, units, cal = self.plan, self.world.units.units, self.cal
        rng = stream(self.world.config.seed, "portal-feedback")
        records, cols = [], {k: [] for k in Feedback.__dataclass_fields__}
        chosen = np.flatnonzero(
            (plan.t[:, D.RECV] >= 0)
            & (rng.random(plan.n) < self.feedback_rate[plan.unit] * np.where(plan.t[:, D.END] < 0, 3, 1))
        )
        for n, i in enumerate(chosen):
            u = int(plan.unit[i])
            received = int(plan.t[i, D.RECV]) + int(rng.integers(2 * 86400, 20 * 86400))
            due = int(cal.add_work(received, 10 * cal.day_seconds))
            channel = ("PORTAL", "HOTLINE_1022", "OTHER")[int(rng.choice(3, p=[0.55, 0.35, 0.10]))]
            fid = f"PAKN{self.world.config.seed:02d}{n:07d}"
            linked = rng.random() < 0.85
            base = {
                "feedbackId": fid,
                "departmentCode": units[u].code,
                "dossierCode": plan.code[i] if linked else None,
                "channel": channel,
                "category": "PROCEDURE" if rng.random() < 0.7 else "STAFF",
                "content": FEEDBACK_TEXT[int(rng.integers(len(FEEDBACK_TEXT)))],
                "receivedAt": iso(received),
                "dueAt": iso(due),
                "handledAt": None,
                "likes": 0,
                "dislikes": 0,
                "reraised": False,
            }
            versions = [(received, {**base, "status": "RECEIVED"})]
            processing = received + int(rng.integers(3600, 2 * 86400))
            versions.append((processing, {**base, "status": "PROCESSING"}))
            handled = rated = -1
            likes = dislikes = 0
            reraised = False
            if rng.random() < 0.9:
                late = rng.random() < 0.2
                handled = (
                    int(cal.add_work(due, int(rng.integers(3600, 5 * cal.day_seconds))))
                    if late
                    else int(rng.integers(processing + 600, max(processing + 1200, due)))
                )
                handled = max(handled, processing + 600)
                status = "HANDLED" if rng.random() < 0.85 else "REJECTED"
                done = {**base, "status": status, "handledAt": iso(handled)}
                versions.append((handled, done))
                likes, dislikes = int(rng.integers(0, 5)), int(rng.integers(0, 3 if not late else 6))
                rated = handled + int(rng.integers(86400, 10 * 86400))
                reraised = bool(rng.random() < 0.05)
                versions.append((rated, {**done, "likes": likes, "dislikes": dislikes, "reraised": reraised}))
            records.append(((fid,), versions))
            for k, x in zip(
                Feedback.__dataclass_fields__,
                (u, int(i) if linked else -1, received, due, handled, rated, likes, dislikes, reraised),
            ):
                cols[k].append(x)
        return records, Feedback(
            **{k: np.array(v, dtype=bool if k == "reraised" else np.int64) for k, v in cols.items()}
        )

    @property
    def feedback(self) -> Feedback:
        return self._feedback_build[1]

    def _feedback_index(self) -> VersionIndex:
        return ExplicitRecords(self._feedback_build[0], "updatedAt", iso, _convert).index

    @cached_property
    def _ratings_build(self) -> tuple[list, Ratings]:
        plan, units = self.plan, self.world.units.units
        rng = stream(self.world.config.seed, "portal-ratings")
        records = []
        ret = plan.t[:, D.RETURN]
        chosen = np.flatnonzero((ret >= 0) & (rng.random(plan.n) < self.rating_rate[plan.unit]))
        levels, rated_at = [], []
        for n, i in enumerate(chosen):
            u = int(plan.unit[i])
            rated = int(ret[i]) + int(rng.integers(600, 5 * 86400))
            late = int(plan.t[i, D.END]) > int(plan.due[i, 3])
            p3 = min(0.9, self.dislike_rate[u] + (0.4 if late else 0.0))
            level = 3 if rng.random() < p3 else (1 if rng.random() < 0.6 else 2)
            rid = f"DG{self.world.config.seed:02d}{n:07d}"
            records.append(
                (
                    (rid,),
                    [
                        (
                            rated,
                            {
                                "ratingId": rid,
                                "dossierCode": plan.code[i],
                                "departmentCode": units[u].code,
                                "level": level,
                                "ratedAt": iso(rated),
                            },
                        )
                    ],
                )
            )
            levels.append(level)
            rated_at.append(rated)
        return records, Ratings(plan.unit[chosen], chosen, np.array(levels, np.int64), np.array(rated_at, np.int64))

    @property
    def ratings(self) -> Ratings:
        return self._ratings_build[1]

    def _ratings_index(self) -> VersionIndex:
        return ExplicitRecords(self._ratings_build[0], "updatedAt", iso, _convert).index

    # -- online services ------------------------------------------------------------------------------------
    @cached_property
    def _services_build(self) -> tuple[list, Services]:
        units, procs = self.world.units.units, self.world.catalogue.procedures
        rng = stream(self.world.config.seed, "portal-online-services")
        records, rows = [], []
        for o in self.world.catalogue.offerings:
            if o.level == "KHONG":
                continue
            proc = procs[o.procedure]
            first = o.versions[0][0] + 3600
            body = {
                "departmentCode": units[o.unit].code,
                "procedureCode": proc.code,
                "level": "FULL" if o.level == "TOAN_TRINH" else "PARTIAL",
                "publishedOnPortal": bool(rng.random() < 0.9),
                "paymentIntegrated": bool(proc.has_fee and rng.random() < 0.6),
                "validFrom": o.valid_from,
                "validTo": None,
            }
            versions = [(first, body)]
            if o.valid_to is not None:
                versions.append((max(o.versions[-1][0] + 3600, first + 1), {**body, "validTo": o.valid_to}))
            records.append(((body["departmentCode"], body["procedureCode"], iso_date(o.valid_from)), versions))
            rows.append(
                (
                    o.unit,
                    o.procedure,
                    o.valid_from.toordinal(),
                    o.valid_to.toordinal() if o.valid_to else NEVER,
                    body["publishedOnPortal"],
                    body["paymentIntegrated"],
                    first,
                )
            )
        epoch_ord = date(1970, 1, 1).toordinal()
        a = np.array(rows, dtype=np.int64).reshape(-1, 7)
        to = np.where(a[:, 3] == NEVER, NEVER, a[:, 3] - epoch_ord)
        return records, Services(
            a[:, 0], a[:, 1], a[:, 2] - epoch_ord, to, a[:, 4].astype(bool), a[:, 5].astype(bool), a[:, 6]
        )

    @property
    def services(self) -> Services:
        return self._services_build[1]

    def _services_index(self) -> VersionIndex:
        return ExplicitRecords(self._services_build[0], "updatedAt", iso, _convert).index


@dataclass
class Offers:
    """The catalogue's offerings as arrays: which unit offers which procedure when."""

    unit: np.ndarray
    proc: np.ndarray
    valid_from: np.ndarray  # day numbers
    valid_to: np.ndarray  # day numbers, NEVER when open-ended


def offers_of(world) -> Offers:
    offs = world.catalogue.offerings
    epoch_ord = date(1970, 1, 1).toordinal()
    return Offers(
        np.array([o.unit for o in offs], np.int64),
        np.array([o.procedure for o in offs], np.int64),
        np.array([o.valid_from.toordinal() - epoch_ord for o in offs], np.int64),
        np.array([o.valid_to.toordinal() - epoch_ord if o.valid_to else NEVER for o in offs], np.int64),
    )
