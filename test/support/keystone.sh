#!/usr/bin/env bash
# A real, throwaway Keystone for tests (docs/design.md, "The test harness"): Debian's python3-keystone with sqlite,
# fernet tokens, bootstrapped with an admin user and project, served by its development WSGI
# server (keystone-wsgi-public) on 127.0.0.1.
#
# Usage:
#   keystone.sh deps                      install python3-keystone when missing
#   keystone.sh start ROOT PORT PASSWORD  config, database, bootstrap (admin/admin, RegionOne); wait until it answers
#   keystone.sh stop ROOT                 stop it; idempotent; keeps ROOT
#
# The admin password is read from the PASSWORD argument only by this script (a test secret).
set -eu

PY=/usr/bin/python3
START_TIMEOUT=${NOVA_IPMETA_TEST_KEYSTONE_START_TIMEOUT:-60}

die() {
  printf 'keystone.sh: %s\n' "$*" >&2
  exit 1
}

cmd_deps() {
  local status
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' python3-keystone 2>/dev/null || true)
  [[ $status == ii* ]] && return 0
  [[ $(id -u) == 0 ]] || die 'deps: must run as root to install python3-keystone'
  local lockdir=/run/lock
  [[ -d $lockdir ]] || lockdir=/tmp
  exec {lockfd}>"$lockdir/nova-ipmeta-keystone-deps.lock"
  flock "$lockfd"
  local -a apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends python3-keystone)
  if ! "${apt[@]}" >&2; then
    apt-get -o DPkg::Lock::Timeout=300 update -q >&2
    "${apt[@]}" >&2
  fi
}

manage() {
  local root=$1
  shift
  "$PY" -c 'import sys; from keystone.cmd.manage import main; sys.exit(main())' --config-file "$root/keystone.conf" "$@" >>"$root/manage.log" 2>&1 ||
    die "keystone-manage $1 failed; see $root/manage.log"
}

cmd_start() {
  local root=$1 port=$2 password=$3 pid
  [[ -d $root ]] || die "start: no directory $root"
  cmd_deps
  mkdir -p "$root/fernet" "$root/credential"
  cat >"$root/keystone.conf" <<EOF
[DEFAULT]
log_file = $root/keystone.log
use_stderr = false

[database]
connection = sqlite:///$root/keystone.sqlite

[fernet_tokens]
key_repository = $root/fernet

[credential]
key_repository = $root/credential
EOF
  if [[ ! -f $root/keystone.sqlite ]]; then
    manage "$root" db_sync
    manage "$root" fernet_setup --keystone-user root --keystone-group root
    manage "$root" credential_setup --keystone-user root --keystone-group root
    manage "$root" bootstrap --bootstrap-password "$password" --bootstrap-region-id RegionOne \
      --bootstrap-admin-url "http://127.0.0.1:$port/v3" --bootstrap-public-url "http://127.0.0.1:$port/v3" \
      --bootstrap-internal-url "http://127.0.0.1:$port/v3"
  fi
  OS_KEYSTONE_CONFIG_FILES="$root/keystone.conf" setsid nohup "$PY" /usr/bin/keystone-wsgi-public --host 127.0.0.1 --port "$port" \
    </dev/null >"$root/keystone.out" 2>&1 &
  pid=$!
  echo "$pid" >"$root/keystone.pid"
  local deadline=$((SECONDS + START_TIMEOUT))
  until "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "http://127.0.0.1:$port/v3" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || die "the server exited; see $root/keystone.out"
    ((SECONDS < deadline)) || die "no answer on port $port after ${START_TIMEOUT}s; see $root/keystone.out"
    sleep 0.3
  done
}

cmd_stop() {
  local root=$1 pid i
  [[ -f $root/keystone.pid ]] || return 0
  pid=$(<"$root/keystone.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 25); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$root/keystone.pid"
}

case ${1-} in
deps) cmd_deps ;;
start)
  [[ $# -eq 4 ]] || die 'usage: keystone.sh start ROOT PORT PASSWORD'
  cmd_start "$2" "$3" "$4"
  ;;
stop)
  [[ $# -eq 2 ]] || die 'usage: keystone.sh stop ROOT'
  cmd_stop "$2"
  ;;
*) die 'usage: keystone.sh deps | start ROOT PORT PASSWORD | stop ROOT' ;;
esac
