"""Read the marts into the extract's tables, column names as in the delivery contract."""
from __future__ import annotations

import psycopg
from psycopg.rows import dict_row

from tthc.publish.periods import Month

# Units of the package's tree: the reporting unit's subtree as of the month's last day.
TREE = """
    select descendant_unit_code from intermediate.int_unit_closure
    where ancestor_unit_code = %(unit)s
      and valid_from <= %(as_of)s and (valid_to is null or valid_to >= %(as_of)s)
"""

CHI_SO_766 = f"""
select m.period_key       as ky_bao_cao,
       m.unit_code        as ma_don_vi,
       m.unit_name        as ten_don_vi,
       m.unit_level       as cap_don_vi,
       m.parent_unit_code as ma_don_vi_cha,
       m.group_code       as nhom,
       m.metric_code      as ma_chi_so,
       m.metric_name      as ten_chi_so,
       m.numerator        as tu_so,
       m.denominator      as mau_so,
       m.rate             as ty_le,
       m.points           as diem,
       m.max_points       as diem_toi_da,
       case when m.applies then 1 else 0 end as ap_dung
from marts.mart_metric_monthly m
where m.period_type = 'month' and m.period_key = %(period)s
  and m.unit_code in ({TREE})
"""


def extract_tables(conn: psycopg.Connection, unit_code: str, month: Month) -> dict[str, list[dict]]:
    params = {"unit": unit_code, "period": month.key, "as_of": month.last_day}
    with conn.cursor(row_factory=dict_row) as cur:
        chi_so = cur.execute(CHI_SO_766, params).fetchall()
    return {"chi_so_766.csv": chi_so}


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
