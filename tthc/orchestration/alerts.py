"""Tell people when a night goes wrong: Airflow failure callbacks to a webhook and/or email.

TTHC_ALERT_WEBHOOK: a URL that receives a JSON POST (chat tools' incoming webhooks take it);
TTHC_ALERT_EMAIL: comma-separated addresses, sent through Airflow's SMTP settings.
Neither set: the failure is only logged. An alert that cannot be sent never hides the
original failure: it is logged and swallowed. A gate that failed on lost records (quarantined
or missing past the thresholds, expectations/loss.py) says which entities, how many, and the
first record keys with their reasons, in `text` and in `loss`.
"""

from __future__ import annotations

import logging
import os

import requests

log = logging.getLogger(__name__)


def _reason(context: dict) -> str:
    exc = context.get("exception")
    return f"{type(exc).__name__}: {exc}"[:4000] if exc else "task failed"


def _loss(context: dict) -> list[dict]:
    """The entities a gate failed on for lost records (QualityGateFailed.loss): counts and the
    first keys with their reasons; keys and reasons only, never a record's values."""
    return [
        {
            "source": x.source,
            "entity": x.entity,
            "quarantined_open": x.quarantined_open,
            "missing": x.missing,
            "source_total": x.source_total,
            "fetched_last_run": x.fetched,
            "quarantined_too_many_nights": x.open_too_long,
            "first_records": x.first_records,
            "thresholds": x.thresholds,
        }
        for x in getattr(context.get("exception"), "loss", None) or []
    ]


def alert_payload(context: dict) -> dict:
    ti = context.get("task_instance") or context.get("ti")
    dag_run = context.get("dag_run")
    reason = _reason(context)
    gate_failed = "QualityGateFailed" in reason
    loss = _loss(context)
    what = "quality gate failed" if gate_failed else "task failed"
    if loss:
        what += (
            " on lost records ("
            + "; ".join(
                f"{x['source']}/{x['entity']}: {x['quarantined_open']} quarantined, "
                f"{x['missing'] if x['missing'] is not None else '?'} missing"
                + (f", first {x['first_records']}" if x["first_records"] else "")
                for x in loss
            )
            + ")"
        )
    return {
        "text": (
            f"tthc-warehouse: {what} in "
            f"{getattr(ti, 'dag_id', '?')}.{getattr(ti, 'task_id', '?')} "
            f"(run {getattr(dag_run, 'run_id', '?')})"
        ),
        "kind": "quality_gate" if gate_failed else "task_failure",
        "loss": loss,
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": getattr(dag_run, "run_id", None),
        "try_number": getattr(ti, "try_number", None),
        "reason": reason,
        "log_url": getattr(ti, "log_url", None),
    }


def notify_failure(context: dict) -> None:
    """on_failure_callback of every task."""
    payload = alert_payload(context)
    log.error("ALERT %s: %s", payload["kind"], payload["text"])
    webhook = os.environ.get("TTHC_ALERT_WEBHOOK")
    if webhook:
        try:
            requests.post(webhook, json=payload, timeout=10).raise_for_status()
        except requests.RequestException as exc:
            log.error("could not deliver the alert to the webhook: %s", exc)
    emails = [a.strip() for a in os.environ.get("TTHC_ALERT_EMAIL", "").split(",") if a.strip()]
    if emails:
        try:
            from airflow.utils.email import send_email

            send_email(emails, payload["text"], f"<pre>{payload['reason']}</pre><p>{payload['log_url']}</p>")
        except Exception as exc:  # SMTP not configured or down: keep the task's own failure visible
            log.error("could not send the alert e-mail: %s", exc)
