"""One build of the actions models at a time in a warehouse: the refresh, a by-hand build for
another moment and the backtest all rebuild the actions intermediates (schema `intermediate`),
so they take turns (a session advisory lock: released however the process ends)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tthc.pipeline.locks import LockBusy, advisory_lock

KEY = "tthc-actions-build"


class ActionsBusy(LockBusy):
    """Another build of the actions models held the lock for the whole wait."""


@contextmanager
def actions_build_lock(conninfo: str, wait_seconds: float = 600.0) -> Iterator[None]:
    with advisory_lock(conninfo, KEY, "another build of the actions models", wait_seconds, ActionsBusy):
        yield
