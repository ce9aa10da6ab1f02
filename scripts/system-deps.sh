#!/usr/bin/env bash
# Make sure the system PostgreSQL server runs and has pg_partman, for the tests of the
# pg_partman backend. Needs root (apt-get); without it, those tests are skipped locally
# (and fail under CI=true, where both backends must be covered).
set -euo pipefail

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

if [ "${status}" != "online" ]; then
  echo "system-deps: starting PostgreSQL ${version}/${cluster}"
  pg_ctlcluster --skip-systemctl-redirect "${version}" "${cluster}" start
fi
