"""OAuth2 client-credentials tokens for the one-stop contract.

Tokens are random and expire after `ttl` seconds of real time (the contract's expires_in);
the `revoke_tokens_every` fault revokes them all mid-run; under `credentials_revoked` no token
is issued (401 invalid_client) and none is accepted.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from urllib.parse import parse_qs


class TokenStore:
    def __init__(self, ttl: float = 3600.0):
        self.ttl = float(ttl)
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            now = time.monotonic()
            # forget expired tokens so a long run does not grow the table
            self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
            self._tokens[token] = now + self.ttl
        return token

    def valid(self, token: str) -> bool:
        with self._lock:
            exp = self._tokens.get(token)
            return exp is not None and exp > time.monotonic()

    def revoke_all(self) -> None:
        with self._lock:
            self._tokens.clear()


def _oauth_error(status: int, error: str, description: str) -> tuple[int, dict]:
    return status, {"error": error, "error_description": description, "error_code": str(status), "message": description}


def handle_token(handler, method: str, body: bytes) -> tuple[int, dict]:
    """POST /oauth/token, form fields grant_type, client_id, client_secret (or HTTP Basic)."""
    sim = handler.sim
    if method != "POST":
        return _oauth_error(405, "invalid_request", "use POST with form fields")
    ctype = (handler.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if ctype not in ("application/x-www-form-urlencoded", ""):
        return _oauth_error(400, "invalid_request", "send application/x-www-form-urlencoded form fields")
    form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    auth = handler.headers.get("Authorization") or ""
    if auth.lower().startswith("basic ") and client_id is None:
        try:
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return _oauth_error(401, "invalid_client", "malformed Basic credentials")
    if form.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials")
    if not (
        secrets.compare_digest(client_id or "", sim.client_id)
        and secrets.compare_digest(client_secret or "", sim.client_secret)
    ):
        return _oauth_error(401, "invalid_client", "wrong client_id or client_secret")
    if sim.faults.credentials_revoked:
        return _oauth_error(401, "invalid_client", "client credentials revoked")
    token = sim.tokens.issue()
    return 200, {"access_token": token, "token_type": "Bearer", "expires_in": int(sim.tokens.ttl)}


def bearer(handler) -> str | None:
    auth = handler.headers.get("Authorization") or ""
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return None
