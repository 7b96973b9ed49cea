"""Session advisory locks that make two pipeline steps take turns in one warehouse database.

Held on a connection of their own for as long as the step runs, and released however the
process ends (PostgreSQL drops a session's advisory locks with the session), so a killed step
never leaves one behind. Advisory locks belong to the database: other databases of the same
cluster (tests, another project) do not wait for them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

log = logging.getLogger(__name__)


class LockBusy(RuntimeError):
    """Another step held the lock for the whole wait; nothing was changed."""


@contextmanager
def advisory_lock(
    conninfo: str, key: str, what: str, wait_seconds: float, busy: type[LockBusy] = LockBusy
) -> Iterator[None]:
    """Hold the lock named `key` while the block runs, waiting at most `wait_seconds` for it."""
    deadline = time.monotonic() + wait_seconds
    with psycopg.connect(conninfo, autocommit=True) as conn:
        waited = False
        while not conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()[0]:
            if time.monotonic() > deadline:
                raise busy(f"{what} ran for over {wait_seconds:.0f} s; nothing was changed: try again when it ends")
            if not waited:
                log.info("%s is running: waiting for it", what)
                waited = True
            time.sleep(1.0)
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
