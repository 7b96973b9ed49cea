{{ merged_per_dossier() }}
{#- One row per dossier known to the national portal, with its latest sync result (metric 1.4
    counts dossiers received in the period with a SUCCESS sync). Incremental: the sync statuses
    loaded since the last build are merged (a rebuild of every row grows with the history);
    staging keeps one row per dossier, never deletes. -#}

select
    dossier_code,
    unit_code,
    portal_status,
    sync_result,
    sync_result = 'SUCCESS'                          as is_synced,
    error_message,
    received_at,
    synced_at,
    round(extract(epoch from synced_at - received_at) / 3600.0, 4) as hours_to_sync,
    source_updated_at,
    loaded_at
from {{ ref('stg_dvc_portal__sync_statuses') }}
where dossier_code is not null
{% if is_incremental() %}
  and {{ loaded_since_last_build() }}
{% endif %}
