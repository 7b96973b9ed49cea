"""Run the `tthc` CLI and SIGKILL it the moment it calls a given function.

    python -m tests.failure.kill_at tthc.pipeline.marts:swap_in marts --as-of 2025-08-02

For a window no outside event can hit reliably and that has no crash point of its own
(tthc/faults.py): the named function (module:attribute, looked up where its caller finds it)
is replaced by one that kills the process with SIGKILL before doing anything. No `finally`
runs and no transaction commits: exactly what a power cut or the OOM killer leaves behind.
The pipeline's code is not changed; only where the process dies is chosen.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys


def arm(point: str) -> None:
    module_name, _, attribute = point.partition(":")
    module = importlib.import_module(module_name)
    if not callable(getattr(module, attribute, None)):
        raise SystemExit(f"kill_at: {point} is not a function of {module_name}")

    def killed(*args, **kwargs):
        sys.stderr.write(f"kill_at {point}: killing process {os.getpid()} here (failure test)\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    setattr(module, attribute, killed)


if __name__ == "__main__":
    arm(sys.argv[1])
    from tthc.cli import main

    sys.exit(main(sys.argv[2:]))
