"""Files outside the repository that tests may use: the shared contracts' validator sits beside it.

It is an extra check only (tests/contract/extract_check.py): the project's own conformance check
always runs, and a clone without ../shared skips the validator with a visible warning.
"""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VALIDATOR = Path(os.environ.get("TTHC_VALIDATE_EXTRACT", REPO.parent / "shared" / "tools" / "validate_extract.py"))
