"""Import the dashboards into a running Superset through its REST API.

Logs in (POST /api/v1/security/login, then a CSRF token), builds the bundle in memory
(bundle.py) and posts it to /api/v1/assets/import/ with the tthc_bi password in the `passwords`
form field: the password is read from the environment or a file and is never written anywhere.
Every object is overwritten, so importing again after a change to dashboards.yml updates them.

Standard library, PyYAML and requests only (the Superset image has them):

    SUPERSET_URL=http://localhost:8088 SUPERSET_ADMIN_PASSWORD=... TTHC_BI_PASSWORD=... \\
        python bi/superset/importer.py --host warehouse --port 5432 --database tthc

Secrets: SUPERSET_ADMIN_PASSWORD or SUPERSET_ADMIN_PASSWORD_FILE; TTHC_BI_PASSWORD or
TTHC_BI_PASSWORD_FILE.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import requests

try:
    from . import bundle
except ImportError:  # run as a script (the Superset container): bundle.py sits beside it
    import bundle


class ImportFailed(RuntimeError):
    pass


def secret(name: str) -> str:
    """NAME from the environment, else the first line of the file NAME_FILE names."""
    value = os.environ.get(name)
    if value:
        return value
    path = os.environ.get(f"{name}_FILE")
    if path:
        value = Path(path).read_text(encoding="utf-8").strip()
        if value:
            return value
    raise ImportFailed(f"set {name} or {name}_FILE")


class Superset:
    """A logged-in REST session (JWT bearer plus the CSRF token Superset wants on writes)."""

    def __init__(self, url: str, username: str, password: str, timeout: float = 60):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        answer = self.session.post(
            f"{self.url}/api/v1/security/login",
            timeout=timeout,
            json={"username": username, "password": password, "provider": "db", "refresh": True},
        )
        if answer.status_code != 200:
            raise ImportFailed(f"Superset refused the login of {username!r}: HTTP {answer.status_code}")
        self.session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        csrf = self.session.get(f"{self.url}/api/v1/security/csrf_token/", timeout=timeout)
        csrf.raise_for_status()
        self.session.headers.update({"X-CSRFToken": csrf.json()["result"], "Referer": self.url})

    def get(self, path: str, **params) -> dict:
        answer = self.session.get(f"{self.url}{path}", params=params or None, timeout=self.timeout)
        if answer.status_code != 200:
            raise ImportFailed(f"GET {path}: HTTP {answer.status_code}: {answer.text[:500]}")
        return answer.json()

    def import_bundle(self, zip_bytes: bytes, passwords: dict[str, str]) -> None:
        answer = self.session.post(
            f"{self.url}/api/v1/assets/import/",
            timeout=max(self.timeout, 300),
            files={"bundle": ("tthc_dashboards.zip", zip_bytes, "application/zip")},
            data={"passwords": json.dumps(passwords), "overwrite": "true"},
        )
        if answer.status_code != 200:
            # Superset's message names files and fields, never the passwords it was given.
            raise ImportFailed(f"the import was refused: HTTP {answer.status_code}: {answer.text[:2000]}")


def wait_until_up(url: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{url.rstrip('/')}/health", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise ImportFailed(f"Superset at {url} did not answer /health within {timeout:.0f} s")
        time.sleep(1)


def import_dashboards(
    url: str,
    admin_user: str,
    admin_password: str,
    bi_password: str,
    *,
    host: str,
    port: int | str,
    database: str,
    spec_path: Path = bundle.SPEC,
) -> dict[str, int]:
    """Import the bundle; returns the dashboards' ids by title."""
    spec = bundle.load_spec(spec_path)
    zip_bytes = bundle.build_zip(spec, bundle.sqlalchemy_uri(host, port, database))
    client = Superset(url, admin_user, admin_password)
    client.import_bundle(zip_bytes, {bundle.database_path(spec): bi_password})
    wanted = {board["title"] for board in spec["dashboards"].values()}
    found = {d["dashboard_title"]: d["id"] for d in client.get("/api/v1/dashboard/", q="(page_size:100)")["result"]}
    missing = wanted - set(found)
    if missing:
        raise ImportFailed(f"imported, yet Superset lists no dashboard titled {sorted(missing)}")
    return {title: found[title] for title in sorted(wanted)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Import the TTHC dashboards into Superset (REST API).")
    parser.add_argument("--url", default=os.environ.get("SUPERSET_URL", "http://localhost:8088"))
    parser.add_argument("--admin", default=os.environ.get("SUPERSET_ADMIN_USERNAME", "admin"))
    parser.add_argument(
        "--host",
        default=os.environ.get("TTHC_WAREHOUSE_HOST", "warehouse"),
        help="the warehouse's host as Superset reaches it",
    )
    parser.add_argument("--port", default=os.environ.get("TTHC_WAREHOUSE_PORT", "5432"))
    parser.add_argument("--database", default=os.environ.get("TTHC_WAREHOUSE_DB", "tthc"))
    parser.add_argument("--wait", type=float, default=0, help="wait up to this many seconds for Superset")
    args = parser.parse_args(argv)
    try:
        if args.wait:
            wait_until_up(args.url, args.wait)
        boards = import_dashboards(
            args.url,
            args.admin,
            secret("SUPERSET_ADMIN_PASSWORD"),
            secret("TTHC_BI_PASSWORD"),
            host=args.host,
            port=args.port,
            database=args.database,
        )
    except (ImportFailed, bundle.SpecError, requests.RequestException) as exc:
        print(f"dashboards not imported: {exc}", file=sys.stderr)
        return 1
    for title, board_id in boards.items():
        print(f"dashboard {board_id}: {title}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
