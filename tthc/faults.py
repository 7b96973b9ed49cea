"""Crash points for the failure tests: off unless TTHC_CRASH_AT names one.

Most failures the tests need are caused for real (SIGKILL of a process, stopping the warehouse,
the simulator's faults, a held lock). A crash point exists only where no outside event can
land reliably inside a window of milliseconds, such as between two files of one package.
`TTHC_CRASH_AT=<point>` makes the process kill itself there with SIGKILL: no cleanup, no
`finally`, exactly what a power cut or the OOM killer leaves behind.

Points (every call site is listed here, so reviewers can find them all):
    package.file_written   tthc/province_package/atomic.py, after the first file of a package
                                   is written into its temporary folder
    delivery.answered              tthc/province_package/delivery.py, after the province inbox answered a
                                   package and before the answer is recorded in deliveries.jsonl

The failure tests also kill the CLI when it calls a named function (tests/failure/kill_at.py:
the marts swap), where a function's entry is the window, so the code needs no point of its own.
"""

from __future__ import annotations

import os
import signal
import sys

ENV = "TTHC_CRASH_AT"


def crash_point(name: str) -> None:
    """Kill this process at once when TTHC_CRASH_AT equals `name`; otherwise do nothing."""
    if os.environ.get(ENV) != name:
        return
    sys.stderr.write(f"{ENV}={name}: killing process {os.getpid()} here (failure test)\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)
