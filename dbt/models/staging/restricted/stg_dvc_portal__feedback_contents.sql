{{ stored_latest_version(business_key='feedback_id') }}
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
