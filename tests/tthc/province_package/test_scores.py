"""Group scores rounded so the six written groups add up to the written total (largest remainder)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tthc.province_package.scores import CENT, GROUP_COLUMNS, round_points, written_scores


def groups(*values: str) -> dict[str, Decimal]:
    return dict(zip(GROUP_COLUMNS, map(Decimal, values)))


def test_half_away_from_zero():
    assert [str(round_points(Decimal(v))) for v in ("2.345", "2.3449", "-0.005", "0.004")] == [
        "2.35",
        "2.34",
        "-0.01",
        "0.00",
    ]


def test_a_one_cent_gap_is_left_alone():
    # 6.008 → tong 6.01 while the groups are written 1.00 ×6 = 6.00: within the validator's 0.011
    written, tong = written_scores(groups("1.004", "1.004", "1", "1", "1", "1"), Decimal("6.008"))
    assert (str(tong), [str(v) for v in written.values()]) == ("6.01", ["1.00"] * 6)


def test_two_cents_short_moves_the_group_that_lost_most():
    unrounded = groups("15.671", "19.3144", "17.4949", "8.0042", "16.6441", "9.0043")
    written, tong = written_scores(unrounded, sum(unrounded.values()))
    assert str(tong) == "86.13"
    assert [str(v) for v in written.values()] == ["15.67", "19.31", "17.50", "8.00", "16.64", "9.00"]


def test_three_cents_over_moves_the_two_groups_rounded_up_most():
    unrounded = groups("10.005", "12.0051", "8.0052", "6.0053", "14.0054", "5.0055")
    written, tong = written_scores(unrounded, sum(unrounded.values()))
    assert str(tong) == "55.03"
    assert [str(v) for v in written.values()] == ["10.00", "12.00", "8.01", "6.01", "14.01", "5.01"]


def test_equal_residuals_break_ties_in_contract_order():
    unrounded = groups("1.004", "1.004", "1.004", "1.004", "1.004", "1.004")  # 6.024 → 6.02, groups 6.00
    written, _ = written_scores(unrounded, sum(unrounded.values()))
    assert [str(v) for v in written.values()] == ["1.01", "1.00", "1.00", "1.00", "1.00", "1.00"]


points = st.decimals(min_value=0, max_value=25, places=6, allow_nan=False, allow_infinity=False)


@given(st.lists(points, min_size=6, max_size=6))
def test_written_groups_always_pass_the_validator_with_fewest_moves(values):
    unrounded = dict(zip(GROUP_COLUMNS, values))
    written, tong = written_scores(unrounded, sum(values))
    assert tong == round_points(sum(values))
    assert abs(tong - sum(written.values())) <= CENT
    moved = [name for name in GROUP_COLUMNS if written[name] != round_points(unrounded[name])]
    gap = abs(tong - sum(round_points(v) for v in values)) / CENT
    assert len(moved) == max(0, int(gap) - 1)
    for name in GROUP_COLUMNS:
        assert abs(written[name] - unrounded[name]) < CENT
        assert written[name] >= 0
