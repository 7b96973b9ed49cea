"""The procedure (TTHC) catalogue and which unit offers which procedure at which level.

Procedures belong to fields (lĩnh vực); each has a level (TINH / HUYEN / XA), a time limit in
working days, calendar days or working hours, maybe fees, whether the result is a document,
and the dates of its publishing decision, of its legal basis and of its publication on the
national database. Some procedures are published, amended or made public during the world's
span, so they change after they are first served.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from simulator.config import MERGER_DAY, WorldConfig
from simulator.rand import stream
from simulator.timefmt import day_of
from simulator.units import MERGER_ANNOUNCED, MERGER_LAST_DAY, UnitSet
from simulator.worktime import WorkCalendar, day_number


@dataclass(frozen=True)
class FieldSpec:
    code: str
    name: str
    levels: tuple[str, ...]
    popularity: float  # share of dossiers
    limits: tuple[tuple[str, int], ...]
    fee_rate: float  # share of its procedures with fees
    document_rate: float  # share whose result is a document
    audience: tuple[str, ...]
    names: tuple[str, ...]


FIELDS = (
    FieldSpec(
        "CT",
        "Chứng thực",
        ("HUYEN", "XA"),
        0.22,
        (("GIO", 4), ("GIO", 8), ("NGAY_LAM_VIEC", 1), ("NGAY_LAM_VIEC", 2)),
        1.0,
        1.0,
        ("CONG_DAN", "DOANH_NGHIEP"),
        (
            "Chứng thực bản sao từ bản chính giấy tờ, văn bản",
            "Chứng thực chữ ký trong các giấy tờ, văn bản",
            "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản",
            "Chứng thực việc sửa đổi, bổ sung hợp đồng, giao dịch",
            "Chứng thực di chúc",
            "Chứng thực văn bản thỏa thuận phân chia di sản",
            "Cấp bản sao có chứng thực từ bản chính hợp đồng, giao dịch đã được chứng thực",
            "Chứng thực chữ ký người dịch",
        ),
    ),
    FieldSpec(
        "HT",
        "Hộ tịch",
        ("HUYEN", "XA"),
        0.18,
        (("NGAY_LAM_VIEC", 1), ("NGAY_LAM_VIEC", 3), ("NGAY_LAM_VIEC", 5), ("NGAY", 3), ("NGAY", 15)),
        0.6,
        0.95,
        ("CONG_DAN",),
        (
            "Đăng ký khai sinh",
            "Đăng ký khai tử",
            "Đăng ký kết hôn",
            "Đăng ký nhận cha, mẹ, con",
            "Đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch",
            "Cấp giấy xác nhận tình trạng hôn nhân",
            "Cấp bản sao trích lục hộ tịch",
            "Đăng ký giám hộ",
            "Đăng ký lại khai sinh",
            "Liên thông các thủ tục hành chính về đăng ký khai sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi",
        ),
    ),
    FieldSpec(
        "DD",
        "Đất đai",
        ("TINH", "HUYEN", "XA"),
        0.16,
        (("NGAY_LAM_VIEC", 10), ("NGAY_LAM_VIEC", 15), ("NGAY_LAM_VIEC", 20), ("NGAY_LAM_VIEC", 30)),
        0.9,
        0.95,
        ("CONG_DAN", "DOANH_NGHIEP", "TO_CHUC"),
        (
            "Đăng ký biến động đất đai",
            "Cấp Giấy chứng nhận quyền sử dụng đất lần đầu",
            "Chuyển mục đích sử dụng đất",
            "Tách thửa hoặc hợp thửa đất",
            "Đính chính Giấy chứng nhận đã cấp",
            "Xóa đăng ký thế chấp bằng quyền sử dụng đất",
            "Đăng ký thế chấp quyền sử dụng đất",
            "Cấp đổi Giấy chứng nhận quyền sử dụng đất",
            "Gia hạn sử dụng đất",
            "Hòa giải tranh chấp đất đai",
            "Cung cấp thông tin, dữ liệu đất đai",
        ),
    ),
    FieldSpec(
        "BTXH",
        "Bảo trợ xã hội",
        ("HUYEN", "XA"),
        0.06,
        (("NGAY_LAM_VIEC", 5), ("NGAY_LAM_VIEC", 10), ("NGAY_LAM_VIEC", 15), ("NGAY_LAM_VIEC", 20)),
        0.0,
        0.9,
        ("CONG_DAN",),
        (
            "Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hằng tháng",
            "Hỗ trợ chi phí mai táng",
            "Xác định, xác định lại mức độ khuyết tật",
            "Trợ giúp xã hội khẩn cấp về hỗ trợ làm nhà ở",
            "Đăng ký hoạt động cơ sở trợ giúp xã hội",
        ),
    ),
    FieldSpec(
        "KD",
        "Thành lập và hoạt động doanh nghiệp, hộ kinh doanh",
        ("TINH", "HUYEN"),
        0.06,
        (("NGAY_LAM_VIEC", 3), ("NGAY_LAM_VIEC", 5)),
        0.8,
        1.0,
        ("CONG_DAN", "DOANH_NGHIEP"),
        (
            "Đăng ký thành lập hộ kinh doanh",
            "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh",
            "Tạm ngừng kinh doanh",
            "Đăng ký thành lập doanh nghiệp",
            "Đăng ký thay đổi nội dung đăng ký doanh nghiệp",
            "Giải thể doanh nghiệp",
            "Chấm dứt hoạt động hộ kinh doanh",
        ),
    ),
    FieldSpec(
        "XD",
        "Xây dựng",
        ("TINH", "HUYEN"),
        0.05,
        (("NGAY_LAM_VIEC", 15), ("NGAY_LAM_VIEC", 20), ("NGAY", 30)),
        0.8,
        0.95,
        ("CONG_DAN", "DOANH_NGHIEP", "TO_CHUC"),
        (
            "Cấp giấy phép xây dựng nhà ở riêng lẻ",
            "Cấp giấy phép xây dựng sửa chữa, cải tạo",
            "Điều chỉnh giấy phép xây dựng",
            "Gia hạn giấy phép xây dựng",
            "Thẩm định báo cáo nghiên cứu khả thi",
            "Cấp chứng chỉ hành nghề hoạt động xây dựng",
        ),
    ),
    FieldSpec(
        "LLTP",
        "Lý lịch tư pháp",
        ("TINH",),
        0.03,
        (("NGAY_LAM_VIEC", 10), ("NGAY_LAM_VIEC", 15)),
        1.0,
        1.0,
        ("CONG_DAN",),
        (
            "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam",
            "Cấp Phiếu lý lịch tư pháp cho người nước ngoài",
            "Cấp Phiếu lý lịch tư pháp cho cơ quan tiến hành tố tụng",
        ),
    ),
    FieldSpec(
        "DT",
        "Đầu tư tại Việt Nam",
        ("TINH",),
        0.02,
        (("NGAY_LAM_VIEC", 15), ("NGAY_LAM_VIEC", 25), ("NGAY_LAM_VIEC", 35)),
        0.3,
        1.0,
        ("DOANH_NGHIEP", "TO_CHUC"),
        (
            "Chấp thuận chủ trương đầu tư",
            "Cấp Giấy chứng nhận đăng ký đầu tư",
            "Điều chỉnh dự án đầu tư",
            "Gia hạn thời hạn hoạt động của dự án đầu tư",
            "Chuyển nhượng dự án đầu tư",
        ),
    ),
    FieldSpec(
        "LD",
        "Lao động, việc làm",
        ("TINH", "HUYEN"),
        0.03,
        (("NGAY_LAM_VIEC", 5), ("NGAY_LAM_VIEC", 7), ("NGAY_LAM_VIEC", 10)),
        0.3,
        0.9,
        ("CONG_DAN", "DOANH_NGHIEP"),
        (
            "Giải quyết hưởng trợ cấp thất nghiệp",
            "Cấp giấy phép lao động cho người nước ngoài",
            "Đăng ký nội quy lao động",
            "Gia hạn giấy phép lao động",
        ),
    ),
    FieldSpec(
        "GD",
        "Giáo dục và Đào tạo",
        ("TINH", "HUYEN"),
        0.03,
        (("NGAY_LAM_VIEC", 5), ("NGAY_LAM_VIEC", 10), ("NGAY_LAM_VIEC", 15)),
        0.2,
        0.9,
        ("CONG_DAN", "TO_CHUC"),
        (
            "Cấp bản sao văn bằng, chứng chỉ từ sổ gốc",
            "Chỉnh sửa nội dung văn bằng, chứng chỉ",
            "Chuyển trường đối với học sinh",
            "Cho phép trường tiểu học hoạt động giáo dục",
        ),
    ),
    FieldSpec(
        "YT",
        "Khám bệnh, chữa bệnh",
        ("TINH",),
        0.02,
        (("NGAY_LAM_VIEC", 10), ("NGAY_LAM_VIEC", 20), ("NGAY_LAM_VIEC", 30)),
        0.7,
        1.0,
        ("CONG_DAN", "TO_CHUC"),
        (
            "Cấp giấy phép hành nghề khám bệnh, chữa bệnh",
            "Cấp giấy phép hoạt động phòng khám",
            "Cấp chứng chỉ hành nghề dược",
            "Cấp giấy chứng nhận đủ điều kiện kinh doanh dược",
        ),
    ),
    FieldSpec(
        "GT",
        "Đường bộ",
        ("TINH",),
        0.04,
        (("NGAY_LAM_VIEC", 1), ("NGAY_LAM_VIEC", 3), ("NGAY_LAM_VIEC", 5)),
        0.9,
        1.0,
        ("CONG_DAN", "DOANH_NGHIEP"),
        (
            "Đổi giấy phép lái xe do ngành Giao thông vận tải cấp",
            "Cấp lại giấy phép lái xe",
            "Cấp giấy phép kinh doanh vận tải bằng xe ô tô",
            "Cấp phù hiệu xe ô tô kinh doanh vận tải",
        ),
    ),
    FieldSpec(
        "VH",
        "Văn hóa",
        ("TINH", "HUYEN"),
        0.01,
        (("NGAY_LAM_VIEC", 5), ("NGAY_LAM_VIEC", 7), ("NGAY_LAM_VIEC", 10)),
        0.4,
        0.9,
        ("CONG_DAN", "DOANH_NGHIEP", "TO_CHUC"),
        ("Cấp giấy phép kinh doanh karaoke", "Thông báo tổ chức lễ hội", "Cấp giấy phép tổ chức biểu diễn nghệ thuật"),
    ),
    FieldSpec(
        "NV",
        "Thi đua - khen thưởng",
        ("TINH", "HUYEN", "XA"),
        0.01,
        (("NGAY_LAM_VIEC", 10), ("NGAY_LAM_VIEC", 15), ("NGAY_LAM_VIEC", 20)),
        0.0,
        0.8,
        ("CONG_DAN", "TO_CHUC"),
        (
            "Tặng Giấy khen của Chủ tịch Ủy ban nhân dân",
            "Tặng danh hiệu Lao động tiên tiến",
            "Tặng Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh",
        ),
    ),
    FieldSpec(
        "NN",
        "Nông nghiệp",
        ("TINH", "HUYEN", "XA"),
        0.03,
        (("NGAY_LAM_VIEC", 5), ("NGAY_LAM_VIEC", 10)),
        0.5,
        0.9,
        ("CONG_DAN", "DOANH_NGHIEP"),
        (
            "Hỗ trợ khôi phục sản xuất vùng bị thiệt hại do thiên tai",
            "Cấp giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm",
            "Xác nhận kế hoạch bảo vệ môi trường trong chăn nuôi",
        ),
    ),
    FieldSpec(
        "MT",
        "Môi trường",
        ("TINH", "HUYEN"),
        0.01,
        (("NGAY_LAM_VIEC", 15), ("NGAY_LAM_VIEC", 20), ("NGAY_LAM_VIEC", 30)),
        0.7,
        1.0,
        ("DOANH_NGHIEP", "TO_CHUC"),
        ("Cấp giấy phép môi trường", "Thẩm định báo cáo đánh giá tác động môi trường", "Đăng ký môi trường"),
    ),
    FieldSpec(
        "CTH",
        "Lưu thông hàng hóa trong nước",
        ("TINH", "HUYEN"),
        0.02,
        (("NGAY_LAM_VIEC", 5), ("NGAY_LAM_VIEC", 10), ("NGAY_LAM_VIEC", 15)),
        0.8,
        1.0,
        ("DOANH_NGHIEP", "CONG_DAN"),
        (
            "Cấp giấy phép bán lẻ sản phẩm rượu",
            "Cấp giấy phép bán lẻ sản phẩm thuốc lá",
            "Cấp giấy chứng nhận đủ điều kiện cửa hàng bán lẻ LPG chai",
        ),
    ),
    FieldSpec(
        "TC",
        "Quản lý công sản",
        ("TINH",),
        0.005,
        (("NGAY_LAM_VIEC", 10), ("NGAY_LAM_VIEC", 15)),
        0.1,
        0.8,
        ("TO_CHUC",),
        ("Quyết định giá thuộc thẩm quyền của cấp tỉnh", "Đăng ký mã số đơn vị có quan hệ với ngân sách"),
    ),
    FieldSpec(
        "KHCN",
        "Hoạt động khoa học và công nghệ",
        ("TINH",),
        0.005,
        (("NGAY_LAM_VIEC", 10), ("NGAY_LAM_VIEC", 15), ("NGAY_LAM_VIEC", 30)),
        0.5,
        1.0,
        ("DOANH_NGHIEP", "TO_CHUC"),
        ("Cấp giấy chứng nhận đăng ký hoạt động khoa học và công nghệ", "Đăng ký chuyển giao công nghệ"),
    ),
    FieldSpec(
        "TTTT",
        "Báo chí, xuất bản",
        ("TINH",),
        0.005,
        (("NGAY_LAM_VIEC", 5), ("NGAY_LAM_VIEC", 10), ("NGAY_LAM_VIEC", 15)),
        0.5,
        1.0,
        ("DOANH_NGHIEP", "TO_CHUC"),
        ("Cấp giấy phép xuất bản bản tin", "Cấp giấy phép hoạt động in", "Cấp giấy phép trưng bày tranh, ảnh"),
    ),
)
FIELD_BY_CODE = {f.code: f for f in FIELDS}
LEVEL_LABEL = {"TINH": "cấp tỉnh", "HUYEN": "cấp huyện", "XA": "cấp xã"}
QUALIFIERS = (
    "",
    " đối với hộ gia đình, cá nhân",
    " đối với tổ chức",
    " trường hợp trực tuyến",
    " (thủ tục rút gọn)",
    " trường hợp có yếu tố nước ngoài",
    " (lần đầu)",
    " (cấp lại)",
)
FEE_AMOUNTS = np.array([2_000, 10_000, 20_000, 30_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000])


@dataclass
class Procedure:
    index: int
    code: str  # MaTTHC
    name: str
    field: FieldSpec
    levels: tuple[str, ...]
    limit_unit: str
    limit: int
    has_fee: bool
    fee_amount: int
    fee_kind: int  # 1 phí (fee), 2 lệ phí (charge)
    document: bool
    audience: tuple[str, ...]
    published: date  # NgayCongBo
    legal_effective: date  # NgayHieuLucVanBan
    made_public: date | None  # NgayCongKhai
    complete: bool  # CongKhaiDayDu
    popularity: float
    first_seen: int  # local seconds of the first version
    versions: list[tuple[int, dict]] = field(default_factory=list)


@dataclass
class Offering:
    unit: int
    procedure: int
    level: str  # TOAN_TRINH | MOT_PHAN | KHONG
    valid_from: date
    valid_to: date | None
    versions: list[tuple[int, dict]] = field(default_factory=list)


class Catalogue:
    def __init__(self, config: WorldConfig, units: UnitSet, cal: WorkCalendar, epoch: int):
        self.config = config
        rng = stream(config.seed, "catalogue")
        self.procedures: list[Procedure] = []
        world_start, world_end = config.start, config.end
        # every field gets at least a few procedures, the rest by popularity
        n = config.procedures
        weights = np.array([max(f.popularity, 0.01) for f in FIELDS])
        counts = np.maximum(2, np.floor(weights / weights.sum() * (n - 2 * len(FIELDS)))).astype(int)
        counts[0] += n - counts.sum()
        used_codes: set[str] = set()
        for field_spec, count in zip(FIELDS, counts):
            combos = [(b, lvl, q) for q in QUALIFIERS for b in field_spec.names for lvl in field_spec.levels]
            pick = rng.permutation(len(combos))[:count] if count <= len(combos) else np.arange(len(combos))
            for k in pick:
                base, level, qual = combos[k]
                self._add_procedure(rng, field_spec, base, level, qual, used_codes, cal, world_start, world_end, epoch)
        self.by_code = {p.code: p for p in self.procedures}
        self._offerings(config, units, rng, epoch)

    # -- procedures -----------------------------------------------------------------------
    def _add_procedure(self, rng, f: FieldSpec, base, level, qual, used_codes, cal, world_start, world_end, epoch):
        while True:
            code = f"{int(rng.integers(1, 3))}.{int(rng.integers(0, 14000)):06d}"
            if code not in used_codes:
                used_codes.add(code)
                break
        limit_unit, limit = f.limits[int(rng.integers(len(f.limits)))]
        has_fee = bool(rng.random() < f.fee_rate)
        new_in_world = bool(rng.random() < 0.08)
        if new_in_world:  # published during the world's span: served from its publishing day
            span = max(1, (world_end - world_start).days - 30)
            published = world_start + timedelta(days=int(rng.integers(0, span)))
        else:
            published = date(2019, 1, 1) + timedelta(
                days=int(rng.integers(0, max(1, (world_start - date(2019, 1, 1)).days - 60)))
            )
        # legal basis effective some days after the decision; often too soon (metric 1.1)
        legal = published + timedelta(days=int(rng.choice([3, 5, 7, 10, 14, 21, 30, 45])))
        public_delay = int(rng.choice([0, 1, 2, 3, 4, 5, 7, 9, 12]))
        made_public = _add_work_days(cal, published, public_delay) if rng.random() > 0.05 else None
        complete = bool(rng.random() < 0.85)
        idx = len(self.procedures)
        proc = Procedure(
            idx,
            code,
            base + (f" ({LEVEL_LABEL[level]})" if len(f.levels) > 1 else "") + qual,
            f,
            (level,),
            limit_unit,
            limit,
            has_fee,
            int(rng.choice(FEE_AMOUNTS)) if has_fee else 0,
            int(rng.integers(1, 3)),
            bool(rng.random() < f.document_rate),
            f.audience,
            published,
            legal,
            made_public,
            complete,
            float(f.popularity * rng.lognormal(0, 1.0)),
            first_seen=day_of(published) + 8 * 3600 + idx if new_in_world else epoch + idx,
        )
        self.procedures.append(proc)
        self._procedure_versions(proc, rng, new_in_world, world_start, world_end)

    def _procedure_versions(self, p: Procedure, rng, new_in_world, world_start, world_end):
        def payload(**over):
            base = {
                "MaTTHC": p.code,
                "TenTTHC": p.name,
                "MaLinhVuc": p.field.code,
                "TenLinhVuc": p.field.name,
                "CapThucHien": list(p.levels),
                "DoiTuongThucHien": list(p.audience),
                "ThoiHanGiaiQuyet": p.limit,
                "DonViThoiHan": p.limit_unit,
                "CoPhiLePhi": p.has_fee,
                "KetQuaLaGiayTo": p.document,
                "NgayCongBo": p.published,
                "NgayHieuLucVanBan": p.legal_effective,
                "NgayCongKhai": p.made_public,
                "CongKhaiDayDu": p.complete,
            }
            base.update(over)
            return base

        versions = []
        if new_in_world and p.made_public is not None:
            # first served before it is public; made public later (a late update)
            versions.append((p.first_seen, payload(NgayCongKhai=None, CongKhaiDayDu=False)))
            versions.append((day_of(p.made_public) + 9 * 3600 + p.index, payload()))
        else:
            versions.append((p.first_seen, payload()))
        if "HUYEN" in p.levels:  # after the merger district procedures are done by communes
            t = day_of(MERGER_ANNOUNCED.date()) + 10 * 3600 + p.index
            if t > versions[-1][0]:
                levels = ["HUYEN", "XA"]
                p.levels = ("HUYEN", "XA")
                versions.append((t, {**versions[-1][1], "CapThucHien": levels}))
        if rng.random() < 0.05:  # a correction of the published content
            lo = max(versions[-1][0] + 86400, day_of(world_start))
            hi = day_of(world_end)
            if hi > lo:
                t = int(rng.integers(lo, hi))
                versions.append((t, {**versions[-1][1], "CongKhaiDayDu": True}))
        p.versions = versions

    # -- offerings ------------------------------------------------------------------------
    def _offerings(self, config: WorldConfig, units: UnitSet, rng, epoch: int):
        self.offerings: list[Offering] = []
        by_level: dict[str, list[Procedure]] = {"TINH": [], "HUYEN": [], "XA": []}
        for p in self.procedures:
            by_level[p.levels[0]].append(p)
        plan: list[tuple[int, Procedure, date, date | None]] = []
        for p in by_level["TINH"]:
            dep = units.field_department.get(p.field.code, units.province)
            plan.append((dep.index, p, OLD_FROM, None))
        for p in by_level["HUYEN"]:
            if p.field.code == "DD":  # district land procedures are done by the land branch
                for b in units.branches:
                    plan.append((b.index, p, OLD_FROM, None))
            else:
                for d in units.districts:
                    plan.append((d.index, p, OLD_FROM, MERGER_LAST_DAY))
                for c in units.new_communes:
                    plan.append((c.index, p, MERGER_DAY, None))
        for p in by_level["XA"]:
            for c in units.old_communes:
                plan.append((c.index, p, OLD_FROM, MERGER_LAST_DAY))
            for c in units.new_communes:
                plan.append((c.index, p, MERGER_DAY, None))

        announce = day_of(MERGER_ANNOUNCED.date()) + 11 * 3600
        for k, (ui, p, vfrom, vto) in enumerate(plan):
            vfrom = max(vfrom, p.legal_effective)
            online = units.p["online"][ui]
            r = rng.random()
            level = "TOAN_TRINH" if r < online * 0.7 else ("MOT_PHAN" if r < online * 1.4 + 0.1 else "KHONG")
            first = (
                max(p.first_seen, units.units[ui].versions[0][0] if units.units[ui].versions else epoch) + 60 + k % 3000
            )
            if vfrom >= MERGER_DAY:
                first = max(first, announce + k % 3000)
            upgrade_day = None
            if level != "TOAN_TRINH" and rng.random() < units.p["upgrade"][ui]:
                lo = max(vfrom, config.start) + timedelta(days=30)
                hi = min(vto or config.end, config.end)
                if hi > lo:
                    upgrade_day = lo + timedelta(days=int(rng.integers(0, (hi - lo).days)))
            ending_at_merger = vto == MERGER_LAST_DAY
            if upgrade_day is not None:
                better = "MOT_PHAN" if level == "KHONG" else "TOAN_TRINH"
                changed = day_of(upgrade_day) - 3 * 86400 + 9 * 3600 + k % 3000
                old = Offering(ui, p.index, level, vfrom, None)
                old.versions = [
                    (first, self._offer_payload(units, old)),
                    (changed, self._offer_payload(units, old, valid_to=upgrade_day - timedelta(days=1))),
                ]
                old.valid_to = upgrade_day - timedelta(days=1)
                new = Offering(ui, p.index, better, upgrade_day, vto)
                new.versions = [(changed + 1, self._offer_payload(units, new, valid_to=None))]
                if ending_at_merger:
                    new.versions.append((announce + k % 3000, self._offer_payload(units, new)))
                self.offerings += [old, new]
            else:
                off = Offering(ui, p.index, level, vfrom, vto)
                if ending_at_merger and first < announce:
                    off.versions = [
                        (first, self._offer_payload(units, off, valid_to=None)),
                        (announce + k % 3000, self._offer_payload(units, off)),
                    ]
                else:
                    off.versions = [(first, self._offer_payload(units, off))]
                self.offerings.append(off)

    def _offer_payload(self, units: UnitSet, o: Offering, valid_to: date | None | str = "same") -> dict:
        return {
            "MaDinhDanh": units.units[o.unit].code,
            "MaTTHC": self.procedures[o.procedure].code,
            "MucDoDVC": o.level,
            "HieuLucTu": o.valid_from,
            "HieuLucDen": o.valid_to if valid_to == "same" else valid_to,
        }


OLD_FROM = date(2020, 1, 1)


def _add_work_days(cal: WorkCalendar, d: date, n: int) -> date:
    days = cal.work_days
    i = int(np.searchsorted(days, day_number(d)))
    j = min(i + n, days.size - 1)
    return date.fromordinal(date(1970, 1, 1).toordinal() + int(days[j]))
