"""Every suite the gate runs, in order.

GATE_SUITES run between the warehouse build and the marts (raw, load records, record loss,
core);
MARTS_SUITES run on the freshly built marts in their shadow schema, before the swap.
What the gate checks and what dbt's tests check: docs/decisions/010.
"""

from expectations.suites.core import CORE_SUITES
from expectations.suites.fct_dossier import FCT_DOSSIER
from expectations.suites.loss import RECORD_LOSS
from expectations.suites.marts import MARTS_SUITES
from expectations.suites.raw import RAW_SUITES
from expectations.suites.runs import EXTRACT_RUNS

GATE_SUITES = RAW_SUITES + (EXTRACT_RUNS, RECORD_LOSS) + (FCT_DOSSIER,) + CORE_SUITES

__all__ = ["GATE_SUITES", "MARTS_SUITES"]
