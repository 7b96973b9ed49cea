{{ config(
    materialized='incremental',
    unique_key='record_key',
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['record_key'], 'unique': true}, {'columns': ['loaded_at']}]
) }}
{#- Stored like its non-personal twin in staging, so nightly builds and tests do not re-rank raw. -#}
{#- Feedback free text is personal (restricted schema); join on feedback_id where needed. -#}
with source as (
    {{ latest_version(source('dvc_portal', 'dvc_portal__feedback')) }}
)

select
    {{ json_text('feedbackId') }}                       as feedback_id,
    {{ json_text('content') }}                          as feedback_content,
    record_key,
    loaded_at
from source
