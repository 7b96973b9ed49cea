"""The portal's own 766 scores (POST /api/v1/reporting/evaluation/service-results).

An independent approximation of how the national portal scores a unit, computed from what the
*portal* holds as of its clock: sync records (a dossier that never synced does not exist for it;
units that remap 5/6/8 -> 9 look closed early; the portal learns of an event only when it is
synced), payments, feedback, ratings and the online-service configuration. It follows the max
points of docs/spec/index-766.md (§6) with simple linear scoring, but is deliberately not the project's
section 6a definition (e.g. 1.1/1.2 count calendar days, 3.6 uses the 2.5·r slope, several
supplements do not make a dossier late), so the project's numbers and these differ the way
real ones do. Parents pool the counts of their subtree; nothing is averaged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from simulator import dossiers as D
from simulator.portal.world import CLOSING, PortalWorld
from simulator.timefmt import day_of
from simulator.versions import NEVER
from simulator.worktime import DAY, EPOCH

GROUPS = {
    "CKMB": ("1.1", "1.2", "1.3", "1.4"),
    "TDGQ": ("2.1", "2.2"),
    "CLGQ": ("3.1", "3.2", "3.3"),
    "TTTT": ("3.4", "3.5", "3.6"),
    "MDHL": ("5.1", "5.2", "5.3"),
    "MDSH": ("4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7"),
}
GROUP_MAX = {"CKMB": 18, "TDGQ": 20, "CLGQ": 12, "TTTT": 10, "MDHL": 18, "MDSH": 22}
# metric -> (max points, points from the rate)
SCORING = {
    "1.1": (6, lambda r: 6 * r),
    "1.2": (4, lambda r: 4 * r),
    "1.3": (2, lambda r: 2 * r),
    "1.4": (6, lambda r: 6 * r),
    "2.1": (20, lambda r: 20 * r),
    "2.2": (0, lambda r: 0.0),
    "3.1": (2, lambda r: min(2, 2 * r / 0.8)),
    "3.2": (4, lambda r: 4 * r),
    "3.3": (6, lambda r: min(6, 6 * r / 0.5)),
    "3.4": (6, lambda r: 6 * r),
    "3.5": (2, lambda r: min(2, 2.5 * r)),
    "3.6": (2, lambda r: min(2, 2.5 * r)),
    "4.1": (6, lambda r: 6 * r),
    "4.2": (4, lambda r: 4 * r),
    "4.3": (2, lambda r: 2 * r),
    "4.4": (2, lambda r: min(2, 2 * r / 0.8)),
    "4.5": (4, lambda r: 4 * r),
    "4.6": (2, lambda r: 2 * r),
    "4.7": (2, lambda r: 2 * r),
    "5.1": (6, lambda r: 6 * r),
    "5.2": (6, lambda r: 6 * r),
    "5.3": (6, lambda r: min(6, 6 * r / 0.9)),
}
METRICS = [m for g in GROUPS.values() for m in g]


@dataclass(frozen=True)
class Period:
    time_type: str
    year: int
    number: int | None  # month or quarter
    start: date
    end: date  # exclusive

    @classmethod
    def from_request(cls, body: dict) -> Period:
        """The contract's body -> a period; ValueError with the reason."""
        kind = body.get("timeType")
        year = _int(body, "year", 2000, 2100)
        if kind == "month":
            m = _int(body, "month", 1, 12)
            return cls(kind, year, m, date(year, m, 1), date(year + m // 12, m % 12 + 1, 1))
        if kind == "quarter":
            q = _int(body, "quarter", 1, 4)
            m = 3 * q - 2
            return cls(kind, year, q, date(year, m, 1), date(year + (m + 3) // 13, (m + 2) % 12 + 1, 1))
        if kind == "year":
            return cls(kind, year, None, date(year, 1, 1), date(year + 1, 1, 1))
        raise ValueError(f"timeType must be month, quarter or year, got {kind!r}")


def _int(body: dict, name: str, lo: int, hi: int) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{name} must be an integer {lo}..{hi}, got {value!r}")
    return value


class Tally:
    """Numerator and denominator per bucket (children 0..k-1, the rest of the subtree k)."""

    def __init__(self, buckets: int):
        self.k = buckets
        self.num: dict[str, np.ndarray] = {}
        self.den: dict[str, np.ndarray] = {}

    def count(self, code: str, bucket: np.ndarray, den: np.ndarray, num: np.ndarray, weights=None) -> None:
        ok = bucket >= 0
        self.den[code] = np.bincount(bucket[ok & den], minlength=self.k + 1).astype(float)
        w = None if weights is None else weights[ok & num]
        self.num[code] = np.bincount(bucket[ok & num], weights=w, minlength=self.k + 1).astype(float)

    def na(self, code: str) -> None:
        self.num[code] = np.zeros(self.k + 1)
        self.den[code] = np.zeros(self.k + 1)


def service_results(world, body: dict, clock: int) -> dict:
    """The contract's `data` for a request body, as of `clock` (local seconds)."""
    period = Period.from_request(body)
    root = world.units.by_code.get(body.get("rootDepartmentCode"))
    if root is None:
        raise ValueError(f"unknown rootDepartmentCode {body.get('rootDepartmentCode')!r}")
    units = world.units.units
    children = [
        u
        for u in units
        if u.parent == root.code and u.valid_from < period.end and (u.valid_to is None or u.valid_to >= period.start)
    ]
    bucket = _buckets(world, root, children)
    tally = _tally(world, world.portal, period, clock, root, bucket, len(children))
    overview = {"departmentCode": root.code, "departmentName": root.name}
    overview.update(_scores(tally, slice(None), root.level == "TINH"))
    out_children = []
    for n, u in enumerate(children):
        out_children.append(
            {"departmentCode": u.code, "departmentName": u.name, **_scores(tally, n, u.level == "TINH")}
        )
    out_children.sort(key=lambda c: c["departmentCode"])
    return {"overview": overview, "children": out_children}


def _buckets(world, root, children) -> np.ndarray:
    """Per unit: the child of root whose subtree holds it, len(children) for root itself and
    the rest of its subtree, -1 outside it."""
    by_code = world.units.by_code
    child_no = {u.code: n for n, u in enumerate(children)}
    out = np.full(len(world.units), -1, dtype=np.int64)
    for u in world.units.units:
        node, below = u, None
        while node is not None and node.code != root.code:
            below, node = node, by_code.get(node.parent) if node.parent else None
        if node is not None:
            out[u.index] = child_no.get(below.code, len(children)) if below is not None else len(children)
    return out


def _scores(t: Tally, which, applies_1x: bool) -> dict:
    metrics, groups = [], {}
    for group, codes in GROUPS.items():
        total = 0.0
        for code in codes:
            num, den = float(np.sum(t.num[code][which])), float(np.sum(t.den[code][which]))
            top, points = SCORING[code]
            if code == "2.2":
                score, ratio = 0.0, None
            elif code == "5.3":
                ratio = max(0.0, num / den) if den else None
                score = points(ratio) if den else 0.0
            elif code in ("1.1", "1.2", "1.3") and not applies_1x:
                ratio, score = None, float(top)  # provincial duties: a commune is not penalised
            else:
                ratio = num / den if den else None
                score = points(ratio) if den else float(top)
            total += score
            if code == "5.3":
                num = max(0.0, num)  # late and complaint shares can overlap past the whole
            metrics.append(
                {
                    "code": code,
                    "numerator": round(num, 2) if code == "2.2" else int(num),
                    "denominator": int(den),
                    "ratio": None if ratio is None else round(ratio, 4),
                    "score": round(score, 2),
                    "maxScore": top,
                }
            )
        groups[group] = total
    metrics.sort(key=lambda m: tuple(int(x) for x in m["code"].split(".")))
    return {
        "totalScore": round(sum(groups.values()), 2),
        "totalMaxScore": 100,
        "groupScores": {g: round(v, 2) for g, v in groups.items()},
        "metrics": metrics,
    }


def _tally(world, portal: PortalWorld, period: Period, clock: int, root, bucket: np.ndarray, k: int) -> Tally:
    plan, cal, t = world.plan, world.calendar, world.plan.t
    s = day_of(period.start)
    e = max(s, min(day_of(period.end), clock))  # the portal sees nothing after its clock
    last_day = (e - 1) // DAY if e > s else s // DAY
    tally = Tally(k)

    # -- procedures (1.1-1.3: the province's duty; calendar days here) ------------------------------
    procs = world.catalogue.procedures
    if root.level == "TINH":
        pb = np.array([(p.published - EPOCH).days for p in procs])
        legal = np.array([(p.legal_effective - EPOCH).days for p in procs])
        public = np.array([(p.made_public - EPOCH).days if p.made_public else 10**9 for p in procs])
        complete = np.array([p.complete for p in procs])
        in_period = (pb >= s // DAY) & (pb <= last_day) & (e > s)
        pbucket = np.full(len(procs), k)
        tally.count("1.1", pbucket, in_period, in_period & (legal - pb >= 7))
        tally.count("1.2", pbucket, in_period, in_period & (public - pb <= 7))
        is_public = public <= last_day
        tally.count("1.3", pbucket, is_public, is_public & complete)
    else:
        for code in ("1.1", "1.2", "1.3"):
            tally.na(code)

    # -- dossiers as the portal sees them ------------------------------------------------------------------
    sv = portal.sync
    i = sv.dossier
    db = bucket[sv.unit]
    recv = t[i, D.RECV]
    seen = ~sv.fails & (recv + sv.lag <= clock)
    visible = (sv.slot_time >= 0) & (sv.slot_time + sv.lag[:, None] <= clock)
    closing = visible & np.isin(sv.slot_status, CLOSING)
    ct = np.where(closing, sv.slot_time, NEVER)
    col = ct.argmin(axis=1)
    close = ct[np.arange(len(sv)), col]
    close_status = np.where(close < NEVER, sv.slot_status[np.arange(len(sv)), col], 0)
    received_in = seen & (recv >= s) & (recv < e)

    # 1.4: synced / max(national report, synced); the national report counts every received dossier
    national = (t[:, D.RECV] >= s) & (t[:, D.RECV] < e) & ~((t[:, D.DELETE] >= 0) & (t[:, D.DELETE] < e))
    synced = np.bincount(db[received_in & (db >= 0)], minlength=k + 1).astype(float)
    reported = np.bincount(bucket[plan.unit][national & (bucket[plan.unit] >= 0)], minlength=k + 1).astype(float)
    tally.num["1.4"], tally.den["1.4"] = synced, np.maximum(synced, reported)

    # 2.1 / 2.2
    scope = seen & (recv < e) & ((recv >= s) | (close >= s))
    closed_in = scope & (close >= s) & (close < e)
    due_close = _due_at(plan, i, np.where(close < NEVER, close, e))
    due_end = _due_at(plan, i, np.full(len(sv), e))
    on_time = (closed_in & (close <= due_close)) | (scope & (close >= e) & (due_end >= e))
    tally.count("2.1", db, scope, on_time)
    resolved = closed_in & np.isin(close_status, (9, 10))
    hours = (cal.to_work(np.where(resolved, close, recv)) - cal.to_work(recv)) / 3600.0
    tally.count("2.2", db, resolved, resolved, weights=hours)

    # -- online services, payments (3.x) -----------------------------------------------------------------
    n_proc = len(procs)
    offers = portal.offers
    offered = (offers.valid_from <= last_day) & (offers.valid_to >= last_day)
    ob = bucket[offers.unit]
    pair = offers.unit * n_proc + offers.proc
    svc = portal.services
    svc_valid = (svc.valid_from <= last_day) & (svc.valid_to >= last_day) & (svc.known <= clock)
    svc_pair = svc.unit * n_proc + svc.proc
    published = svc_valid & svc.published
    tally.count("3.1", ob, offered, offered & np.isin(pair, svc_pair[published]))
    online = received_in & (plan.channel[i] == 2)
    online_pairs = (plan.unit[i] * n_proc + plan.proc[i])[online]
    tally.count("3.2", bucket[svc.unit], published, published & np.isin(svc_pair, online_pairs))
    tally.count("3.3", db, received_in, online)

    pay = portal.payments
    success_at_e = (pay.kind == 1) & (pay.v2 < e) & ~((pay.v3 >= 0) & (pay.v3 < e))
    paid = np.zeros(plan.n, dtype=bool)
    paid[pay.dossier[success_at_e]] = True
    with_fee = received_in & (plan.fee[i] > 0)
    tally.count("3.4", db, with_fee, with_fee & paid[i])
    has_fee = np.array([p.has_fee for p in procs])[offers.proc]
    offered_fee = offered & has_fee
    paid_in = success_at_e & (pay.v2 >= s)
    paid_pairs = (plan.unit * n_proc + plan.proc)[pay.dossier[paid_in]]
    tally.count("3.5", ob, offered_fee, offered_fee & np.isin(pair, paid_pairs))
    tally.count("3.6", ob, offered_fee, offered_fee & np.isin(pair, svc_pair[svc_valid & svc.payment]))

    # -- digitization (4.x) --------------------------------------------------------------------------------
    document = np.array([p.document for p in procs])[plan.proc[i]]
    file_at = np.where(t[i, D.ATTACH] >= 0, t[i, D.ATTACH], t[i, D.END])
    has_file = plan.has_file[i] & (file_at >= 0) & (file_at < e)
    doc_resolved = resolved & document
    tally.count("4.1", db, doc_resolved, doc_resolved & has_file)
    resolved_by_e = seen & (close < e) & np.isin(close_status, (9, 10)) & document
    digitized = (plan.comp_digitized[i] != 0) & (~resolved_by_e | has_file)
    tally.count("4.2", db, received_in, received_in & digitized)
    field_ct = np.array([p.field.code == "CT" for p in procs])[plan.proc[i]]
    tally.count("4.3", db, resolved & field_ct, resolved & field_ct & has_file)
    tally.count("4.4", db, received_in, received_in & (plan.reuse_flag[i] | (plan.comp_reused[i] != 0)))
    tally.count("4.5", db, received_in, received_in & (plan.comp_dmqg[i] != 0))
    citizen = received_in & (plan.subject[i] == 1)
    tally.count("4.6", db, citizen, citizen & plan.vneid[i])
    for_citizens = offered & np.array(["CONG_DAN" in p.audience for p in procs])[offers.proc]
    vneid_pairs = (plan.unit[i] * n_proc + plan.proc[i])[citizen & plan.vneid[i]]
    tally.count("4.7", ob, for_citizens, for_citizens & np.isin(pair, vneid_pairs))

    # -- feedback and satisfaction (5.x) ----------------------------------------------------------------------
    fb = portal.feedback
    fbb = bucket[fb.unit] if fb.unit.size else np.zeros(0, np.int64)
    handled = np.where((fb.handled >= 0) & (fb.handled < e), fb.handled, NEVER)
    fb_scope = (fb.received < e) & ((fb.received >= s) | (handled >= s))
    fb_ok = fb_scope & (((handled >= s) & (handled < e) & (handled <= fb.due)) | ((handled >= e) & (fb.due >= e)))
    tally.count("5.1", fbb, fb_scope, fb_ok)
    fb_in = (fb.received >= s) & (fb.received < e)
    rated = (fb.rated >= 0) & (fb.rated < e)
    unhappy = (
        (rated & ((fb.dislikes > fb.likes) | fb.reraised))
        | ((handled < NEVER) & (handled > fb.due))
        | ((handled == NEVER) & (fb.due < e))
    )
    tally.count("5.2", fbb, fb_in, fb_in & ~unhappy)

    rt = portal.ratings
    complaint = np.zeros(plan.n, dtype=bool)
    complaint[rt.dossier[(rt.level == 3) & (rt.rated < e)]] = True
    complaint[fb.dossier[(fb.dossier >= 0) & (fb.received < e)]] = True
    late = scope & ~on_time
    bad = late.astype(np.int64) + (scope & complaint[i])
    den = np.bincount(db[scope & (db >= 0)], minlength=k + 1).astype(float)
    bad_n = np.bincount(db[scope & (db >= 0)], weights=bad[scope & (db >= 0)], minlength=k + 1)
    tally.den["5.3"], tally.num["5.3"] = den, den - bad_n
    return tally


def _due_at(plan, i: np.ndarray, at: np.ndarray) -> np.ndarray:
    """NgayHenTra in force at each time: after the supplements completed by then."""
    done = np.zeros(i.size, dtype=np.int64)
    for slot in D.SUPP_DONE:
        x = plan.t[i, slot]
        done += (x >= 0) & (x <= at)
    return plan.due[i, done]
