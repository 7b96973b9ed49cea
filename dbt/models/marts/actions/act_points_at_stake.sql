{#- Points at stake per unit and metric, month to date at T (docs/acting-today.md, §11): every metric of the
    scoring rules for every unit valid at T (int_action_metric_counts: §6a on [period start, T],
    pooled over the subtree, open dossiers judged at T). lost_points = max - points;
    gain_one_more = the points one more numerator dossier adds (linear w/d; capped w/(c d) while
    (n+1)/d <= c, the rest up to the cap after, 0 once capped; 0 where the metric does not apply
    or has no denominator); dossiers_to_cap = the fewest numerator dossiers that bring the metric
    to its max (linear d - n, capped ceil(c d) - n, at least 0; 0 where it does not apply).
    Points unrounded. -#}

select
    at_ts::timestamptz              as at_ts,
    unit_code::text                 as unit_code,
    metric_code::text               as metric_code,
    numerator::numeric              as numerator,
    denominator::numeric            as denominator,
    applies::boolean                as applies,
    max_points::numeric             as max_points,
    points::numeric                 as points,
    lost_points::numeric            as lost_points,
    gain_one_more::numeric          as gain_one_more,
    dossiers_to_cap::numeric        as dossiers_to_cap
from {{ ref('int_action_metric_counts') }}
