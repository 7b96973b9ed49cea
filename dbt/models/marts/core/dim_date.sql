{{ config(
    indexes=[{'columns': ['date_day'], 'unique': true}]
) }}
{#- The working-time calendar (intermediate/calendar/int_calendar_days) for the marts and BI. -#}

select * from {{ ref('int_calendar_days') }}
