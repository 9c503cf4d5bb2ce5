#!/usr/bin/env bash
# The whole test suite, as `make test` runs it: lint, types, then pytest against SQLite and a
# real PostgreSQL server this script installs (apt), starts on loopback and stops again.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv

echo "== ruff =="
$VENV/bin/ruff check src tests benchmarks
$VENV/bin/ruff format --check src tests benchmarks
echo "== mypy (strict, package) =="
$VENV/bin/mypy
echo "== import contract (layers, pyproject.toml [tool.importlinter]) =="
$VENV/bin/lint-imports --no-cache

# --- system packages the suite needs (idempotent) ---
need=()
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || need+=(postgresql)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
# The console's browser tests drive Debian's chromium (never a downloaded browser build);
# the font renders the Chinese pages and screenshots.
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ]; then
  echo "== apt-get install ${need[*]} =="
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# --- a throwaway PostgreSQL on loopback ---
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGROOT=$(mktemp -d /tmp/lvyue-pg.XXXXXX)
# A free loopback port, unless one is given (another server may hold 55432).
PGPORT=${LVYUE_TEST_PGPORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
chown postgres:postgres "$PGROOT"
stop_pg() {
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGROOT/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PGROOT"
}
trap stop_pg EXIT
runuser -u postgres -- "$PGBIN/initdb" -D "$PGROOT/data" -U postgres --auth=trust -E UTF8 \
  --locale=C.UTF-8 >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGROOT -c fsync=off" start >/dev/null \
  || { cat "$PGROOT/server.log"; exit 1; }
export LVYUE_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$PGPORT/postgres"
echo "== PostgreSQL on 127.0.0.1:$PGPORT =="

# Two worker processes (pytest-xdist, pinned in requirements.lock), a test file per worker at a
# time: a module's fixtures (its databases, the console, the simulated facts) stay in one
# process. LVYUE_TEST_WORKERS=0 runs everything in this process. docs/decisions/test-run-time.md
WORKERS=${LVYUE_TEST_WORKERS:-2}
echo "== pytest ($WORKERS workers) =="
$VENV/bin/pytest -p no:cacheprovider -n "$WORKERS" --dist loadfile --no-loadscope-reorder "$@"
