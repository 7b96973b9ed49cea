"""staging: the latest version of each record by key (views over raw)."""
from expectations.checks import MERGED_LATELY, FAIL, E, Suite, column

STG_DOSSIERS = Suite(
    name="stg_one_stop__dossiers",
    schema="staging",
    table="stg_one_stop__dossiers",
    night_rows=MERGED_LATELY,
    checks=(
        column("dossier_code_unique", FAIL, lambda: E.ExpectColumnValuesToBeUnique(column="dossier_code"),
               "one row per MaHoSo: the latest version by NgayCapNhat, load time, batch"),
        column("status_known", FAIL, lambda: E.ExpectColumnValuesToBeInSet(column="status", value_set=list(range(1, 11))),
               "TrangThaiHoSo 1–10"),
    ),
)

STG_PAYMENTS = Suite(
    name="stg_dvc_portal__payments",
    schema="staging",
    table="stg_dvc_portal__payments",
    night_rows=MERGED_LATELY,
    checks=(
        column("transaction_id_unique", FAIL, lambda: E.ExpectColumnValuesToBeUnique(column="transaction_id"),
               "one row per transactionId: the latest version"),
    ),
)

STAGING_SUITES = (STG_DOSSIERS, STG_PAYMENTS)
