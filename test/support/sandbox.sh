#!/usr/bin/env bash
# A copy-on-write view of this machine, to run install.sh (or dpkg -i) for real without changing
# the machine: a private mount namespace where /etc, /usr and /var are overlays whose writes land
# in DIR/upper (so DIR/upper lists exactly what was changed), and where systemd seems not to run
# (/run/systemd hidden), so nothing reaches the host's systemd. /tmp, /var/tmp, /run, /root, /home
# and the rest are the host's own.
#
# Usage:
#   sandbox.sh up DIR          create the namespace, held open by a sleeping process (DIR/holder.pid)
#   sandbox.sh exec DIR CMD..  run CMD in it (in the current directory)
#   sandbox.sh down DIR        end the holder and remove DIR (stop any daemon started inside first)
#
# DIR must not lie under /etc, /usr or /var (/tmp is fine): the overlays' writable layers live
# there. A process started inside and detached (a libvirt daemon) keeps the namespace's mounts,
# and sees every later change made through `exec`: the overlays are shared, not copied.
set -eu

SELF=$(readlink -f "${BASH_SOURCE[0]}")
OVERLAID=(/etc /usr /var)
SHARED=(/var/tmp)

die() {
	printf 'sandbox.sh: %s\n' "$*" >&2
	exit 1
}

need_dir() {
	[[ $# -ge 1 && $1 == /* ]] || die "DIR must be an absolute path"
}

holder_pid() { # DIR: the holder's PID when it is alive and still in the recorded namespace
	local dir=$1 pid
	[[ -s $dir/holder.pid && -s $dir/mntns ]] || return 1
	pid=$(<"$dir/holder.pid")
	[[ $(readlink "/proc/$pid/ns/mnt" 2>/dev/null) == "$(<"$dir/mntns")" ]] || return 1
	printf '%s' "$pid"
}

# Inside the new namespace (hidden subcommand __ns-up DIR).
cmd_ns_up() {
	local dir=$1 d m rel
	local -a subs
	mkdir -p "$dir/stash"
	for d in "${OVERLAID[@]}"; do
		mkdir -p "$dir/upper$d" "$dir/work$d" "$dir/stash$d"
		# The mounts below d (a container's /etc/resolv.conf, a separate /var/lib/docker...): an
		# overlay shows d's own file system only, so they are mounted again on top of it.
		mapfile -t subs < <(findmnt -rn -o TARGET | awk -v p="$d/" 'index($0, p) == 1' | sort)
		mount --rbind "$d" "$dir/stash$d"
		mount -t overlay overlay -o "lowerdir=$d,upperdir=$dir/upper$d,workdir=$dir/work$d" "$d"
		local last=
		for m in "${subs[@]}"; do
			# findmnt escapes blanks as \x20; only the top mount of a nested stack is re-bound.
			m=$(printf '%b' "$m")
			[[ -n $last && $m == "$last"/* ]] && continue
			last=$m
			rel=${m#/}
			mount --rbind "$dir/stash/$rel" "$m"
		done
	done
	for m in "${SHARED[@]}"; do
		[[ -d $dir/stash$m ]] && mount --rbind "$dir/stash$m" "$m"
	done
	for d in "${OVERLAID[@]}"; do umount -R -l "$dir/stash$d"; done
	# No systemd in here: install.sh takes the cron path, deb-systemd-invoke does nothing.
	if [[ -d /run/systemd ]]; then mount -t tmpfs -o mode=0755,size=1m tmpfs /run/systemd; fi
	readlink /proc/self/ns/mnt >"$dir/mntns"
	echo "$$" >"$dir/holder.pid"
	exec sleep infinity
}

cmd_up() {
	need_dir "$@"
	local dir=$1 d i pid
	for d in "${OVERLAID[@]}"; do
		[[ $dir != "$d"/* ]] || die "DIR must not lie under $d: $dir"
	done
	[[ $(stat -f -c %T "$(dirname "$dir")") != overlayfs ]] || die "DIR must not be on an overlay file system: $dir"
	holder_pid "$dir" >/dev/null && die "a sandbox is already up in $dir"
	mkdir -p "$dir"
	rm -f "$dir/holder.pid" "$dir/mntns"
	setsid nohup unshare --mount --propagation private -- bash "$SELF" __ns-up "$dir" </dev/null >>"$dir/sandbox.log" 2>&1 &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		holder_pid "$dir" >/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || die "could not set up the namespace: $(tail -n 3 "$dir/sandbox.log" | tr '\n' ' ')"
		sleep 0.05
	done
	die "the namespace did not come up within 10 s; see $dir/sandbox.log"
}

cmd_exec() {
	need_dir "$@"
	local dir=$1 pid
	shift
	[[ $# -gt 0 ]] || die "exec: missing command"
	pid=$(holder_pid "$dir") || die "no sandbox is up in $dir"
	# shellcheck disable=SC2016 # expanded by the inner bash
	exec nsenter --mount="/proc/$pid/ns/mnt" -- bash -c 'cd "$1" && shift && exec "$@"' sandbox "$PWD" "$@"
}

cmd_down() {
	need_dir "$@"
	local dir=$1 pid i
	[[ -d $dir ]] || return 0
	if pid=$(holder_pid "$dir"); then
		kill "$pid"
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
	fi
	rm -rf "$dir"
}

[[ $# -ge 1 ]] || die "usage: sandbox.sh up|exec|down DIR [CMD...]"
cmd=$1
shift
case $cmd in
up) cmd_up "$@" ;;
exec) cmd_exec "$@" ;;
down) cmd_down "$@" ;;
__ns-up) cmd_ns_up "$@" ;;
*) die "unknown command $cmd" ;;
esac
