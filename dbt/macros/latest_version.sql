{#- The latest version of each record in a raw table. Raw keeps every distinct version as
    received; the latest is the one the source updated last, then the one loaded last, then the
    highest batch. (A narrower rank-then-join-back form was tried: PostgreSQL estimates that
    join at one row and picks nested loops downstream, so it is much slower.)
    In an incremental model only keys that got a version since the last build are ranked, over
    all their versions, so a late-arriving older version never overwrites a newer one. -#}
{% macro latest_version(relation) -%}
    select record_key, source_updated_at, {{ decompressed_once('payload') }} as payload, payload_hash, batch_id, loaded_at
    from (
        select distinct on (record_key)
            record_key, source_updated_at, payload, payload_hash, batch_id, loaded_at
        from {{ relation }}
        {%- if is_incremental() %}
        where record_key in (select record_key from {{ relation }} where {{ loaded_since_last_build() }})
        {%- endif %}
        order by record_key, source_updated_at desc nulls last, loaded_at desc, batch_id desc
    ) latest
    offset 0  -- keeps the copy below this point: pulled up, it would be made once per use
{%- endmacro %}

{#- A stored JSONB value PostgreSQL compressed (or moved out of line) is decompressed by every
    operator that reads it: a staging model reading 30 fields of a dossier payload (half of them
    are compressed, at ~1.9 KB) decompressed it 30 times. A copy made once per row (`|| '{}'`,
    the same object: raw payloads are objects, the extractors quarantine anything else) is
    read in memory. Small inline values are read in place, as before. -#}
{% macro decompressed_once(column) -%}
    case when pg_column_compression({{ column }}) is null and pg_column_size({{ column }}) < 2000
         then {{ column }} else {{ column }} || '{}'::jsonb end
{%- endmacro %}
