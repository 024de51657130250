#!/usr/bin/env bash
# Creates Waakvlam's and Temporal's roles and databases. The official postgres image runs this
# once, when the data volume is still empty (/docker-entrypoint-initdb.d); it never runs again,
# so changing a password later means ALTER ROLE (see docs/deployment.md).
#
#   role waakvlam  (password POSTGRES_PASSWORD)     owns database waakvlam            (the app)
#   role temporal  (password TEMPORAL_DB_PASSWORD)  owns temporal, temporal_visibility (Temporal)
#
# Neither role is a superuser or may create databases. The superuser `postgres` is refused over
# the network: it is reachable only through the socket inside the container (docker compose exec).
set -euo pipefail

: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
: "${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD is required}"

psql --no-psqlrc -v ON_ERROR_STOP=1 \
    --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v waakvlam_password="${POSTGRES_PASSWORD}" \
    -v temporal_password="${TEMPORAL_DB_PASSWORD}" <<'SQL'
CREATE ROLE waakvlam LOGIN PASSWORD :'waakvlam_password';
CREATE DATABASE waakvlam OWNER waakvlam ENCODING 'UTF8';
REVOKE ALL ON DATABASE waakvlam FROM PUBLIC;

CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal ENCODING 'UTF8';
CREATE DATABASE temporal_visibility OWNER temporal ENCODING 'UTF8';
REVOKE ALL ON DATABASE temporal FROM PUBLIC;
REVOKE ALL ON DATABASE temporal_visibility FROM PUBLIC;
SQL

# First matching line wins: refuse the superuser on TCP before the image's catch-all rule.
sed -i '1i host all postgres all reject' "${PGDATA}/pg_hba.conf"
