"""The secret key of applicant_key, the HMAC-SHA256 of an applicant's trimmed ID number.

The key comes from TTHC_PII_SALT (its UTF-8 bytes) or from the file TTHC_PII_SALT_FILE (its
bytes, one trailing newline dropped: Docker and Kubernetes secrets). It never enters SQL: dbt's
sessions get it as the custom setting tthc.pii_key through libpq's PGOPTIONS, hex-encoded so any
byte (a quote, a space, a backslash) passes unchanged, and the macro applicant_hash reads it with
current_setting. A missing or weak key stops the build: with a guessable key, applicant_key is as
good as the ID number (a year of Vietnamese ID numbers is a few seconds of hashing).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_ENV = "TTHC_PII_SALT"
KEY_FILE_ENV = "TTHC_PII_SALT_FILE"
SETTING = "tthc.pii_key"
MIN_LENGTH = 32
# Values that were ever shipped or suggested as placeholders: never accepted, whatever their length.
KNOWN_WEAK = ("tthc-dev-salt-change-me", "change-me", "changeme", "change_me", "secret", "salt")
GENERATE = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


class PiiKeyError(RuntimeError):
    pass


def _advice() -> str:
    return (
        f"Set {KEY_ENV} to a random secret of at least {MIN_LENGTH} characters, or {KEY_FILE_ENV} to a file "
        f"holding one (a Docker/Kubernetes secret). Generate one with: {GENERATE}\n"
        "Keep it for the life of the deployment (changing it re-keys every applicant: "
        "docs/runbooks/rotate-secrets.md). For a local try-out, `make demo` made one: "
        f"export {KEY_FILE_ENV}=$PWD/.local/pii.key"
    )


def _weak(key: bytes) -> str | None:
    """Why `key` is refused, or None. Says nothing of the key itself: errors end up in logs and alerts."""
    text = key.decode("utf-8", "replace").strip().lower()
    if not text:
        return "it is empty"
    if any(placeholder in text for placeholder in KNOWN_WEAK if len(placeholder) > 6) or text in KNOWN_WEAK:
        return "it is a known placeholder value"
    if len(key) < MIN_LENGTH:
        return f"it is shorter than {MIN_LENGTH} characters"
    if len(set(key)) < 8:
        return "it repeats too few distinct characters to be random"
    return None


def load_key(environ: dict[str, str] | None = None) -> bytes:
    """The key's bytes, or PiiKeyError saying what to set and how to generate one."""
    environ = os.environ if environ is None else environ
    value, path = environ.get(KEY_ENV), environ.get(KEY_FILE_ENV)
    if value and path:
        raise PiiKeyError(
            f"both {KEY_ENV} and {KEY_FILE_ENV} are set: keep one, so there is no doubt which key "
            "applicant_key is made with."
        )
    if path:
        try:
            key = Path(path).read_bytes()
        except OSError as err:
            raise PiiKeyError(
                f"{KEY_FILE_ENV}={path}: cannot read the key file ({err.strerror}).\n{_advice()}"
            ) from None
        key = key[:-2] if key.endswith(b"\r\n") else key[:-1] if key.endswith(b"\n") else key
        source = f"the file {KEY_FILE_ENV} names"
    elif value is not None:
        # surrogateescape gives back the exact bytes of a variable that is not valid UTF-8
        key = value.encode("utf-8", "surrogateescape")
        source = KEY_ENV
    else:
        raise PiiKeyError(f"no key for applicant_key: refusing to build personal data without one.\n{_advice()}")
    reason = _weak(key)
    if reason:
        raise PiiKeyError(f"the key in {source} is refused: {reason}.\n{_advice()}")
    return key


def pg_options(key: bytes) -> str:
    """libpq options giving a session the key (hex: no quoting, any byte)."""
    return f"-c {SETTING}={key.hex()}"


def applicant_key(key: bytes, id_number: str | None) -> str | None:
    """What the warehouse stores as applicant_key, computed here independently of SQL (tests, audits)."""
    if id_number is None or not id_number.strip(" "):
        return None
    return hmac.new(key, id_number.strip(" ").encode("utf-8"), hashlib.sha256).hexdigest()


def local_key_file(path: Path | None = None) -> Path:
    """A random key kept under .local (mode 600), made once: for the demo and local benchmarks,
    never for production data (set TTHC_PII_SALT or TTHC_PII_SALT_FILE there)."""
    from tthc.paths import LOCAL

    path = path or LOCAL / "pii.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
    path.chmod(0o600)
    return path
