"""Process-log steps (qua-trinh-xu-ly) derived from the dossier plans, all at once.

One step per event a unit performs: submission, intake or refusal, hand-over to processing,
liên thông hand-over and the partner unit's completion (with its own deadline, so the step
that caused a delay shows), supplement requests and completions, the financial-obligation
wait, the end of processing and the return. Key (MaHoSo, STT), STT in time order.
A few steps are edited later (a second version), as real logs are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator import dossiers as D
from simulator.catalogue import Catalogue
from simulator.names import person
from simulator.rand import stream
from simulator.timefmt import stamp
from simulator.units import UnitSet

# kind: (label, status, desk step?)
KINDS = (
    ("Nộp hồ sơ", 1, True),
    ("Tiếp nhận hồ sơ", 2, True),
    ("Từ chối tiếp nhận hồ sơ", 3, True),
    ("Chuyển phòng chuyên môn xử lý", 4, False),
    ("Chuyển hồ sơ liên thông đến đơn vị phối hợp", 4, False),
    ("Đơn vị phối hợp xử lý xong, chuyển kết quả về", 4, False),
    ("Yêu cầu bổ sung hồ sơ", 5, False),
    ("Tiếp nhận hồ sơ bổ sung", 4, False),
    ("Thông báo thực hiện nghĩa vụ tài chính", 6, False),
    ("Đã hoàn thành nghĩa vụ tài chính", 4, False),
    ("Kết thúc xử lý", -1, False),
    ("Trả kết quả", 10, True),
)
(
    K_SUBMIT,
    K_RECV,
    K_REFUSE,
    K_PROC,
    K_LT_SEND,
    K_LT_DONE,
    K_SUPP_REQ,
    K_SUPP_DONE,
    K_FIN_REQ,
    K_FIN_DONE,
    K_END,
    K_RET,
) = range(12)
END_TEXT = {9: "Đã xử lý xong", 7: "Công dân rút hồ sơ", 8: "Dừng xử lý hồ sơ"}


@dataclass
class Steps:
    dossier: np.ndarray
    kind: np.ndarray
    time: np.ndarray
    unit: np.ndarray
    stt: np.ndarray
    start: np.ndarray
    deadline: np.ndarray
    edited: np.ndarray  # time of a later edit, -1 none

    def __len__(self):
        return int(self.dossier.size)


def build_steps(plan: D.Plan, seed: int, generated: int | None = None) -> Steps:
    """Steps of every dossier; only the first `generated` dossiers (the generator's, not the
    showcase's: simulator/showcase.py) get later edits, drawn as if there were no others."""
    t = plan.t
    n = plan.n
    idx = np.arange(n)
    parts = []

    def add(kind, times, units, deadline):
        ok = times >= 0
        parts.append((idx[ok], np.full(ok.sum(), kind), times[ok], units[ok], deadline[ok]))

    none = np.full(n, D.NONE)
    add(K_SUBMIT, t[:, D.SUBMIT], plan.unit, none)
    add(K_RECV, t[:, D.RECV], plan.unit, plan.due[:, 0])
    add(K_REFUSE, t[:, D.REFUSE], plan.unit, none)
    add(K_LT_SEND, plan.lt_send, plan.unit, none)
    add(K_LT_DONE, plan.lt_done, np.maximum(plan.partner, 0), plan.lt_deadline)
    add(K_RET, t[:, D.RETURN], plan.unit, none)
    for kind, slot in ((K_PROC, D.PROC), (K_FIN_REQ, D.FIN_REQ), (K_FIN_DONE, D.FIN_DONE), (K_END, D.END)):
        add(kind, t[:, slot], plan.unit, _due_at(plan, t[:, slot]))
    for k in range(3):
        add(K_SUPP_REQ, t[:, D.SUPP_REQ[k]], plan.unit, _due_at(plan, t[:, D.SUPP_REQ[k]]))
        add(K_SUPP_DONE, t[:, D.SUPP_DONE[k]], plan.unit, _due_at(plan, t[:, D.SUPP_DONE[k]]))
    dossier = np.concatenate([p[0] for p in parts])
    kind = np.concatenate([p[1] for p in parts])
    time = np.concatenate([p[2] for p in parts])
    unit = np.concatenate([p[3] for p in parts])
    deadline = np.concatenate([p[4] for p in parts])
    order = np.lexsort((kind, time, dossier))
    dossier, kind, time, unit, deadline = dossier[order], kind[order], time[order], unit[order], deadline[order]
    m = dossier.size
    first = np.ones(m, dtype=bool)
    first[1:] = dossier[1:] != dossier[:-1]
    pos = np.arange(m)
    stt = pos - np.maximum.accumulate(np.where(first, pos, 0)) + 1
    start = np.where(first, time, np.concatenate(([0], time[:-1])))
    rng = stream(seed, "process-log-edits")
    # steps are sorted by dossier first, so the generated dossiers' steps come first
    m0 = m if generated is None else int(np.searchsorted(dossier, generated))
    edited = np.full(m, D.NONE, dtype=np.int64)
    edited[:m0] = np.where(rng.random(m0) < 0.04, time[:m0] + rng.integers(86400, 10 * 86400, m0), D.NONE)
    return Steps(dossier, kind, time, unit, stt, start, deadline, edited)


def _due_at(plan: D.Plan, at: np.ndarray) -> np.ndarray:
    """NgayHenTra in force at each time: after the supplements completed by then."""
    done = np.zeros(plan.n, dtype=np.int64)
    for k in range(3):
        x = plan.t[:, D.SUPP_DONE[k]]
        done += (x >= 0) & (x <= at)
    return plan.due[np.arange(plan.n), done]


class StepRenderer:
    def __init__(self, steps: Steps, plan: D.Plan, units: UnitSet, cat: Catalogue):
        self.s = steps
        self.codes = plan.code
        self.unit_codes = [u.code for u in units.units]
        self.unit_levels = [u.level for u in units.units]
        self.field_names = [p.field.name for p in cat.procedures]
        self.proc = plan.proc.tolist()
        self.end_status = plan.end_status.tolist()
        self.personal = plan.personal.tolist()
        self.cols = {
            name: getattr(steps, name).tolist()
            for name in ("dossier", "kind", "time", "unit", "stt", "start", "deadline", "edited")
        }

    def key(self, r: int) -> tuple:
        return (self.codes[self.cols["dossier"][r]], self.cols["stt"][r])

    def __call__(self, r: int, v: int) -> dict:
        c = self.cols
        d, kind, unit = c["dossier"][r], c["kind"][r], c["unit"][r]
        label, status, desk = KINDS[kind]
        if status == -1:
            status = self.end_status[d]
            label = END_TEXT[status]
        if desk:
            dept = "Bộ phận Tiếp nhận và Trả kết quả"
        elif self.unit_levels[unit] == "XA":
            dept = "Công chức chuyên môn"
        else:
            dept = "Phòng chuyên môn - " + self.field_names[self.proc[d]]
        edited = c["edited"][r]
        if 0 <= edited <= v:
            label += " (đã cập nhật nội dung)"
        deadline = c["deadline"][r]
        return {
            "MaHoSo": self.codes[d],
            "STT": c["stt"][r],
            "TrangThai": status,
            "MaDinhDanhDonVi": self.unit_codes[unit],
            "PhongBanXuLy": dept,
            "NguoiXuLy": person((self.personal[d] >> 3) + kind * 7919 + unit * 104729 & 0xFFFFFF),
            "NoiDungXuLy": label,
            "ThoiDiemXuLy": stamp(c["time"][r]),
            "NgayBatDau": stamp(c["start"][r]),
            "NgayKetThucTheoQuyDinh": stamp(deadline) if deadline >= 0 else None,
            "NgayCapNhat": stamp(v),
        }
