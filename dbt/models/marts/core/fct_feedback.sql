{{ config(indexes=[{'columns': ['feedback_id'], 'unique': true}]) }}
{#- One row per citizen feedback item (PAKN), without its text (restricted). Handled means
    HANDLED or REJECTED; on time means handled no later than dueAt. -#}

select
    feedback_id,
    unit_code,
    dossier_code,
    feedback_channel,
    category,
    feedback_status,
    feedback_status in ('HANDLED', 'REJECTED')       as is_handled,
    case when feedback_status in ('HANDLED', 'REJECTED')
         then handled_at <= due_at end               as is_handled_on_time,
    likes,
    dislikes,
    dislikes > likes                                 as is_disliked,
    is_reraised,
    received_at,
    due_at,
    handled_at,
    source_updated_at,
    loaded_at
from {{ ref('stg_dvc_portal__feedback_items') }}
where feedback_id is not null
