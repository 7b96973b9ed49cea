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

{#- A stable person key that reveals nothing: sha256 of a secret salt and the trimmed ID. -#}
{% macro salted_hash(expr) -%}
    encode(sha256(convert_to('{{ env_var("TTHC_PII_SALT", var("pii_salt_default")) }}' || {{ clean_text(expr) }}, 'UTF8')), 'hex')
{%- endmacro %}

{#- A JSON list of codes as a jsonb array of trimmed, upper-cased strings ([] when missing). -#}
{% macro json_code_list(field, doc='payload') -%}
    coalesce((select jsonb_agg(upper(btrim(v))) from jsonb_array_elements_text(
        case when jsonb_typeof({{ doc }} -> '{{ field }}') = 'array' then {{ doc }} -> '{{ field }}' else '[]'::jsonb end) v),
        '[]'::jsonb)
{%- endmacro %}
