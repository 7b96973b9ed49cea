"""The showcase: a few dossiers that put every case of docs/acting-today.md (§11) on one unit's lists at
chosen moments (`WorldConfig.showcase_at`: the demo's nights and its working-hour refresh).

The generator's own lifecycles produce the cases at realistic rates across the province, but
whether one unit's list holds, say, a dossier due within the hour at 09:00 on one given day is
luck. For each moment T the busiest commune on T's date (U) gets dossiers laid out around T:

    due within the hour, due within H (8 working hours), overdue with and without an apology
    letter, overdue only by the supplements rule (two requests, due time not yet past), waiting
    on the citizen (one request pending), a liên thông step held by a department and overdue
    (U handles the dossier) and one held by U (a department handles it), results ready just
    under and just over R (16 working hours) and not handed back, and, where the current month
    has had the time: resolved without a result file, received more than a day ago and never
    synced, refused / withdrawn / stopped without a written reason.

Each is an ordinary plan row appended after the generated ones, so every entity (dossier
versions, process log, sync records, payments, the portal's scores) derives from it as from any
other and the ground truth stays consistent. Nothing happens to a showcase dossier between T and
T + QUIET: a refresh at T sees the same whether the sources were read at T or the night after.
Without `showcase_at` the world is exactly what the generator makes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date

import numpy as np

from simulator import dossiers as D
from simulator.catalogue import Catalogue
from simulator.rand import stream
from simulator.timefmt import from_aware
from simulator.units import UnitSet
from simulator.worktime import DAY, EPOCH, WorkCalendar

HOUR = 3600
QUIET = 2 * DAY
LIMITS = range(5, 16)  # working-day limits long enough to lay every case out before T
SUBJECT = {"CONG_DAN": 1, "DOANH_NGHIEP": 2, "TO_CHUC": 3}
LEVEL = {"KHONG": 0, "MOT_PHAN": 1, "TOAN_TRINH": 2}


@dataclass
class Row:
    """One showcase dossier before it joins the plan (times in local seconds, -1 none)."""

    unit: int
    proc: int
    level: int
    recv_w: int
    path: int = D.NORMAL
    t: list[int] = field(default_factory=lambda: [D.NONE] * D.N_SLOTS)
    due: list[int] = field(default_factory=lambda: [D.NONE] * 4)
    end_status: int = 9
    partner: int = -1
    lt_send: int = D.NONE
    lt_done: int = D.NONE
    lt_deadline: int = D.NONE
    has_file: bool = True
    reason_missing: int = 0
    never_synced: bool = False


def extend(plan: D.Plan, config, units: UnitSet, cat: Catalogue, cal: WorkCalendar) -> D.Plan:
    """The plan with the showcase dossiers of every moment in config.showcase_at appended."""
    for moment in config.showcase_at:
        if not config.start < moment.date() <= config.end:
            raise ValueError(
                f"showcase moment {moment.isoformat()} is outside the world's dates {config.start}..{config.end}"
            )
    builder = _Builder(config, units, cat, cal)
    rows = [r for moment in config.showcase_at for r in builder.moment(from_aware(moment))]
    return _append(plan, rows, units, cat, stream(config.seed, "showcase"))


class _Builder:
    def __init__(self, config, units: UnitSet, cat: Catalogue, cal: WorkCalendar):
        self.units, self.cat, self.cal = units, cat, cal
        self.offers: dict[tuple[int, int], list] = {}
        for o in cat.offerings:
            self.offers.setdefault((o.unit, o.procedure), []).append(o)
        self.candidates = sorted(
            (p for p in cat.procedures if p.limit_unit == "NGAY_LAM_VIEC" and p.limit in LIMITS),
            key=lambda p: (-p.popularity, p.code),
        )
        self.first_instant = (config.start - EPOCH).days * DAY
        self.turn = 0  # each dossier starts its search one procedure further on: not all one TTHC

    # -- units and procedures -------------------------------------------------------------------
    def showcase_unit(self, day: date) -> int:
        """The busiest commune on that day (a new commune carries its predecessors' weight)."""
        communes = [u for u in self.units.units if u.level == "XA" and u.active_on(day)]
        if not communes:
            raise ValueError(f"showcase: no commune exists on {day}")
        return max(communes, key=lambda u: (self.units.weight[u.index], u.code)).index

    def holder(self, unit: int, t: int) -> int | None:
        """`unit` if it exists at t, else its predecessor that did (a commune after the merger)."""
        day = _day(t)
        u = self.units.units[unit]
        if u.active_on(day):
            return unit
        return next((p for p in u.predecessors if self.units.units[p].active_on(day)), None)

    def pick(self, unit: int, recv_w_of_limit, document: bool | None = None) -> Row:
        """A popular procedure that `unit` (or its predecessor) offered on the day the dossier is
        received, with a limit of LIMITS working days; recv_w_of_limit(limit_w) says when."""
        self.turn += 1
        k = self.turn % len(self.candidates) if self.candidates else 0
        for p in self.candidates[k:] + self.candidates[:k]:
            if document is not None and p.document != document:
                continue
            recv_w = int(recv_w_of_limit(p.limit * self.cal.day_seconds))
            recv = int(self.cal.from_work(recv_w))
            holder = self.holder(unit, recv)
            if holder is None or recv < self.first_instant:
                continue
            offer = next(
                (
                    o
                    for o in self.offers.get((holder, p.index), ())
                    if o.valid_from <= _day(recv) and (o.valid_to is None or _day(recv) <= o.valid_to)
                ),
                None,
            )
            if offer is None:
                continue
            row = Row(holder, p.index, LEVEL[offer.level], recv_w)
            row.t[D.RECV] = recv
            row.t[D.PROC] = self.at(recv_w + HOUR // 2)
            row.due = [int(self.cal.due(recv, p.limit, "NGAY_LAM_VIEC"))] * 4
            return row
        raise ValueError(
            f"showcase: {self.units.units[unit].code} offers no procedure with a limit of "
            f"{LIMITS.start}-{LIMITS.stop - 1} working days around that time"
        )

    def pick_department(self, recv_w_of_limit) -> Row:
        for dep in self.units.departments:
            try:
                return self.pick(dep.index, recv_w_of_limit)
            except ValueError:
                continue
        raise ValueError("showcase: no department offers a procedure with a working-day limit in range")

    def department_for(self, proc: int, not_unit: int) -> int:
        f = self.cat.procedures[proc].field.code
        dep = self.units.field_department.get(f)
        if dep is not None and dep.index != not_unit:
            return dep.index
        return next(d.index for d in self.units.departments if d.index != not_unit)

    def at(self, w: int) -> int:
        return int(self.cal.from_work(w))

    # -- the cases at one moment ----------------------------------------------------------------
    def moment(self, T: int) -> list[Row]:
        cal = self.cal
        wT = int(cal.to_work(T))
        wq = int(cal.to_work(T + QUIET))
        month_start = int((date.fromordinal(EPOCH.toordinal() + T // DAY).replace(day=1) - EPOCH).days) * DAY
        U = self.showcase_unit(_day(T))
        rows: list[Row] = []

        def close_later(row: Row, status: int = 9) -> Row:
            """Processing goes on after the quiet window: ended, then handed back."""
            row.t[D.END] = self.at(wq + 2 * HOUR)
            row.t[D.RETURN] = self.at(wq + 4 * HOUR) if status == 9 else D.NONE
            return row

        # L1: due within the hour, and within H
        for left in (HOUR // 2, 5 * HOUR):
            rows.append(close_later(self.pick(U, lambda lim, left=left: wT + left - lim)))
        # L2: overdue with an apology letter written before the due time, and without one
        late = close_later(self.pick(U, lambda lim: wT - 6 * HOUR - lim))
        late.t[D.APOLOGY] = self.at(wT - 8 * HOUR)
        rows.append(late)
        rows.append(close_later(self.pick(U, lambda lim: wT - 10 * HOUR - lim)))
        # L2 by the supplements rule only: two requests, both completed, the moved due time 3 days ahead
        row = self.pick(U, lambda lim: wT + 24 * HOUR - lim - 16 * HOUR)
        w = row.recv_w + 2 * HOUR
        due_w = int(cal.to_work(row.due[0]))
        for k in range(2):
            row.t[D.SUPP_REQ[k]], row.t[D.SUPP_DONE[k]] = self.at(w), self.at(w + 8 * HOUR)
            due_w += 8 * HOUR
            row.due[k + 1 :] = [self.at(due_w)] * (3 - k)
            w += 10 * HOUR
        rows.append(close_later(row))
        # waiting on the citizen: one request, answered only after the quiet window
        row = self.pick(U, lambda lim: wT - 20 * HOUR)
        req_w = row.recv_w + 3 * HOUR
        row.t[D.SUPP_REQ[0]], row.t[D.SUPP_DONE[0]] = self.at(req_w), self.at(wq + HOUR)
        row.due[1:] = [self.at(int(cal.to_work(row.due[0])) + wq + HOUR - req_w)] * 3
        row.t[D.END], row.t[D.RETURN] = self.at(wq + 5 * HOUR), self.at(wq + 7 * HOUR)
        rows.append(row)
        # L3: a liên thông step overdue, held by a department for U's dossier and by U for a
        # department's dossier. The current step at T is the partner's whether the process log is
        # read at T (the partner finished before T, the next step comes after the quiet window) or
        # later (the partner was still on it at T and finished that day): one dossier of each.
        for partner_is_u in (False, True):
            for finished_before_t in (True, False):
                rows.append(self.lien_thong(U, wT, wq, partner_is_u, finished_before_t))
        # results ready, not handed back: just under and just over R working hours
        for ready in (15 * HOUR, 17 * HOUR):
            row = self.pick(U, lambda lim, ready=ready: wT - ready - 20 * HOUR)
            row.t[D.END], row.t[D.RETURN] = self.at(wT - ready), self.at(wq + 3 * HOUR)
            rows.append(row)
        # the cases of the current month: only where it has had the working time for them
        if self.at(wT - 30 * HOUR) >= month_start:
            row = self.pick(U, lambda lim: wT - 30 * HOUR, document=True)  # L5: resolved, no result file
            row.t[D.END], row.t[D.RETURN], row.has_file = self.at(wT - 20 * HOUR), self.at(wT - 10 * HOUR), False
            rows.append(row)
            row = close_later(self.pick(U, lambda lim: wT - 16 * HOUR))  # L6: never synced
            row.never_synced = True
            if T - row.t[D.RECV] > 25 * HOUR:
                rows.append(row)
            for path, status, recv_h, end_h, missing in ((D.STOPPED, 8, 30, 6, 1), (D.WITHDRAWN, 7, 28, 5, 2)):
                row = self.pick(U, lambda lim, recv_h=recv_h: wT - recv_h * HOUR)  # L7: no written reason
                row.path, row.end_status, row.reason_missing = path, status, missing
                row.t[D.END] = self.at(wT - end_h * HOUR)
                row.has_file = False
                rows.append(row)
            row = self.pick(U, lambda lim: wT - 4 * HOUR)  # L7: refused, no reason
            row.path, row.reason_missing, row.has_file = D.REFUSED, 1, False
            row.t[D.REFUSE], row.t[D.RECV], row.t[D.PROC] = row.t[D.RECV], D.NONE, D.NONE
            row.due = [D.NONE] * 4
            rows.append(row)
        return rows

    def lien_thong(self, U: int, wT: int, wq: int, partner_is_u: bool, finished_before_t: bool) -> Row:
        send, deadline, done, recv = (-12, -8, -4, -16) if finished_before_t else (-12, -4, 2, -16)
        if partner_is_u:
            # a department's dossier whose verification step is U's
            row = self.pick_department(lambda lim: wT + recv * HOUR)
            partner = self.holder(U, self.at(wT + send * HOUR))
        else:
            row = self.pick(U, lambda lim: wT + recv * HOUR)
            partner = self.department_for(row.proc, row.unit)
        row.partner = partner
        row.lt_send, row.lt_deadline, row.lt_done = (self.at(wT + h * HOUR) for h in (send, deadline, done))
        row.t[D.END], row.t[D.RETURN] = self.at(wq + 2 * HOUR), self.at(wq + 4 * HOUR)
        return row


def _day(t: int) -> date:
    return date.fromordinal(EPOCH.toordinal() + int(t) // DAY)


def _append(plan: D.Plan, rows: list[Row], units: UnitSet, cat: Catalogue, rng: np.random.Generator) -> D.Plan:
    if not rows:
        return plan
    k = len(rows)
    first = [r.t[D.RECV] if r.t[D.RECV] >= 0 else r.t[D.REFUSE] for r in rows]
    # daily sequence numbers continue after the generated ones of the same unit and day
    t = plan.t
    plan_first = np.where(
        t[:, D.SUBMIT] >= 0, t[:, D.SUBMIT], np.where(t[:, D.RECV] >= 0, t[:, D.RECV], t[:, D.REFUSE])
    )
    used: dict[tuple[int, int], int] = {}
    for u, d, s in zip(plan.unit.tolist(), (plan_first // DAY).tolist(), plan.seq.tolist()):
        used[(u, d)] = max(used.get((u, d), 0), s)
    seq, codes = [], []
    for r, f in zip(rows, first):
        key = (r.unit, f // DAY)
        used[key] = used.get(key, 0) + 1
        seq.append(used[key])
        x = _day(f)
        codes.append(f"{units.units[r.unit].code}-{x.year % 100:02d}{x.month:02d}{x.day:02d}-{used[key]:04d}")
    procs = [cat.procedures[r.proc] for r in rows]
    new = {
        "unit": [r.unit for r in rows],
        "proc": [r.proc for r in rows],
        "offer_level": [r.level for r in rows],
        "channel": [1] * k,  # received at the desk
        "subject": [SUBJECT[p.audience[0]] for p in procs],
        "path": [r.path for r in rows],
        "t": [r.t for r in rows],
        "due": [r.due for r in rows],
        "end_status": [r.end_status for r in rows],
        "lien_thong": [r.partner >= 0 for r in rows],
        "partner": [r.partner for r in rows],
        "lt_send": [r.lt_send for r in rows],
        "lt_done": [r.lt_done for r in rows],
        "lt_deadline": [r.lt_deadline for r in rows],
        "has_file": [r.has_file for r in rows],
        "fee": [p.fee_amount if p.has_fee else -1 for p in procs],
        "pay_slot": [-1] * k,
        "pay_value": [1] * k,  # fees paid at the desk
        "vneid": [False] * k,
        "n_comp": [2] * k,
        "comp_digitized": [1] * k,
        "comp_reused": [0] * k,
        "comp_dmqg": [0] * k,
        "reuse_flag": [False] * k,
        "personal": rng.integers(0, 2**63 - 1, k, dtype=np.int64).astype(np.uint64),
        "seq": seq,
        "code": np.array(codes, dtype=object),
        "reason_missing": [r.reason_missing for r in rows],
        "never_synced": [r.never_synced for r in rows],
    }
    columns = {}
    for f in fields(D.Plan):
        if f.name == "n":
            continue
        old = getattr(plan, f.name)
        columns[f.name] = np.concatenate([old, np.asarray(new[f.name], dtype=old.dtype).reshape((k,) + old.shape[1:])])
    return D.Plan(n=plan.n + k, **columns)
