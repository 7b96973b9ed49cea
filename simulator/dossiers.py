"""Dossier lifecycles, generated for all dossiers at once with numpy.

Every dossier gets a row of event times (local seconds, -1 when the event does not happen):
submitted, received or refused, processing, up to three supplement requests and completions,
a financial-obligation wait, an apology letter, the end of processing (9, 7 or 8), the return
(10), a result file attached late, a data correction, deletion. A dossier's version at time v
is the dossier with every event at or before v applied (see `dossier_payload`).

Time is laid out on the working-time axis from reception: the agency spends A working seconds
(A <= limit for dossiers on time, A > limit for late ones), and supplement waits are the
citizen's time, added on top and moving NgayHenTra. Phases sit at fixed fractions of A, so
events are in order by construction:
    processing 2% | supplements 5-30% | liên thông 32-60% | financial 70-85% | end 100%
(withdrawn and stopped dossiers end earlier, at 35-90%, and lose what would come after.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from simulator.catalogue import Catalogue
from simulator.config import WorldConfig
from simulator.rand import stream
from simulator.units import UnitSet
from simulator.worktime import DAY, WorkCalendar, day_number

# event slots (columns of Plan.t)
SUBMIT, RECV, REFUSE, PROC = 0, 1, 2, 3
SUPP_REQ = (4, 6, 8)
SUPP_DONE = (5, 7, 9)
FIN_REQ, FIN_DONE, APOLOGY, END, RETURN, ATTACH, CORRECT, DELETE = 10, 11, 12, 13, 14, 15, 16, 17
N_SLOTS = 18
# status a slot sets (0 = no status change)
SLOT_STATUS = np.array([1, 2, 3, 4, 5, 4, 5, 4, 5, 4, 6, 4, 0, -1, 10, 0, 0, 0])

# lifecycle paths
NORMAL, REFUSED, WITHDRAWN, STOPPED, NEVER_RECEIVED = 0, 1, 2, 3, 4
END_STATUS = {NORMAL: 9, WITHDRAWN: 7, STOPPED: 8}

LEVEL_CODE = {"KHONG": 0, "MOT_PHAN": 1, "TOAN_TRINH": 2}
NONE = -1


@dataclass
class Plan:
    """Column arrays, one entry per dossier, in generation order."""

    n: int
    unit: np.ndarray  # receiving unit index
    proc: np.ndarray  # procedure index
    offer_level: np.ndarray  # 0 KHONG, 1 MOT_PHAN, 2 TOAN_TRINH
    channel: np.ndarray  # KenhThucHien 1/2/3
    subject: np.ndarray  # LoaiDoiTuong 1..4
    path: np.ndarray
    t: np.ndarray  # (n, N_SLOTS) event times
    due: np.ndarray  # (n, 4) NgayHenTra after 0..3 completed supplements
    end_status: np.ndarray  # 9, 7 or 8 (for the END slot)
    lien_thong: np.ndarray  # bool
    partner: np.ndarray  # liên thông partner unit, or -1
    lt_send: np.ndarray  # times of the liên thông hand-over and partner's completion
    lt_done: np.ndarray
    lt_deadline: np.ndarray
    has_file: np.ndarray  # result file (DuongDanTepTinKetQua) once attached
    fee: np.ndarray  # Gia of the fee row (0 = exempt), -1 = no fee row
    pay_slot: np.ndarray  # slot at which DuocThanhToanTrucTuyen becomes pay_value, -1 never
    pay_value: np.ndarray  # 1 national portal, 2 provincial gateway
    vneid: np.ndarray
    n_comp: np.ndarray  # 1..4 submitted components
    comp_digitized: np.ndarray  # bit masks over components
    comp_reused: np.ndarray
    comp_dmqg: np.ndarray
    reuse_flag: np.ndarray  # HoSoCoThanhPhanSoHoa
    personal: np.ndarray  # uint64 seed for fake personal data
    seq: np.ndarray  # daily sequence number in MaHoSo
    code: np.ndarray  # MaHoSo (str objects)
    reason_missing: np.ndarray  # refused/withdrawn/stopped without LyDo: 0 given, 1 null, 2 blank
    never_synced: np.ndarray  # every sync to the portal fails (set only by the showcase)


def generate(config: WorldConfig, units: UnitSet, cat: Catalogue, cal: WorkCalendar) -> Plan:
    rng = stream(config.seed, "dossiers")
    n = config.total_dossiers
    cal.check_range(config.start - timedelta(days=10), config.end + timedelta(days=200))

    # -- when, where, what --------------------------------------------------------------
    days = cal.work_day_numbers(config.start, config.end)
    if days.size == 0 and n:
        raise ValueError("WorldConfig: no working day between start and end")
    day = np.sort(days[rng.integers(0, days.size, n)]) if n else np.zeros(0, np.int64)
    unit, proc, level = _choose_offerings(rng, day, units, cat)
    p = units.p
    field_code = (
        np.array([cat.procedures[i].field.code for i in range(len(cat.procedures))])[proc] if n else np.zeros(0, "<U4")
    )

    online_p = p["online"][unit]
    r = rng.random(n)
    online = np.where(
        level == 2, r < np.minimum(0.98, online_p * 1.2 + 0.1), np.where(level == 1, r < online_p * 0.8, False)
    )
    postal = ~online & (rng.random(n) < 0.02)
    channel = np.where(online, 2, np.where(postal, 3, 1))

    audience = [cat.procedures[i].audience for i in range(len(cat.procedures))]
    pick = rng.random(n)
    subject = np.empty(n, np.int64)
    sub_map = {"CONG_DAN": 1, "DOANH_NGHIEP": 2, "TO_CHUC": 3}
    for i in range(n):  # cheap: a tuple lookup per dossier
        aud = audience[proc[i]]
        subject[i] = sub_map[aud[int(pick[i] * len(aud))]]
    subject = np.where((subject == 3) & (rng.random(n) < 0.1), 4, subject)

    # intake instant inside the working day; online submissions happen at any hour before it
    base = cal.from_work(cal.work_before[day - cal.d0] * cal.day_seconds + rng.integers(1, cal.day_seconds, n))
    t = np.full((n, N_SLOTS), NONE, dtype=np.int64)
    submit_online = day * DAY + rng.integers(-2 * DAY, DAY, n) // 60 * 60 + rng.integers(0, 60, n)
    submit_online = np.maximum(submit_online, day_number(config.start) * DAY + 1)
    review = (rng.beta(1.2, 3.0, n) * 16 * 3600 + 600).astype(np.int64)
    recv_online = cal.add_work(submit_online, review)
    # an online dossier is submitted and received while its unit exists (the merger cuts units off)
    u_from = np.array([day_number(u.valid_from) for u in units.units])[unit] * DAY if n else np.zeros(0, np.int64)
    u_to = (
        np.array([day_number(u.valid_to) + 1 if u.valid_to else 10**6 for u in units.units])[unit] * DAY
        if n
        else np.zeros(0, np.int64)
    )
    outside = (submit_online < u_from) | (recv_online >= u_to)
    submit_online = np.where(outside, base - rng.integers(60, 1500, n), submit_online)
    recv_online = np.where(outside, base, recv_online)
    t_submit = np.where(
        online,
        submit_online,
        np.where(postal, base - rng.integers(2 * DAY, 4 * DAY, n), base - rng.integers(60, 1500, n)),
    )
    t_recv = np.where(online, recv_online, base)
    t[:, SUBMIT] = np.where(online | postal, t_submit, NONE)

    # -- path --------------------------------------------------------------------------
    r = rng.random(n)
    refuse_p, withdraw_p, stop_p = p["refuse"][unit], p["withdraw"][unit], p["stop"][unit]
    path = np.full(n, NORMAL)
    path = np.where(r < refuse_p, REFUSED, path)
    path = np.where((r >= refuse_p) & (r < refuse_p + withdraw_p), WITHDRAWN, path)
    path = np.where((r >= refuse_p + withdraw_p) & (r < refuse_p + withdraw_p + stop_p), STOPPED, path)
    path = np.where(online & (rng.random(n) < 0.004), NEVER_RECEIVED, path)
    received = (path != REFUSED) & (path != NEVER_RECEIVED)
    t[:, RECV] = np.where(received, t_recv, NONE)
    t[:, REFUSE] = np.where(path == REFUSED, t_recv, NONE)

    # -- limits and agency time ------------------------------------------------------------
    lim_unit = (
        np.array([cat.procedures[i].limit_unit for i in range(len(cat.procedures))])[proc] if n else np.zeros(0, "<U13")
    )
    lim = np.array([cat.procedures[i].limit for i in range(len(cat.procedures))])[proc] if n else np.zeros(0, np.int64)
    due0 = cal.due(t_recv, lim, lim_unit)
    w0 = cal.to_work(t_recv)
    limit_w = np.maximum(cal.to_work(due0) - w0, 1800)
    late = (path == NORMAL) & (rng.random(n) < p["late"][unit])
    frac = np.clip(rng.beta(2.2, 1.6, n) * 0.97 + 0.01, 0.02, 0.995)
    overrun = (rng.exponential(0.25, n) * limit_w + rng.integers(1800, 4 * 3600, n)).astype(np.int64)
    agency = np.where(late, limit_w + overrun, (frac * limit_w).astype(np.int64))
    agency = np.maximum(agency, 1200)

    # -- supplements ------------------------------------------------------------------------
    has_supp = received & (path != REFUSED) & (rng.random(n) < p["supplement"][unit])
    k_supp = np.where(has_supp, rng.choice([1, 2, 3], n, p=[0.7, 0.22, 0.08]), 0)
    last_open = (path == NORMAL) & (k_supp > 0) & (rng.random(n) < 0.15)
    pos = np.sort(rng.uniform(0.05, 0.30, (n, 3)), axis=1)
    citizen = (rng.exponential(2.5, (n, 3)) * cal.day_seconds + rng.integers(1800, 8 * 3600, (n, 3))).astype(np.int64)
    due_w = np.zeros((n, 4), dtype=np.int64)
    due_w[:, 0] = cal.to_work(due0)
    spent = np.zeros(n, dtype=np.int64)  # citizen time so far
    alive = received.copy()  # events after an open supplement do not happen
    for i in range(3):
        exists = alive & (k_supp > i)
        req_w = w0 + (pos[:, i] * agency).astype(np.int64) + spent
        done_exists = exists & ~(last_open & (k_supp == i + 1))
        t[:, SUPP_REQ[i]] = np.where(exists, cal.from_work(req_w), NONE)
        t[:, SUPP_DONE[i]] = np.where(done_exists, cal.from_work(req_w + citizen[:, i]), NONE)
        spent = spent + np.where(done_exists, citizen[:, i], 0)
        due_w[:, i + 1] = due_w[:, i] + np.where(done_exists, citizen[:, i], 0)
        alive &= ~(exists & ~done_exists)
    due = np.where(received[:, None], cal.from_work(due_w), NONE)
    due[:, 0] = np.where(received, due0, NONE)
    t[:, PROC] = np.where(received, cal.from_work(w0 + np.maximum(1, np.minimum(4 * 3600, agency // 25))), NONE)

    def at(fraction):
        return cal.from_work(w0 + (fraction * agency).astype(np.int64) + spent)

    # -- end of processing ----------------------------------------------------------------
    ends_early = (path == WITHDRAWN) | (path == STOPPED)
    end_frac = np.where(ends_early, rng.uniform(0.35, 0.9, n), 1.0)
    t_end = at(end_frac)

    # -- liên thông -------------------------------------------------------------------------
    lt_field = np.isin(field_code, ["DD", "HT", "XD", "DT", "KD", "LD"])
    lien_thong = alive & lt_field & (rng.random(n) < p["lien_thong"][unit] * 2.5)
    partner = _partners(rng, unit, field_code, lien_thong, units)
    lien_thong &= partner >= 0
    culprit_partner = late & (rng.random(n) < 0.7)
    lt_send = at(np.full(n, 0.32))
    lim_f = np.minimum(agency, limit_w).astype(np.float64)
    lt_done_w = np.where(
        late & culprit_partner,
        agency - 0.1 * lim_f,
        np.where(late, np.maximum(0.55 * limit_w, 0.4 * agency), 0.6 * agency),
    ).astype(np.int64)
    lt_done = cal.from_work(w0 + lt_done_w + spent)
    lt_deadline = cal.from_work(w0 + (0.6 * limit_w).astype(np.int64) + spent)
    lt_ok = lien_thong & (~ends_early | (lt_done < t_end))
    lt_send = np.where(lien_thong & (~ends_early | (lt_send < t_end)), lt_send, NONE)
    lt_done = np.where(lt_ok, lt_done, NONE)
    lt_deadline = np.where(lien_thong, lt_deadline, NONE)

    # -- financial obligation -----------------------------------------------------------------
    fee_field = np.isin(field_code, ["DD", "XD", "DT"])
    fin = alive & (path == NORMAL) & ~lien_thong & fee_field & (rng.random(n) < 0.35)
    fin_open = fin & (rng.random(n) < 0.03)
    fin_req_f = rng.uniform(0.70, 0.78, n)
    t[:, FIN_REQ] = np.where(fin, at(fin_req_f), NONE)
    t[:, FIN_DONE] = np.where(fin & ~fin_open, at(fin_req_f + rng.uniform(0.01, 0.2, n)), NONE)
    alive &= ~fin_open

    t[:, END] = np.where(alive, t_end, NONE)
    end_status = np.where(path == WITHDRAWN, 7, np.where(path == STOPPED, 8, 9))
    closed_normal = alive & (path == NORMAL)

    # -- apology letters for late dossiers ------------------------------------------------------
    final_due_w = due_w[:, 3]  # later columns add nothing once supplements stop
    apology = closed_normal & late & (rng.random(n) < p["apology"][unit])
    t_apology = cal.from_work(
        np.maximum(
            final_due_w - (rng.random(n) * 4 * 3600).astype(np.int64),
            cal.to_work(np.where(received, t[:, PROC], t_recv)) + 120,
        )
    )
    t_apology = np.minimum(t_apology, t_end - 300)
    t[:, APOLOGY] = np.where(apology & (t_apology > t[:, PROC]), t_apology, NONE)

    # -- return, result files, late updates ---------------------------------------------------------
    fast = (channel == 2) & (level == 2)
    lag_w = np.where(
        fast,
        rng.integers(300, 2 * 3600, n),
        (rng.exponential(1.0, n) * p["return_lag_days"][unit] * cal.day_seconds).astype(np.int64) + 300,
    )
    returned = closed_normal & (rng.random(n) >= p["never_returned"][unit])
    t[:, RETURN] = np.where(returned, cal.from_work(cal.to_work(t_end) + lag_w), NONE)
    document = (
        np.array([cat.procedures[i].document for i in range(len(cat.procedures))])[proc] if n else np.zeros(0, bool)
    )
    has_file = closed_normal & document & (rng.random(n) < p["digitize_result"][unit])
    late_attach = has_file & (rng.random(n) < 0.2)
    t[:, ATTACH] = np.where(late_attach, t_end + rng.integers(DAY, 15 * DAY, n), NONE)
    t[:, CORRECT] = np.where(received & (rng.random(n) < 0.03), t_recv + rng.integers(DAY, 60 * DAY, n), NONE)

    # -- money, flags, components -----------------------------------------------------------
    has_fee = (
        np.array([cat.procedures[i].has_fee for i in range(len(cat.procedures))])[proc] if n else np.zeros(0, bool)
    )
    amount = (
        np.array([cat.procedures[i].fee_amount for i in range(len(cat.procedures))])[proc]
        if n
        else np.zeros(0, np.int64)
    )
    pages = np.where(field_code == "CT", rng.integers(1, 6, n), 1)
    exempt = rng.random(n) < 0.08
    fee = np.where(has_fee, np.where(exempt, 0, amount * pages), -1)
    pays_online = (fee > 0) & (rng.random(n) < p["pay_online"][unit] * np.where(online, 1.0, 0.3))
    pay_slot = np.where(pays_online, np.where(fin, FIN_DONE, np.where(online | postal, SUBMIT, RECV)), -1)
    pay_slot = np.where((pay_slot == FIN_DONE) & fin_open, -1, pay_slot)
    pay_value = np.where(rng.random(n) < 0.7, 1, 2)
    citizen_subject = subject == 1
    vneid = citizen_subject & (rng.random(n) < p["vneid"][unit] * np.where(online, 1.0, 0.15))
    n_comp = rng.integers(1, 5, n)
    dig_p = np.where(online, 0.5 + 0.5 * p["digitize_components"][unit], p["digitize_components"][unit])
    comp_r = rng.random((n, 4))
    comp_digitized = _bits(comp_r < dig_p[:, None], n_comp)
    comp_reused = _bits(rng.random((n, 4)) < p["reuse"][unit][:, None] / 2, n_comp)
    comp_dmqg = _bits(rng.random((n, 4)) < p["dmqg"][unit][:, None] / 2, n_comp)
    reuse_flag = (comp_reused != 0) | (rng.random(n) < 0.03)

    # -- deletion: entered by mistake; nothing happens after it ------------------------------------
    first = np.where(t[:, SUBMIT] >= 0, t[:, SUBMIT], np.where(t[:, RECV] >= 0, t[:, RECV], t[:, REFUSE]))
    deleted = rng.random(n) < p["delete"][unit]
    t_del = first + rng.integers(3600, 5 * DAY, n)
    t[:, DELETE] = np.where(deleted, t_del, NONE)
    cut = deleted[:, None] & (t > t_del[:, None])
    cut[:, DELETE] = False
    t[cut] = NONE
    lt_send = np.where(deleted & (lt_send > t_del), NONE, lt_send)
    lt_done = np.where(deleted & (lt_done > t_del), NONE, lt_done)
    pay_slot = (
        np.where((pay_slot >= 0) & (t[np.arange(n), np.maximum(pay_slot, 0)] < 0), -1, pay_slot) if n else pay_slot
    )
    has_file &= ~deleted | (t[:, END] >= 0)

    personal = rng.integers(0, 2**63 - 1, n, dtype=np.int64).astype(np.uint64)
    seq, code = _codes(units, unit, t, first)
    reason_missing = _missing_reasons(config, units, unit, path)
    return Plan(
        n=n,
        unit=unit,
        proc=proc,
        offer_level=level,
        channel=channel,
        subject=subject,
        path=path,
        t=t,
        due=due,
        end_status=end_status,
        lien_thong=lien_thong,
        partner=np.where(lien_thong, partner, -1),
        lt_send=np.where(lien_thong, lt_send, NONE),
        lt_done=np.where(lien_thong, lt_done, NONE),
        lt_deadline=lt_deadline,
        has_file=has_file,
        fee=fee,
        pay_slot=pay_slot,
        pay_value=pay_value,
        vneid=vneid,
        n_comp=n_comp,
        comp_digitized=comp_digitized,
        comp_reused=comp_reused,
        comp_dmqg=comp_dmqg,
        reuse_flag=reuse_flag,
        personal=personal,
        seq=seq,
        code=code,
        reason_missing=reason_missing,
        never_synced=np.zeros(n, dtype=bool),
    )


def _missing_reasons(config: WorldConfig, units: UnitSet, unit: np.ndarray, path: np.ndarray) -> np.ndarray:
    """Refusals, withdrawals and stops recorded without the written reason directives ask for:
    a third of the units always write one, the others forget up to a quarter of the time, and
    one omission in three is a blank string rather than null. Drawn from a stream of its own,
    so the rest of the world is the same as before reasons could be missing."""
    rng = stream(config.seed, "missing-reasons")
    rate = np.where(rng.random(len(units)) < 1 / 3, 0.0, rng.uniform(0.0, 0.25, len(units)))
    n = unit.size
    closing = (path == REFUSED) | (path == WITHDRAWN) | (path == STOPPED)
    missing = closing & (rng.random(n) < rate[unit]) if n else np.zeros(0, bool)
    blank = rng.random(n) < 1 / 3
    return np.where(missing, np.where(blank, 2, 1), 0).astype(np.int64)


def _bits(mask: np.ndarray, n_comp: np.ndarray) -> np.ndarray:
    valid = np.arange(4)[None, :] < n_comp[:, None]
    return ((mask & valid) * (1 << np.arange(4))[None, :]).sum(axis=1)


def _choose_offerings(rng, day: np.ndarray, units: UnitSet, cat: Catalogue):
    """Pick (unit, procedure, level) for each dossier among offerings valid on its day.

    Units draw dossiers by their volume weight, then a procedure by popularity among what
    the unit offers that day. Validity changes only at a few dates, so sampling is done per
    segment between those dates.
    """
    n = day.size
    if not n:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    offs = cat.offerings
    o_unit = np.array([o.unit for o in offs])
    o_proc = np.array([o.procedure for o in offs])
    o_from = np.array([day_number(o.valid_from) for o in offs])
    o_to = np.array([day_number(o.valid_to) if o.valid_to else 10**7 for o in offs])
    o_level = np.array([LEVEL_CODE[o.level] for o in offs])
    pop = np.array([p.popularity for p in cat.procedures])[o_proc]
    breaks = np.unique(np.concatenate([o_from, o_to + 1, [day[0], day[-1] + 1]]))
    breaks = breaks[(breaks >= day[0]) & (breaks <= day[-1] + 1)]
    choice = np.empty(n, dtype=np.int64)
    for a, b in zip(breaks[:-1], breaks[1:]):
        lo, hi = np.searchsorted(day, a), np.searchsorted(day, b)
        if hi <= lo:
            continue
        valid = np.flatnonzero((o_from <= a) & (o_to >= a))
        if valid.size == 0:
            raise ValueError(f"no procedure offered on day {a}")
        norm = np.bincount(o_unit[valid], weights=pop[valid], minlength=len(units))
        w = units.weight[o_unit[valid]] * pop[valid] / norm[o_unit[valid]]
        choice[lo:hi] = valid[rng.choice(valid.size, hi - lo, p=w / w.sum())]
    return o_unit[choice], o_proc[choice], o_level[choice]


def _partners(rng, unit, field_code, wanted, units: UnitSet) -> np.ndarray:
    """The other unit of a liên thông dossier: land branch, district, or a department."""
    n = unit.size
    out = np.full(n, -1, dtype=np.int64)
    level = np.array([u.level for u in units.units])[unit] if n else np.zeros(0, "<U9")
    district = (
        np.array([u.district if u.district is not None else -1 for u in units.units])[unit]
        if n
        else np.zeros(0, np.int64)
    )
    branch_of = {b.district: b.index for b in units.branches}
    deps = [d.index for d in units.departments]
    for i in np.flatnonzero(wanted):
        f = field_code[i]
        if f == "DD" and level[i] in ("XA", "HUYEN") and district[i] in branch_of:
            out[i] = branch_of[district[i]]
        elif f in units.field_department and units.field_department[f].index != unit[i]:
            out[i] = units.field_department[f].index
        else:
            others = [d for d in deps if d != unit[i]]
            if others:
                out[i] = others[int(rng.integers(len(others)))]
    return out


def _codes(units: UnitSet, unit: np.ndarray, t: np.ndarray, first: np.ndarray):
    """MaHoSo = {MaDinhDanh}-{yyMMdd}-{4-digit daily sequence}, numbered in order of arrival."""
    n = unit.size
    day = first // DAY
    order = np.lexsort((first, day, unit))
    seq = np.empty(n, dtype=np.int64)
    if n:
        u_s, d_s = unit[order], day[order]
        new_group = np.ones(n, dtype=bool)
        new_group[1:] = (u_s[1:] != u_s[:-1]) | (d_s[1:] != d_s[:-1])
        idx = np.arange(n)
        group_start = np.maximum.accumulate(np.where(new_group, idx, 0))
        seq[order] = idx - group_start + 1
        if seq.max() > 9999:
            raise ValueError("more than 9999 dossiers a day at one unit: lower dossiers_per_year")
    codes = np.empty(n, dtype=object)
    unit_codes = [u.code for u in units.units]
    day_text: dict[int, str] = {}
    for i in range(n):
        d = int(day[i])
        s = day_text.get(d)
        if s is None:
            x = date.fromordinal(date(1970, 1, 1).toordinal() + d)
            s = day_text[d] = f"{x.year % 100:02d}{x.month:02d}{x.day:02d}"
        codes[i] = f"{unit_codes[unit[i]]}-{s}-{seq[i]:04d}"
    return seq, codes
