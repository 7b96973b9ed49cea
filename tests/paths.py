"""Files outside the repository that tests use: the shared contracts' validator sits beside it."""
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VALIDATOR = Path(os.environ.get("TTHC_VALIDATE_EXTRACT", REPO.parent / "shared" / "tools" / "validate_extract.py"))
