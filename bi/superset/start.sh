#!/bin/sh
# The compose service `superset` (docker-compose.yml): migrate Superset's metadata database, create
# the admin once, `superset init` (roles and permissions), serve, then import the dashboards through
# the REST API as the admin, the tthc_bi password in the request only (bi/superset/importer.py).
# Every step is idempotent, so a restart re-imports dashboards.yml as it is in the checkout.
set -eu

superset db upgrade
# The password goes in on stdin (never on a command line); an existing admin is left as it is.
printf '%s\n%s\n' "$SUPERSET_ADMIN_PASSWORD" "$SUPERSET_ADMIN_PASSWORD" | superset fab create-admin \
    --username "${SUPERSET_ADMIN_USERNAME:-admin}" --firstname "Quản trị" --lastname "TTHC" \
    --email "${SUPERSET_ADMIN_EMAIL:-admin@example.invalid}"
superset init

/usr/bin/run-server.sh &
server=$!
trap 'kill -TERM "$server" 2>/dev/null' TERM INT

# The warehouse's roles exist (warehouse-bootstrap ran); the marts may not yet: the import only
# names the tables, and the charts fill once the first night has published.
if ! python /app/tthc_bi/importer.py --url "http://127.0.0.1:${SUPERSET_PORT:-8088}" --wait 300; then
    echo "superset: the dashboards were not imported; stopping" >&2
    kill -TERM "$server" 2>/dev/null
    exit 1
fi
wait "$server"
