"""core.fct_dossier: one row per received dossier; what the indicator marts are built on."""
import great_expectations as gx

from expectations.checks import FAIL, WARN, Check, Suite

E = gx.expectations

FCT_DOSSIER = Suite(
    name="fct_dossier",
    schema="core",
    table="fct_dossier",
    checks=(
        Check("dossier_code_present", FAIL, lambda: E.ExpectColumnValuesToNotBeNull(column="dossier_code")),
        Check("dossier_code_unique", FAIL, lambda: E.ExpectColumnValuesToBeUnique(column="dossier_code")),
        Check("unit_present", FAIL, lambda: E.ExpectColumnValuesToNotBeNull(column="unit_code")),
        Check("received_at_present", FAIL, lambda: E.ExpectColumnValuesToNotBeNull(column="received_at")),
        Check(
            "received_statuses_only", FAIL,
            lambda: E.ExpectColumnValuesToBeInSet(column="status", value_set=[2, 4, 5, 6, 7, 8, 9, 10]),
            "statuses 1 (not yet received) and 3 (refused at intake) never count",
        ),
        Check("channel_known", FAIL,
              lambda: E.ExpectColumnValuesToBeInSet(column="channel", value_set=[1, 2, 3])),
        Check(
            "unit_known", FAIL,
            lambda: E.UnexpectedRowsExpectation(
                unexpected_rows_query=(
                    # GX wraps {batch} as "(…) AS subselect": no alias of our own after it
                    "select dossier_code, unit_code from {batch} "
                    "where unit_code not in (select unit_code from core.dim_unit where unit_code is not null)"
                ),
                description="every dossier's unit is in dim_unit",
            ),
        ),
        Check(
            "end_not_before_receipt", WARN,
            lambda: E.UnexpectedRowsExpectation(
                unexpected_rows_query=(
                    "select dossier_code, received_at, end_of_processing_at from {batch} "
                    "where end_of_processing_at < received_at"
                ),
                description="received ≤ end of processing",
            ),
        ),
        Check(
            "return_not_before_end", WARN,
            lambda: E.UnexpectedRowsExpectation(
                unexpected_rows_query=(
                    "select dossier_code, end_of_processing_at, returned_at from {batch} "
                    "where returned_at < end_of_processing_at"
                ),
                description="end of processing ≤ result returned",
            ),
        ),
        Check(
            "end_date_exactly_when_closed", WARN,
            lambda: E.UnexpectedRowsExpectation(
                unexpected_rows_query=(
                    "select dossier_code, status, end_of_processing_at from {batch} "
                    "where (status in (7, 8, 9, 10)) <> (end_of_processing_at is not null)"
                ),
                description="an end of processing exactly when the status is a closing one",
            ),
        ),
    ),
)
