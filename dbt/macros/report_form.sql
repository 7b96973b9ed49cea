{#- Report form II.06a (mart_report_ii06a): the outcome counts, resolved (8)-(10) and in
    progress (12)-(13), at a period end. is_resolved (null when open) and as_of_day (the
    period's last day) are SQL expressions; `suffix` is appended to the column names. -#}
{% macro report_form_outcome_counts(is_resolved, as_of_day, suffix='') %}
        count(*) filter (where ({{ is_resolved }}) and status <> 7 and report_form_class = 'EARLY')
                                                                                              as resolved_early{{ suffix }},
        count(*) filter (where ({{ is_resolved }}) and (status = 7 or report_form_class in ('ON_TIME', 'WITHDRAWN_STOPPED')))
                                                                                              as resolved_on_time{{ suffix }},
        count(*) filter (where ({{ is_resolved }}) and status <> 7 and report_form_class = 'LATE')
                                                                                              as resolved_late{{ suffix }},
        count(*) filter (where ({{ is_resolved }}) is not true
                           and (status in (5, 6, 8) or due_at is null
                                or {{ local_date('due_at') }} >= {{ as_of_day }}))              as in_progress_within_deadline{{ suffix }},
        count(*) filter (where ({{ is_resolved }}) is not true
                           and not (status in (5, 6, 8) or due_at is null
                                    or {{ local_date('due_at') }} >= {{ as_of_day }}))          as in_progress_overdue{{ suffix }}
{%- endmacro %}
