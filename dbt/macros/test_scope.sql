{#- Which rows a data test reads. dbt wraps the tested relation in get_where_subquery; this
    project's version adds one rule to the `where` config:

    With test_scope = 'night' (var test_scope, else env TTHC_TEST_SCOPE: the nightly build, see
    checks_scope in tthc/pipeline/dbt.py),
    tests on an incremental model or a raw source read only the rows loaded within var
    night_test_window: the rows this night merged (a night merges what raw loaded since the
    model's newest row minus incremental_lookback, which is shorter). Rows loaded earlier were
    tested on their own night. Uniqueness stays whole: every column an incremental model tests
    as unique has a unique index (macros/incremental.sql), so the database refuses a duplicate
    on the merge itself. With test_scope = 'all' (full refreshes, the weekly full check, builds
    by hand) every row is read, as dbt does by default. Measured at 170 k dossiers/year: the
    nightly build's tests took 7.1 s of its 10.9 s, each a scan of a table that grows every
    night. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- if config.get('where', '') -%}
        {%- do conditions.append(config.get('where')) -%}
    {%- endif -%}
    {%- set night_rows = night_rows_condition(relation) -%}
    {%- if night_rows -%}
        {%- do conditions.append(night_rows) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return("(select * from " ~ relation ~ " where " ~ conditions | join(" and ") ~ ") dbt_subquery") -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- On a night, the condition that keeps the rows it loaded, or '' to read every row.
    Incremental models: within the window of their newest row (btree index on loaded_at; the
    bound a literal, so the planner sees how few rows pass it).
    Raw sources (every source of this project is a raw table): loaded within the window of now,
    as the raw suites of the gate (raw has a BRIN index on loaded_at, which cannot give a max;
    the extract ran just before). -#}
{% macro night_rows_condition(relation) -%}
    {%- if not execute or (var('test_scope', none) or run_setting('TTHC_TEST_SCOPE', 'all')) != 'night' -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- set window = "interval '" ~ var('night_test_window') ~ "'" -%}
    {%- set tested_id = model.attached_node or (model.depends_on.nodes | first) -%}
    {%- if tested_id in graph.sources -%}
        {%- do return("loaded_at > now() - " ~ window) -%}
    {%- endif -%}
    {%- set tested = graph.nodes.get(tested_id) -%}
    {%- if tested is not none and tested.config.materialized == 'incremental' -%}
        {%- do return("loaded_at >= " ~ timestamptz_literal("select coalesce(max(loaded_at), '-infinity') - "
                                                             ~ window ~ " from " ~ relation)) -%}
    {%- endif -%}
    {%- do return('') -%}
{%- endmacro %}
