"""The province inbox misbehaves while the month's package is pushed: it answers 5xx, it answers
too late, it refuses our token, and the publish process dies between the inbox's answer and its
record in outbox/deliveries.jsonl.

The contract (docs/runbooks/republish-month.md, "Delivery"): 201 received; 409 "already received"
is success for the sender; 5xx and timeouts are sent again; a 4xx is kept and reported. Each test
starts from a copy of the reference night's warehouse before publish, with a fresh inbox, and ends
with the reference's package bytes, the package received by the inbox exactly once, and its last
delivery record a success; or, while the fault lasts, with a failed task that says why.
"""

from __future__ import annotations

import signal

import pytest

from simulator import FaultConfig, SimulatorServer, World
from tests.failure.conftest import assert_same_as
from tests.failure.night import (
    PERIOD,
    ShortClock,
    alert_on_failure,
    alert_webhook,
    run_night,
    start_cli,
)
from tests.simulator.conftest import EMPTY_PROVINCE
from tthc.province_package import delivery_log
from tthc.province_package.delivery import TIMEOUT, DeliveryFailed, DeliveryNotAnswered, deliver_outbox
from tthc.province_package.inbox import InboxSettings

pytestmark = pytest.mark.slow

INBOX_PATH = "/api/v1/extracts"
TOKEN = "demo-inbox-token"  # the simulator's


@pytest.fixture
def inbox():
    """A province inbox of its own (a simulator with an empty province: only its inbox is used)."""
    world = World(EMPTY_PROVINCE)
    with SimulatorServer(world, port=0) as server:
        yield server


def publish(night) -> None:
    """The publish task (write the month's package, push what is pending), as the DAG runs it."""
    report = run_night(night, start="publish")
    assert report.stages_run == ["publish"]


def delivery_statuses(night) -> list[tuple[str, int | None]]:
    return [(r["status"], r["http_status"]) for r in delivery_log(night.outbox)]


def received(inbox) -> list[tuple[str, str, int]]:
    return [(m["ma_don_vi"], m["ky_bao_cao"], m["phien_ban"]) for m in inbox.inbox]


def test_inbox_down_then_late_then_the_package_is_received_once(reference, scenario, inbox):
    """5xx: the package is written, the task fails (so Airflow retries it, and alerts when the
    retries run out) and the package waits in the outbox. Timeout: the inbox stored the package
    but answered after the sender gave up; the sender cannot know. The next run sends it again,
    the inbox answers 409 (it has it), which is success: received once, nothing sent twice as new."""
    night = scenario(reference.templates["publish"])
    night.inbox_url = inbox.url

    inbox.set_faults(FaultConfig(server_error=1.0, paths=(INBOX_PATH,)))
    with pytest.raises(DeliveryNotAnswered, match=r"did not take .* v1: HTTP 50[234]"):
        publish(night)
    assert received(inbox) == [] and [s for s, _ in delivery_statuses(night)] == ["retry"]
    assert_same_as(night, reference)  # the package is written all the same, byte for byte

    # too late: the inbox stores it, then answers after the sender's timeout (on the short clock)
    clock = ShortClock()
    inbox.set_faults(FaultConfig(slow=1.0, slow_seconds=TIMEOUT * clock.scale * 4, paths=(INBOX_PATH,)))
    late = deliver_outbox(night.outbox, InboxSettings(inbox.url, TOKEN), timeout=TIMEOUT * clock.scale)
    [waiting] = late.retry
    assert waiting.http_status is None and waiting.reason.startswith("no answer within"), waiting
    with pytest.raises(DeliveryNotAnswered, match="no answer within"):
        late.raise_if_failed()
    assert received(inbox) == [("000.00.00.H56", PERIOD, 1)], "the slow inbox did not store the package"

    inbox.set_faults(None)
    publish(night)
    assert received(inbox) == [("000.00.00.H56", PERIOD, 1)], "the package reached the inbox twice"
    assert [s for s, _ in delivery_statuses(night)] == ["retry", "retry", "already_received"]
    publish(night)  # nothing left to send
    assert len(delivery_log(night.outbox)) == 3 and len(inbox.inbox) == 1
    assert_same_as(night, reference)


def test_inbox_refuses_our_token_then_the_fixed_token(reference, scenario, inbox):
    """A 401 refuses our token, not the package: the task fails with the inbox's reason and an
    alert, and the package is kept. With the token fixed, the next publish sends it: received once."""
    night = scenario(reference.templates["publish"])
    night.inbox_url, night.inbox_token = inbox.url, "a-revoked-token"
    with pytest.raises(DeliveryFailed, match="HTTP 401 missing or wrong bearer token") as failure:
        publish(night)
    assert "fix the province_inbox token" in str(failure.value)
    assert "a-revoked-token" not in str(failure.value)
    assert received(inbox) == [] and delivery_statuses(night) == [("rejected", 401)]
    with alert_webhook() as (url, alerts):
        alert_on_failure(failure.value, "publish_monthly", "write_extract", url)
    assert len(alerts) == 1 and "DeliveryFailed" in alerts[0]["reason"] and "401" in alerts[0]["reason"], alerts

    night.inbox_token = TOKEN
    publish(night)
    assert received(inbox) == [("000.00.00.H56", PERIOD, 1)]
    assert delivery_statuses(night) == [("rejected", 401), ("delivered", 201)]
    assert_same_as(night, reference)


def test_inbox_refusing_a_package_stops_until_a_person_looks(reference, scenario, inbox):
    """A 4xx other than 401/403 refuses the package itself (here: the inbox reads a manifest edited
    after writing): the task fails with the inbox's reason, the package is kept as it is and is not
    sent again by later runs; that waits for a person (docs/runbooks/republish-month.md)."""
    import json

    night = scenario(reference.templates["publish"])
    publish(night)  # no inbox yet: the package is only written
    [manifest_path] = night.outbox.glob("*/*/v1/manifest.json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["ky_bao_cao"] = "2025-7"
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")

    night.inbox_url = inbox.url
    with pytest.raises(DeliveryFailed, match=r"HTTP 400 manifest: ky_bao_cao"):
        publish(night)
    publish_again = run_night(night, start="publish")  # a later run: nothing sent, nothing raised
    assert publish_again.stages_run == ["publish"]
    assert received(inbox) == [] and delivery_statuses(night) == [("rejected", 400)]


def test_killed_between_the_inbox_answer_and_its_record(reference, scenario, inbox, tmp_path):
    """The publish process dies (SIGKILL) right after the inbox answered 201, before the answer is
    in deliveries.jsonl. The outbox does not know the package arrived; the next run sends it again
    and the inbox answers 409, which is success: the inbox counts one package."""
    night = scenario(reference.templates["publish"])
    night.inbox_url = inbox.url
    run = start_cli(
        night,
        ["publish", "--period", PERIOD, "--now", night.clock.isoformat()],
        tmp_path,
        {"TTHC_CRASH_AT": "delivery.answered"},
    )
    assert run.wait(timeout=180) == -signal.SIGKILL, run.output()
    assert "TTHC_CRASH_AT=delivery.answered" in run.output()
    assert received(inbox) == [("000.00.00.H56", PERIOD, 1)]
    assert delivery_log(night.outbox) == [], "the answer was recorded before the crash"

    publish(night)
    assert received(inbox) == [("000.00.00.H56", PERIOD, 1)], "the inbox counted the package twice"
    assert delivery_statuses(night) == [("already_received", 409)]
    assert_same_as(night, reference)
