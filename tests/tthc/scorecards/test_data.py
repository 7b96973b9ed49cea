"""The reader against the tables it reads: a hand-made province (warehouse.py) for every value of
a card, and a real dbt-built slice for the totals, groups, metrics and bands of every unit."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import psycopg
import pytest
from psycopg.rows import dict_row

from extractors.timefmt import LOCAL
from tests.conftest import scratch_database
from tests.tthc.scorecards import warehouse as W
from tthc.scorecards import periods as P
from tthc.scorecards.bands import band_of, competition_ranks, rating_bands
from tthc.scorecards.data import NO_OFFICIAL, ScorecardsUnavailable, UnknownUnit, read_period
from tthc.scorecards.model import GROUPS

NOW = datetime(2025, 8, 10, 12, 0, tzinfo=LOCAL)


@pytest.fixture(scope="module")
def made(pg_cluster):
    with scratch_database(pg_cluster) as dsn:
        W.create_warehouse(dsn)
        yield dsn


def rows(dsn, query: str, *params) -> list[dict]:
    with psycopg.connect(dsn.conninfo(), row_factory=dict_row) as conn:
        return conn.execute(query, params).fetchall()


def scores(dsn, kind: str, key: str) -> dict[str, dict]:
    return {
        r["unit_code"]: r
        for r in rows(
            dsn, "select * from marts.mart_score_monthly where period_type = %s and period_key = %s", kind, key
        )
    }


def test_a_month_card_holds_the_marts_values(made, monkeypatch):
    monkeypatch.delenv("TTHC_MONTH_CLOSING_DAY", raising=False)
    data = read_period(made, "2025-07", NOW)
    july, june = scores(made, "month", "2025-07"), scores(made, "month", "2025-06")
    assert data.units == sorted(july) and W.GONE not in july
    assert data.final and data.data_as_of == datetime(2025, 8, 1, 0, 30, tzinfo=LOCAL)  # the sources' bound
    for unit, s in july.items():
        card = data.card(unit, NOW)
        assert (card.unit_name, card.unit_level, card.period.key, card.period.kind) == (
            s["unit_name"],
            s["unit_level"],
            "2025-07",
            "month",
        )
        assert (card.total, card.max_score, card.band, card.rank) == (
            s["total_score"],
            s["max_score"],
            s["rating_band"],
            s["rank_in_level"],
        )
        assert card.rank_of == sum(
            1
            for o in july.values()
            if (o["parent_unit_code"], o["unit_level"]) == (s["parent_unit_code"], s["unit_level"])
        )
        assert [(g.group_code, g.points) for g in card.groups] == [(c, s[f"score_{c.lower()}"]) for c, _ in GROUPS]
        assert sum(g.max_points for g in card.groups) == card.max_score
        assert (card.previous_key, card.previous_total) == (
            "2025-06",
            june[unit]["total_score"] if unit in june else None,
        )
        assert card.change == (card.total - card.previous_total if card.previous_total is not None else None)
        metrics = rows(
            made,
            "select metric_code, metric_name, group_code, numerator, denominator, rate, points, "
            "max_points, applies from marts.mart_metric_monthly where period_type = 'month' and "
            "period_key = '2025-07' and unit_code = %s order by metric_code",
            unit,
        )
        assert [m.__dict__ for m in card.metrics] == metrics and len(metrics) == 22
        assert [t.period_key for t in card.trend] == W.MONTHS  # twelve months, oldest first
        assert card.trend[-1].total == card.total and card.trend[-1].label == "T7/25"
        assert card.lists_at == W.AT
    # ranks share on a tie (C1 and C2), competition style
    assert [data.card(u, NOW).rank for u in (W.C1, W.C2, W.C3)] == [1, 1, 3]
    # a period the unit had no score in is a gap in its trend
    c2 = data.card(W.C2, NOW)
    assert [t.total is None for t in c2.trend] == [k == "2025-03" for k in W.MONTHS]


def test_children_key_rates_official_total_and_lists(made):
    data = read_period(made, "2025-07", NOW)
    province = data.card(W.P, NOW)
    july = scores(made, "month", "2025-07")
    assert [c.unit_code for c in province.children] == sorted(
        (W.D, W.C1, W.C2, W.C3), key=lambda u: (-july[u]["total_score"], u)
    )  # not GONE: merged in May
    assert [k.metric_code for k in province.key_rates] == ["2.1", "3.3", "4.1", "4.2", "1.4"]
    by_code = {c.unit_code: c for c in province.children}
    assert by_code[W.C1].rates["4.1"] == Decimal("0.5456") and by_code[W.C3].rates["4.1"] == Decimal("0.2237")
    assert (by_code[W.C3].total, by_code[W.C3].band, by_code[W.C3].rank) == (
        july[W.C3]["total_score"],
        july[W.C3]["rating_band"],
        july[W.C3]["rank_in_level"],
    )
    assert data.card(W.C1, NOW).children == []
    assert province.official_total == Decimal("86.97") and NO_OFFICIAL not in province.notes
    commune = data.card(W.C1, NOW)
    assert commune.official_total is None and NO_OFFICIAL in commune.notes  # a TONG row without the portal's value
    assert data.card(W.D, NOW).official_total is None  # no row at all
    assert [
        (t.rank, t.metric_code, t.list_name, t.list_title, t.points_at_stake, t.row_count)
        for t in province.three_things
    ] == [
        (1, "2.1", "sap_den_han", "Sắp đến hạn", Decimal("0.0824"), 2),
        (2, "4.1", "thieu_ket_qua_dien_tu", "Thiếu kết quả điện tử", Decimal("0.0523"), 1),
        (3, "1.4", "chua_dong_bo", "Chưa đồng bộ", Decimal("0.03065"), 1),
    ]
    p = province.projection
    assert (p.at, p.total_now, p.total_min, p.total_max, p.rate_2_1_min, p.rate_2_1_max, p.undecided) == (
        W.AT,
        Decimal("71.005"),
        Decimal("70.125"),
        Decimal("72.994"),
        Decimal("0.925"),
        Decimal("0.99999"),
        3,
    )
    assert data.card(W.C2, NOW).three_things == [] and data.card(W.C2, NOW).projection is None
    may = read_period(made, "2025-05", NOW)
    assert W.GONE in [c.unit_code for c in may.card(W.P, NOW).children]


def test_quarters_years_and_a_shorter_history(made):
    june = read_period(made, "2025-06", NOW).card(W.P, NOW)
    assert [t.period_key for t in june.trend] == W.MONTHS[:-1]  # the marts hold 11 months up to June
    q3 = read_period(made, "2025-Q3", NOW)
    assert not q3.final  # September is not closed
    card = q3.card(W.C1, NOW)
    assert [(t.period_key, t.label) for t in card.trend] == [("2025-Q2", "Q2/25"), ("2025-Q3", "Q3/25")]
    assert (
        card.previous_key == "2025-Q2"
        and card.previous_total == scores(made, "quarter", "2025-Q2")[W.C1]["total_score"]
    )
    year = read_period(made, "2025", NOW).card(W.P, NOW)
    assert [t.period_key for t in year.trend] == ["2024", "2025"] and year.period.label == "Năm 2025"
    assert year.previous_total == scores(made, "year", "2024")[W.P]["total_score"]


def test_the_month_to_date_from_the_points_at_stake(made):
    data = read_period(made, "mtd", NOW)
    assert (data.period.kind, data.period.key, data.final, data.data_as_of) == (
        "month_to_date",
        "2025-07-21",
        False,
        W.AT,
    )
    points = rows(made, "select * from actions.act_points_at_stake where at_ts = %s", W.AT)
    june = scores(made, "month", "2025-06")
    assert data.units == sorted({r["unit_code"] for r in points})
    totals = {}
    for unit in data.units:
        mine = sorted((r for r in points if r["unit_code"] == unit), key=lambda r: r["metric_code"])
        card = data.card(unit, NOW)
        totals[unit] = sum(r["points"] for r in mine)
        assert card.total == totals[unit] and card.max_score == sum(r["max_points"] for r in mine)
        assert card.band == band_of(card.total)
        assert [
            (m.metric_code, m.numerator, m.denominator, m.points, m.max_points, m.applies) for m in card.metrics
        ] == [
            (r["metric_code"], r["numerator"], r["denominator"], r["points"], r["max_points"], r["applies"])
            for r in mine
        ]
        assert all(m.rate == (None if m.metric_code == "2.2" else m.numerator / m.denominator) for m in card.metrics)
        assert card.metrics[4].metric_name == "Tỷ lệ hồ sơ giải quyết đúng hạn" and card.metrics[4].group_code == "TDGQ"
        groups = {g.group_code: g.points for g in card.groups}
        assert sum(groups.values()) == card.total
        assert groups["TDGQ"] == sum(r["points"] for r in mine if r["metric_code"] in ("2.1", "2.2"))
        assert (card.previous_key, card.previous_total) == ("2025-06", june[unit]["total_score"])
        assert [t.period_key for t in card.trend] == W.MONTHS[:-1] + ["2025-07-21"]  # 11 months and the day
        assert card.trend[-1].total == card.total and card.lists_at == W.AT
        assert any("tính đến 09:00 ngày 21/07/2025" in n for n in card.notes)
    communes = sorted((W.C1, W.C2, W.C3), key=lambda u: -totals[u])
    assert data.card(communes[0], NOW).rank == 1 and data.card(communes[-1], NOW).rank == 3
    assert data.card(W.C1, NOW).rank_of == 3 and (data.card(W.P, NOW).rank, data.card(W.P, NOW).rank_of) == (1, 1)
    assert [c.unit_code for c in data.card(W.P, NOW).children] == sorted(
        (W.D, W.C1, W.C2, W.C3), key=lambda u: (-totals[u], u)
    )
    assert data.card(W.P, NOW).three_things[0].metric_code == "2.1"
    # the day's key works for the published lists' day only
    assert read_period(made, "2025-07-21", NOW).period == data.period
    with pytest.raises(ScorecardsUnavailable, match="published lists are of 2025-07-21T09:00:00"):
        read_period(made, "2025-07-20", NOW)


def test_unknown_periods_and_units_say_so(made):
    with pytest.raises(ScorecardsUnavailable, match="no scores for 2023-01"):
        read_period(made, "2023-01", NOW)
    with pytest.raises(P.BadPeriod):
        read_period(made, "July", NOW)
    with pytest.raises(UnknownUnit, match="has no score for 2025-07"):
        read_period(made, "2025-07", NOW).card("000.99.99.H99", NOW)
    with pytest.raises(UnknownUnit):
        read_period(made, "2025-07", NOW).card(W.GONE, NOW)


def test_mtd_without_lists_is_refused(pg_cluster):
    with scratch_database(pg_cluster) as dsn:
        W.create_warehouse(dsn, lists=False)
        with pytest.raises(ScorecardsUnavailable, match="refresh of the lists"):
            read_period(dsn, "mtd", NOW)
        card = read_period(dsn, "2025-07", NOW).card(W.P, NOW)  # a month's card needs no lists
        assert card.three_things == [] and card.projection is None and card.lists_at is None


def test_bands_from_the_dbt_vars_as_the_mart_rounds():
    bands, lowest = rating_bands()
    assert [t for t, _ in bands] == sorted((t for t, _ in bands), reverse=True) and lowest == "Yếu"
    assert [band_of(Decimal(x)) for x in ("100", "90", "89.995", "89.9949", "80", "79.99", "50", "49.994", "0")] == [
        "Tốt",
        "Tốt",
        "Tốt",
        "Khá",
        "Khá",
        "Trung bình",
        "Trung bình",
        "Yếu",
        "Yếu",
    ]
    ranks = competition_ranks(
        {"a": Decimal(5), "b": Decimal(7), "c": Decimal(7), "d": Decimal(1), "e": Decimal(3)},
        {"a": 1, "b": 1, "c": 1, "d": 1, "e": 2},
    )
    assert ranks == {"b": (1, 4), "c": (1, 4), "a": (3, 4), "d": (4, 4), "e": (1, 1)}


# ---- a real dbt build ------------------------------------------------------------------------------

SLICE_CLOCK = datetime(2025, 8, 1, 0, 0, tzinfo=LOCAL)
END_OF_JULY = datetime(2025, 7, 31, 23, 59, 59, tzinfo=LOCAL)
SLICE_ENTITIES = {
    "one_stop": ("don_vi", "thu_tuc", "thu_tuc_don_vi", "ho_so", "qua_trinh_xu_ly"),
    "dvc_portal": ("payments", "sync_status", "feedback", "ratings", "online_services"),
}


@pytest.fixture(scope="module")
def slice_built(pg_cluster, tmp_path_factory):
    """A simulated province's raw records (as the sources served them just after July closed) ->
    one real dbt run of the marts the scorecards read and the lists at the last second of July."""
    from datetime import date

    from extractors.portal_scores import ensure_table
    from simulator import World, WorldConfig
    from tests.dbt.dbt_runner import run_dbt
    from tests.dbt.records import load_raw
    from tthc.warehouse.stages import bootstrap

    world = World(WorldConfig(seed=11, dossiers_per_year=1500, start=date(2025, 1, 1), end=date(2025, 12, 31)))
    work = tmp_path_factory.mktemp("dbt-scorecards")
    with scratch_database(pg_cluster, raw_schema=True) as dsn:
        with psycopg.connect(dsn.conninfo()) as conn:
            ensure_table(conn)
            for source, names in SLICE_ENTITIES.items():
                for name in names:
                    load_raw(conn, source, name, world.records(source, name, SLICE_CLOCK))
        run_dbt(dsn, work, "seed")
        run_dbt(
            dsn,
            work,
            "run",
            "--select",
            "+mart_score_monthly",
            "+mart_portal_reconciliation",
            "+tag:actions",
            as_of="2025-07-31",
            variables={"actions_at": END_OF_JULY.isoformat()},
        )
        bootstrap(dsn)  # the publisher's grants on what dbt built
        yield dsn


@pytest.mark.slow
def test_cards_equal_the_marts_for_every_unit_of_a_built_slice(slice_built):
    data = read_period(slice_built, "2025-07", NOW)
    july = scores(slice_built, "month", "2025-07")
    assert data.units == sorted(july) and len(july) > 10
    metrics = {}
    for r in rows(
        slice_built, "select * from marts.mart_metric_monthly where period_type = 'month' and period_key = '2025-07'"
    ):
        metrics.setdefault(r["unit_code"], {})[r["metric_code"]] = r
    for unit, s in july.items():
        card = data.card(unit, NOW)
        assert (card.total, card.band, card.rank, card.max_score) == (
            s["total_score"],
            s["rating_band"],
            s["rank_in_level"],
            s["max_score"],
        )
        assert {g.group_code: g.points for g in card.groups} == {c: s[f"score_{c.lower()}"] for c, _ in GROUPS}
        assert {
            m.metric_code: (m.numerator, m.denominator, m.rate, m.points, m.max_points, m.applies) for m in card.metrics
        } == {
            code: (r["numerator"], r["denominator"], r["rate"], r["points"], r["max_points"], r["applies"])
            for code, r in metrics[unit].items()
        }
        assert [c.unit_code for c in card.children] == sorted(
            (u for u, o in july.items() if o["parent_unit_code"] == unit), key=lambda u: (-july[u]["total_score"], u)
        )
        assert card.official_total is None and card.lists_at == END_OF_JULY
    # the bands the dbt vars give here are the mart's, on every unit
    assert all(band_of(s["total_score"]) == s["rating_band"] for s in july.values())

    # the month to date at July's last second is July: totals, bands and ranks as the mart's
    mtd = read_period(slice_built, "mtd", NOW)
    assert mtd.period.key == "2025-07-31" and mtd.units == sorted(july)
    for unit, s in july.items():
        card = mtd.card(unit, NOW)
        assert abs(card.total - s["total_score"]) < Decimal("1e-9"), unit
        assert (card.band, card.rank, card.rank_of) == (
            s["rating_band"],
            s["rank_in_level"],
            data.card(unit, NOW).rank_of,
        )
        assert card.previous_key == "2025-06" and card.trend[-1].period_key == "2025-07-31"


def test_the_exposures_name_what_the_scorecards_and_the_extract_read():
    """dbt/models/exposures.yml depends on exactly the relations the readers query."""
    import yaml

    from tthc.paths import DBT_PROJECT_DIR
    from tthc.province_package.rows import RELATIONS
    from tthc.scorecards import data

    exposures = {
        e["name"]: {d.removeprefix("ref('").removesuffix("')") for d in e["depends_on"]}
        for e in yaml.safe_load((DBT_PROJECT_DIR / "models" / "exposures.yml").read_text())["exposures"]
    }
    read = {name.split(".")[1] for name in (*data.MARTS, *data.LISTS, data.POINTS, data.UNITS)}
    assert exposures["unit_scorecards"] == read
    assert exposures["province_monthly_extract"] == {name.split(".")[1] for name in RELATIONS} | {"dim_unit"}
