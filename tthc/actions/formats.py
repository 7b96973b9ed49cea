"""A unit's actions as machines and people read them (the contract of issue 21):

- CSV: header `danh_sach,ma_ho_so,ma_don_vi,gia_tri,co_van_ban_xin_loi`, rows sorted by
  (danh_sach, ma_ho_so); gia_tri the list's figure with 2 decimals (working hours for L1–L4,
  the row's points gain for L5/L6), empty for thieu_ly_do; co_van_ban_xin_loi 0/1 for qua_han,
  else empty;
- projection JSON: ty_le_2_1_thap_nhat / _cao_nhat (4 decimals), tong_diem_thap_nhat / _cao_nhat
  (2 decimals), so_ho_so_chua_quyet_dinh, ba_viec [{ma_chi_so, danh_sach, diem_co_the_tang
  (2 decimals), so_ho_so}];
- a Vietnamese text view: the three things, the list counts, the projection, then the rows.

Rounding is half away from zero (Decimal ROUND_HALF_UP), on the unrounded values the models keep.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import ROUND_HALF_UP, Decimal

from extractors.timefmt import LOCAL
from tthc.actions.labels import LIST_TITLES, NOT_PROJECTED, metric_title
from tthc.actions.names import FIGURES, GAIN_LISTS, LIST_NAMES
from tthc.actions.readers import UnitActions

CSV_HEADER = ("danh_sach", "ma_ho_so", "ma_don_vi", "gia_tri", "co_van_ban_xin_loi")
CENTS, RATE = Decimal("0.01"), Decimal("0.0001")


def rounded(value, places: Decimal) -> Decimal | None:
    """Half away from zero; None stays None; never a negative zero."""
    if value is None:
        return None
    result = Decimal(str(value)).quantize(places, rounding=ROUND_HALF_UP)
    return result if result != 0 else abs(result)


def _figure(row: dict) -> Decimal | None:
    if row["list_name"] == "thieu_ly_do":
        return None
    return rounded(row["points_gain"] if row["list_name"] in GAIN_LISTS else row["list_value"], CENTS)


def csv_text(actions: UnitActions) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in sorted(actions.rows, key=lambda r: (r["list_name"], r["dossier_code"])):
        figure = _figure(row)
        apology = "" if row["list_name"] != "qua_han" else ("1" if row["has_apology_letter"] else "0")
        writer.writerow(
            (
                row["list_name"],
                row["dossier_code"],
                row["row_unit_code"] or "",
                "" if figure is None else str(figure),
                apology,
            )
        )
    return out.getvalue()


def projection_dict(actions: UnitActions) -> dict:
    p = actions.projection or {}
    return {
        "ty_le_2_1_thap_nhat": rounded(p.get("rate_2_1_min"), RATE),
        "ty_le_2_1_cao_nhat": rounded(p.get("rate_2_1_max"), RATE),
        "tong_diem_thap_nhat": rounded(p.get("total_points_min"), CENTS),
        "tong_diem_cao_nhat": rounded(p.get("total_points_max"), CENTS),
        "so_ho_so_chua_quyet_dinh": int(p["undecided"]) if p.get("undecided") is not None else 0,
        "ba_viec": [
            {
                "ma_chi_so": t["metric_code"],
                "danh_sach": t["list_name"],
                "diem_co_the_tang": rounded(t["points_at_stake"], CENTS),
                "so_ho_so": int(t["row_count"]),
            }
            for t in actions.three_things
        ],
    }


def projection_json(actions: UnitActions) -> str:
    return _dumps(projection_dict(actions)) + "\n"


def _dumps(value) -> str:
    """JSON with Decimals as their exact digits."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dumps(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


# -- for people ----------------------------------------------------------------------------------


def _vn(value, places: Decimal = CENTS) -> str:
    number = rounded(value, places)
    return "—" if number is None else f"{number:,}".replace(",", " ").replace(".", ",")


def _percent(rate) -> str:
    number = rounded(rate, RATE)
    return "—" if number is None else _vn(number * 100) + " %"


def _time(value) -> str:
    return "" if value is None else value.astimezone(LOCAL).strftime("%d/%m/%Y %H:%M")


def projection_text(actions: UnitActions) -> str:
    p = actions.projection
    if not p:
        return "Dự báo cuối tháng: chưa có (đơn vị không có hồ sơ trong kỳ)\n"
    return (
        "\n".join(
            (
                "Dự báo chỉ số 2.1 cuối tháng:",
                f"  Tỷ lệ đúng hạn: thấp nhất {_percent(p['rate_2_1_min'])}, cao nhất {_percent(p['rate_2_1_max'])}",
                f"  Tổng điểm: hiện tại {_vn(p['total_points_now'])}, thấp nhất {_vn(p['total_points_min'])}, "
                f"cao nhất {_vn(p['total_points_max'])}",
                f"  Hồ sơ: {p['dossiers_all']} trong kỳ; đã quyết định đúng hạn {p['decided_on_time']}, trễ hạn "
                f"{p['decided_late']}; chắc chắn đúng hạn {p['safe']}; chưa quyết định {p['undecided']}",
                f"  ({NOT_PROJECTED})",
            )
        )
        + "\n"
    )


def three_things_text(actions: UnitActions) -> str:
    if not actions.three_things:
        return "Ba việc cần làm ngay: không có việc nào có điểm\n"
    lines = ["Ba việc cần làm ngay:"]
    for t in actions.three_things:
        verb = "giữ được" if t["list_name"] == "sap_den_han" else "tăng được"
        lines.append(
            f"  {t['rank']}. {metric_title(t['metric_code'])}: {LIST_TITLES[t['list_name']]}, "
            f"{t['row_count']} hồ sơ, {verb} {_vn(t['points_at_stake'])} điểm"
        )
    return "\n".join(lines) + "\n"


def text_view(actions: UnitActions) -> str:
    name = f" ({actions.unit_name})" if actions.unit_name else ""
    parts = [
        f"Đơn vị {actions.unit_code}{name}, số liệu lúc {_time(actions.at)}\n",
        three_things_text(actions),
        "Số hồ sơ theo danh sách:\n"
        + "".join(f"  {LIST_TITLES[n]} ({n}): {actions.counts.get(n, 0)}\n" for n in LIST_NAMES),
        projection_text(actions),
    ]
    by_list: dict[str, list[dict]] = {}
    for row in actions.rows:
        by_list.setdefault(row["list_name"], []).append(row)
    for name_ in LIST_NAMES:
        rows = sorted(by_list.get(name_, []), key=lambda r: r["dossier_code"])
        if not rows:
            continue
        figure = FIGURES[name_]
        lines = [f"{LIST_TITLES[name_]} ({name_}): {len(rows)} hồ sơ" + (f"; số liệu: {figure}" if figure else "")]
        for row in rows:
            cells = [
                row["dossier_code"],
                f"đơn vị {row['row_unit_code']}",
                f"TTHC {row['procedure_code']}",
                f"nhận {_time(row['received_at'])}",
            ]
            if row["due_at"] is not None:
                cells.append(f"hẹn trả {_time(row['due_at'])}")
            value = _figure(row)
            if value is not None:
                cells.append(f"{figure} {_vn(value)}")
            if name_ == "qua_han":
                cells.append("đã có văn bản xin lỗi" if row["has_apology_letter"] else "chưa có văn bản xin lỗi")
            if name_ == "buoc_qua_han":
                cells.append(
                    f"bước {row['current_step_number']} ({row['current_step_department'] or '—'}), "
                    f"đơn vị giải quyết {row['handling_unit_code']}"
                )
            lines.append("  " + "; ".join(str(c) for c in cells))
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)
