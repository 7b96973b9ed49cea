"""One call for every test that checks a written package: the project's own conformance check
(tests/contract/package_conformance.py) first, then the shared contracts' validator as an extra
check where it is present (tests/paths.py VALIDATOR; absent on a clone without ../shared).

Its absence never fails a test: the step is skipped with a SharedValidatorSkipped warning, which
pytest lists in its warnings summary, so a run says which check it did not make.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from tests.contract.package_conformance import check_package
from tests.paths import VALIDATOR


class SharedValidatorSkipped(UserWarning):
    """The shared validator was not found, so only the project's check ran."""


@dataclass(frozen=True)
class ExtractCheck:
    returncode: int  # 0 when every check that ran passed
    stdout: str  # the project's problems, then the shared validator's output when it ran
    stderr: str


def check_extract(
    package: Path, require: list[str] | tuple[str, ...] = (), *, every_metric: bool = True
) -> ExtractCheck:
    problems = check_package(package, require, every_metric=every_metric)
    lines = [f"project check: {p}" for p in problems]
    lines.append(f"project check: {'OK' if not problems else 'FAIL'} ({len(problems)} problems)")
    returncode, stderr = (1 if problems else 0), ""
    if VALIDATOR.is_file():
        shared = subprocess.run(
            [sys.executable, str(VALIDATOR), str(package), "--require", *require],
            capture_output=True,
            text=True,
            timeout=60,
        )
        lines.append(shared.stdout.rstrip("\n"))
        returncode, stderr = max(returncode, shared.returncode), shared.stderr
    else:
        warnings.warn(
            SharedValidatorSkipped(
                f"shared validator not found at {VALIDATOR} (set TTHC_VALIDATE_EXTRACT to run it too): "
                "checked with the project's conformance check only"
            ),
            stacklevel=2,
        )
    return ExtractCheck(returncode, "\n".join(lines) + "\n", stderr)
