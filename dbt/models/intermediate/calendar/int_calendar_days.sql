{{ config(
    indexes=[{'columns': ['date_day'], 'unique': true}]
) }}
{#- One row per calendar day with the working-time calendar: a day is a working day when it is
    Mon-Fri and not a HOLIDAY/DAY_OFF in the seed, or a WORKDAY (weekend day worked by swap).
    cumulative_working_seconds_before makes working time between two instants a difference.
    In intermediate, not core, because the dossiers' timing (intermediate/dossiers) reads it
    and folders read only folders before them; core publishes it as dim_date. -#}

with days as (
    select d::date as date_day
    from generate_series(date '{{ var("calendar_start") }}', date '{{ var("calendar_end") }}', interval '1 day') d
),

holidays as (
    select calendar_date, upper(btrim(kind)) as kind, name
    from {{ ref('vn_public_holidays') }}
),

flagged as (
    select
        days.date_day,
        extract(isodow from days.date_day)::int in (6, 7)           as is_weekend,
        holidays.kind                                               as holiday_kind,
        holidays.name                                               as holiday_name,
        case
            when holidays.kind = 'WORKDAY' then true
            when holidays.kind in ('HOLIDAY', 'DAY_OFF') then false
            else extract(isodow from days.date_day)::int < 6
        end                                                         as is_working_day
    from days
    left join holidays on holidays.calendar_date = days.date_day
),

final as (
    select
        date_day,
        extract(year from date_day)::int                            as year_number,
        extract(quarter from date_day)::int                         as quarter_number,
        extract(month from date_day)::int                           as month_number,
        extract(day from date_day)::int                             as day_of_month,
        extract(isodow from date_day)::int                          as iso_day_of_week,
        to_char(date_day, 'YYYY-MM')                                as month_key,
        to_char(date_day, 'YYYY') || '-Q' || extract(quarter from date_day)::int as quarter_key,
        -- Decree 09/2019 reporting month: the 15th of the previous month to the 14th
        to_char(date_day + interval '1 month' * (extract(day from date_day) >= 15)::int, 'YYYY-MM')
                                                                    as report_month_key,
        is_weekend,
        holiday_kind,
        holiday_name,
        is_working_day,
        (case when is_working_day then {{ working_seconds_per_day() }} else 0 end)::numeric
                                                                    as working_seconds,
        coalesce(sum(case when is_working_day then {{ working_seconds_per_day() }} else 0 end)
            over (order by date_day rows between unbounded preceding and 1 preceding), 0)::numeric
                                                                    as cumulative_working_seconds_before
    from flagged
)

select * from final
