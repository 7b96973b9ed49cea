"""One build of the actions models at a time in a warehouse: the refresh and a by-hand build for
another moment both rebuild the actions intermediates (schema `intermediate`), so they take
turns. A session advisory lock: released however the process ends."""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

log = logging.getLogger(__name__)

KEY = "tthc-actions-build"


class ActionsBusy(RuntimeError):
    """Another build of the actions models held the lock for the whole wait."""


@contextmanager
def actions_build_lock(conninfo: str, wait_seconds: float = 600.0) -> Iterator[None]:
    deadline = time.monotonic() + wait_seconds
    with psycopg.connect(conninfo, autocommit=True) as conn:
        waited = False
        while not conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (KEY,)).fetchone()[0]:
            if time.monotonic() > deadline:
                raise ActionsBusy(f"another build of the actions models ran for over {wait_seconds:.0f} s; "
                                  "nothing was changed: try again when it ends")
            if not waited:
                log.info("another build of the actions models is running: waiting for it")
                waited = True
            time.sleep(1.0)
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (KEY,))
