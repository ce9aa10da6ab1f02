#!/usr/bin/env bash
# Make sure the system PostgreSQL server runs and has pg_partman, for the tests of the
# pg_partman backend: Debian's 4.7 (the default version) and 5.1.0 next to it, from
# ../shared/vendor/pg_partman-5.1.0 (or $ODDSKIT_PARTMAN5_DIR), which the tests create per
# database with CREATE EXTENSION pg_partman VERSION '5.1.0'. Needs root (apt-get, the
# server's extension directory); without it, those tests are skipped locally (and fail
# under CI=true, where every backend must be covered).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
partman5_dir="${ODDSKIT_PARTMAN5_DIR:-${here}/../shared/vendor/pg_partman-5.1.0}"

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  echo "system-deps: no Debian PostgreSQL here; the pg_partman tests will be skipped." >&2
  exit 0
fi

read -r version cluster status < <(pg_lsclusters --no-header | awk '{print $1, $2, $4; exit}')
if [ -z "${version:-}" ]; then
  echo "system-deps: no PostgreSQL cluster found; the pg_partman tests will be skipped." >&2
  exit 0
fi

if [ ! -f "/usr/share/postgresql/${version}/extension/pg_partman.control" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: installing postgresql-${version}-partman"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-${version}-partman" >/dev/null
  else
    echo "system-deps: pg_partman is missing and this is not root: run" >&2
    echo "  sudo apt-get install postgresql-${version}-partman" >&2
  fi
fi

# pg_partman 5.1.0: only its install script goes in, next to 4.7's files; 4.7.2's control
# file stays, so 4.7.2 remains the default version of every other database.
extension_dir="/usr/share/postgresql/${version}/extension"
partman5_sql="${partman5_dir}/pg_partman--5.1.0.sql"
if [ ! -f "${partman5_sql}" ]; then
  echo "system-deps: ${partman5_sql} not found; the pg_partman 5 tests will be skipped." >&2
elif [ ! -f "${extension_dir}/pg_partman.control" ]; then
  echo "system-deps: pg_partman 4.7 is missing, so 5.1.0 is not installed next to it." >&2
elif ! cmp -s "${partman5_sql}" "${extension_dir}/pg_partman--5.1.0.sql"; then
  if [ "$(id -u)" = 0 ]; then
    echo "system-deps: installing pg_partman 5.1.0 next to 4.7 in ${extension_dir}"
    install -m 0644 "${partman5_sql}" "${extension_dir}/pg_partman--5.1.0.sql"
  else
    echo "system-deps: pg_partman 5.1.0 is missing and this is not root: run" >&2
    echo "  sudo install -m 0644 ${partman5_sql} ${extension_dir}/" >&2
  fi
fi

if [ "${status}" != "online" ]; then
  echo "system-deps: starting PostgreSQL ${version}/${cluster}"
  pg_ctlcluster --skip-systemctl-redirect "${version}" "${cluster}" start
fi
