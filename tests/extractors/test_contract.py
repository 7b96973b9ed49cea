"""Field checks against the sources' contracts (extractors/contract.py), text cleaning and key
encoding (extractors/records.py): pure, no database."""

import json
import math
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractors import contract as C
from extractors.entities import ENTITIES, entity
from extractors.records import RawRow, Rejected, decode_key, encode_key, parse_record, quarantine_text
from simulator import FaultConfig, World
from tests.extractors.sim_harness import CLOCK, SMALL_WORLD

HO_SO = entity("one_stop", "ho_so")
STEPS = entity("one_stop", "qua_trinh_xu_ly")
OFFER = entity("one_stop", "thu_tuc_don_vi")
PROC = entity("one_stop", "thu_tuc")
PAYMENTS = entity("dvc_portal", "payments")
FEEDBACK = entity("dvc_portal", "feedback")
SERVICES = entity("dvc_portal", "online_services")


def dossier(**over):
    base = {
        "MaHoSo": "H-1",
        "MaTTHC": "1.001234",
        "KenhThucHien": 2,
        "LoaiDoiTuong": 1,
        "LienThong": False,
        "ChuHoSo": "Nguyễn Văn A",
        "SoGiayToChuHoSo": "038090001234",
        "SoDienThoai": "0912345678",
        "Email": None,
        "DiaChi": "Thôn 3",
        "TrichYeuHoSo": "Đăng ký",
        "NgayNopHoSo": "20240502081500",
        "NgayTiepNhan": "20240502093000",
        "NgayHenTra": "20240516170000",
        "NgayTra": "",
        "NgayTuChoi": None,
        "TrangThaiHoSo": 10,
        "HoSoCoThanhPhanSoHoa": 1,
        "TaiKhoanDuocXacThucVoiVNeID": 0,
        "DuocThanhToanTrucTuyen": 1,
        "TaiLieuNop": [{"MaThanhPhanHoSo": "TP1", "DuocSoHoa": 1, "DuocTaiSuDung": 0, "DuocLayTuKhoDMQG": 1}],
        "DanhSachLePhi": [{"MaPhiLePhi": "LP01", "LoaiPhiLePhi": 2, "HinhThucThu": "TRUC_TUYEN", "Gia": 50000}],
        "DanhSachHoSoBoSung": [{"NgayYeuCauBoSung": "20240503090000", "NgayTiepNhanBoSung": None}],
        "DanhSachGiayToKetQua": [],
        "PhieuXinLoi": [],
        "DaXoa": False,
        "NgayCapNhat": "20240517080005",
    }
    return base | over


def payment(**over):
    base = {
        "transactionId": "T1",
        "dossierCode": "H-1",
        "feeType": "LE_PHI",
        "amount": 50000,
        "status": "SUCCESS",
        "channel": "PAYGOV",
        "createdAt": "2024-05-02T09:00:00+07:00",
        "paidAt": None,
        "updatedAt": "2024-05-02T09:30:00+07:00",
    }
    return base | over


def procedure(**over):
    base = {
        "MaTTHC": "1.001234",
        "CapThucHien": ["TINH", " XA "],
        "DoiTuongThucHien": ["CONG_DAN"],
        "ThoiHanGiaiQuyet": 15,
        "DonViThoiHan": "NGAY_LAM_VIEC",
        "CoPhiLePhi": True,
        "KetQuaLaGiayTo": True,
        "NgayCongBo": "20200421",
        "NgayHieuLucVanBan": "20200505",
        "NgayCongKhai": None,
        "CongKhaiDayDu": True,
        "NgayCapNhat": "20231003080039",
    }
    return base | over


def reason(target, record):
    result = parse_record(target, record)
    assert isinstance(result, Rejected), f"{record!r} passed"
    return result.reason


def test_the_contract_example_and_the_good_fixtures_pass():
    for target, record in ((HO_SO, dossier()), (PAYMENTS, payment()), (PROC, procedure())):
        assert isinstance(parse_record(target, record), RawRow)


def test_every_entity_has_a_contract_naming_its_key_and_update_fields():
    for e in ENTITIES:
        fields = C.fields_of(e)
        for name in (*e.key, e.updated):
            assert fields[name].required, (e.table, name)


def test_every_simulator_record_passes_padded_codes_and_empty_dates_included():
    world = World(SMALL_WORLD)
    faults = FaultConfig(seed=3, padded_codes=0.5, empty_dates=0.5)
    for source, name in world.entities():
        rows = json.loads(json.dumps(world.records(source, name, CLOCK, faults=faults)))
        assert rows, name
        bad = [
            (r, parse_record(entity(source, name), r).reason)
            for r in rows
            if isinstance(parse_record(entity(source, name), r), Rejected)
        ]
        assert not bad, f"{source}/{name}: {bad[:2]}"


@pytest.mark.parametrize(
    "value, why",
    [
        (1.0, "KenhThucHien is a decimal number, not an integer code"),
        (True, "KenhThucHien is a boolean, not an integer code"),
        ("1", "KenhThucHien is a string, not an integer code"),
        (4, "unknown code KenhThucHien=4"),
    ],
)
def test_integer_codes_are_exact_json_integers(value, why):
    assert reason(HO_SO, dossier(KenhThucHien=value)) == why


def test_string_codes_are_compared_trimmed_and_exact():
    assert isinstance(parse_record(PAYMENTS, payment(status="  SUCCESS ")), RawRow)
    assert reason(PAYMENTS, payment(status="success")) == "unknown code status='success'"
    assert reason(PAYMENTS, payment(status=1)) == "status is an integer, not a string code"
    assert reason(PAYMENTS, payment(feeType="PHÍ")) == "unknown code feeType='PHÍ'"


@pytest.mark.parametrize(
    "value, why",
    [
        ("50000", "DanhSachLePhi[0].Gia is a string, not an integer"),
        (5e4, "DanhSachLePhi[0].Gia is a decimal number, not an integer"),
        (True, "DanhSachLePhi[0].Gia is a boolean, not an integer"),
        (10**30, "DanhSachLePhi[0].Gia 1000000000000000000000000000000 is out of range [0, 1000000000000000]"),
        (-1, "DanhSachLePhi[0].Gia -1 is out of range [0, 1000000000000000]"),
    ],
)
def test_integers(value, why):
    fees = [{"MaPhiLePhi": "LP01", "LoaiPhiLePhi": 2, "Gia": value}]
    assert reason(HO_SO, dossier(DanhSachLePhi=fees)) == why


def test_integer_key_part_and_32_bit_integers():
    step = {"MaHoSo": "H-1", "STT": 2, "TrangThai": 4, "NgayCapNhat": "20240502093100"}
    assert parse_record(STEPS, step).key == "H-1|2"
    assert reason(STEPS, step | {"STT": "2"}) == "key field STT is a string, not an integer"
    assert reason(STEPS, step | {"STT": 2.0}) == "key field STT is a decimal number, not an integer"
    assert (
        reason(FEEDBACK, {"feedbackId": "F1", "likes": 2**31, "updatedAt": "2024-05-02T09:30:00+07:00"})
        == "likes 2147483648 is out of range [0, 2147483647]"
    )


@pytest.mark.parametrize(
    "value, why",
    [
        (math.nan, "ThoiHanGiaiQuyet is nan, not a finite number"),
        (math.inf, "ThoiHanGiaiQuyet is inf, not a finite number"),
        ("15", "ThoiHanGiaiQuyet is a string, not a number"),
        (10**30, "ThoiHanGiaiQuyet 1000000000000000000000000000000 is out of range [0, 10000]"),
        (1e400, "ThoiHanGiaiQuyet is inf, not a finite number"),  # json.loads reads 1e400 as inf
    ],
)
def test_numbers_are_finite_and_bounded(value, why):
    assert reason(PROC, procedure(ThoiHanGiaiQuyet=value)) == why
    assert isinstance(parse_record(PROC, procedure(ThoiHanGiaiQuyet=0.5)), RawRow)


def test_booleans_and_flags():
    assert reason(HO_SO, dossier(LienThong=1)) == "LienThong is an integer, not a boolean"
    assert reason(HO_SO, dossier(DaXoa="false")) == "DaXoa is a string, not a boolean"
    assert reason(HO_SO, dossier(HoSoCoThanhPhanSoHoa=True)) == "HoSoCoThanhPhanSoHoa is a boolean, not 0 or 1"
    assert reason(HO_SO, dossier(HoSoCoThanhPhanSoHoa=2)) == "HoSoCoThanhPhanSoHoa 2 is not 0 or 1"
    docs = [{"DuocSoHoa": 1.0}]
    assert reason(HO_SO, dossier(TaiLieuNop=docs)) == "TaiLieuNop[0].DuocSoHoa is a decimal number, not 0 or 1"


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-17",
        "20240517 0800",
        "2024051708000",
        "20240230080000",
        "18991231235959",
        "20240517240000",
        "２０２４０５１７０８０００５",
    ],
)
def test_local_times(value):
    assert reason(HO_SO, dossier(NgayHenTra=value)) == f"NgayHenTra {value!r} is not a valid time"


def test_local_dates_are_eight_digits():
    assert reason(PROC, procedure(NgayCongBo="20200421080000")) == "NgayCongBo '20200421080000' is not a valid date"
    assert isinstance(parse_record(PROC, procedure(NgayCongBo="", NgayCongKhai=" 20200424 ")), RawRow)


@pytest.mark.parametrize(
    "value",
    [
        "2024-W05-3T10:00:00+07:00",
        "20240502T093000+0700",
        "2024-05-02T09:30:00",
        "2024-05-02T09:30:00+20:00",
        "2024-123T09:30:00+07:00",
        "2024-02-30T10:00:00+07:00",
        "02/05/2024 09:30",
        "2024-05-02T24:00:00+07:00",
        "",
        "0024-05-02T09:30:00+07:00",
    ],
)
def test_iso_times(value):
    assert reason(PAYMENTS, payment(paidAt=value)) == f"paidAt {value!r} is not a valid time"


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-02T09:30:00Z",
        "2024-05-02 09:30:00+07:00",
        "2024-05-02T09:30+07:00",
        "2024-05-02T09:30:00.123456-03:00",
        " 2024-05-02T09:30:00+07:00 ",
    ],
)
def test_iso_times_postgresql_reads_the_same_way_pass(value):
    assert isinstance(parse_record(PAYMENTS, payment(paidAt=value)), RawRow)


@pytest.mark.parametrize("value", ["2024-W05-3", "2024-02-30", "20240101", "2024-01-01T00:00:00+07:00", "2024-1-01"])
def test_iso_dates(value):
    good = {
        "departmentCode": "D1",
        "procedureCode": "P1",
        "validFrom": "2024-01-01",
        "updatedAt": "2024-05-02T09:30:00+07:00",
    }
    assert reason(SERVICES, good | {"validTo": value}) == f"validTo {value!r} is not a valid date"
    # a date key part is checked with the other fields: the record is quarantined under its key
    bad = parse_record(SERVICES, good | {"validFrom": value})
    assert (bad.key, bad.reason) == (f"D1|P1|{value.strip()}", f"validFrom {value!r} is not a valid date")


def test_code_lists_and_nested_objects():
    assert reason(PROC, procedure(CapThucHien=["TINH", 1])) == "CapThucHien[1] is an integer, not a string code"
    assert reason(PROC, procedure(CapThucHien="TINH")) == "CapThucHien is a string, not a list of codes"
    assert reason(PROC, procedure(DoiTuongThucHien=["CA_NHAN"])) == "unknown code DoiTuongThucHien[0]='CA_NHAN'"
    assert reason(HO_SO, dossier(TaiLieuNop={"MaThanhPhanHoSo": "TP1"})) == "TaiLieuNop is an object, not a list"
    assert (
        reason(HO_SO, dossier(PhieuXinLoi=[{"NgayXinLoi": "20240503090000"}, "x"]))
        == "PhieuXinLoi[1] is a string, not an object"
    )
    assert (
        reason(HO_SO, dossier(DanhSachHoSoBoSung=[{"NgayYeuCauBoSung": "2024-W05-3"}]))
        == "DanhSachHoSoBoSung[0].NgayYeuCauBoSung '2024-W05-3' is not a valid time"
    )


def test_missing_and_null():
    assert reason(HO_SO, {k: v for k, v in dossier().items() if k != "TrangThaiHoSo"}) == "TrangThaiHoSo is missing"
    assert reason(HO_SO, dossier(TrangThaiHoSo=None)) == "TrangThaiHoSo is missing"
    # every field that is not required may be null or absent
    optional = {
        k: None for k in C.CONTRACTS[("one_stop", "ho_so")] if k not in ("MaHoSo", "NgayCapNhat", "TrangThaiHoSo")
    }
    assert isinstance(parse_record(HO_SO, dossier(**optional)), RawRow)
    assert isinstance(
        parse_record(HO_SO, {"MaHoSo": "H-2", "TrangThaiHoSo": 2, "NgayCapNhat": "20240517080005"}), RawRow
    )


def test_fields_the_contract_does_not_list_are_kept_unless_postgresql_cannot_store_them():
    row = parse_record(HO_SO, dossier(MaMoi="x", ChiTiet={"a": [1, 2.5, None]}))
    assert isinstance(row, RawRow) and '"MaMoi":"x"' in row.payload
    assert reason(HO_SO, dossier(ChiTiet={"a": [1, math.nan]})) == "ChiTiet holds nan, not a finite number"
    assert reason(HO_SO, dossier(TaiLieuNop=[{"Moi": math.inf}])) == "TaiLieuNop[0].Moi holds inf, not a finite number"
    huge = parse_record(HO_SO, dossier(SoLon=10**30))  # an exact huge integer: jsonb's numeric holds it
    assert isinstance(huge, RawRow) and '"SoLon":1000000000000000000000000000000' in huge.payload


PERSONAL_VALUE = "038090001234"


@pytest.mark.parametrize("field", sorted(C.PERSONAL_FIELDS))
def test_a_personal_value_never_enters_a_reason(field):
    target = FEEDBACK if field == "content" else STEPS if field == "NguoiXuLy" else HO_SO
    base = (
        {"feedbackId": "F1", "updatedAt": "2024-05-02T09:30:00+07:00"}
        if target is FEEDBACK
        else {"MaHoSo": "H-1", "STT": 1, "NgayCapNhat": "20240502093100"}
        if target is STEPS
        else dossier()
    )
    for bad in ({"so": PERSONAL_VALUE}, [PERSONAL_VALUE], int(PERSONAL_VALUE), float(PERSONAL_VALUE)):
        why = reason(target, base | {field: bad})
        assert field in why and PERSONAL_VALUE not in why and "38090001234" not in why, why


def test_nul_is_removed_from_text_and_a_lone_surrogate_replaced():
    row = parse_record(
        HO_SO,
        dossier(
            TrichYeuHoSo="Đăng\x00 ký",
            ChuHoSo="A\ud800B",
            TaiLieuNop=[{"TenTepDinhKem": "\x00a.pdf"}],
            Moi={"k\x00": "v"},
        ),
    )
    assert isinstance(row, RawRow)
    assert "\\u0000" not in row.payload and "\x00" not in row.payload
    payload = json.loads(row.payload)
    assert payload["TrichYeuHoSo"] == "Đăng ký" and payload["ChuHoSo"] == "A\ufffdB"
    assert payload["TaiLieuNop"][0]["TenTepDinhKem"] == "a.pdf" and payload["Moi"] == {"k": "v"}
    row.payload.encode("utf-8")  # storable
    # a surrogate pair is one character, not two replacements
    assert json.loads(parse_record(HO_SO, dossier(DiaChi="x\ud83d\ude00")).payload)["DiaChi"] == "x😀"
    # the text "\u0000" (backslash, u, zeros) is text, kept as it is
    assert json.loads(parse_record(HO_SO, dossier(LyDo="\\u0000")).payload)["LyDo"] == "\\u0000"


def test_nul_or_surrogate_in_a_key_or_a_code_or_a_time_quarantines():
    assert (
        reason(HO_SO, dossier(MaHoSo="H-\x001"))
        == "key field MaHoSo holds a NUL character or a lone surrogate, which PostgreSQL cannot store"
    )
    assert reason(HO_SO, dossier(MaHoSo="H-\udc801")).startswith("key field MaHoSo holds")
    assert (
        reason(HO_SO, dossier(NgayHenTra="20240516\x00170000"))
        == "NgayHenTra '20240516\\x00170000' is not a valid time"
    )
    assert reason(PAYMENTS, payment(status="SUCCESS\x00")) == "unknown code status='SUCCESS\\x00'"


def test_quarantine_text_is_storable_and_gives_the_record_back():
    record = dossier(MaHoSo="H-\x00\ud800", ThoiHan=math.nan, Lon=10**30, Vo=-math.inf)
    rejected = parse_record(HO_SO, record)
    assert isinstance(rejected, Rejected)
    text = rejected.raw_text
    assert "\x00" not in text
    text.encode("utf-8")
    back = json.loads(text)
    assert math.isnan(back.pop("ThoiHan")) and math.isnan(record.pop("ThoiHan"))
    assert back == record
    assert quarantine_text(["a", 1]) == '["a",1]'


def test_composite_keys_that_differ_by_a_separator_do_not_collide():
    base = {"HieuLucTu": "20240101", "NgayCapNhat": "20240101000000"}
    a = parse_record(OFFER, base | {"MaDinhDanh": "X|1", "MaTTHC": "2"})
    b = parse_record(OFFER, base | {"MaDinhDanh": "X", "MaTTHC": "1|2"})
    assert a.key == "X\\|1|2|20240101" and b.key == "X|1\\|2|20240101"
    c = parse_record(OFFER, base | {"MaDinhDanh": "X\\", "MaTTHC": "|2"})
    d = parse_record(OFFER, base | {"MaDinhDanh": "X\\|", "MaTTHC": "2"})
    assert len({a.key, b.key, c.key, d.key}) == 4
    # keys without '|' or '\\' are what they always were; one-field keys are never escaped
    assert parse_record(OFFER, base | {"MaDinhDanh": "X1", "MaTTHC": "1.001"}).key == "X1|1.001|20240101"
    assert parse_record(HO_SO, dossier(MaHoSo=" A|B\\C ")).key == "A|B\\C"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(alphabet="ab|\\", max_size=5), min_size=2, max_size=3),
    st.lists(st.text(alphabet="ab|\\", max_size=5), min_size=2, max_size=3),
)
def test_key_encoding_is_injective_and_reversible(p, q):
    assert decode_key(encode_key(p), len(p)) == p
    if len(p) == len(q) and p != q:
        assert encode_key(p) != encode_key(q)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=16),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=10,
)
FIELD_PATHS = [(e, name, None) for e in ENTITIES for name in C.fields_of(e)] + [
    (e, name, sub) for e in ENTITIES for name, spec in C.fields_of(e).items() if spec.items for sub in spec.items
]


@settings(max_examples=800, deadline=None)
@given(
    st.sampled_from(FIELD_PATHS),
    JSON
    | st.sampled_from(
        ["20240502093000", "20240502", "", " 2 ", "TINH", 1, 0, 2.0, "2024-05-02T09:30:00+07:00", "2024-05-02"]
    ),
)
def test_the_compiled_check_and_the_explanation_agree(path, value):
    """Checker.passes (generated code) and Checker.explain (the tables) on one changed field."""
    e, name, sub = path
    record = dossier() if e is HO_SO else payment() if e is PAYMENTS else {}
    record[name] = value if sub is None else [{sub: value}]
    check = C.checker(e)
    explained = check.explain(record)
    assert check.passes(record) == (explained is None), (record, explained)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_any_json_value_is_stored_safely_or_quarantined(value):
    for target in (HO_SO, PAYMENTS):
        record = (dossier() if target is HO_SO else payment()) | {"Extra": value}
        result = parse_record(target, record)
        assert isinstance(result, (RawRow, Rejected))
        if isinstance(result, RawRow):
            assert "\\u0000" not in result.payload.replace("\\\\", "")
            result.payload.encode("utf-8")
            assert isinstance(result.updated, datetime)
        else:
            assert "\x00" not in result.raw_text and result.reason
            result.raw_text.encode("utf-8")
