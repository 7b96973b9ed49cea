"""Superset's configuration for the TTHC dashboards (compose and the live test).

Point SUPERSET_CONFIG_PATH at this file. From the environment:
- SUPERSET_METADATA_URI: Superset's own metadata database (default: SQLite in SUPERSET_HOME);
- SUPERSET_SECRET_KEY or SUPERSET_SECRET_KEY_FILE: required, at least 32 characters (it signs
  sessions and encrypts the stored tthc_bi password);
- SUPERSET_WEBSERVER_ADDRESS / _PORT: used by `superset run` only.

No examples, no telemetry, nothing fetched from the internet by the server or the pages it serves.
"""

from __future__ import annotations

import os
from pathlib import Path

_PLACEHOLDERS = {"", "change-me", "CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET"}


def _secret_key() -> str:
    value = os.environ.get("SUPERSET_SECRET_KEY", "")
    path = os.environ.get("SUPERSET_SECRET_KEY_FILE")
    if not value and path:
        value = Path(path).read_text(encoding="utf-8").strip()
    if value in _PLACEHOLDERS or len(value) < 32:
        raise RuntimeError(
            "set SUPERSET_SECRET_KEY (or SUPERSET_SECRET_KEY_FILE) to a random value of at least "
            "32 characters: python3 -c 'import secrets; print(secrets.token_hex(32))'"
        )
    return value


SECRET_KEY = _secret_key()
_HOME = Path(os.environ.get("SUPERSET_HOME", Path.home() / ".superset"))
SQLALCHEMY_DATABASE_URI = os.environ.get("SUPERSET_METADATA_URI") or f"sqlite:///{_HOME / 'superset.db'}"

# --- nothing but the warehouse ---------------------------------------------------------------
PREVENT_UNSAFE_DB_CONNECTIONS = True  # no SQLite file or other local database as a data source
FEATURE_FLAGS = {
    "ALERT_REPORTS": False,
    "THUMBNAILS": False,
    "EMBEDDED_SUPERSET": False,
    "TAGGING_SYSTEM": False,
    "DASHBOARD_RBAC": False,
}
# Superset's menu draws an analytics pixel from apachesuperset.gateway.scarf.sh; a policy that
# allows only this server blocks it (and any map tile or web font) in the browser.
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
# DECKGL_BASE_MAP keeps its default: the front end needs at least one entry, and the policy above
# blocks the tiles anyway (no map chart is in these dashboards).
MAPBOX_API_KEY = ""

# --- for readers in Viet Nam ------------------------------------------------------------------
# Superset ships no Vietnamese interface; numbers use Vietnamese separators (1.234,56) and the
# currency is the dong; titles, labels and chart names are Vietnamese in the dashboards.
D3_FORMAT = {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", " ₫"]}
D3_TIME_FORMAT = {
    "dateTime": "%d/%m/%Y %H:%M:%S",
    "date": "%d/%m/%Y",
    "time": "%H:%M:%S",
    "periods": ["SA", "CH"],
    "days": ["Chủ nhật", "Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy"],
    "shortDays": ["CN", "T2", "T3", "T4", "T5", "T6", "T7"],
    "months": [
        "Tháng 1",
        "Tháng 2",
        "Tháng 3",
        "Tháng 4",
        "Tháng 5",
        "Tháng 6",
        "Tháng 7",
        "Tháng 8",
        "Tháng 9",
        "Tháng 10",
        "Tháng 11",
        "Tháng 12",
    ],
    "shortMonths": ["Th1", "Th2", "Th3", "Th4", "Th5", "Th6", "Th7", "Th8", "Th9", "Th10", "Th11", "Th12"],
}
CURRENCIES = ["VND"]
APP_NAME = "TTHC - Bảng điều khiển"

# --- one small server --------------------------------------------------------------------------
# Results are not cached: the marts change once a night and the lists hourly, and a reader must
# see the published numbers.
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
ROW_LIMIT = 50000
SQLLAB_CTAS_NO_LIMIT = False
WTF_CSRF_ENABLED = True
ENABLE_PROXY_FIX = os.environ.get("SUPERSET_ENABLE_PROXY_FIX", "false").lower() == "true"
