"""What the DVC admin portal holds about the province, derived from the one-stop world.

Payments (INIT -> SUCCESS, FAILED attempts, REFUNDED, CANCELLED), sync status (lags, ERROR
rows, and the 5/6/8 -> 9 status remap some units apply), citizen feedback (PAKN, incl. the 1022
hotline) with deadlines, ratings, and the online-service configuration. Each is a set of
versioned records with ISO 8601 +07:00 timestamps and `updatedAt` as the update field.
"""
from __future__ import annotations

from datetime import date

import numpy as np

from simulator import dossiers as D
from simulator.rand import stream
from simulator.timefmt import iso, iso_date
from simulator.versions import ExplicitRecords, VersionIndex

DVC = "dvc_portal"
BANKS = ("VCB", "BIDV", "CTG", "AGRIBANK", "TCB", "MB", "VPB", "ACB")
FEEDBACK_TEXT = ("Hồ sơ đã quá hạn nhưng chưa nhận được kết quả", "Cán bộ hướng dẫn chưa rõ ràng",
                 "Đề nghị cho biết tiến độ giải quyết hồ sơ", "Thái độ phục vụ chưa tốt", "Phản ánh về thủ tục rườm rà")


def _convert(body: dict) -> dict:
    return {k: (iso_date(v) if isinstance(v, date) else v) for k, v in body.items()}


class PortalWorld:
    def __init__(self, world):
        self.world = world
        self.plan = world.plan
        self.cal = world.calendar
        rng = stream(world.config.seed, "portal")
        units = world.units
        n_units = len(units)
        # per unit: sync lag (seconds), share of dossiers failing to sync, whether it remaps 5/6/8 -> 9
        self.sync_lag = rng.integers(60, 3 * 86400, n_units)
        self.sync_error = rng.uniform(0.0, 0.06, n_units)
        self.remaps = rng.random(n_units) < 0.25
        self.feedback_rate = rng.uniform(0.002, 0.02, n_units)
        self.rating_rate = rng.uniform(0.02, 0.25, n_units)
        self.dislike_rate = rng.uniform(0.0, 0.15, n_units)
        self._rng = rng

    def indexes(self) -> dict[tuple[str, str], VersionIndex]:
        out = {}
        for name, build in (("payments", self._payments), ("sync_status", self._sync_status),
                            ("feedback", self._feedback), ("ratings", self._ratings),
                            ("online_services", self._online_services)):
            out[(DVC, name)] = ExplicitRecords(build(), "updatedAt", iso, _convert).index
        return out

    # -- payments ------------------------------------------------------------------------------------------
    def _payments(self):
        plan, units, procs = self.plan, self.world.units.units, self.world.catalogue.procedures
        rng = stream(self.world.config.seed, "portal-payments")
        records = []
        for i in np.flatnonzero(plan.pay_slot >= 0):
            paid_at = int(plan.t[i, plan.pay_slot[i]])
            proc = procs[plan.proc[i]]
            base = {"dossierCode": plan.code[i], "departmentCode": units[plan.unit[i]].code, "procedureCode": proc.code,
                    "feeCode": "LP01", "feeType": "PHI" if proc.fee_kind == 1 else "LE_PHI", "amount": int(plan.fee[i]),
                    "channel": "PAYGOV" if plan.pay_value[i] == 1 else "LOCAL_GATEWAY",
                    "bankCode": BANKS[int(plan.personal[i] % np.uint64(len(BANKS)))]}
            k = 0
            if rng.random() < 0.15:  # a failed attempt first
                created = paid_at - int(rng.integers(600, 3600))
                tx = {"transactionId": f"GD{plan.code[i].replace('.', '').replace('-', '')}{k}", **base}
                records.append(((tx["transactionId"],), [
                    (created, {**tx, "status": "INIT", "resultCode": None, "createdAt": iso(created), "paidAt": None}),
                    (created + 120, {**tx, "status": "FAILED", "resultCode": "51", "createdAt": iso(created), "paidAt": None}),
                ]))
                k += 1
            created = paid_at - int(rng.integers(30, 300))
            tx = {"transactionId": f"GD{plan.code[i].replace('.', '').replace('-', '')}{k}", **base}
            versions = [(created, {**tx, "status": "INIT", "resultCode": None, "createdAt": iso(created), "paidAt": None}),
                        (paid_at, {**tx, "status": "SUCCESS", "resultCode": "00", "createdAt": iso(created), "paidAt": iso(paid_at)})]
            refused = plan.path[i] == D.REFUSED
            if refused or rng.random() < 0.02:  # refunded: refused at intake, or paid twice
                t = paid_at + int(rng.integers(3 * 86400, 20 * 86400))
                versions.append((t, {**versions[-1][1], "status": "REFUNDED"}))
            records.append(((tx["transactionId"],), versions))
            if rng.random() < 0.02:  # an abandoned attempt, cancelled
                created = paid_at + 600
                tx = {"transactionId": f"GD{plan.code[i].replace('.', '').replace('-', '')}{k + 1}", **base}
                records.append(((tx["transactionId"],), [
                    (created, {**tx, "status": "INIT", "resultCode": None, "createdAt": iso(created), "paidAt": None}),
                    (created + 1800, {**tx, "status": "CANCELLED", "resultCode": "24", "createdAt": iso(created), "paidAt": None}),
                ]))
        return records

    # -- sync status ---------------------------------------------------------------------------------------
    def _sync_status(self):
        plan, units = self.plan, self.world.units.units
        rng = stream(self.world.config.seed, "portal-sync")
        records = []
        status_slots = [s for s in range(D.N_SLOTS) if D.SLOT_STATUS[s] != 0]
        for i in range(plan.n):
            t = plan.t[i]
            recv = int(t[D.RECV])
            if recv < 0:
                continue
            u = int(plan.unit[i])
            fails = rng.random() < self.sync_error[u]
            lag = int(self.sync_lag[u] * rng.uniform(0.5, 1.5))
            body = {"dossierCode": plan.code[i], "departmentCode": units[u].code, "receivedAt": iso(recv)}
            versions = []
            for s in status_slots:
                x = int(t[s])
                if x < recv:
                    continue
                status = int(plan.end_status[i]) if D.SLOT_STATUS[s] == -1 else int(D.SLOT_STATUS[s])
                if self.remaps[u] and status in (5, 6, 8):
                    status = 9
                at = x + lag
                if fails:
                    versions.append((at, {**body, "syncedAt": None, "portalStatus": None, "syncResult": "ERROR",
                                          "errorMessage": "Lỗi đồng bộ: thiếu thông tin mã TTHC trên Cổng DVCQG"}))
                else:
                    versions.append((at, {**body, "syncedAt": iso(at), "portalStatus": status, "syncResult": "SUCCESS",
                                          "errorMessage": None}))
            dedup = {}
            for at, b in versions:
                dedup[at] = b
            records.append(((plan.code[i],), sorted(dedup.items())))
        return records

    # -- feedback and ratings ---------------------------------------------------------------------------------
    def _feedback(self):
        plan, units, cal = self.plan, self.world.units.units, self.cal
        rng = stream(self.world.config.seed, "portal-feedback")
        records = []
        chosen = np.flatnonzero((plan.t[:, D.RECV] >= 0) & (rng.random(plan.n) < self.feedback_rate[plan.unit] *
                                                               np.where(plan.t[:, D.END] < 0, 3, 1)))
        for n, i in enumerate(chosen):
            u = int(plan.unit[i])
            received = int(plan.t[i, D.RECV]) + int(rng.integers(2 * 86400, 20 * 86400))
            due = int(cal.add_work(received, 10 * cal.day_seconds))
            channel = ("PORTAL", "HOTLINE_1022", "OTHER")[int(rng.choice(3, p=[0.55, 0.35, 0.10]))]
            fid = f"PAKN{self.world.config.seed:02d}{n:07d}"
            base = {"feedbackId": fid, "departmentCode": units[u].code, "dossierCode": plan.code[i] if rng.random() < 0.85 else None,
                    "channel": channel, "category": "PROCEDURE" if rng.random() < 0.7 else "STAFF",
                    "content": FEEDBACK_TEXT[int(rng.integers(len(FEEDBACK_TEXT)))], "receivedAt": iso(received),
                    "dueAt": iso(due), "handledAt": None, "likes": 0, "dislikes": 0, "reraised": False}
            versions = [(received, {**base, "status": "RECEIVED"})]
            processing = received + int(rng.integers(3600, 2 * 86400))
            versions.append((processing, {**base, "status": "PROCESSING"}))
            if rng.random() < 0.9:
                late = rng.random() < 0.2
                handled = int(cal.add_work(due, int(rng.integers(3600, 5 * cal.day_seconds)))) if late else \
                    int(rng.integers(processing + 600, max(processing + 1200, due)))
                handled = max(handled, processing + 600)
                status = "HANDLED" if rng.random() < 0.85 else "REJECTED"
                done = {**base, "status": status, "handledAt": iso(handled)}
                versions.append((handled, done))
                likes, dislikes = int(rng.integers(0, 5)), int(rng.integers(0, 3 if not late else 6))
                versions.append((handled + int(rng.integers(86400, 10 * 86400)), {**done, "likes": likes, "dislikes": dislikes,
                                                                                     "reraised": bool(rng.random() < 0.05)}))
            records.append(((fid,), versions))
        return records

    def _ratings(self):
        plan, units = self.plan, self.world.units.units
        rng = stream(self.world.config.seed, "portal-ratings")
        records = []
        ret = plan.t[:, D.RETURN]
        chosen = np.flatnonzero((ret >= 0) & (rng.random(plan.n) < self.rating_rate[plan.unit]))
        for n, i in enumerate(chosen):
            u = int(plan.unit[i])
            rated = int(ret[i]) + int(rng.integers(600, 5 * 86400))
            late = int(plan.t[i, D.END]) > int(plan.due[i, 3])
            p3 = min(0.9, self.dislike_rate[u] + (0.4 if late else 0.0))
            level = 3 if rng.random() < p3 else (1 if rng.random() < 0.6 else 2)
            rid = f"DG{self.world.config.seed:02d}{n:07d}"
            records.append(((rid,), [(rated, {"ratingId": rid, "dossierCode": plan.code[i], "departmentCode": units[u].code,
                                              "level": level, "ratedAt": iso(rated)})]))
        return records

    # -- online services ------------------------------------------------------------------------------------
    def _online_services(self):
        units, procs = self.world.units.units, self.world.catalogue.procedures
        rng = stream(self.world.config.seed, "portal-online-services")
        records = []
        for o in self.world.catalogue.offerings:
            if o.level == "KHONG":
                continue
            proc = procs[o.procedure]
            first = o.versions[0][0] + 3600
            body = {"departmentCode": units[o.unit].code, "procedureCode": proc.code,
                    "level": "FULL" if o.level == "TOAN_TRINH" else "PARTIAL",
                    "publishedOnPortal": bool(rng.random() < 0.9),
                    "paymentIntegrated": bool(proc.has_fee and rng.random() < 0.6),
                    "validFrom": o.valid_from, "validTo": None}
            versions = [(first, body)]
            if o.valid_to is not None:
                versions.append((max(o.versions[-1][0] + 3600, first + 1), {**body, "validTo": o.valid_to}))
            records.append(((body["departmentCode"], body["procedureCode"], iso_date(o.valid_from)), versions))
        return records
