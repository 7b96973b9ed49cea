"""The daily message: a real SMTP server on loopback and the simulator's webhook receiver over
real HTTP. One message per recipient and day; a rerun sends nothing twice; a recipient that
fails does not hold the others back, fails the run, and is sent by the next run; no address,
token, password or official's name in the messages, the logs or the warehouse."""

from __future__ import annotations

import email
import email.policy
import logging
from datetime import timedelta

import psycopg
import pytest
import requests

from extractors.http import RetryPolicy
from simulator import SimulatorServer, World
from simulator.webhooks import store_of
from tests.conftest import scratch_database
from tests.simulator.conftest import EMPTY_PROVINCE
from tests.tthc.actions.published import AT, COMMUNE, DAY, HANDLER, PROVINCE, create_published
from tests.tthc.actions.smtp_server import LocalSmtp
from tthc.actions.daily import DailyMessagesFailed, publish_daily
from tthc.actions.messages import SmtpSettings, smtp_settings
from tthc.actions.workbook import workbook_path

BOSS, DESK = "lanh.dao.tinh@example.invalid", "mot.cua.xa@example.invalid"
PASSWORD = "smtp-Passw0rd-never-logged"
FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02, connect_timeout=5, read_timeout=10)


@pytest.fixture
def published(pg_cluster):
    with scratch_database(pg_cluster) as dsn:
        create_published(dsn)
        yield dsn


@pytest.fixture
def simulator():
    world = World(EMPTY_PROVINCE)
    with SimulatorServer(world) as server:
        yield server


@pytest.fixture
def smtp(monkeypatch):
    with LocalSmtp() as server:
        monkeypatch.setenv("TTHC_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("TTHC_SMTP_PORT", str(server.port))
        monkeypatch.setenv("TTHC_SMTP_FROM", "tthc-warehouse@example.invalid")
        monkeypatch.setenv("TTHC_SMTP_PASSWORD", PASSWORD)  # no user: not used, and never shown either
        monkeypatch.delenv("TTHC_SMTP_USER", raising=False)
        monkeypatch.delenv("TTHC_SMTP_SECURITY", raising=False)
        yield server


def _recipients(tmp_path, simulator, extra: str = "") -> str:
    path = tmp_path / "recipients.yml"
    path.write_text(
        f'''
"{PROVINCE}":
  email: {BOSS}
  webhook: {simulator.url}/webhooks/tinh
"{COMMUNE}":
  email: [{DESK}]
  webhook: {simulator.url}/webhooks/xa
{extra}''',
        encoding="utf-8",
    )
    return str(path)


def _mail(smtp: LocalSmtp, to: str) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(data, policy=email.policy.default) for _, rcpt, data in smtp.messages if to in rcpt
    ]


def _log_rows(dsn) -> list[tuple]:
    with psycopg.connect(dsn.conninfo()) as conn:
        return conn.execute(
            "select unit_code, day, channel, status, attempts, last_error, "
            "row_to_json(m)::text from meta.action_messages m order by 1, 3, 4"
        ).fetchall()


def test_each_recipient_gets_one_message_a_day_and_failures_are_sent_by_the_next_run(
    published, simulator, smtp, tmp_path, caplog
):
    caplog.set_level(logging.INFO)  # urllib3's DEBUG lines name every URL: never on in production
    recipients = _recipients(tmp_path, simulator)
    hooks = store_of(simulator)
    hooks.set_fault("xa", 503, -1)  # the commune's chat is down
    smtp.refuse.add(DESK)  # and its mailbox refuses mail

    with pytest.raises(DailyMessagesFailed) as failed:
        publish_daily(published, AT, tmp_path, recipients, webhook_policy=FAST, sleep=lambda s: None)
    result = failed.value.result
    # the province's messages went although the commune's failed; both workbooks are written
    assert sorted(s.unit_code for s in result.sent) == [PROVINCE, PROVINCE]
    assert sorted((s.unit_code, s.recipient.split()[0]) for s in result.failed) == [
        (COMMUNE, "e-mail"),
        (COMMUNE, "webhook"),
    ]
    assert {w.unit_code for w in result.workbooks} == {PROVINCE, COMMUNE}
    assert "SMTP 550" in str(failed.value) or "answered 550" in str(failed.value)
    assert "HTTP 503" in str(failed.value)
    assert simulator.stats.by_path["/webhooks/xa"] == FAST.max_attempts  # retried with backoff, then given up

    # the e-mail: short, Vietnamese, the counts, the three things, the range, the file's path
    (mail,) = _mail(smtp, BOSS)
    assert mail["Subject"] == f"Việc cần làm ngày 21/07/2025 – đơn vị {PROVINCE}"
    body = mail.get_content()
    province_book = workbook_path(tmp_path, PROVINCE, DAY)
    for expected in (
        "Ba việc cần làm ngay:",
        "1. Sắp đến hạn: 2 hồ sơ – chỉ số 2.1 Giải quyết đúng hạn, giữ được 0,08 điểm",
        "3. Chưa đồng bộ: 1 hồ sơ",
        "Sắp đến hạn 2; Quá hạn 2 (1 chưa có văn bản xin lỗi); Bước quá hạn 1",
        "Thiếu lý do 1.",
        "tỷ lệ đúng hạn (2.1) từ 92,50% đến 100,00%",
        "tổng điểm từ 70,13 đến 72,99",
        "3 hồ sơ chưa quyết định",
        "không được dự báo",
        f"Tệp chi tiết: {province_book}",
    ):
        assert expected in body, expected
    assert province_book.is_file()

    # the webhook: JSON with the text and the figures, an idempotency key
    (hook,) = hooks.received("tinh")
    payload = hook["payload"]
    assert payload["ma_don_vi"] == PROVINCE and payload["ngay"] == "2025-07-21"
    assert payload["tep"] == str(province_book) and payload["text"].rstrip() == body.rstrip()
    assert payload["so_ho_so"]["sap_den_han"] == 2 and payload["so_ho_so"]["qua_han_chua_xin_loi"] == 1
    assert [t["ma_chi_so"] for t in payload["ba_viec"]] == ["2.1", "4.1", "1.4"]
    assert payload["du_bao"] == {
        "ty_le_2_1_thap_nhat": 0.925,
        "ty_le_2_1_cao_nhat": 1.0,
        "tong_diem_thap_nhat": 70.13,
        "tong_diem_cao_nhat": 72.99,
        "so_ho_so_chua_quyet_dinh": 3,
    }
    assert hook["idempotency_key"] == payload["id"]

    rows = _log_rows(published)
    assert [(r[0], r[2], r[3], r[4]) for r in rows] == [
        (PROVINCE, "email", "sent", 1),
        (PROVINCE, "webhook", "sent", 1),
        (COMMUNE, "email", "failed", 1),
        (COMMUNE, "webhook", "failed", 1),
    ]

    # an hour later, still failing: the sent ones are not sent again, the failed ones tried again
    with pytest.raises(DailyMessagesFailed):
        publish_daily(
            published, AT + timedelta(hours=1), tmp_path, recipients, webhook_policy=FAST, sleep=lambda s: None
        )
    assert len(_mail(smtp, BOSS)) == 1 and len(hooks.received("tinh")) == 1
    assert [r[4] for r in _log_rows(published)] == [1, 1, 2, 2]

    # fixed: the next run sends only what was missing, and succeeds
    hooks.set_fault("xa", 503, 0)
    smtp.refuse.clear()
    done = publish_daily(
        published, AT + timedelta(hours=2), tmp_path, recipients, webhook_policy=FAST, sleep=lambda s: None
    )
    assert sorted((s.unit_code, s.recipient.split()[0]) for s in done.sent) == [
        (COMMUNE, "e-mail"),
        (COMMUNE, "webhook"),
    ]
    assert len(done.already_sent) == 2 and not done.failed
    (desk_mail,) = _mail(smtp, DESK)
    assert str(workbook_path(tmp_path, COMMUNE, DAY)) in desk_mail.get_content()
    assert len(hooks.received("xa")) == 1
    assert [(r[3], r[4]) for r in _log_rows(published)] == [("sent", 1), ("sent", 1), ("sent", 3), ("sent", 3)]

    # and a rerun of the day sends nothing at all
    again = publish_daily(published, AT + timedelta(hours=3), tmp_path, recipients, webhook_policy=FAST)
    assert not again.sent and len(again.already_sent) == 4
    assert len(smtp.messages) == 2 and len(hooks.received("tinh")) == 1 and len(hooks.received("xa")) == 1

    # nothing personal or secret anywhere: messages, logs, the warehouse's log
    everything = [
        caplog.text,
        str(failed.value),
        *(d.decode("utf-8", "replace") for _, _, d in smtp.messages),
        *(str(h["payload"]) for h in hooks.received("tinh") + hooks.received("xa")),
        *(r[6] for r in _log_rows(published)),
    ]
    for text in everything:
        assert HANDLER not in text and PASSWORD not in text
    for text in (caplog.text, str(failed.value), *(r[6] for r in _log_rows(published))):
        assert BOSS not in text and DESK not in text and "/webhooks/tinh" not in text and "/webhooks/xa" not in text


def test_a_unit_not_in_the_warehouse_fails_the_run_naming_the_line_and_the_others_still_go(
    published, simulator, smtp, tmp_path
):
    recipients = _recipients(tmp_path, simulator, extra='"000.99.00.H12":\n  email: ai.do@example.invalid\n')
    with pytest.raises(DailyMessagesFailed, match=r"unit 000\.99\.00\.H12 \(recipients file line 9\) is not a unit"):
        publish_daily(published, AT, tmp_path, recipients, webhook_policy=FAST, sleep=lambda s: None)
    assert len(smtp.messages) == 2 and not (tmp_path / "actions" / "000.99.00.H12").exists()


def test_a_refused_webhook_is_not_retried_and_a_missing_smtp_says_what_to_set(
    published, simulator, tmp_path, monkeypatch
):
    monkeypatch.delenv("TTHC_SMTP_HOST", raising=False)
    path = tmp_path / "r.csv"
    path.write_text(f"unit_code,email,webhook\n{PROVINCE},{BOSS},{simulator.url}/webhooks/tinh/nowhere/else\n")
    with pytest.raises(DailyMessagesFailed) as failed:
        publish_daily(published, AT, tmp_path, path, webhook_policy=FAST, sleep=lambda s: None)
    assert "refused the message: HTTP 404" in str(failed.value)
    assert simulator.stats.by_path["/webhooks/tinh/nowhere/else"] == 1  # a 4xx is an answer: no retry
    assert "set TTHC_SMTP_HOST and TTHC_SMTP_FROM" in str(failed.value)


def test_without_recipients_nobody_is_messaged(published, tmp_path, monkeypatch):
    monkeypatch.delenv("TTHC_ACTION_RECIPIENTS", raising=False)
    monkeypatch.delenv("TTHC_SMTP_HOST", raising=False)
    result = publish_daily(published, AT, tmp_path)
    assert len(result.workbooks) == 2 and not result.sent and not result.failed
    assert _log_rows(published) == []


def test_smtp_settings_from_the_environment_never_show_the_password(monkeypatch):
    monkeypatch.setenv("TTHC_SMTP_HOST", "smtp.example.invalid")
    monkeypatch.setenv("TTHC_SMTP_USER", "bot")
    monkeypatch.setenv("TTHC_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("TTHC_SMTP_FROM", "bot@example.invalid")
    monkeypatch.delenv("TTHC_SMTP_PORT", raising=False)
    monkeypatch.delenv("TTHC_SMTP_SECURITY", raising=False)
    settings = smtp_settings()
    assert (settings.port, settings.security) == (587, "starttls")  # a login goes over TLS by default
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings)
    monkeypatch.setenv("TTHC_SMTP_SECURITY", "tls1")
    with pytest.raises(ValueError, match="none, starttls, ssl"):
        smtp_settings()
    assert isinstance(SmtpSettings("h", 25, "a@b.cd"), SmtpSettings)


def test_the_simulators_webhook_receiver_over_http(simulator):
    url = f"{simulator.url}/webhooks/demo"
    assert (
        requests.post(url, json={"text": "xin chào"}, headers={"Idempotency-Key": "k1"}, timeout=5).status_code == 201
    )
    again = requests.post(url, json={"text": "xin chào"}, headers={"Idempotency-Key": "k1"}, timeout=5)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert requests.post(url, data=b"[1]", timeout=5).status_code == 400
    listing = requests.get(url, timeout=5).json()
    assert listing["count"] == 1 and listing["data"][0]["payload"] == {"text": "xin chào"}
    assert requests.post(url + "/faults", json={"status": 502, "count": 1}, timeout=5).status_code == 200
    assert requests.post(url, json={}, timeout=5).status_code == 502
    assert requests.post(url, json={}, timeout=5).status_code == 201
    assert requests.get(f"{simulator.url}/webhooks/bad name", timeout=5).status_code == 404


def test_the_publisher_writes_its_message_log_and_nothing_else_there(published):
    from tthc.warehouse.stages import as_stage

    with psycopg.connect(as_stage(published, "publisher").conninfo(), autocommit=True) as conn:
        conn.execute(
            "insert into meta.action_messages values ('X1', '2025-07-21', 'email', 'k', 'failed', 1, now(), "
            "null, now(), now(), null, 'x')"
        )
        conn.execute("update meta.action_messages set status = 'sent' where unit_code = 'X1'")
        for statement in (
            "delete from meta.action_messages",
            "truncate meta.action_messages",
            "drop table meta.action_messages",
            "create table meta.mine (x int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        owner = conn.execute(
            "select tableowner from pg_tables where schemaname = 'meta' and tablename = 'action_messages'"
        ).fetchone()[0]
        assert owner == "tthc_transformer"  # made by a publish of the lists


def test_a_configured_unit_with_nothing_to_do_gets_its_empty_workbook_and_message(pg_cluster, simulator, tmp_path):
    quiet = "000.03.00.H12"
    with scratch_database(pg_cluster) as dsn:
        create_published(dsn, extra_units=(quiet,))
        path = tmp_path / "r.csv"
        path.write_text(f"unit_code,email,webhook\n{quiet},,{simulator.url}/webhooks/quiet\n")
        result = publish_daily(dsn, AT, tmp_path, path, webhook_policy=FAST, sleep=lambda s: None)
    assert [s.unit_code for s in result.sent] == [quiet]
    assert workbook_path(tmp_path, quiet, DAY).is_file()
    (hook,) = store_of(simulator).received("quiet")
    payload = hook["payload"]
    assert set(payload["so_ho_so"].values()) == {0} and payload["ba_viec"] == [] and payload["du_bao"] is None
    assert "Không có: bốn danh sách tính điểm đều không còn hồ sơ." in payload["text"]
    assert "(Xã Khác)" in payload["text"]
