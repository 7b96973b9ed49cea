"""Read the marts into the package's five tables, column names as in the delivery contract.

Every table covers the package's tree: the reporting unit's subtree as of the month's last day
(intermediate.int_unit_closure), calendar month (period_type 'month'). Values leave here
unrounded, except the group scores of tong_hop_diem.csv (see tthc.province_package.scores) and
chenh_lech, which is taken from the unrounded points; the writer (tthc.province_package) rounds the rest.
"""

from __future__ import annotations

from decimal import Decimal

import psycopg
from psycopg.rows import dict_row

from tthc.province_package.periods import Month
from tthc.province_package.scores import GROUP_COLUMNS, written_scores

CLOSURE = "intermediate.int_unit_closure"
# The relation each file is read from; all must exist (a mart with no rows is a valid empty file).
SOURCES = {
    "chi_so_766.csv": "marts.mart_metric_monthly",
    "tong_hop_diem.csv": "marts.mart_score_monthly",
    "bieu_II_06a.csv": "marts.mart_report_ii06a",
    "ho_so_qua_han.csv": "marts.mart_late_dossiers",
    "doi_soat_dvcqg.csv": "marts.mart_portal_reconciliation",
}


class MissingMart(LookupError):
    """A relation the package is read from does not exist (the marts are not built yet)."""


# Units of the package's tree: the reporting unit's subtree as of the month's last day.
TREE = f"""
    select descendant_unit_code from {CLOSURE}
    where ancestor_unit_code = %(unit)s
      and valid_from <= %(as_of)s and (valid_to is null or valid_to >= %(as_of)s)
"""
IN_MONTH = "period_type = 'month' and period_key = %(period)s"

CHI_SO_766 = f"""
select m.period_key       as ky_bao_cao,
       m.unit_code        as ma_don_vi,
       m.unit_name        as ten_don_vi,
       m.unit_level       as cap_don_vi,
       m.parent_unit_code as ma_don_vi_cha,
       m.group_code       as nhom,
       m.metric_code      as ma_chi_so,
       m.metric_name      as ten_chi_so,
       -- the contract keeps 5.3's numerator empty (its rate is 1 − late − complaints)
       case when m.metric_code = '5.3' then null else m.numerator end as tu_so,
       m.denominator      as mau_so,
       m.rate             as ty_le,
       m.points           as diem,
       m.max_points       as diem_toi_da,
       case when m.applies then 1 else 0 end as ap_dung
from marts.mart_metric_monthly m
where m.{IN_MONTH} and m.unit_code in ({TREE})
"""

SCORES = f"""
select s.period_key as ky_bao_cao, s.unit_code as ma_don_vi, s.unit_name as ten_don_vi,
       s.unit_level as cap_don_vi, s.parent_unit_code as ma_don_vi_cha,
       s.score_ckmb as diem_ckmb, s.score_tdgq as diem_tdgq, s.score_clgq as diem_clgq,
       s.score_tttt as diem_tttt, s.score_mdhl as diem_mdhl, s.score_mdsh as diem_mdsh,
       s.total_score, s.max_score as diem_toi_da, s.rank_in_level as xep_hang,
       s.rating_band as xep_loai
from marts.mart_score_monthly s
where s.{IN_MONTH} and s.unit_code in ({TREE})
"""

BIEU_II_06A = f"""
select r.period_key as ky_bao_cao, r.unit_code as ma_don_vi, r.field_code as ma_linh_vuc,
       r.field_name as ten_linh_vuc,
       r.received_total              as tiep_nhan_tong,
       r.received_online             as tiep_nhan_truc_tuyen,
       r.received_in_person_postal   as tiep_nhan_truc_tiep_bcci,
       r.carried_over                as tiep_nhan_ky_truoc,
       r.resolved_total              as da_giai_quyet_tong,
       r.resolved_early              as truoc_han,
       r.resolved_on_time            as dung_han,
       r.resolved_late               as qua_han,
       r.in_progress_total           as dang_giai_quyet_tong,
       r.in_progress_within_deadline as trong_han,
       r.in_progress_overdue         as dang_qua_han
from marts.mart_report_ii06a r
where r.{IN_MONTH} and r.unit_code in ({TREE})
"""

# Timestamps are read as timestamptz in the session's zone (set to local time by the caller), so a
# mart column without a zone is taken as Vietnam time, as the sources record it.
HO_SO_QUA_HAN = f"""
select d.period_key as ky_bao_cao, d.dossier_code as ma_ho_so, d.unit_code as ma_don_vi,
       d.procedure_code as ma_tthc, d.field_code as ma_linh_vuc,
       d.channel::int                         as kenh,
       d.received_at::timestamptz             as ngay_tiep_nhan,
       d.due_at::timestamptz                  as ngay_hen_tra,
       d.end_of_processing_at::timestamptz    as ngay_ket_thuc_xu_ly,
       d.overdue_working_hours                as so_gio_lam_viec_qua_han,
       d.has_apology_letter                   as co_phieu_xin_loi,
       d.status::int                          as trang_thai
from marts.mart_late_dossiers d
where d.{IN_MONTH} and d.unit_code in ({TREE})
"""

RECONCILIATION = f"""
select p.period_key as ky_bao_cao, p.unit_code as ma_don_vi, p.item_code as ma_chi_so,
       p.computed_points, p.portal_points
from marts.mart_portal_reconciliation p
where p.{IN_MONTH} and p.unit_code in ({TREE})
"""


RELATIONS = (*SOURCES.values(), CLOSURE)


def require_relations(conn: psycopg.Connection, unit_code: str, month: Month) -> None:
    """Raise MissingMart naming every relation that does not exist: the contract wants all five
    files, so a package is never written with one left out."""
    missing = [
        name for name in RELATIONS if not conn.execute("select to_regclass(%s) is not null", (name,)).fetchone()[0]
    ]
    if missing:
        raise MissingMart(
            f"cannot publish {unit_code} {month.key}: {', '.join(missing)} "
            f"{'does' if len(missing) == 1 else 'do'} not exist; build the marts first"
        )


def package_tables(conn: psycopg.Connection, unit_code: str, month: Month) -> dict[str, list[dict]]:
    """All five tables of the contract for one reporting unit and month (MissingMart if a mart is missing)."""
    require_relations(conn, unit_code, month)
    params = {"unit": unit_code, "period": month.key, "as_of": month.last_day}
    with conn.cursor(row_factory=dict_row) as cur:

        def fetch(sql: str) -> list[dict]:
            return cur.execute(sql, params).fetchall()

        return {
            "chi_so_766.csv": fetch(CHI_SO_766),
            "tong_hop_diem.csv": [score_row(r) for r in fetch(SCORES)],
            "bieu_II_06a.csv": fetch(BIEU_II_06A),
            "ho_so_qua_han.csv": fetch(HO_SO_QUA_HAN),
            "doi_soat_dvcqg.csv": [reconciliation_row(r) for r in fetch(RECONCILIATION)],
        }


def score_row(row: dict) -> dict:
    """tong_hop_diem.csv: groups rounded so they add up to tong_diem (tthc.province_package.scores)."""
    unrounded = {name: _number(row, name) for name in GROUP_COLUMNS}
    groups, total = written_scores(unrounded, _number(row, "total_score"))
    out = {k: v for k, v in row.items() if k != "total_score"}
    out.update(groups)
    out["tong_diem"] = total
    return out


def reconciliation_row(row: dict) -> dict:
    """doi_soat_dvcqg.csv: chenh_lech = computed − portal from unrounded points, empty without a portal value."""
    computed, portal = row["computed_points"], row["portal_points"]
    difference = None
    if computed is not None and portal is not None:
        difference = _decimal(computed) - _decimal(portal)
    return {
        "ky_bao_cao": row["ky_bao_cao"],
        "ma_don_vi": row["ma_don_vi"],
        "ma_chi_so": row["ma_chi_so"],
        "diem_tinh_toan": computed,
        "diem_dvcqg": portal,
        "chenh_lech": difference,
    }


def _number(row: dict, column: str) -> Decimal:
    value = row[column]
    if value is None:
        raise ValueError(
            f"marts.mart_score_monthly: {column} is null for unit {row['ma_don_vi']} "
            f"in {row['ky_bao_cao']}; every score must be computed before publishing"
        )
    return _decimal(value)


def _decimal(value) -> Decimal:
    # numeric arrives as Decimal; a float column is read through repr, as the writer does.
    return value if isinstance(value, Decimal) else Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def reporting_roots(conn: psycopg.Connection, month: Month) -> list[str]:
    """Units with no parent valid at the month's end: the provinces."""
    rows = conn.execute(
        """
        select unit_code from core.dim_unit
        where parent_unit_code is null
          and valid_from <= %(d)s and (valid_to is null or valid_to >= %(d)s)
        order by unit_code
        """,
        {"d": month.last_day},
    ).fetchall()
    return [r[0] for r in rows]
