#!/usr/bin/env bash
# Makes sure the servers the integration tests talk to answer: PostgreSQL on 127.0.0.1:5432
# (trust auth, database "test") and NATS with JetStream on 127.0.0.1:4222. Idempotent: a server
# that answers is left alone, one that is installed but stopped is started, one that is
# missing is installed from Debian's packages first. Exits non-zero, naming the server, when
# one still does not answer. Also installs Debian's `prometheus` package when `promtool` is
# missing: the metrics tests run `promtool check metrics` and start their own Prometheus on a
# free port (the package's own service is stopped; nothing depends on it).
set -u

log() { printf 'services: %s\n' "$*"; }

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 -t 2 2>/dev/null || (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }

# A NATS server greets every client with an INFO line; JetStream servers say "jetstream":true.
nats_up() {
  timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/4222 && head -n 1 <&3' 2>/dev/null |
    grep -q '"jetstream":true'
}

wait_for() { # wait_for <check> <seconds>
  local i
  for ((i = 0; i < $2 * 4; i++)); do
    "$1" && return 0
    sleep 0.25
  done
  return 1
}

apt_updated=""
apt_install() {
  if ! command -v apt-get >/dev/null; then
    log "cannot install $*: apt-get is not available"
    return 1
  fi
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo -n"
  if [ -z "$apt_updated" ]; then
    $sudo apt-get update -qq >/dev/null && apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  if pg_up; then log "PostgreSQL answers on 127.0.0.1:5432"; return 0; fi
  local fresh=""
  if [ ! -d /etc/postgresql ] || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    log "PostgreSQL is not installed: installing the Debian package"
    apt_install postgresql || return 1
    fresh=1
  fi
  local version
  version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  if [ -n "$fresh" ]; then
    # The same local set-up as the project's machines: trust on the socket and on loopback.
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    printf 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' >"$hba.plinth"
    cat "$hba" >>"$hba.plinth" && mv "$hba.plinth" "$hba"
  fi
  log "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
  # The package's own start may have beaten us to it with the old pg_hba.conf: reload it.
  [ -n "$fresh" ] && pg_ctlcluster --skip-systemctl-redirect "$version" main reload >/dev/null 2>&1
  if ! wait_for pg_up 30; then log "PostgreSQL does not answer on 127.0.0.1:5432"; return 1; fi
  if ! psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname = 'test'" postgres 2>/dev/null | grep -q 1; then
    psql -h 127.0.0.1 -U postgres -qc "create database test" postgres >/dev/null || return 1
  fi
  log "PostgreSQL answers on 127.0.0.1:5432"
}

ensure_nats() {
  if nats_up; then log "NATS with JetStream answers on 127.0.0.1:4222"; return 0; fi
  if ! command -v nats-server >/dev/null && [ ! -x /usr/sbin/nats-server ]; then
    log "nats-server is not installed: installing the Debian package"
    apt_install nats-server || return 1
  fi
  local bin store
  bin="$(command -v nats-server || echo /usr/sbin/nats-server)"
  store="${NATS_STORE_DIR:-/var/lib/nats-server}"
  mkdir -p "$store" 2>/dev/null || store="$(mktemp -d)"
  log "starting nats-server with JetStream (store $store)"
  nohup "$bin" -a 127.0.0.1 -p 4222 -js -sd "$store" >/tmp/plinth-nats-server.log 2>&1 &
  if ! wait_for nats_up 20; then log "NATS with JetStream does not answer on 127.0.0.1:4222"; return 1; fi
  log "NATS with JetStream answers on 127.0.0.1:4222"
}

ensure_prometheus() {
  if command -v promtool >/dev/null && command -v prometheus >/dev/null; then
    log "promtool and prometheus are installed"
    return 0
  fi
  log "promtool is not installed: installing the Debian package prometheus"
  apt_install --no-install-recommends prometheus || return 1
  # The package may start its own service (on 9090); the tests never use it: stop it.
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo -n"
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    $sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
  elif [ -x /etc/init.d/prometheus ]; then
    $sudo /etc/init.d/prometheus stop >/dev/null 2>&1 || true
  fi
  if ! command -v promtool >/dev/null; then log "promtool is still missing"; return 1; fi
  log "promtool and prometheus are installed"
}

status=0
ensure_postgres || status=1
ensure_nats || status=1
ensure_prometheus || status=1
exit "$status"
