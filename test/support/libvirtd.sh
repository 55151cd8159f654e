#!/usr/bin/env bash
# A private, throwaway libvirt daemon for tests and the demo (docs/design.md, "The test harness"): root libvirtd in its
# own private mount namespace, with ROOT's directories bind-mounted over /etc/libvirt,
# /run/libvirt, /var/lib/libvirt and /var/log/libvirt, and a persistent QEMU capability cache over
# /var/cache/libvirt. Nothing touches the host's libvirt (if one runs) or its directories.
#
# Usage:
#   libvirtd.sh deps [--kernel]   install what is missing (Debian packages, libvirt-qemu/kvm users)
#   libvirtd.sh init ROOT         create ROOT/{etc,run,lib,log,cache} and the config (start does it)
#   libvirtd.sh start ROOT        start the daemon, print its URI
#   libvirtd.sh stop ROOT         kill its guests, then the daemon; idempotent; keeps ROOT
#   libvirtd.sh restart ROOT      restart the daemon only (guests keep running), print its URI
#   libvirtd.sh nsexec ROOT CMD.. run CMD inside the daemon's mount namespace
#   libvirtd.sh uri ROOT          print the URI
#
# Files in ROOT: libvirtd.pid (daemon PID), mntns (inode of its mount namespace), libvirtd.log.
# The guests, the hooks and their children all live in that one mount namespace (restart enters
# it again), which is how `stop` finds every process that belongs to ROOT.
#
# Environment: NOVA_IPMETA_TEST_LIBVIRT_CACHE: the persistent /var/cache/libvirt (default
# /var/tmp/nova-ipmeta-libvirt-cache; empty: ROOT/cache, cold every time).
set -eu

SELF=$(readlink -f "${BASH_SOURCE[0]}")
# libxml2-utils: xmllint, which the admin guide's examples use (test/docs/admin-guide.libvirt.test.ts runs them).
PACKAGES=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 libxml2-utils)
KERNEL_PACKAGES=(busybox-static linux-image-cloud-amd64)
DAEMON_ENV_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
START_TIMEOUT=${NOVA_IPMETA_TEST_LIBVIRT_START_TIMEOUT:-30}

die() {
  printf 'libvirtd.sh: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------- deps

missing_packages() {
  local pkg status
  local -a out=()
  for pkg in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
    [[ $status == ii* ]] || out+=("$pkg")
  done
  printf '%s\n' "${out[@]}"
}

ensure_users() {
  getent group kvm >/dev/null || groupadd --system kvm
  getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
  getent passwd libvirt-qemu >/dev/null ||
    useradd --system --gid libvirt-qemu --groups kvm --home-dir /var/lib/libvirt --no-create-home \
      --shell /usr/sbin/nologin --comment 'Libvirt Qemu' libvirt-qemu
}

cmd_deps() {
  local -a want=("${PACKAGES[@]}") missing
  if [[ ${1-} == --kernel ]]; then
    want+=("${KERNEL_PACKAGES[@]}")
  elif [[ $# -gt 0 ]]; then
    die "deps: unknown argument $1"
  fi
  mapfile -t missing < <(missing_packages "${want[@]}")
  [[ ${missing[0]-} == '' ]] && unset 'missing[0]'
  if [[ ${#missing[@]} -eq 0 ]] && getent group kvm >/dev/null && getent passwd libvirt-qemu >/dev/null &&
    getent group libvirt-qemu >/dev/null; then
    return 0
  fi
  [[ $(id -u) == 0 ]] || die "deps: must run as root to install ${missing[*]:-users}"
  # One installer at a time (tests may run in parallel); re-check once holding the lock.
  local lockdir=/run/lock
  [[ -d $lockdir ]] || lockdir=/tmp
  exec {lockfd}>"$lockdir/nova-ipmeta-libvirt-deps.lock"
  flock "$lockfd"
  mapfile -t missing < <(missing_packages "${want[@]}")
  [[ ${missing[0]-} == '' ]] && unset 'missing[0]'
  if [[ ${#missing[@]} -gt 0 ]]; then
    printf 'libvirtd.sh: installing %s\n' "${missing[*]}" >&2
    local -a apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}")
    if ! "${apt[@]}" >&2; then
      # A fresh machine may have no package lists yet.
      env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -q >&2
      "${apt[@]}" >&2
    fi
  fi
  ensure_users
  exec {lockfd}>&-
}

# ---------------------------------------------------------------------------------------- helpers

need_root_arg() {
  [[ $# -ge 1 && -n $1 ]] || die "missing ROOT argument"
  [[ $1 == /* ]] || die "ROOT must be an absolute path: $1"
}

uri_of() { printf 'qemu:///system?socket=%s/run/libvirt-sock' "$1"; }

cache_dir_of() {
  local root=$1
  if [[ -v NOVA_IPMETA_TEST_LIBVIRT_CACHE ]]; then
    if [[ -n $NOVA_IPMETA_TEST_LIBVIRT_CACHE ]]; then
      printf '%s' "$NOVA_IPMETA_TEST_LIBVIRT_CACHE"
    else
      printf '%s' "$root/cache"
    fi
  else
    printf '%s' /var/tmp/nova-ipmeta-libvirt-cache
  fi
}

# alive PID: the process exists and is not a zombie.
alive() {
  local line
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  { read -r line </proc/"$1"/stat; } 2>/dev/null || return 1
  line=${line##*) }
  [[ ${line:0:1} != Z ]]
}

# is_ours PID ROOT EXE-PATTERN: PID is alive, runs EXE-PATTERN and lives in ROOT's mount namespace.
is_ours() {
  local pid=$1 root=$2 pattern=$3 exe ns
  alive "$pid" || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  # shellcheck disable=SC2053
  [[ $exe == $pattern ]] || return 1
  [[ -s $root/mntns ]] || return 1
  ns=$(stat -L -c %i "/proc/$pid/ns/mnt" 2>/dev/null) || return 1
  [[ $ns == "$(<"$root/mntns")" ]]
}

daemon_pid() {
  local root=$1 pid
  [[ -s $root/libvirtd.pid ]] || return 1
  pid=$(<"$root/libvirtd.pid")
  is_ours "$pid" "$root" '*/libvirtd' || return 1
  printf '%s' "$pid"
}

# guest_pids ROOT: the QEMU PIDs named in ROOT/run/qemu/*.pid that are alive and ours.
guest_pids() {
  local root=$1 f pid
  for f in "$root"/run/qemu/*.pid; do
    [[ -f $f && ${f##*/} != driver.pid ]] || continue
    pid=$(<"$f") || continue
    is_ours "$pid" "$root" '*/qemu-system-*' && printf '%s\n' "$pid"
  done
  return 0
}

# pin_ns ROOT: opens NSFD on ROOT's mount namespace (through the daemon, or else any guest), so
# that the namespace, and with it its inode number, cannot go away while we look for its
# processes. Fails when no process of ROOT is alive (then there is nothing to find).
NSFD=
pin_ns() {
  local root=$1 pid
  local -a candidates=()
  pid=$(daemon_pid "$root") && candidates+=("$pid")
  mapfile -t -O "${#candidates[@]}" candidates < <(guest_pids "$root")
  for pid in "${candidates[@]}"; do
    [[ -n $pid ]] || continue
    { exec {NSFD}<"/proc/$pid/ns/mnt"; } 2>/dev/null || continue
    if [[ $(stat -L -c %i "/proc/self/fd/$NSFD") == "$(<"$root/mntns")" ]]; then
      return 0
    fi
    exec {NSFD}<&-
    NSFD=
  done
  return 1
}

unpin_ns() {
  if [[ -n $NSFD ]]; then
    exec {NSFD}<&-
    NSFD=
  fi
}

# ns_pids [--no-reaper]: every live process in the pinned namespace (never this script).
ns_pids() {
  local d pid comm
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [[ $pid != "$$" && $pid != "$BASHPID" ]] || continue
    if ! [[ $d/ns/mnt -ef /proc/self/fd/$NSFD ]] 2>/dev/null || ! alive "$pid"; then continue; fi
    if [[ ${1-} == --no-reaper ]]; then
      { read -r comm <"$d/comm"; } 2>/dev/null || comm=
      [[ $comm != lvt-reaper ]] || continue
    fi
    printf '%s\n' "$pid"
  done
  return 0
}

# kill_and_wait SIGNAL SECONDS PID...: signals them, waits up to SECONDS for them to be gone;
# prints the ones still alive.
kill_and_wait() {
  local sig=$1 secs=$2 pid i
  shift 2
  local -a left=("$@")
  [[ ${#left[@]} -gt 0 ]] || return 0
  kill "-$sig" "${left[@]}" 2>/dev/null || true
  for ((i = 0; i < secs * 20; i++)); do
    local -a still=()
    for pid in "${left[@]}"; do alive "$pid" && still+=("$pid"); done
    left=("${still[@]}")
    [[ ${#left[@]} -eq 0 ]] && return 0
    sleep 0.05
  done
  printf '%s\n' "${left[@]}"
}

# terminate SECONDS PID...: TERM, then KILL after SECONDS; fails if any survive KILL.
terminate() {
  local secs=$1
  shift
  local -a left
  mapfile -t left < <(kill_and_wait TERM "$secs" "$@")
  [[ -n ${left[0]-} ]] || return 0
  mapfile -t left < <(kill_and_wait KILL 5 "${left[@]}")
  [[ -z ${left[0]-} ]] || {
    printf 'libvirtd.sh: processes survive SIGKILL: %s\n' "${left[*]}" >&2
    return 1
  }
}

# --------------------------------------------------------------------------------------- commands

cmd_init() {
  need_root_arg "$@"
  local root=$1 d
  for d in etc run lib log log/qemu cache etc/hooks; do mkdir -p "$root/$d"; done
  chmod 0755 "$root"
  # An empty qemu.d only when the caller did not bring its own hooks (a plain etc/hooks/qemu).
  if [[ ! -e $root/etc/hooks/qemu && ! -e $root/etc/hooks/qemu.d ]]; then
    mkdir -p "$root/etc/hooks/qemu.d"
  fi
  if [[ ! -f $root/etc/qemu.conf ]]; then
    cat >"$root/etc/qemu.conf" <<'EOF'
# Private test daemon (nova-ipmeta test/support/libvirtd.sh): no users, cgroups, namespaces, virtlogd.
user = "root"
group = "root"
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
remember_owner = 0
stdio_handler = "file"
EOF
  fi
  if [[ ! -f $root/etc/libvirtd.conf ]]; then
    cat >"$root/etc/libvirtd.conf" <<'EOF'
# Private test daemon (nova-ipmeta test/support/libvirtd.sh): only its root-only unix sockets.
listen_tls = 0
listen_tcp = 0
unix_sock_group = "root"
unix_sock_ro_perms = "0700"
unix_sock_rw_perms = "0700"
unix_sock_admin_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:stderr"
EOF
  fi
}

# The daemon's parent: a child subreaper that reaps at once. QEMU leaves libvirtd by a double fork,
# so a guest's parent is the nearest subreaper, else PID 1; a PID 1 that reaps lazily (as in some
# containers and micro-VMs) leaves a killed QEMU a zombie for a second or two, and libvirt waits for
# it (`virsh destroy` 1.5 s instead of 0.1 s). It writes the daemon's PID to argv[0] (a file),
# execs the rest as the daemon and exits once it has no children left (the daemon and the guests it
# outlives, as after a restart). Perl is in every Debian (perl-base is essential).
# shellcheck disable=SC2016 # Perl, not shell
REAPER='
use strict; use warnings; use Config;
$0 = "lvt-reaper";
my %prctl = (x86_64 => 157, aarch64 => 167);
my ($arch) = $Config{archname} =~ /^([^-]+)/;
if (my $nr = $prctl{$arch}) { syscall($nr, 36, 1, 0, 0, 0) == 0 or warn "lvt-reaper: PR_SET_CHILD_SUBREAPER: $!\n" }
my $pidfile = shift @ARGV;
my $pid = fork() // die "lvt-reaper: fork: $!\n";
if ($pid == 0) {
  open(my $fh, ">", $pidfile) or die "lvt-reaper: $pidfile: $!\n";
  print $fh "$$\n"; close($fh);
  exec { $ARGV[0] } @ARGV or die "lvt-reaper: exec $ARGV[0]: $!\n";
}
1 while waitpid(-1, 0) > 0;
'

exec_daemon() {
  local root=$1
  cd /
  exec env -i PATH="$DAEMON_ENV_PATH" HOME=/root perl -e "$REAPER" "$root/libvirtd.pid" \
    libvirtd --pid-file /run/libvirt/libvirtd.pid
}

# Runs inside the new mount namespace (unshare -m --propagation private): mounts, then becomes the
# reaper and libvirtd. Hidden subcommand: __ns-start ROOT CACHE
cmd_ns_start() {
  local root=$1 cache=$2
  mkdir -p /etc/libvirt /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt "$cache"
  mount --bind "$root/etc" /etc/libvirt
  mount --bind "$root/run" /run/libvirt
  mount --bind "$root/lib" /var/lib/libvirt
  mount --bind "$root/log" /var/log/libvirt
  mount --bind "$cache" /var/cache/libvirt
  stat -L -c %i /proc/self/ns/mnt >"$root/mntns"
  exec_daemon "$root"
}

# Runs inside ROOT's existing mount namespace (restart). __ns-reenter ROOT
cmd_ns_reenter() {
  exec_daemon "$1"
}

# launch ROOT: starts the daemon (in ROOT's pinned namespace if NSFD is set, else a new one) and
# waits until it answers.
launch() {
  local root=$1 uri pid i ns
  uri=$(uri_of "$root")
  rm -f "$root/libvirtd.pid"
  [[ -n $NSFD ]] || rm -f "$root/mntns"
  if [[ -n $NSFD ]]; then
    # The child must not keep the namespace pinned: nsenter opens our fd through /proc/$$.
    setsid nohup nsenter --mount="/proc/$$/fd/$NSFD" -- bash "$SELF" __ns-reenter "$root" \
      </dev/null >>"$root/libvirtd.log" 2>&1 {NSFD}<&- &
  else
    local cache
    cache=$(cache_dir_of "$root")
    setsid nohup unshare --mount --propagation private -- bash "$SELF" __ns-start "$root" "$cache" \
      </dev/null >>"$root/libvirtd.log" 2>&1 &
  fi
  local launcher=$!
  for ((i = 0; i < START_TIMEOUT * 20; i++)); do
    if [[ -s $root/libvirtd.pid ]]; then
      pid=$(<"$root/libvirtd.pid")
      if ! alive "$pid"; then
        die "libvirtd exited at start; end of $root/libvirtd.log: $(tail -n 5 "$root/libvirtd.log" 2>/dev/null | tr '\n' ' ')"
      fi
      if [[ -S $root/run/libvirt-sock ]] && timeout 10 virsh -q -c "$uri" version >/dev/null 2>&1; then
        ns=$(stat -L -c %i "/proc/$pid/ns/mnt")
        [[ $ns == "$(<"$root/mntns")" ]] || die "libvirtd is not in the namespace recorded in $root/mntns"
        [[ $ns != "$(stat -L -c %i /proc/self/ns/mnt)" ]] || die "libvirtd runs in the host's mount namespace"
        printf '%s\n' "$uri"
        return 0
      fi
    elif ! alive "$launcher" && [[ ! -s $root/libvirtd.pid ]]; then
      die "libvirtd launcher failed; end of $root/libvirtd.log: $(tail -n 5 "$root/libvirtd.log" 2>/dev/null | tr '\n' ' ')"
    fi
    sleep 0.05
  done
  cmd_stop "$root" || true
  die "libvirtd did not answer within ${START_TIMEOUT}s; see $root/libvirtd.log"
}

cmd_start() {
  need_root_arg "$@"
  local root=$1
  if daemon_pid "$root" >/dev/null; then die "a daemon already runs for $root"; fi
  cmd_init "$root"
  command -v libvirtd >/dev/null || die "libvirtd is not installed: run '$SELF deps'"
  NSFD=
  launch "$root"
}

cmd_stop() {
  need_root_arg "$@"
  local root=$1 dpid='' rc=0 i
  local -a pids
  [[ -d $root ]] || return 0
  pin_ns "$root" || return 0 # nothing of ROOT is alive
  dpid=$(daemon_pid "$root") || dpid=
  # 1. the guests named by the daemon, then a moment for the daemon to see them gone (it runs the
  # stopped/release hooks and removes their status XML), 2. anything else in the namespace but
  # the daemon and its reapers (hook children, QEMUs without a pid file yet), 3. the daemon,
  # 4. whatever is left (the reapers exit by themselves when their last child is gone).
  mapfile -t pids < <(guest_pids "$root")
  if [[ -n ${pids[0]-} ]]; then
    terminate 5 "${pids[@]}" || rc=1
    if [[ -n $dpid ]]; then
      for ((i = 0; i < 100; i++)); do
        compgen -G "$root/run/qemu/*.xml" >/dev/null || break
        sleep 0.05
      done
    fi
  fi
  mapfile -t pids < <(ns_pids --no-reaper | grep -vx -e "${dpid:-none}")
  [[ -z ${pids[0]-} ]] || terminate 5 "${pids[@]}" || rc=1
  if [[ -n $dpid ]]; then terminate 10 "$dpid" || rc=1; fi
  for ((i = 0; i < 20; i++)); do
    mapfile -t pids < <(ns_pids)
    [[ -n ${pids[0]-} ]] || break
    sleep 0.05
  done
  [[ -z ${pids[0]-} ]] || terminate 2 "${pids[@]}" || rc=1
  unpin_ns
  return "$rc"
}

cmd_restart() {
  need_root_arg "$@"
  local root=$1 dpid
  [[ -d $root ]] || die "no such ROOT: $root"
  NSFD=
  pin_ns "$root" || NSFD=
  if dpid=$(daemon_pid "$root"); then terminate 10 "$dpid"; fi
  if [[ -n $NSFD ]]; then
    # Guests still hold the namespace: the new daemon joins them there.
    launch "$root"
    unpin_ns
  else
    cmd_start "$root"
  fi
}

cmd_nsexec() {
  need_root_arg "$@"
  local root=$1 pid
  shift
  [[ $# -gt 0 ]] || die "nsexec: missing command"
  pid=$(daemon_pid "$root") || die "nsexec: no daemon runs for $root"
  exec nsenter --target "$pid" --mount -- "$@"
}

main() {
  [[ $# -ge 1 ]] || die "usage: libvirtd.sh deps [--kernel] | init|start|stop|restart|uri ROOT | nsexec ROOT CMD..."
  local cmd=$1
  shift
  case $cmd in
  deps) cmd_deps "$@" ;;
  init) cmd_init "$@" ;;
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  restart) cmd_restart "$@" ;;
  nsexec) cmd_nsexec "$@" ;;
  uri)
    need_root_arg "$@"
    uri_of "$1"
    echo
    ;;
  __ns-start) cmd_ns_start "$@" ;;
  __ns-reenter) cmd_ns_reenter "$@" ;;
  *) die "unknown command $cmd" ;;
  esac
}

main "$@"
