"""The applicant key's secret: where it comes from, what is refused, and that a build cannot start without it."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from tthc.pipeline import dbt
from tthc.privacy import pii_key
from tthc.privacy.pii_key import KEY_ENV, KEY_FILE_ENV, PiiKeyError, load_key
from tthc.warehouse import Dsn

STRONG = "0f3c9a7e5b1d2c4a6e8f0a1b3c5d7e9f"


def test_a_strong_key_from_the_environment_is_its_utf8_bytes():
    key = "kh\u00f3a-b\u00ed-m\u1eadt 'quoted' \\ " + STRONG
    assert load_key({KEY_ENV: key}) == key.encode("utf-8")


def test_the_file_variant_keeps_every_byte_but_one_trailing_newline(tmp_path):
    raw = bytes(range(256))  # NUL, quotes, backslash, invalid UTF-8: all part of the key
    path = tmp_path / "pii.key"
    path.write_bytes(raw + b"\n")
    assert load_key({KEY_FILE_ENV: str(path)}) == raw
    path.write_bytes(STRONG.encode() + b"\r\n")
    assert load_key({KEY_FILE_ENV: str(path)}) == STRONG.encode()


@pytest.mark.parametrize(
    "value, reason",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("change-me", "placeholder"),
        ("tthc-dev-salt-change-me", "placeholder"),
        ("change-me-change-me-change-me-change-me", "placeholder"),
        ("a1b2c3d4e5f6a7b8c9d0", "shorter than 32"),
        ("ab" * 20, "distinct"),
    ],
)
def test_weak_keys_are_refused_with_the_reason_and_how_to_make_one(value, reason):
    with pytest.raises(PiiKeyError) as err:
        load_key({KEY_ENV: value})
    message = str(err.value)
    assert reason in message
    assert "token_hex(32)" in message and KEY_ENV in message and KEY_FILE_ENV in message
    if len(value.strip()) > 9:
        assert value not in message  # an error goes to logs and alerts: never the key itself


def test_no_key_is_refused_and_so_are_two(tmp_path):
    with pytest.raises(PiiKeyError, match="no key for applicant_key"):
        load_key({})
    path = tmp_path / "k"
    path.write_text(STRONG)
    with pytest.raises(PiiKeyError, match="both"):
        load_key({KEY_ENV: STRONG, KEY_FILE_ENV: str(path)})
    # an empty TTHC_PII_SALT beside a key file (a template that always sets the variable): the file wins
    assert load_key({KEY_ENV: "", KEY_FILE_ENV: str(path)}) == STRONG.encode()
    with pytest.raises(PiiKeyError, match="cannot read"):
        load_key({KEY_FILE_ENV: str(tmp_path / "missing")})


def test_pg_options_carry_the_key_as_hex_so_any_byte_passes():
    key = b"it's a \\ key with spaces " + STRONG.encode()
    options = pii_key.pg_options(key)
    assert options == f"-c tthc.pii_key={key.hex()}"
    assert " " not in options.split("=", 1)[1] and "'" not in options


def test_the_reference_applicant_key_is_hmac_sha256_of_the_trimmed_id():
    key = STRONG.encode()
    expected = hmac.new(key, b"038090001234", hashlib.sha256).hexdigest()
    assert pii_key.applicant_key(key, "  038090001234 ") == expected
    assert pii_key.applicant_key(key, "  ") is None and pii_key.applicant_key(key, None) is None


def test_a_build_refuses_to_start_without_a_key(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    dsn = Dsn(host="127.0.0.1", port=1, user="nobody", password="x", dbname="none")
    with pytest.raises(dbt.DbtError, match="dbt not started: no key for applicant_key"):
        dbt.build_warehouse(dsn)
    monkeypatch.setenv(KEY_ENV, "change-me")
    with pytest.raises(dbt.DbtError, match="known placeholder"):
        dbt.run_dbt(["run", "--select", "stg_one_stop__dossiers"], dsn)


def test_the_local_key_file_is_random_private_and_made_once(tmp_path):
    path = pii_key.local_key_file(tmp_path / "pii.key")
    first = path.read_bytes()
    assert path.stat().st_mode & 0o777 == 0o600
    assert pii_key.local_key_file(path).read_bytes() == first
    assert load_key({KEY_FILE_ENV: str(path)}) == first.rstrip(b"\n")
    assert pii_key.local_key_file(tmp_path / "other.key").read_bytes() != first
