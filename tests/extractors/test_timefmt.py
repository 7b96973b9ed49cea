"""The one-stop time format: the fast validity check agrees with the parser on any input."""

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractors.timefmt import LOCAL, format_local, is_local_time, parse_local


def accepted(value: str) -> bool:
    try:
        parse_local(value)
        return True
    except ValueError:
        return False


digits = st.text(alphabet="0123456789", min_size=8, max_size=8) | st.text(
    alphabet="0123456789", min_size=14, max_size=14
)


@settings(max_examples=2000, deadline=None)
@given(
    digits
    | st.text(max_size=16)
    | st.datetimes(min_value=datetime(1, 1, 2)).map(lambda d: format_local(d.replace(tzinfo=LOCAL)))
)
def test_is_local_time_agrees_with_parse_local(value):
    assert is_local_time(value) == accepted(value)


@pytest.mark.parametrize(
    "value, ok",
    [
        ("20240229", True),
        ("20230229", False),
        ("20240431", False),
        ("20241231235959", True),
        ("20240101240000", False),
        ("20240101235960", False),
        ("00000101", False),
        ("٢٠٢٤٠١٠١", False),
        (" 20240101080000 ", True),
        ("2024010108000", False),
        ("", False),
    ],
)
def test_edges(value, ok):
    assert is_local_time(value) is ok and accepted(value) is ok


def test_parse_local_values():
    assert parse_local("20240502093000") == datetime(2024, 5, 2, 9, 30, tzinfo=LOCAL)
    assert parse_local("20240502") == datetime(2024, 5, 2, tzinfo=LOCAL)
