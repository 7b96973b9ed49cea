"""core.fct_dossier: one row per received dossier; what the indicator marts are built on.

Its key, statuses, applicant types, report-form classes and unit relationship are dbt tests
(_core__models.yml, on the night's rows like these; docs/decisions/010): the gate keeps the
columns the marts read, the unit's presence, the channel (as staging's dbt test has it), the
date-order warnings and the volume per unit."""

from expectations.checks import FAIL, MERGED_LATELY, WARN, E, Suite, column, columns_are, rows

# The columns the indicator marts read; more may come (exact_match=False), none may go.
REQUIRED_COLUMNS = [
    "dossier_code",
    "unit_code",
    "procedure_code",
    "field_code",
    "status",
    "channel",
    "applicant_type",
    "received_at",
    "due_at",
    "end_of_processing_at",
    "returned_at",
    "report_form_class",
    "is_closed_on_time_766",
    "has_fee_obligation",
    "is_paid_online",
    "has_apology_letter",
]

VOLUME_MIN_AVERAGE = 10  # a unit that receives fewer a day is too noisy to judge by one day
VOLUME_TRAILING_DAYS = 28

# Per handling unit: dossiers received on the last working day before the newest dossier load,
# against that unit's average per working day over the previous 28 days.
VOLUME_PER_UNIT = f"""
    with reference as (
        select coalesce(
            (select max(window_to) from {{meta}}.extract_runs
             where source = 'one_stop' and entity = 'ho_so' and status = 'success'),
            (select max(received_at) + interval '1 day' from {{batch}})
        ) at time zone 'Asia/Ho_Chi_Minh' as ref_time
    ), checked as (
        select max(d.date_day) as checked_day
        from {{core}}.dim_date d, reference r
        where d.is_working_day and d.date_day < r.ref_time::date
    ), trailing_days as (
        select d.date_day from {{core}}.dim_date d, checked
        where d.is_working_day and d.date_day >= checked.checked_day - {VOLUME_TRAILING_DAYS}
          and d.date_day < checked.checked_day
    ), received as (
        select f.unit_code, (f.received_at at time zone 'Asia/Ho_Chi_Minh')::date as received_day, count(*) as n
        from {{core}}.fct_dossier f, checked
        where f.received_at >= (checked.checked_day - {VOLUME_TRAILING_DAYS})::timestamp at time zone 'Asia/Ho_Chi_Minh'
          and f.received_at < (checked.checked_day + 1)::timestamp at time zone 'Asia/Ho_Chi_Minh'
        group by 1, 2
    ), per_unit as (
        select r.unit_code,
               coalesce(sum(r.n) filter (where r.received_day = checked.checked_day), 0) as received_on_day,
               coalesce(sum(r.n) filter (where r.received_day in (select date_day from trailing_days)), 0)::numeric
                   / nullif((select count(*) from trailing_days), 0) as trailing_daily_avg
        from received r, checked group by r.unit_code
    )
    select p.unit_code, checked.checked_day, p.received_on_day, round(p.trailing_daily_avg, 1) as trailing_daily_avg
    from per_unit p, checked
    where (p.trailing_daily_avg >= {VOLUME_MIN_AVERAGE} and p.received_on_day < p.trailing_daily_avg / 5)
       or p.received_on_day > 3 * coalesce(p.trailing_daily_avg, 0) + 10
"""

FCT_DOSSIER = Suite(
    name="fct_dossier",
    schema="core",
    table="fct_dossier",
    night_rows=MERGED_LATELY,
    checks=(
        columns_are(
            "columns_marts_read",
            REQUIRED_COLUMNS,
            exact=False,
            description="the columns the indicator marts read are all there",
        ),
        column("unit_present", FAIL, lambda: E.ExpectColumnValuesToNotBeNull(column="unit_code")),
        column("channel_known", FAIL, lambda: E.ExpectColumnValuesToBeInSet(column="channel", value_set=[1, 2, 3])),
        rows(
            "procedure_known",
            WARN,
            "select dossier_code, procedure_code from {batch} where procedure_code is not null "
            "and procedure_code not in (select procedure_code from {core}.dim_procedure where procedure_code is not null)",
            "every dossier's TTHC is in the catalogue; a warning: the source may send a code the catalogue "
            "gains later, and the dossier still counts for its unit",
        ),
        rows(
            "submitted_not_after_receipt",
            WARN,
            "select dossier_code, submitted_at, received_at from {batch} where submitted_at > received_at",
            "submitted ≤ received",
        ),
        rows(
            "end_not_before_receipt",
            WARN,
            "select dossier_code, received_at, end_of_processing_at from {batch} "
            "where end_of_processing_at < received_at",
            "received ≤ end of processing",
        ),
        rows(
            "return_not_before_end",
            WARN,
            "select dossier_code, end_of_processing_at, returned_at from {batch} "
            "where returned_at < end_of_processing_at",
            "end of processing ≤ result returned",
        ),
        rows(
            "end_date_exactly_when_closed",
            WARN,
            "select dossier_code, status, end_of_processing_at from {batch} "
            "where (status in (7, 8, 9, 10)) <> (end_of_processing_at is not null)",
            "an end of processing exactly when the status is a closing one",
        ),
        rows(
            "returned_date_when_returned",
            WARN,
            "select dossier_code, status, returned_at from {batch} where status = 10 and returned_at is null",
            "a dossier whose result was returned (10) has its NgayTra",
        ),
        rows(
            "received_volume_per_unit",
            WARN,
            VOLUME_PER_UNIT,
            f"dossiers received per unit on the last working day vs its {VOLUME_TRAILING_DAYS}-day average per "
            f"working day: far below (under 1/5, for units averaging {VOLUME_MIN_AVERAGE}+) or far above "
            "(over 3x + 10) says a unit stopped syncing or a batch was loaded twice",
        ),
    ),
)
