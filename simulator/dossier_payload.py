"""A dossier as the one-stop system serves it at one of its versions.

The payload at version time v applies every event of the dossier's plan at or before v, so
status, dates, supplements, results and flags move together and stay consistent.
"""

from __future__ import annotations

from simulator import dossiers as D
from simulator.catalogue import Catalogue
from simulator.names import STREET, ascii_fold, person
from simulator.timefmt import stamp
from simulator.units import UnitSet

COMPONENT_NAMES = (
    "Đơn đề nghị",
    "Bản sao giấy tờ tùy thân",
    "Tờ khai",
    "Giấy tờ chứng minh quyền sở hữu",
    "Bản vẽ, sơ đồ",
    "Hợp đồng, văn bản giao dịch",
    "Giấy ủy quyền",
    "Văn bản thỏa thuận",
)
SUPPLEMENT_TEXT = (
    "Bổ sung bản sao giấy tờ tùy thân có chứng thực",
    "Bổ sung bản vẽ sơ đồ thửa đất",
    "Bổ sung văn bản ủy quyền hợp lệ",
    "Điều chỉnh thông tin trong tờ khai cho khớp giấy tờ",
)
REFUSE_TEXT = (
    "Hồ sơ không thuộc thẩm quyền giải quyết",
    "Hồ sơ không đủ thành phần theo quy định",
    "Thông tin trên tờ khai không chính xác",
)
WITHDRAW_TEXT = ("Công dân có đơn xin rút hồ sơ", "Người nộp không còn nhu cầu giải quyết")
STOP_TEXT = (
    "Dừng xử lý do có tranh chấp",
    "Dừng xử lý theo yêu cầu của cơ quan có thẩm quyền",
    "Quá thời hạn bổ sung hồ sơ nhưng công dân không bổ sung",
)
APOLOGY_TEXT = ("Hồ sơ phải xác minh thêm tại thực địa", "Chờ ý kiến của cơ quan phối hợp", "Khối lượng hồ sơ lớn")
PHONE_PREFIX = (
    "32",
    "33",
    "34",
    "35",
    "36",
    "37",
    "38",
    "39",
    "70",
    "76",
    "77",
    "78",
    "79",
    "81",
    "82",
    "83",
    "84",
    "85",
    "86",
    "88",
    "89",
    "90",
    "91",
    "93",
    "94",
    "96",
    "97",
    "98",
)
COMPANY_KIND = ("Công ty TNHH", "Công ty cổ phần", "Hợp tác xã", "Doanh nghiệp tư nhân")


class DossierRenderer:
    def __init__(self, plan: D.Plan, units: UnitSet, cat: Catalogue):
        self.plan = plan
        self.unit_codes = [u.code for u in units.units]
        self.unit_places = [u.place or units.province.place for u in units.units]
        self.procs = cat.procedures
        self.t = plan.t.tolist()  # python ints: faster per-field access than numpy scalars
        self.due = plan.due.tolist()
        self.code = plan.code
        cols = (
            "unit",
            "proc",
            "channel",
            "subject",
            "path",
            "end_status",
            "lien_thong",
            "has_file",
            "fee",
            "pay_slot",
            "pay_value",
            "vneid",
            "n_comp",
            "comp_digitized",
            "comp_reused",
            "comp_dmqg",
            "reuse_flag",
            "personal",
            "reason_missing",
        )
        for c in cols:
            setattr(self, "_" + c, getattr(plan, c).tolist())

    def key(self, i: int) -> tuple:
        return (self.code[i],)

    def personal(self, i: int) -> dict:
        seed = self._personal[i]
        subject = self._subject[i]
        place = self.unit_places[self._unit[i]]
        if subject == 1:
            name = person(seed & 0xFFFFFF)
            female = seed & 1
            year = 1950 + (seed >> 24) % 56
            century = (2 if year >= 2000 else 0) + female
            id_no = f"0{35 + (seed >> 30) % 60:02d}{century}{year % 100:02d}{(seed >> 36) % 1_000_000:06d}"
        else:
            name = f"{COMPANY_KIND[seed % 4]} {place} {(seed >> 8) % 90 + 10}"
            id_no = f"07{(seed >> 12) % 100_000_000:08d}"
        phone = f"0{PHONE_PREFIX[(seed >> 20) % len(PHONE_PREFIX)]}{(seed >> 28) % 10_000_000:07d}"
        email = None
        if (seed >> 44) % 2:
            email = ascii_fold(name).lower().replace(" ", "") + f"{(seed >> 46) % 100}@gmail.com"
        if (seed >> 50) % 3:
            address = f"Thôn {(seed >> 52) % 12 + 1}, {place}"
        else:
            address = f"Số {(seed >> 52) % 200 + 1} đường {STREET[(seed >> 40) % len(STREET)]}, {place}"
        return {"ChuHoSo": name, "SoGiayToChuHoSo": id_no, "SoDienThoai": phone, "Email": email, "DiaChi": address}

    def __call__(self, i: int, v: int) -> dict:
        t = self.t[i]
        proc = self.procs[self._proc[i]]
        code = self.code[i]

        def seen(slot):
            x = t[slot]
            return x if 0 <= x <= v else None

        status = 0
        for slot in range(D.N_SLOTS):
            x = t[slot]
            if 0 <= x <= v:
                s = D.SLOT_STATUS[slot]
                if s:
                    status = self._end_status[i] if s == -1 else int(s)
        supplements = []
        n_done = 0
        for k in range(3):
            req = seen(D.SUPP_REQ[k])
            if req is None:
                break
            done = seen(D.SUPP_DONE[k])
            supplements.append(
                {
                    "NgayYeuCauBoSung": stamp(req),
                    "NgayTiepNhanBoSung": stamp(done),
                    "NgayHenTraTruoc": stamp(self.due[i][k]),
                    "NgayHenTraMoi": stamp(self.due[i][k + 1]) if done is not None else None,
                    "NoiDungBoSung": SUPPLEMENT_TEXT[(self._personal[i] >> (k * 3)) % len(SUPPLEMENT_TEXT)],
                }
            )
            n_done += done is not None
        received = seen(D.RECV)
        end = seen(D.END)
        returned = seen(D.RETURN)
        refused = seen(D.REFUSE)
        reason = None
        if refused is not None:
            reason = REFUSE_TEXT[self._personal[i] % len(REFUSE_TEXT)]
        elif end is not None and self._end_status[i] == 7:
            reason = WITHDRAW_TEXT[self._personal[i] % len(WITHDRAW_TEXT)]
        elif end is not None and self._end_status[i] == 8:
            reason = STOP_TEXT[self._personal[i] % len(STOP_TEXT)]
        if reason is not None and self._reason_missing[i]:
            reason = None if self._reason_missing[i] == 1 else " "

        results = []
        if end is not None and self._end_status[i] == 9 and proc.document:
            attach = t[D.ATTACH]
            has_file = self._has_file[i] and (attach < 0 or attach <= v)
            results.append(
                {
                    "MaGiayToKetQua": f"KQ.{code}",
                    "TenGiayTo": "Kết quả giải quyết: " + proc.name[:60],
                    "DuongDanTepTinKetQua": f"/ketqua/{code}.pdf" if has_file else None,
                }
            )
        apology = []
        t_apology = seen(D.APOLOGY)
        if t_apology is not None:
            promised = max(t[D.END], t_apology) + 2 * 86400
            apology.append(
                {
                    "NgayXinLoi": stamp(t_apology),
                    "NgayHenTraMoi": stamp(promised),
                    "LyDo": APOLOGY_TEXT[self._personal[i] % len(APOLOGY_TEXT)],
                }
            )
        fees = []
        fee = self._fee[i]
        pay_slot = self._pay_slot[i]
        paid = pay_slot >= 0 and seen(pay_slot) is not None
        if fee >= 0:
            fees.append(
                {
                    "MaPhiLePhi": "LP01",
                    "TenPhiLePhi": ("Phí " if proc.fee_kind == 1 else "Lệ phí ") + proc.field.name.lower(),
                    "LoaiPhiLePhi": proc.fee_kind,
                    "HinhThucThu": "TRUC_TUYEN" if pay_slot >= 0 else "TRUC_TIEP",
                    "Gia": fee,
                }
            )
        files = []
        dig, reu, dm = self._comp_digitized[i], self._comp_reused[i], self._comp_dmqg[i]
        online = self._channel[i] == 2
        for k in range(self._n_comp[i]):
            bit = 1 << k
            stored = online or bool(dig & bit)
            files.append(
                {
                    "MaThanhPhanHoSo": f"TP{k + 1}",
                    "TenTepDinhKem": COMPONENT_NAMES[(self._personal[i] >> (k * 2) + 5) % len(COMPONENT_NAMES)]
                    + ".pdf",
                    "DuongDanTaiTepTin": f"/hoso/{code}/tp{k + 1}.pdf" if stored else None,
                    "DuocSoHoa": int(bool(dig & bit)),
                    "DuocTaiSuDung": int(bool(reu & bit)),
                    "DuocLayTuKhoDMQG": int(bool(dm & bit)),
                }
            )

        who = self.personal(i)
        if seen(D.CORRECT) is not None:  # a late correction of the applicant's phone number
            who["SoDienThoai"] = who["SoDienThoai"][:-3] + f"{(self._personal[i] >> 7) % 1000:03d}"
        submitted = t[D.SUBMIT] if t[D.SUBMIT] >= 0 else (t[D.RECV] if t[D.RECV] >= 0 else t[D.REFUSE])
        return {
            "MaHoSo": code,
            "MaTTHC": proc.code,
            "MaLinhVuc": proc.field.code,
            "MaDinhDanhDonVi": self.unit_codes[self._unit[i]],
            "KenhThucHien": self._channel[i],
            "LoaiDoiTuong": self._subject[i],
            "LienThong": bool(self._lien_thong[i]),
            **who,
            "TrichYeuHoSo": proc.name,
            "NgayNopHoSo": stamp(submitted),
            "NgayTiepNhan": stamp(received),
            "NgayHenTra": stamp(self.due[i][n_done]) if received is not None else None,
            "NgayKetThucXuLy": stamp(end),
            "NgayTra": stamp(returned),
            "NgayTuChoi": stamp(refused),
            "TrangThaiHoSo": status,
            "LyDo": reason,
            "HoSoCoThanhPhanSoHoa": int(self._reuse_flag[i]),
            "TaiKhoanDuocXacThucVoiVNeID": int(self._vneid[i]),
            "DuocThanhToanTrucTuyen": self._pay_value[i] if paid else 0,
            "TaiLieuNop": files,
            "DanhSachLePhi": fees,
            "DanhSachHoSoBoSung": supplements,
            "DanhSachGiayToKetQua": results,
            "PhieuXinLoi": apology,
            "DaXoa": seen(D.DELETE) is not None,
            "NgayCapNhat": stamp(v),
        }
