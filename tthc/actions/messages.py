"""The daily message to a unit's recipients: its words, and sending it by e-mail or webhook.

One short Vietnamese message: the count of every list, the three things to do now, the
month-end range of 2.1 and of the total, and the path of the day's workbook. Counts, codes and
points only: no dossier's applicant, no official's name (the lists' rows stay in the workbook,
which holds no names either).

E-mail goes through SMTP from the environment (smtp_settings: TTHC_SMTP_HOST, TTHC_SMTP_PORT,
TTHC_SMTP_USER, TTHC_SMTP_PASSWORD, TTHC_SMTP_FROM, TTHC_SMTP_SECURITY); the password is never
logged nor put in an error. A webhook gets a JSON POST (`text` for chat tools, the figures as
fields), retried on 408/429/5xx, timeouts and dropped connections with capped exponential
backoff and full jitter, as the extractors retry their sources (extractors/http.py's policy).
A webhook URL may carry a token in its path: errors and logs name its host only.
"""

from __future__ import annotations

import logging
import os
import random
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlsplit

import requests

from extractors.http import RETRY_STATUSES, TRANSIENT_ERRORS, RetryPolicy
from tthc.actions.labels import LIST_TITLES, NOT_PROJECTED, metric_title, stake_verb
from tthc.actions.recipients import EMAIL, Recipient
from tthc.actions.unit_day import LISTS, UnitDay
from tthc.province_package.values import VN_TZ

log = logging.getLogger(__name__)

SMTP_ENV = (
    "TTHC_SMTP_HOST",
    "TTHC_SMTP_PORT",
    "TTHC_SMTP_USER",
    "TTHC_SMTP_PASSWORD",
    "TTHC_SMTP_FROM",
    "TTHC_SMTP_SECURITY",
)
SECURITY = ("none", "starttls", "ssl")
# A chat webhook answers in well under a second; four tries over a few seconds ride out a blip,
# and the next run (the task's retry) tries again anyway.
WEBHOOK_POLICY = RetryPolicy(
    max_attempts=4, base_delay=0.5, max_delay=8.0, max_retry_after=30.0, connect_timeout=10.0, read_timeout=30.0
)
WEBHOOK_RETRY = RETRY_STATUSES | {408, 500}


class SendFailed(RuntimeError):
    """The message did not go to this recipient; the reason names no address, token or password."""


# -- the words -------------------------------------------------------------------------------------
def _points(value) -> str:
    """2 decimals, half away from zero, Vietnamese decimal comma: 12,35."""
    return f"{Decimal(value).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}".replace(".", ",")


def _percent(value) -> str:
    return _points(Decimal(value) * 100) + "%"


def subject(data: UnitDay) -> str:
    return f"Việc cần làm ngày {data.day.strftime('%d/%m/%Y')} – đơn vị {data.unit_code}"


def message_text(data: UnitDay, workbook_path: str) -> str:
    at = data.refresh.at_ts.astimezone(VN_TZ)
    unit_name = f" ({data.unit_name})" if data.unit_name else ""
    lines = [
        f"{subject(data)}{unit_name}, số liệu tính đến {at:%H:%M} ngày {at:%d/%m/%Y}.",
        "",
        "Ba việc cần làm ngay:",
    ]
    for t in data.three_things:
        lines.append(
            f"{t.rank}. {LIST_TITLES.get(t.list_name, t.list_name)}: {t.row_count} hồ sơ – chỉ số "
            f"{metric_title(t.metric_code)}, {stake_verb(t.list_name)} {_points(t.points_at_stake)} điểm."
        )
    if not data.three_things:
        lines.append("Không có: bốn danh sách tính điểm đều không còn hồ sơ.")
    counts = []
    for name in LISTS:
        extra = f" ({data.overdue_without_apology} chưa có văn bản xin lỗi)" if name == "qua_han" else ""
        counts.append(f"{LIST_TITLES[name]} {data.count(name)}{extra}")
    lines += ["", "Số hồ sơ theo danh sách: " + "; ".join(counts) + "."]
    p = data.projection
    if p is not None:
        lines += [
            "",
            f"Dự báo cuối tháng {data.refresh.period_key}: tỷ lệ đúng hạn (2.1) từ "
            f"{_percent(p['rate_2_1_min'])} đến {_percent(p['rate_2_1_max'])}; tổng điểm từ "
            f"{_points(p['total_points_min'])} đến {_points(p['total_points_max'])} (hiện tại "
            f"{_points(p['total_points_now'])}); {p['undecided']} hồ sơ chưa quyết định. {NOT_PROJECTED}",
        ]
    lines += ["", f"Tệp chi tiết: {workbook_path}"]
    return "\n".join(lines) + "\n"


def message_id(data: UnitDay, recipient: Recipient) -> str:
    """The same for every attempt at one (unit, day, recipient): a receiver can drop a repeat."""
    return f"tthc-actions.{data.unit_code}.{data.day.isoformat()}.{recipient.key[:16]}"


def webhook_payload(data: UnitDay, workbook_path: str, text: str, recipient: Recipient) -> dict:
    p = data.projection
    return {
        "id": message_id(data, recipient),
        "kind": "tthc_actions_daily",
        "text": text,
        "ma_don_vi": data.unit_code,
        "ngay": data.day.isoformat(),
        "tinh_den": data.refresh.at_ts.astimezone(VN_TZ).isoformat(),
        "so_ho_so": {name: data.count(name) for name in LISTS} | {"qua_han_chua_xin_loi": data.overdue_without_apology},
        "ba_viec": [
            {
                "ma_chi_so": t.metric_code,
                "danh_sach": t.list_name,
                "diem_co_the_tang": _rounded(t.points_at_stake, 2),
                "so_ho_so": t.row_count,
            }
            for t in data.three_things
        ],
        "du_bao": None
        if p is None
        else {
            "ty_le_2_1_thap_nhat": _rounded(p["rate_2_1_min"], 4),
            "ty_le_2_1_cao_nhat": _rounded(p["rate_2_1_max"], 4),
            "tong_diem_thap_nhat": _rounded(p["total_points_min"], 2),
            "tong_diem_cao_nhat": _rounded(p["total_points_max"], 2),
            "so_ho_so_chua_quyet_dinh": p["undecided"],
        },
        "tep": workbook_path,
    }


def _rounded(value, places: int) -> float:
    return float(Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


# -- e-mail ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    user: str = ""
    password: str = ""
    security: str = "none"
    timeout: float = 30.0

    def __repr__(self) -> str:  # the password never reaches a log line
        return (
            f"SmtpSettings(host={self.host!r}, port={self.port}, sender={self.sender!r}, user={self.user!r}, "
            f"password={'***' if self.password else ''!r}, security={self.security!r})"
        )


def smtp_settings() -> SmtpSettings | None:
    """From TTHC_SMTP_*; None when TTHC_SMTP_HOST is unset (then e-mail recipients fail, saying so).

    TTHC_SMTP_SECURITY: none, starttls or ssl; default starttls when a user is set, else none.
    TTHC_SMTP_PORT: default 465 for ssl, 587 for starttls, 25 otherwise."""
    env = {k: os.environ.get(k, "").strip() for k in SMTP_ENV}
    env["TTHC_SMTP_PASSWORD"] = os.environ.get("TTHC_SMTP_PASSWORD", "")
    if not env["TTHC_SMTP_HOST"]:
        return None
    security = (env["TTHC_SMTP_SECURITY"] or ("starttls" if env["TTHC_SMTP_USER"] else "none")).lower()
    if security not in SECURITY:
        raise ValueError(f"TTHC_SMTP_SECURITY must be one of {', '.join(SECURITY)}, not {security!r}")
    if not env["TTHC_SMTP_FROM"]:
        raise ValueError("TTHC_SMTP_FROM (the sender's address) is required when TTHC_SMTP_HOST is set")
    port = env["TTHC_SMTP_PORT"] or {"ssl": "465", "starttls": "587"}.get(security, "25")
    if not port.isdigit():
        raise ValueError(f"TTHC_SMTP_PORT must be a port number, not {port!r}")
    return SmtpSettings(
        env["TTHC_SMTP_HOST"],
        int(port),
        env["TTHC_SMTP_FROM"],
        env["TTHC_SMTP_USER"],
        env["TTHC_SMTP_PASSWORD"],
        security,
    )


def send_email(
    settings: SmtpSettings | None, recipient: Recipient, subject_line: str, text: str, msg_id: str, now: datetime
) -> None:
    if settings is None:
        raise SendFailed(
            "e-mail is not configured: set TTHC_SMTP_HOST and TTHC_SMTP_FROM (and TTHC_SMTP_USER/"
            "TTHC_SMTP_PASSWORD if the server wants a login)"
        )
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = recipient.address
    message["Subject"] = subject_line
    message["Date"] = format_datetime(now.astimezone(VN_TZ))
    message["Message-ID"] = f"<{msg_id}@tthc-warehouse>"
    message.set_content(text, cte="quoted-printable")  # 7-bit on the wire: no server needs 8BITMIME
    try:
        if settings.security == "ssl":
            client = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            if settings.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.user:
                client.login(settings.user, settings.password)
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:  # its text holds the address: keep the codes only
        codes = sorted({code for code, _ in exc.recipients.values()})
        raise SendFailed(f"the SMTP server refused the recipient (SMTP {', '.join(map(str, codes))})") from None
    except smtplib.SMTPAuthenticationError as exc:
        raise SendFailed(
            f"the SMTP server refused our login (SMTP {exc.smtp_code}): check TTHC_SMTP_USER/TTHC_SMTP_PASSWORD"
        ) from None
    except smtplib.SMTPResponseException as exc:
        raise SendFailed(f"the SMTP server answered {exc.smtp_code}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SendFailed(
            f"SMTP {settings.host}:{settings.port}: {type(exc).__name__}: {_without(str(exc), recipient.address)}"
        ) from None


def _without(text: str, secret: str) -> str:
    return text.replace(secret, "…") if secret else text


# -- webhook ---------------------------------------------------------------------------------------
def send_webhook(
    recipient: Recipient,
    payload: dict,
    *,
    policy: RetryPolicy = WEBHOOK_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    session: requests.Session | None = None,
) -> int:
    """POST the payload; the HTTP status when the receiver took it (2xx), else SendFailed."""
    host = urlsplit(recipient.address).hostname
    rng = random.Random()
    own = session is None
    session = session or requests.Session()
    problem = ""
    try:
        for attempt in range(policy.max_attempts):
            delay = None
            try:
                response = session.post(
                    recipient.address,
                    json=payload,
                    allow_redirects=False,
                    headers={"Idempotency-Key": payload["id"]},
                    timeout=(policy.connect_timeout, policy.read_timeout),
                )
            except TRANSIENT_ERRORS as exc:
                problem = type(exc).__name__
            else:
                status = response.status_code
                response.close()
                if 200 <= status < 300:
                    return status
                problem = f"HTTP {status}"
                if status not in WEBHOOK_RETRY:
                    raise SendFailed(f"webhook {host} refused the message: {problem}")
                if status == 429:
                    delay = _retry_after(response, policy)
            if attempt + 1 < policy.max_attempts:
                delay = policy.backoff(attempt, rng) if delay is None else delay
                log.warning(
                    "webhook %s: %s; retry %d/%d in %.2fs", host, problem, attempt + 1, policy.max_attempts - 1, delay
                )
                sleep(delay)
    finally:
        if own:
            session.close()
    raise SendFailed(f"webhook {host} did not take the message after {policy.max_attempts} attempts: {problem}")


def _retry_after(response: requests.Response, policy: RetryPolicy) -> float | None:
    try:
        return min(max(float(response.headers.get("Retry-After", "")), 0.0), policy.max_retry_after)
    except ValueError:
        return None


def send(
    recipient: Recipient,
    data: UnitDay,
    workbook_path: str,
    *,
    smtp: SmtpSettings | None,
    now: datetime,
    policy: RetryPolicy = WEBHOOK_POLICY,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Send the unit's day message to one recipient (SendFailed when it did not go)."""
    text = message_text(data, workbook_path)
    if recipient.channel == EMAIL:
        send_email(smtp, recipient, subject(data), text, message_id(data, recipient), now)
    else:
        send_webhook(recipient, webhook_payload(data, workbook_path, text, recipient), policy=policy, sleep=sleep)
