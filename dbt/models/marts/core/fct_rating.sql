{#- One row per satisfaction rating of a dossier; level 3 is dissatisfied (metric 5.3). -#}

select
    rating_id,
    dossier_code,
    unit_code,
    rating_level,
    rating_level = 3                                 as is_dissatisfied,
    rated_at,
    source_updated_at,
    loaded_at
from {{ ref('stg_dvc_portal__ratings') }}
where rating_id is not null
