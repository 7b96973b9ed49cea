{#- The latest version of each record in a raw table. Raw keeps every distinct version as
    received; the latest is the one the source updated last, then the one loaded last, then the
    highest batch. (A narrower rank-then-join-back form was tried: PostgreSQL estimates that
    join at one row and picks nested loops downstream, so it is much slower.) -#}
{% macro latest_version(relation) -%}
    select distinct on (record_key)
        record_key, source_updated_at, payload, payload_hash, batch_id, loaded_at
    from {{ relation }}
    order by record_key, source_updated_at desc nulls last, loaded_at desc, batch_id desc
{%- endmacro %}
