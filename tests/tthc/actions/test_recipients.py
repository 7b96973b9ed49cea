"""The recipients file: YAML or CSV, the examples in docs/ are valid, every mistake names its line."""

from __future__ import annotations

import pytest

from tests.paths import REPO
from tthc.actions.recipients import ENV, RecipientsError, load_recipients

EXAMPLES = (REPO / "docs" / "action-recipients.example.yml", REPO / "docs" / "action-recipients.example.csv")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.suffix)
def test_the_examples_are_valid_and_say_the_same(path):
    units = load_recipients(path)
    assert {u: sorted((r.channel, r.address) for r in rs) for u, rs in units.items()} == {
        "000.00.00.H12": [
            ("email", "lanh.dao.tinh@example.invalid"),
            ("email", "van.phong.tinh@example.invalid"),
            ("webhook", "https://chat.example.invalid/hooks/tinh-T0KEN"),
        ],
        "000.01.00.H12": [("email", "mot.cua.xa@example.invalid")],
        "000.02.00.H12": [("webhook", "https://chat.example.invalid/hooks/xa-2-T0KEN")],
    }


def test_the_path_comes_from_the_environment_and_none_means_nobody(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert load_recipients() == {}
    monkeypatch.setenv(ENV, str(EXAMPLES[1]))
    assert len(load_recipients()) == 3
    monkeypatch.setenv(ENV, str(tmp_path / "missing.yml"))
    with pytest.raises(RecipientsError, match="missing.yml: the recipients file .* does not exist"):
        load_recipients()


def test_a_recipient_named_twice_is_sent_to_once_and_keys_hide_the_address(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("unit_code,email,webhook\nX1,A@example.invalid,\nX1,a@example.invalid,\n")
    (one,) = load_recipients(path)["X1"]
    assert "a@example.invalid" not in repr(one) and "example" not in one.label and len(one.key) == 64


@pytest.mark.parametrize(
    "name, text, error",
    [
        (
            "r.yml",
            '"X1":\n  email: ok@example.invalid\n"X2":\n  email: not-an-address\n',
            r"r.yml line 4: unit X2: the e-mail address is not valid",
        ),
        ("r.yml", '"X1":\n  email: a@example.invalid\n  phone: 0909\n', r"line 3: unit X1: unknown key 'phone'"),
        (
            "r.yml",
            '"X1":\n  webhook:\n    - https://ok.example.invalid/h\n    - ftp://x.example.invalid/h\n',
            r"line 4: unit X1: the webhook is not an http\(s\) URL",
        ),
        ("r.yml", '"X 1":\n  email: a@example.invalid\n', r"line 1: 'X 1' is not a unit code"),
        ("r.yml", '"X1": a@example.invalid\n', r"line 1: unit X1: give `email` and/or `webhook` under it"),
        ("r.yml", '"X1":\n  email: [a@example.invalid\n', r"r.yml line 3: not valid YAML"),
        ("r.yml", "- X1\n", r"line 1: expected a mapping"),
        ("r.csv", "unit,email\nX1,a@example.invalid\n", r"r.csv line 1: the header must be unit_code,email,webhook"),
        ("r.csv", "unit_code,email,webhook\nX1,a@example.invalid,\nX2,,\n", r"r.csv line 3: unit X2: neither"),
        (
            "r.csv",
            'unit_code,email,webhook\nX1,"a@example.invalid\nBcc: b@example.invalid",\n',
            r"r.csv line 3: unit X1: the e-mail address is not valid",
        ),
        ("r.txt", "", r"r.txt: a recipients file is .yml/.yaml or .csv"),
    ],
)
def test_mistakes_name_the_file_and_line(tmp_path, name, text, error):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RecipientsError, match=error):
        load_recipients(path)
