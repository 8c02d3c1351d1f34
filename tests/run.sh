#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, makes sure every
# server they use is installed and running, runs the linters, mypy and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

log "python environment (.venv)"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -e '.[test]'

log "Alertmanager (Debian package prometheus-alertmanager)"
if ! command -v prometheus-alertmanager >/dev/null 2>&1; then
  as_root apt-get update -q
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q prometheus-alertmanager
fi
prometheus-alertmanager --version 2>&1 | head -1

log "RabbitMQ broker and management plugin"
if ! rabbitmqctl -q status >/dev/null 2>&1; then
  as_root rabbitmq-server -detached
  for _ in $(seq 1 60); do rabbitmqctl -q status >/dev/null 2>&1 && break; sleep 1; done
fi
if ! rabbitmq-plugins -q list -e -m 2>/dev/null | grep -qx rabbitmq_management; then
  as_root rabbitmq-plugins enable rabbitmq_management
fi
for _ in $(seq 1 60); do
  curl -fsS -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null && echo "management API up on :15672"

log "PostgreSQL on 127.0.0.1:5432 (the shared incident store's tests; trust auth for user postgres)"
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    as_root apt-get update -q
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q postgresql
  fi
  version=$(ls /etc/postgresql | sort -V | tail -1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' | as_root tee "$hba" >/dev/null
  fi
  as_root pg_ctlcluster "$version" main start || as_root pg_ctlcluster "$version" main restart
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432

log "ruff, mypy, import rules (lint-imports: contracts in pyproject.toml)"
.venv/bin/ruff check cockpit tests
.venv/bin/ruff format --check cockpit tests
.venv/bin/mypy cockpit
.venv/bin/lint-imports

log "pytest"
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then
  echo "pytest collected no tests: that is a failure, not a pass" >&2
  exit 1
fi
exit "$rc"
