"""Every suite the gate runs, in order."""
from expectations.suites.fct_dossier import FCT_DOSSIER

GATE_SUITES = (FCT_DOSSIER,)
