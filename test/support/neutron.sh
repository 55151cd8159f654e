#!/usr/bin/env bash
# A real, throwaway Neutron API server for tests (docs/design.md, "The test harness"): Debian's python3-neutron run by
# Debian's /usr/bin/python3, noauth, ml2 with the no-op logger driver, sqlite whose schema is
# created from the models and stamped (sqlite cannot run the migrations), the paste file that
# ships in the package's tests. No systemd, RabbitMQ, MariaDB or agents.
#
# Usage:
#   neutron.sh deps              install python3-neutron when missing (2-3 min on a bare machine)
#   neutron.sh start ROOT PORT   config + schema in ROOT, start on 127.0.0.1:PORT, wait until it answers;
#                                ROOT/extra.conf, when there, is read after neutron.conf (a test's own
#                                settings: pagination_max_limit, use_ssl and [ssl], auth_strategy...)
#   neutron.sh stop ROOT         stop the server started in ROOT; idempotent; keeps ROOT
#
# Files in ROOT: neutron.conf, neutron.sqlite, neutron.pid, neutron.log. A second `start` of the
# same ROOT keeps the database (restart after stop).
set -eu

PY=/usr/bin/python3
PACKAGES=(python3-neutron)
START_TIMEOUT=${NOVA_IPMETA_TEST_NEUTRON_START_TIMEOUT:-90}

die() {
  printf 'neutron.sh: %s\n' "$*" >&2
  exit 1
}

cmd_deps() {
  local pkg status
  local -a missing=()
  for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
    [[ $status == ii* ]] || missing+=("$pkg")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  [[ $(id -u) == 0 ]] || die "deps: must run as root to install ${missing[*]}"
  local lockdir=/run/lock
  [[ -d $lockdir ]] || lockdir=/tmp
  exec {lockfd}>"$lockdir/nova-ipmeta-neutron-deps.lock"
  flock "$lockfd"
  printf 'neutron.sh: installing %s\n' "${missing[*]}" >&2
  local -a apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}")
  if ! "${apt[@]}" >&2; then
    # A fresh machine may have no package lists yet.
    apt-get -o DPkg::Lock::Timeout=300 update -q >&2
    "${apt[@]}" >&2
  fi
}

package_dir() {
  "$PY" -c 'import neutron, os; print(os.path.dirname(neutron.__file__))'
}

write_config() {
  local root=$1 port=$2 pkg
  pkg=$(package_dir)
  mkdir -p "$root/ml2"
  cat >"$root/neutron.conf" <<EOF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $port
auth_strategy = noauth
core_plugin = ml2
service_plugins = router
# changed_since (the timestamp plugin, loaded by default) passes Neutron's filter validation only
# when that is off; with it on (Neutron's default), cache sync's polls fall back to full syncs.
filter_validation = false
api_workers = 0
rpc_workers = 0
rpc_state_report_workers = 0
transport_url = fake://
api_paste_config = $pkg/tests/etc/api-paste.ini
state_path = $root
lock_path = $root/lock
log_file = $root/neutron.log
debug = false
use_stderr = false

[database]
connection = sqlite:///$root/neutron.sqlite

[ml2]
type_drivers = flat,vlan,vxlan
tenant_network_types = vxlan
mechanism_drivers = logger
extension_drivers = port_security

[ml2_type_flat]
flat_networks = *

[ml2_type_vxlan]
vni_ranges = 1:1000

[quotas]
# unlimited: tests and the bench create hundreds of ports and floating IPs
quota_network = -1
quota_subnet = -1
quota_port = -1
quota_router = -1
quota_floatingip = -1

[oslo_concurrency]
lock_path = $root/lock
EOF
}

create_schema() {
  local root=$1
  "$PY" - "$root/neutron.sqlite" <<'EOF'
import sys
import sqlalchemy
from neutron.db.migration.models import head
engine = sqlalchemy.create_engine('sqlite:///' + sys.argv[1])
head.get_metadata().create_all(engine)
EOF
  "$PY" -c 'import sys; from neutron.db.migration.cli import main; sys.exit(main())' \
    --config-file "$root/neutron.conf" stamp heads >>"$root/schema.log" 2>&1 ||
    die "neutron-db-manage stamp heads failed; see $root/schema.log"
}

cmd_start() {
  local root=$1 port=$2 pid
  [[ -d $root ]] || die "start: no directory $root"
  cmd_deps
  write_config "$root" "$port"
  [[ -f $root/neutron.sqlite ]] || create_schema "$root"
  local -a extra=()
  local probe=(-c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "http://127.0.0.1:$port/v2.0/networks")
  if [[ -f $root/extra.conf ]]; then
    extra=(--config-file "$root/extra.conf")
    # Over TLS (perhaps wanting a client certificate) or behind Keystone, an answer cannot be
    # asked for here: the server listens once its API is loaded.
    probe=(-c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2).close()' "$port")
  fi
  setsid nohup "$PY" -c 'import sys; from neutron.cmd.eventlet.server import main; sys.exit(main())' \
    --config-file "$root/neutron.conf" "${extra[@]}" </dev/null >"$root/neutron.out" 2>&1 &
  pid=$!
  echo "$pid" >"$root/neutron.pid"
  local deadline=$((SECONDS + START_TIMEOUT))
  until "$PY" "${probe[@]}" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || die "the server exited; see $root/neutron.out and $root/neutron.log"
    ((SECONDS < deadline)) || die "no answer on port $port after ${START_TIMEOUT}s; see $root/neutron.log"
    sleep 0.5
  done
}

cmd_stop() {
  local root=$1 pid i
  [[ -f $root/neutron.pid ]] || return 0
  pid=$(<"$root/neutron.pid")
  if kill -0 "$pid" 2>/dev/null; then
    # The server's own process group (setsid): the eventlet server and any child it forked.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$root/neutron.pid"
}

case ${1-} in
deps) cmd_deps ;;
start)
  [[ $# -eq 3 ]] || die 'usage: neutron.sh start ROOT PORT'
  cmd_start "$2" "$3"
  ;;
stop)
  [[ $# -eq 2 ]] || die 'usage: neutron.sh stop ROOT'
  cmd_stop "$2"
  ;;
*) die 'usage: neutron.sh deps | start ROOT PORT | stop ROOT' ;;
esac
