{#- Conversions shared by every staging model. One-stop payloads carry local time as
    yyyyMMddHHmmss / yyyyMMdd strings ("" or null when missing); the portal sends ISO 8601
    with an offset. A malformed value fails the cast loudly rather than turning into null. -#}

{% macro clean_text(expr) -%}
    nullif(btrim({{ expr }}), '')
{%- endmacro %}

{% macro json_text(field, doc='payload') -%}
    nullif(btrim({{ doc }} ->> '{{ field }}'), '')
{%- endmacro %}

{% macro json_int(field, doc='payload') -%}
    ({{ json_text(field, doc) }})::integer
{%- endmacro %}

{% macro json_numeric(field, doc='payload') -%}
    ({{ json_text(field, doc) }})::numeric
{%- endmacro %}

{#- Accepts true/false and 0/1, as JSON booleans, numbers or strings. -#}
{% macro json_bool(field, doc='payload') -%}
    ({{ json_text(field, doc) }})::boolean
{%- endmacro %}

{% macro local_timestamp(expr) -%}
    (case when {{ clean_text(expr) }} is null then null
          else (left(btrim({{ expr }}), 8) || 'T' || rpad(substr(btrim({{ expr }}), 9), 6, '0'))::timestamp
               at time zone '{{ var("timezone") }}' end)
{%- endmacro %}

{% macro json_local_timestamp(field, doc='payload') -%}
    {{ local_timestamp(doc ~ " ->> '" ~ field ~ "'") }}
{%- endmacro %}

{#- yyyyMMdd (a longer timestamp string keeps only its date part). -#}
{% macro json_local_date(field, doc='payload') -%}
    (left({{ json_text(field, doc) }}, 8))::date
{%- endmacro %}

{% macro json_iso_timestamp(field, doc='payload') -%}
    ({{ json_text(field, doc) }})::timestamptz
{%- endmacro %}

{#- ISO date, or the date part of an ISO timestamp. -#}
{% macro json_iso_date(field, doc='payload') -%}
    (left({{ json_text(field, doc) }}, 10))::date
{%- endmacro %}

{#- A stable person key that reveals nothing without the key: HMAC-SHA256 of the trimmed ID
    number, hex (null without one). The key never appears in SQL: the pipeline gives each dbt
    session the custom setting tthc.pii_key (hex of the key's bytes, libpq PGOPTIONS; see
    tthc/privacy/pii_key.py), so compiled SQL, dbt.log, manifest.json and the docs hold only the
    name of the setting. Unset, the build fails ("unrecognized configuration parameter"). pgcrypto's
    hmac is called schema-qualified: nothing earlier on the search_path can stand in for it and
    receive the key. -#}
{% macro applicant_hash(expr) -%}
    encode({{ var('pgcrypto_schema') }}.hmac(convert_to({{ clean_text(expr) }}, 'UTF8'),
        decode(current_setting('tthc.pii_key'), 'hex'), 'sha256'), 'hex')
{%- endmacro %}

{#- on-run-start: pgcrypto for applicant_hash. The warehouse bootstrap (tthc/warehouse/roles.py)
    creates it as the superuser; IF NOT EXISTS returns before any privilege check, so a
    transformer role without CREATE on the database passes here once it exists. -#}
{% macro ensure_pgcrypto() -%}
    create extension if not exists pgcrypto with schema {{ var('pgcrypto_schema') }}
{%- endmacro %}

{#- A JSON list of codes as a jsonb array of trimmed, upper-cased strings ([] when missing). -#}
{% macro json_code_list(field, doc='payload') -%}
    coalesce((select jsonb_agg(upper(btrim(v))) from jsonb_array_elements_text(
        case when jsonb_typeof({{ doc }} -> '{{ field }}') = 'array' then {{ doc }} -> '{{ field }}' else '[]'::jsonb end) v),
        '[]'::jsonb)
{%- endmacro %}
