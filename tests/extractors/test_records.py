from hypothesis import given, settings
from hypothesis import strategies as st

from extractors.entities import entity
from extractors.records import RawRow, Rejected, parse_record

HO_SO = entity("one_stop", "ho_so")
PAYMENTS = entity("dvc_portal", "payments")
OFFER = entity("one_stop", "thu_tuc_don_vi")


def dossier(**over):
    base = {
        "MaHoSo": "000.17.22.H56-240502-0007",
        "TrangThaiHoSo": 10,
        "KenhThucHien": 2,
        "LoaiDoiTuong": 1,
        "NgayTiepNhan": "20240502093000",
        "NgayHenTra": "20240516170000",
        "NgayTra": "",
        "NgayTuChoi": None,
        "NgayCapNhat": "20240517080005",
        "DanhSachHoSoBoSung": [{"NgayYeuCauBoSung": "20240503090000", "NgayTiepNhanBoSung": None}],
    }
    return base | over


def test_good_record_keeps_its_payload_and_trims_its_key():
    row = parse_record(HO_SO, dossier(MaHoSo="  000.17.22.H56-240502-0007 "))
    assert isinstance(row, RawRow)
    assert row.key == "000.17.22.H56-240502-0007"
    assert '"MaHoSo":"  000.17.22.H56-240502-0007 "' in row.payload  # stored as received
    assert row.updated.isoformat() == "2024-05-17T08:00:05+07:00"


def test_same_content_same_hash_whatever_the_key_order():
    a = parse_record(HO_SO, dossier())
    b = parse_record(HO_SO, dict(reversed(list(dossier().items()))))
    assert a.payload_hash == b.payload_hash
    assert parse_record(HO_SO, dossier(TrangThaiHoSo=9)).payload_hash != a.payload_hash


def test_composite_key():
    row = parse_record(
        OFFER,
        {
            "MaDinhDanh": "X1",
            "MaTTHC": " 1.001234",
            "HieuLucTu": "20240101",
            "NgayCapNhat": "20240101000000",
            "MucDoDVC": "MOT_PHAN",
        },
    )
    assert row.key == "X1|1.001234|20240101"


def test_rejections_say_why():
    cases = {
        "missing key field MaHoSo": dossier(MaHoSo=None),
        "missing key field MaHoSo ": dossier(MaHoSo="   "),
        "NgayCapNhat '2024-05-17' is not a valid time": dossier(NgayCapNhat="2024-05-17"),
        "missing NgayCapNhat": dossier(NgayCapNhat=""),
        "NgayHenTra '20241332170000' is not a valid time": dossier(NgayHenTra="20241332170000"),
        "DanhSachHoSoBoSung[0].NgayYeuCauBoSung 'hôm qua' is not a valid time": dossier(
            DanhSachHoSoBoSung=[{"NgayYeuCauBoSung": "hôm qua"}]
        ),
        "unknown code TrangThaiHoSo=11": dossier(TrangThaiHoSo=11),
        # a code is its exact JSON value: "9" (or "1", 1.0, true) is not an integer code
        "KenhThucHien is a string, not an integer code": dossier(KenhThucHien="9"),
    }
    for reason, record in cases.items():
        result = parse_record(HO_SO, record)
        assert isinstance(result, Rejected), reason
        assert result.reason == reason.strip()
        assert "MaHoSo" in result.raw_text  # the raw text is kept whole


def test_portal_times_need_an_offset():
    good = {
        "transactionId": "T1",
        "updatedAt": "2024-05-02T09:30:00+07:00",
        "status": "SUCCESS",
        "paidAt": None,
        "createdAt": "2024-05-02T09:00:00+07:00",
    }
    assert isinstance(parse_record(PAYMENTS, good), RawRow)
    bad = parse_record(PAYMENTS, good | {"paidAt": "2024-05-02T09:30:00"})
    assert isinstance(bad, Rejected) and "paidAt" in bad.reason
    assert parse_record(PAYMENTS, good | {"status": "PAID"}).reason == "unknown code status='PAID'"


def test_non_object_record():
    result = parse_record(HO_SO, ["not", "a", "dossier"])
    assert isinstance(result, Rejected) and result.raw_text == '["not","a","dossier"]'


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=5),
        max_leaves=20,
    )
)
def test_any_json_value_is_either_loaded_or_quarantined_never_an_exception(value):
    result = parse_record(HO_SO, value)
    assert isinstance(result, (RawRow, Rejected))
    if isinstance(result, Rejected):
        assert result.reason and result.raw_text


SERVICES = entity("dvc_portal", "online_services")
STEPS = entity("one_stop", "qua_trinh_xu_ly")


def test_portal_validity_dates_are_calendar_dates():
    good = {
        "departmentCode": "000.00.01.H56",
        "procedureCode": "1.000001",
        "level": "FULL",
        "validFrom": "2024-01-01",
        "validTo": None,
        "updatedAt": "2024-05-02T09:30:00+07:00",
    }
    row = parse_record(SERVICES, good)
    assert isinstance(row, RawRow) and row.key == "000.00.01.H56|1.000001|2024-01-01"
    assert isinstance(parse_record(SERVICES, good | {"validTo": "2024-12-31"}), RawRow)
    for bad in ("2024-02-30", "02/05/2024", "2024-01-01T00:00:00+07:00", "20240101"):
        result = parse_record(SERVICES, good | {"validTo": bad})
        assert isinstance(result, Rejected) and result.reason == f"validTo {bad!r} is not a valid date"


def test_process_step_moment_is_checked():
    step = {
        "MaHoSo": "H-1",
        "STT": 2,
        "TrangThai": 4,
        "ThoiDiemXuLy": "20240502093000",
        "NgayBatDau": "20240502093000",
        "NgayKetThucTheoQuyDinh": "",
        "NgayCapNhat": "20240502093100",
    }
    row = parse_record(STEPS, step)
    assert isinstance(row, RawRow) and row.key == "H-1|2"
    bad = parse_record(STEPS, step | {"ThoiDiemXuLy": "20241399250000"})
    assert isinstance(bad, Rejected) and bad.reason == "ThoiDiemXuLy '20241399250000' is not a valid time"
    assert (
        parse_record(STEPS, step | {"ThoiDiemXuLy": 20240502}).reason == "ThoiDiemXuLy is an integer, not a time string"
    )
