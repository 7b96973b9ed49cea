"""Round a unit's six group scores so the written groups add up to the written total.

docs/metrics.md (§6a): points are rounded only at output and the total is the sum of the *unrounded*
points, then rounded. Rounding each group on its own (half away from zero) can leave the six
written groups up to 0.03 away from the written total, while the delivery contract's validator
allows 0.011. So, as the largest-remainder method does: tong_diem stays round(sum of unrounded);
when the rounded groups miss it by more than 0.01, the fewest groups needed move by 0.01 each
towards it, the group whose rounding lost (or gained) the most first, until the gap is at most
0.01. Only groups rounded away from the needed direction move, so every written group stays
less than 0.01 from its unrounded value.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
GROUP_COLUMNS = ("diem_ckmb", "diem_tdgq", "diem_clgq", "diem_tttt", "diem_mdhl", "diem_mdsh")


def round_points(value: Decimal) -> Decimal:
    """Half away from zero, 2 decimals (ROUND_HALF_UP on Decimal rounds away from zero)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def written_scores(groups: dict[str, Decimal], total: Decimal) -> tuple[dict[str, Decimal], Decimal]:
    """(the six groups as written, tong_diem as written) from unrounded values.

    `groups` must be in contract order (dict order breaks ties between equal residuals).
    """
    written = {name: round_points(value) for name, value in groups.items()}
    tong = round_points(total)
    gap_cents = int((tong - sum(written.values())) / CENT)
    moves = abs(gap_cents) - 1  # a gap of one cent is within the contract's tolerance
    if moves > 0:
        step = CENT if gap_cents > 0 else -CENT
        # residual = how far rounding moved a group away from the total's direction
        residual = {name: (groups[name] - written[name]) * (1 if gap_cents > 0 else -1) for name in groups}
        order = sorted(groups, key=lambda name: residual[name], reverse=True)  # stable: contract order on ties
        for name in order[:moves]:
            written[name] += step
    return written, tong
