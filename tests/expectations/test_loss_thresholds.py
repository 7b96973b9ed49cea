"""The loss thresholds file: defaults, per-entity overrides, an operator's file, clear refusals."""

from __future__ import annotations

import pytest

from expectations.loss import THRESHOLDS_FILE, ThresholdsError, load_thresholds
from extractors.entities import ENTITIES

DEFAULT = (
    "default: {max_quarantined: 100, max_quarantined_pct: 5, max_missing: 10, max_missing_pct: 1, "
    "fail_after_nights: null}\n"
)


def test_the_shipped_file_gives_every_entity_its_thresholds_and_dossiers_two_nights():
    limits = load_thresholds(THRESHOLDS_FILE)
    assert set(limits) == {(e.source, e.name) for e in ENTITIES}
    ho_so = limits[("one_stop", "ho_so")]
    assert (ho_so.max_quarantined, ho_so.max_quarantined_pct, ho_so.fail_after_nights) == (100, 5.0, 2)
    assert limits[("dvc_portal", "payments")].fail_after_nights is None
    assert "a record open on 2 nights" in ho_so.describe()


def test_an_operators_file_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "limits.yml"
    path.write_text(DEFAULT + "entities:\n  dvc_portal/payments: {max_quarantined: 0}\n", encoding="utf-8")
    monkeypatch.setenv("TTHC_LOSS_THRESHOLDS", str(path))
    limits = load_thresholds()
    assert limits[("dvc_portal", "payments")].max_quarantined == 0
    assert limits[("one_stop", "ho_so")].fail_after_nights is None  # the operator's default, not the shipped one


@pytest.mark.parametrize(
    "text, message",
    [
        (DEFAULT + "entities:\n  one_stop/hoso: {max_missing: 1}\n", "unknown entity 'one_stop/hoso'"),
        (DEFAULT + "entities:\n  one_stop/ho_so: {max_lost: 1}\n", "may set only"),
        (DEFAULT.replace("max_missing: 10", "max_missing: -1"), "max_missing must be a non-negative whole number"),
        (
            DEFAULT.replace("max_quarantined: 100", "max_quarantined: 2.5"),
            "max_quarantined must be a non-negative whole",
        ),
        (DEFAULT.replace("fail_after_nights: null", "fail_after_nights: 0"), "fail_after_nights must be 1 or more"),
        ("entities: {}\n", "needs a 'default' mapping"),
        ("default: {max_quarantined: 1}\n", "must set exactly"),
    ],
)
def test_a_wrong_file_is_refused_with_a_clear_message(tmp_path, text, message):
    path = tmp_path / "limits.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ThresholdsError, match=message):
        load_thresholds(path)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ThresholdsError, match="nope.yml: cannot be read"):
        load_thresholds(tmp_path / "nope.yml")
