"""core dimensions and facts besides fct_dossier: units and portal payments.

Keys, relationships, value sets and each model's own row rules are dbt tests (dbt/models/marts/
core/_core__models.yml: fct_payment's fee types, channels and amounts among them; docs/decisions/
010): the gate keeps what they do not check."""

from expectations.checks import FAIL, WARN, E, Suite, column, rows

UNIT_LEVELS = ["TINH", "SO", "HUYEN", "XA", "CHI_NHANH"]

DIM_UNIT = Suite(
    name="dim_unit",
    schema="core",
    table="dim_unit",
    checks=(
        column(
            "unit_level_known",
            FAIL,
            lambda: E.ExpectColumnValuesToBeInSet(column="unit_level", value_set=UNIT_LEVELS),
            "CapDonVi is one of the contract's levels: the marts' applicability rules key on it",
        ),
    ),
)

FCT_PAYMENT = Suite(
    name="fct_payment",
    schema="core",
    table="fct_payment",
    checks=(
        column(
            "payment_status_known",
            FAIL,
            lambda: E.ExpectColumnValuesToBeInSet(
                column="payment_status", value_set=["INIT", "SUCCESS", "FAILED", "REFUNDED", "CANCELLED"]
            ),
        ),
        rows(
            "paid_after_created",
            WARN,
            "select transaction_id, created_at, paid_at from {batch} where paid_at < created_at",
            "a transaction is paid at or after it was created",
        ),
        rows(
            "success_has_paid_time",
            WARN,
            "select transaction_id, payment_status, paid_at from {batch} where payment_status = 'SUCCESS' and paid_at is null",
            "a successful payment carries its paidAt (metric 3.5 counts payments by it)",
        ),
        rows(
            "dossier_known",
            WARN,
            # an anti-join, not NOT IN: NOT IN over millions of dossiers outgrows work_mem and
            # degrades to a scan per payment
            "select p.transaction_id, p.dossier_code from {batch} p "
            "left join {core}.fct_dossier d on d.dossier_code = p.dossier_code "
            "where p.dossier_code is not null and d.dossier_code is null",
            "payment → dossier. A warning, not a failure: the two sources are read independently, a citizen "
            "pays online on the portal before the one-stop system receives the dossier (status 1 dossiers "
            "are not in fct_dossier), and a dossier deleted as a mistake keeps its payment; 3.4 counts from "
            "the dossier side, so such payments change no metric",
        ),
    ),
)

CORE_SUITES = (DIM_UNIT, FCT_PAYMENT)
