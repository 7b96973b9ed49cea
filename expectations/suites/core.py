"""core dimensions and facts besides fct_dossier: units and portal payments."""
from expectations.checks import FAIL, WARN, E, Suite, column, rows

UNIT_LEVELS = ["TINH", "SO", "HUYEN", "XA", "CHI_NHANH"]

DIM_UNIT = Suite(
    name="dim_unit",
    schema="core",
    table="dim_unit",
    checks=(
        column("unit_code_present", FAIL, lambda: E.ExpectColumnValuesToNotBeNull(column="unit_code")),
        column("unit_code_unique", FAIL, lambda: E.ExpectColumnValuesToBeUnique(column="unit_code")),
        column("unit_level_known", FAIL, lambda: E.ExpectColumnValuesToBeInSet(column="unit_level", value_set=UNIT_LEVELS),
               "CapDonVi is one of the contract's levels: the marts' applicability rules key on it"),
        rows("parent_known", FAIL,
             "select unit_code, parent_unit_code from {batch} where parent_unit_code is not null "
             "and parent_unit_code not in (select unit_code from {core}.dim_unit)",
             "every parent is a unit: the subtree pooling follows these links"),
        rows("validity_in_order", WARN,
             "select unit_code, valid_from, valid_to from {batch} where valid_to < valid_from",
             "valid_from ≤ valid_to"),
    ),
)

FCT_PAYMENT = Suite(
    name="fct_payment",
    schema="core",
    table="fct_payment",
    checks=(
        column("transaction_id_present", FAIL, lambda: E.ExpectColumnValuesToNotBeNull(column="transaction_id")),
        column("transaction_id_unique", FAIL, lambda: E.ExpectColumnValuesToBeUnique(column="transaction_id")),
        column("payment_status_known", FAIL, lambda: E.ExpectColumnValuesToBeInSet(
            column="payment_status", value_set=["INIT", "SUCCESS", "FAILED", "REFUNDED", "CANCELLED"])),
        column("fee_type_known", FAIL, lambda: E.ExpectColumnValuesToBeInSet(column="fee_type", value_set=["PHI", "LE_PHI"])),
        column("payment_channel_known", FAIL, lambda: E.ExpectColumnValuesToBeInSet(
            column="payment_channel", value_set=["PAYGOV", "LOCAL_GATEWAY"])),
        column("amount_not_negative", FAIL, lambda: E.ExpectColumnValuesToBeBetween(column="amount", min_value=0)),
        rows("paid_after_created", WARN,
             "select transaction_id, created_at, paid_at from {batch} where paid_at < created_at",
             "a transaction is paid at or after it was created"),
        rows("success_has_paid_time", WARN,
             "select transaction_id, payment_status, paid_at from {batch} where payment_status = 'SUCCESS' and paid_at is null",
             "a successful payment carries its paidAt (metric 3.5 counts payments by it)"),
        rows("dossier_known", WARN,
             # an anti-join, not NOT IN: NOT IN over millions of dossiers outgrows work_mem and
             # degrades to a scan per payment
             "select p.transaction_id, p.dossier_code from {batch} p "
             "left join {core}.fct_dossier d on d.dossier_code = p.dossier_code "
             "where p.dossier_code is not null and d.dossier_code is null",
             "payment → dossier. A warning, not a failure: the two sources are read independently, a citizen "
             "pays online on the portal before the one-stop system receives the dossier (status 1 dossiers "
             "are not in fct_dossier), and a dossier deleted as a mistake keeps its payment; 3.4 counts from "
             "the dossier side, so such payments change no metric"),
    ),
)

CORE_SUITES = (DIM_UNIT, FCT_PAYMENT)
