#!/usr/bin/env bash
# Throwaway Debian 12 systems for the host tests and for CI's README proof: Debian 12's own systemd
# booted as PID 1 of new PID, mount, UTS, IPC, cgroup (and network) namespaces, on an overlay whose
# lower layer is a cached `debootstrap --variant=minbase bookworm` root and whose upper layer is
# new for every boot, so each boot is a fresh machine. Nothing here touches the machine's own
# systemd, libvirt, mounts or cgroups: every mount lives in the system's private mount namespace,
# every process in its PID namespace and below a cgroup made for it (a child of the caller's own
# cgroup in each hierarchy, so this also works inside such a system, nested).
#
# Usage (root):
#   system.sh check                      is this machine able to? (one line on why not, exit 3)
#   system.sh root                       build the root once (cached, keyed by its recipe), print its path
#   system.sh packages SET...            download each SET ("PKG PKG...", one apt-get install each,
#                                        so that sets may hold alternatives) with what it depends on,
#                                        for offline installs (`apt-get install --no-download`): a
#                                        layer above the root, cached, keyed by root and sets; prints
#                                        its path
#   system.sh boot NAME [OPTION]...      boot a fresh system; waits until it is up
#       --init systemd|none              PID 1: Debian's systemd (default), or a bare reaper, for a
#                                        system where systemd does not run (the cron path)
#       --net none|host                  own network namespace with only lo (default), or this
#                                        machine's network: then the system gets this machine's
#                                        /etc/resolv.conf, its extra CA certificates
#                                        (/usr/local/share/ca-certificates) and CA environment
#                                        variables, as any container runtime passes them, nothing else
#       --packages DIR                   a layer made by `packages` (its lists and .debs)
#       --ro-bind SRC DEST               SRC of the caller's, read-only at DEST inside
#       --bind SRC DEST                  SRC of the caller's, writable at DEST inside
#   system.sh exec NAME CMD [ARG]...     run CMD inside as root (stdin, stdout, exit status passed)
#   system.sh down NAME                  power off (SIGKILL after 30 s), remove its cgroups and files,
#                                        then verify that no process, mount or cgroup of it is left
#   system.sh console NAME               print what its PID 1 wrote to /dev/console
#   system.sh leftovers                  verify no system of this script is left (exit 4 if one is)
#
# Environment: NOVA_IPMETA_HOST_DIR (default /var/tmp/nova-ipmeta-host): the systems' upper
# layers; must not be on an overlay. NOVA_IPMETA_HOST_CACHE (default /var/tmp): where the root and
# package layers are cached (nova-ipmeta-host-root-HASH, nova-ipmeta-host-pkgs-HASH).
# NOVA_IPMETA_DEBIAN_MIRROR (default http://deb.debian.org/debian).
#
# Exit status: 0 done; 1 a step failed (the message says which); 2 usage; 3 this machine cannot
# (not root, no CAP_SYS_ADMIN, cgroups not as expected, no debootstrap and none installable, no
# Debian mirror); 4 something was left behind (a process, mount or cgroup: named on stderr).
# For `exec`, the command's own exit status.
set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
RUN=${NOVA_IPMETA_HOST_DIR:-/var/tmp/nova-ipmeta-host}
CACHE=${NOVA_IPMETA_HOST_CACHE:-/var/tmp}
MIRROR=${NOVA_IPMETA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
CG_LEAF=nova-ipmeta-exec # the cgroup below a system's own where `exec` puts commands
BOOT_TIMEOUT=60
PATH_INSIDE=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# The CA variables this machine's network needs, passed with --net host (their values name files
# that the system's own ca-certificates makes: /etc/ssl/certs/...).
CA_VARS=(NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE REQUESTS_CA_BUNDLE GIT_SSL_CAINFO PIP_CERT)

die() { # CODE MESSAGE
	local code=$1
	shift
	printf 'system.sh: %s\n' "$*" >&2
	exit "$code"
}
say() { printf 'system.sh: %s\n' "$*" >&2; }

need_name() {
	[[ $# -ge 1 && $1 =~ ^[a-z0-9][a-z0-9-]{0,30}$ ]] || die 2 "NAME must be 1-31 of a-z, 0-9, - (got '${1-}')"
}

# ------------------------------------------------------------------------------------ the machine

# check: root, CAP_SYS_ADMIN, and cgroups mounted as this script knows them (v1 hierarchies and/or
# cgroup2, under /sys/fs/cgroup). Exit 3 with one line otherwise.
cmd_check() {
	[[ $(id -u) == 0 ]] || die 3 "not root: booting a system needs root"
	local capeff
	capeff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
	# CAP_SYS_ADMIN is bit 21.
	(((16#$capeff >> 21) & 1)) || die 3 "no CAP_SYS_ADMIN (CapEff $capeff): mounts and namespaces are not allowed here"
	local h mnt own
	h=$(hierarchies)
	[[ -n $h ]] || die 3 "cgroups not as expected: no cgroup or cgroup2 file system mounted under /sys/fs/cgroup"
	while IFS=$'\t' read -r mnt _ _ own; do
		[[ -d $own && -w $own/cgroup.procs ]] || die 3 "cgroups not as expected: $own (this process's cgroup in $mnt) is not a writable cgroup"
	done <<<"$h"
	command -v unshare >/dev/null && command -v nsenter >/dev/null ||
		die 3 "unshare and nsenter (util-linux) are missing"
	[[ $(stat -f -c %T "$(existing_parent "$RUN")") != overlayfs ]] ||
		die 3 "$RUN is on an overlay file system (set NOVA_IPMETA_HOST_DIR to a directory on a disk or tmpfs)"
}

existing_parent() {
	local d=$1
	while [[ ! -d $d ]]; do d=$(dirname "$d"); done
	printf '%s\n' "$d"
}

# hierarchies: one line per cgroup hierarchy mounted under /sys/fs/cgroup, "MOUNTPOINT<TAB>KEY<TAB>
# OPTIONS<TAB>DIR", where KEY is what /proc/self/cgroup names it by (v1: its controllers or
# name=X; cgroup2: -), OPTIONS what mounts it again inside, DIR this process's own cgroup there.
hierarchies() {
	local id ctl path
	declare -A own=()
	while IFS=: read -r id ctl path; do own["${ctl:--}"]=$path; done </proc/self/cgroup
	# mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - FSTYPE SOURCE SUPEROPTS
	local line root mnt rest fstype super key opts
	while read -r line; do
		read -r _ _ _ root mnt _ <<<"$line"
		rest=${line#* - }
		read -r fstype _ super <<<"$rest"
		[[ $mnt == /sys/fs/cgroup/* ]] || continue
		case $fstype in
		cgroup)
			# The controllers (and name=) among the super options, in the kernel's order.
			key=
			local part
			local -a parts
			IFS=, read -ra parts <<<"$super"
			for part in "${parts[@]}"; do
				case $part in
				rw | ro | relatime | noatime | nosuid | nodev | noexec | xattr | clone_children | cpuset_v2_mode | noprefix | release_agent=* | nsdelegate) ;;
				*) key+=${key:+,}$part ;;
				esac
			done
			opts=$key
			;;
		cgroup2)
			key=-
			opts=-
			;;
		*) continue ;;
		esac
		[[ -v own["$key"] ]] || continue
		local p=${own["$key"]}
		# The hierarchy's directory for our cgroup: the mount shows ROOT at MOUNTPOINT.
		[[ $root == / ]] || p=${p#"$root"}
		[[ $p == /* || -z $p ]] || p=/$p
		printf '%s\t%s\t%s\t%s\n' "$mnt" "$key" "$opts" "$mnt${p%/}"
	done </proc/self/mountinfo
}

# ------------------------------------------------------------------------------------------ roots

# The root's recipe: what goes in, and the function that makes it a bootable fresh machine. Its
# hash names the cached root, so any change to either builds a new one.
ROOT_INCLUDE=systemd,systemd-sysv,dbus
# Units of the root that make no sense in a container, masked (a mask of a unit a later package
# brings, such as man-db.timer, would make its postinst fail to preset it).
ROOT_MASK=(console-getty.service getty@.service getty-static.service serial-getty@.service systemd-timesyncd.service
	systemd-pstore.service apt-daily.timer apt-daily-upgrade.timer fstrim.timer e2scrub_all.timer
	e2scrub_reap.service systemd-firstboot.service)

customize_root() { # DIR
	local dir=$1 unit
	# A Debian 12 machine's sources, as its installer writes them.
	cat >"$dir/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb ${MIRROR%/debian}/debian-security $SUITE-security main
EOF
	for unit in "${ROOT_MASK[@]}"; do ln -sf /dev/null "$dir/etc/systemd/system/$unit"; done
	# Each boot gets its own machine id and hostname; the network configuration is the boot's too.
	: >"$dir/etc/machine-id"
	rm -f "$dir/etc/resolv.conf" "$dir/etc/hostname" "$dir/var/lib/dbus/machine-id"
	# No package lists and no .debs: a fresh machine's first apt-get install needs an update.
	rm -rf "$dir/var/cache/apt/archives"/*.deb "$dir/var/cache/apt"/*.bin
	find "$dir/var/lib/apt/lists" -maxdepth 1 -type f -delete
	printf 'root filesystem made by nova-ipmeta test/support/host/system.sh: %s\n' "$(recipe_hash)" >"$dir/etc/nova-ipmeta-host-root"
}

recipe_hash() {
	{
		printf '%s\n' "$SUITE" "$MIRROR" minbase "$ROOT_INCLUDE" "${ROOT_MASK[@]}"
		declare -f customize_root
	} | sha256sum | cut -c1-16
}

root_path() { printf '%s/nova-ipmeta-host-root-%s\n' "$CACHE" "$(recipe_hash)"; }

ensure_debootstrap() {
	command -v debootstrap >/dev/null && return 0
	say "installing debootstrap (apt-get install debootstrap)"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get -o DPkg::Lock::Timeout=300 install -y -q debootstrap >&2; then
		apt-get -o DPkg::Lock::Timeout=300 update -q >&2 || true
		apt-get -o DPkg::Lock::Timeout=300 install -y -q debootstrap >&2 ||
			die 3 "no debootstrap, and apt-get could not install it"
	fi
	command -v debootstrap >/dev/null || die 3 "no debootstrap, and apt-get could not install it"
}

check_mirror() {
	local release="$MIRROR/dists/$SUITE/Release" out
	# apt's own downloader, as debootstrap will use wget or apt's: a clear reason now rather than
	# debootstrap's later.
	if command -v wget >/dev/null; then
		out=$(wget -q -T 20 -t 2 -O /dev/null "$release" 2>&1) || die 3 "no Debian mirror: $release: ${out:-wget failed}"
	elif [[ -x /usr/lib/apt/apt-helper ]]; then
		local tmp
		tmp=$(mktemp)
		out=$(/usr/lib/apt/apt-helper -o Acquire::http::Timeout=20 download-file "$release" "$tmp" 2>&1) ||
			{ rm -f "$tmp"; die 3 "no Debian mirror: $release: $(tail -n 1 <<<"$out")"; }
		rm -f "$tmp"
	fi
}

# Removes cached roots and layers of other recipes that no mount uses.
prune_cache() {
	local d keep=$1
	for d in "$CACHE"/nova-ipmeta-host-root-* "$CACHE"/nova-ipmeta-host-pkgs-*; do
		[[ -d $d && $d != "$keep"* && $d != *.tmp.* ]] || continue
		[[ $(basename "$d") == nova-ipmeta-host-pkgs-"$(recipe_hash)"-* ]] && continue
		if grep -qsF -- "$d" /proc/[0-9]*/mountinfo; then continue; fi
		say "removing the cached $d (another recipe)"
		rm -rf --one-file-system -- "$d"
	done
}

cmd_root() {
	local final tmp t0
	final=$(root_path)
	if [[ -f $final/etc/nova-ipmeta-host-root ]]; then
		printf '%s\n' "$final"
		return 0
	fi
	cmd_check
	mkdir -p "$CACHE"
	exec {lockfd}>"$CACHE/nova-ipmeta-host-root.lock"
	flock "$lockfd"
	if [[ -f $final/etc/nova-ipmeta-host-root ]]; then
		printf '%s\n' "$final"
		return 0
	fi
	ensure_debootstrap
	check_mirror
	t0=$SECONDS
	tmp=$final.tmp.$$
	rm -rf --one-file-system -- "$tmp"
	say "building $final (debootstrap --variant=minbase --include=$ROOT_INCLUDE $SUITE; about a minute)"
	# In a mount namespace of its own: the /proc and /sys debootstrap mounts in the target go away
	# with it, whatever happens.
	if ! unshare --mount --propagation private -- debootstrap --variant=minbase --include="$ROOT_INCLUDE" \
		"$SUITE" "$tmp" "$MIRROR" >"$CACHE/nova-ipmeta-host-root.log" 2>&1; then
		rm -rf --one-file-system -- "$tmp"
		die 1 "debootstrap failed: $(grep -E '^(E|W):' "$CACHE/nova-ipmeta-host-root.log" | tail -n 2 | tr '\n' ' ')(log: $CACHE/nova-ipmeta-host-root.log)"
	fi
	customize_root "$tmp"
	mv -T "$tmp" "$final"
	say "root built in $((SECONDS - t0)) s: $final"
	prune_cache "$final"
	printf '%s\n' "$final"
}

# packages SET...: a layer with apt's lists and the .debs of each set's packages and everything
# they depend on that the root lacks, made by apt-get in a throwaway container of the root with this machine's
# network (DNS only, from /etc/resolv.conf; Debian's mirror is plain HTTP).
cmd_packages() {
	[[ $# -gt 0 ]] || die 2 "packages: name at least one set of packages"
	local root key final tmp
	root=$(cmd_root)
	key=$(printf '%s\n' "$@" | sha256sum | cut -c1-12)
	final=$CACHE/nova-ipmeta-host-pkgs-$(recipe_hash)-$key
	if [[ -f $final/.complete ]]; then
		printf '%s\n' "$final"
		return 0
	fi
	exec {lockfd}>"$CACHE/nova-ipmeta-host-root.lock"
	flock "$lockfd"
	if [[ -f $final/.complete ]]; then
		printf '%s\n' "$final"
		return 0
	fi
	tmp=$final.tmp.$$
	rm -rf --one-file-system -- "$tmp"
	mkdir -p "$tmp/upper" "$tmp/work" "$tmp/merged"
	say "downloading $* and their dependencies into $final"
	if ! unshare --mount --pid --fork --kill-child --propagation private -- bash "$SELF" __download "$root" "$tmp" "$@" \
		>"$tmp.log" 2>&1; then
		local why
		why=$(grep -E '^(E|W|Err):' "$tmp.log" | tail -n 2 | tr '\n' ' ')
		rm -rf --one-file-system -- "$tmp"
		die 1 "apt-get could not download $*: ${why:-see $tmp.log}"
	fi
	rm -f "$tmp.log"
	# The layer: what apt wrote (lists, .debs), without the borrowed resolv.conf.
	rm -rf "$tmp/work" "$tmp/merged" "$tmp/upper/etc/resolv.conf" "$tmp/upper/var/cache/apt/archives/partial" \
		"$tmp/upper/var/lib/apt/lists/partial" "$tmp/upper/var/cache/apt/archives/lock" "$tmp/upper/var/lib/apt/lists/lock"
	mv -T "$tmp/upper" "$final"
	rmdir "$tmp"
	touch "$final/.complete"
	printf '%s\n' "$final"
}

# Inside `unshare --mount --pid --fork`: the root with an upper layer, apt-get in a chroot.
cmd___download() {
	local root=$1 tmp=$2 m
	shift 2
	m=$tmp/merged
	mount -t overlay overlay -o "lowerdir=$root,upperdir=$tmp/upper,workdir=$tmp/work" "$m"
	mount -t proc proc "$m/proc"
	mount -t tmpfs tmpfs "$m/tmp"
	cp /etc/resolv.conf "$m/etc/resolv.conf"
	local -a apt=(chroot "$m" env -i PATH="$PATH_INSIDE" DEBIAN_FRONTEND=noninteractive apt-get -q -y -o APT::Sandbox::User=root)
	"${apt[@]}" update
	local set
	local -a pkgs
	for set in "$@"; do
		read -ra pkgs <<<"$set"
		"${apt[@]}" install --download-only --no-install-recommends "${pkgs[@]}"
	done
}

# --------------------------------------------------------------------------------------- systems

sys_dir() { printf '%s/%s\n' "$RUN" "$1"; }

# pid1 NAME: the system's PID 1 (as this machine sees it) when it is alive and still the one booted.
pid1() {
	local dir pid
	dir=$(sys_dir "$1")
	[[ -s $dir/pid1 && -s $dir/pidns ]] || return 1
	pid=$(<"$dir/pid1")
	[[ $(readlink "/proc/$pid/ns/pid" 2>/dev/null) == "$(<"$dir/pidns")" ]] || return 1
	printf '%s\n' "$pid"
}

cmd_boot() {
	need_name "$@"
	local name=$1 init=systemd net=none packages='' dir root
	shift
	local -a binds=()
	while [[ $# -gt 0 ]]; do
		case $1 in
		--init)
			[[ ${2-} == systemd || ${2-} == none ]] || die 2 "--init systemd|none"
			init=$2
			shift 2
			;;
		--net)
			[[ ${2-} == none || ${2-} == host ]] || die 2 "--net none|host"
			net=$2
			shift 2
			;;
		--packages)
			[[ -f ${2-}/.complete ]] || die 2 "--packages: not a layer made by 'system.sh packages': ${2-}"
			packages=$2
			shift 2
			;;
		--ro-bind | --bind)
			[[ $# -ge 3 && $2 == /* && $3 == /* && -e $2 ]] || die 2 "$1 SRC DEST: absolute paths, SRC existing"
			binds+=("$1" "$2" "$3")
			shift 3
			;;
		*) die 2 "boot: unknown option $1" ;;
		esac
	done
	cmd_check
	root=$(cmd_root)
	dir=$(sys_dir "$name")
	if pid1 "$name" >/dev/null; then die 1 "$name is already up"; fi
	[[ ! -e $dir ]] || cmd_down "$name" >/dev/null 2>&1 || die 1 "$dir is left from an earlier boot and cannot be removed"
	mkdir -p "$dir/upper" "$dir/work" "$dir/merged"
	: >"$dir/console.log"

	# The fresh machine's own identity, and (with --net host) this machine's network settings.
	mkdir -p "$dir/upper/etc"
	od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$dir/upper/etc/machine-id"
	echo >>"$dir/upper/etc/machine-id"
	printf '%s\n' "$name" >"$dir/upper/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$name" >"$dir/upper/etc/hosts"
	local -a env=(PATH="$PATH_INSIDE" HOME=/root USER=root LOGNAME=root SHELL=/bin/bash LANG=C.UTF-8 TERM=dumb)
	if [[ $net == host ]]; then
		cp /etc/resolv.conf "$dir/upper/etc/resolv.conf"
		local crt v
		for crt in /usr/local/share/ca-certificates/*.crt; do
			[[ -f $crt ]] || continue
			mkdir -p "$dir/upper/usr/local/share/ca-certificates"
			cp "$crt" "$dir/upper/usr/local/share/ca-certificates/"
		done
		for v in "${CA_VARS[@]}"; do
			[[ -n ${!v-} ]] && env+=("$v=${!v}")
		done
	else
		printf '# no network: this system has only lo\n' >"$dir/upper/etc/resolv.conf"
	fi
	printf '%s\0' "${env[@]}" >"$dir/env"

	# Its cgroups: a child of ours in each hierarchy (cpuset needs its cpus and mems first).
	local mnt key opts own cg
	: >"$dir/cgroups"
	while IFS=$'\t' read -r mnt key opts own; do
		cg=$own/nova-ipmeta-host-$name
		[[ ! -d $cg ]] || rmdir "$cg" 2>/dev/null || die 1 "cgroup $cg exists and is not empty: an earlier system of this name is still running"
		mkdir "$cg" || die 3 "cgroups not as expected: cannot create $cg"
		if [[ -f $cg/cpuset.cpus && -z $(<"$cg/cpuset.cpus") ]]; then
			cat "$own/cpuset.cpus" >"$cg/cpuset.cpus"
			cat "$own/cpuset.mems" >"$cg/cpuset.mems"
		fi
		printf '%s\t%s\t%s\t%s\n' "$mnt" "$key" "$opts" "$cg" >>"$dir/cgroups"
	done < <(hierarchies)

	local lower=$root
	[[ -z $packages ]] || lower=$packages:$root
	local -a ns=(--pid --fork --kill-child --mount --uts --ipc --cgroup --propagation private)
	[[ $net == host ]] || ns+=(--net)
	printf '%s\n' "$init" >"$dir/init"
	# The launcher moves itself into the new cgroups, then becomes unshare; its child is PID 1.
	(
		while IFS=$'\t' read -r _ _ _ cg; do echo "$BASHPID" >"$cg/cgroup.procs"; done <"$dir/cgroups"
		exec setsid unshare "${ns[@]}" -- bash "$SELF" __init "$dir" "$lower" "$init" "$net" "${binds[@]}"
	) </dev/null >>"$dir/boot.log" 2>&1 &
	local launcher=$! i
	echo "$launcher" >"$dir/launcher"
	# PID 1 writes its PID (as we see it: the first process of the new cgroup that is not the launcher).
	for ((i = 0; i < BOOT_TIMEOUT * 10; i++)); do
		if [[ -s $dir/ready ]]; then break; fi
		if ! kill -0 "$launcher" 2>/dev/null; then
			boot_failed "$name did not boot: $(tail -n 5 "$dir/boot.log" | tr '\n' ' ')"
		fi
		sleep 0.1
	done
	[[ -s $dir/ready ]] || boot_failed "$name: PID 1 did not start within ${BOOT_TIMEOUT}s: $(tail -n 5 "$dir/boot.log" | tr '\n' ' ')"
	local pid
	pid=$(find_pid1 "$dir") || boot_failed "$name: cannot find its PID 1"
	echo "$pid" >"$dir/pid1"
	readlink "/proc/$pid/ns/pid" >"$dir/pidns"
	readlink "/proc/$pid/ns/mnt" >"$dir/mntns"
	if [[ $init == systemd ]]; then
		local state
		for ((i = 0; i < BOOT_TIMEOUT * 10; i++)); do
			state=$(cmd_exec "$name" systemctl is-system-running 2>/dev/null) || true
			[[ $state == running || $state == degraded ]] && break
			pid1 "$name" >/dev/null || boot_failed "$name: systemd exited while booting; console: $(tail -n 5 "$dir/console.log" | tr '\n' ' ')"
			sleep 0.1
		done
		[[ $state == running || $state == degraded ]] || boot_failed "$name: systemd is '$state' after ${BOOT_TIMEOUT}s"
		if [[ $state == degraded ]]; then
			say "$name: degraded at boot: $( (cmd_exec "$name" systemctl --failed --no-legend --plain) | tr '\n' ' ')"
		fi
	fi
	printf '%s\n' "$pid"
}

# boot_failed MESSAGE: takes down what the boot started, then says why it failed.
boot_failed() {
	cmd_down "$name" >&2 || true
	die 1 "$*"
}

# find_pid1 DIR: the launcher's child (unshare --fork's), that is PID 1 of the new namespace.
find_pid1() {
	local launcher children
	launcher=$(<"$1/launcher")
	children=$(cat "/proc/$launcher/task/$launcher/children" 2>/dev/null) || return 1
	[[ $children =~ ^[0-9]+$ ]] || children=${children%% *}
	[[ -n $children ]] || return 1
	printf '%s\n' "$children"
}

# PID 1 of the new namespaces, before it becomes the init: mounts, pivot_root, exec.
# Hidden: __init DIR LOWER INIT NET [--ro-bind|--bind SRC DEST]...
cmd___init() {
	local dir=$1 lower=$2 init=$3 net=$4 m
	shift 4
	m=$dir/merged
	mount -t overlay overlay -o "lowerdir=$lower,upperdir=$dir/upper,workdir=$dir/work" "$m"
	# /proc, with /proc/sys read-only but for the network's own (when the namespace is its own).
	mount -t proc -o nosuid,nodev,noexec proc "$m/proc"
	mount --bind "$m/proc/sys" "$m/proc/sys"
	[[ $net == host ]] || mount --bind "$m/proc/sys/net" "$m/proc/sys/net"
	mount -o remount,bind,ro "$m/proc/sys"
	if [[ -e $m/proc/sysrq-trigger ]]; then mount --bind -o ro "$m/proc/sysrq-trigger" "$m/proc/sysrq-trigger"; fi
	mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$m/sys"
	# /sys/fs/cgroup: each hierarchy again, rooted (by the cgroup namespace) at the system's own.
	mount -t tmpfs -o mode=0755,nosuid,nodev,noexec tmpfs "$m/sys/fs/cgroup"
	local mnt key opts cg sub
	while IFS=$'\t' read -r mnt key opts cg; do
		sub=$m/sys/fs/cgroup/${mnt#/sys/fs/cgroup/}
		mkdir -p "$sub"
		if [[ $key == - ]]; then
			mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$sub"
		else
			mount -t cgroup -o "nosuid,nodev,noexec,$opts" cgroup "$sub"
		fi
	done <"$dir/cgroups"
	# Where v1 joins controllers (cpu,cpuacct), the usual links.
	for sub in "$m"/sys/fs/cgroup/*,*; do
		[[ -d $sub ]] || continue
		local c
		for c in $(tr ',' ' ' <<<"${sub##*/}"); do [[ -e $m/sys/fs/cgroup/$c ]] || ln -s "${sub##*/}" "$m/sys/fs/cgroup/$c"; done
	done
	mount -o remount,ro,bind "$m/sys/fs/cgroup"
	# /dev: a few devices, its own ptys, shm and mqueue; the console is a file.
	mount -t tmpfs -o mode=0755,nosuid,size=4m tmpfs "$m/dev"
	local d
	for d in null zero full random urandom tty; do
		touch "$m/dev/$d"
		mount --bind "/dev/$d" "$m/dev/$d"
	done
	mkdir -p "$m/dev/net" "$m/dev/pts" "$m/dev/shm" "$m/dev/mqueue"
	if [[ -c /dev/net/tun ]]; then
		touch "$m/dev/net/tun"
		mount --bind /dev/net/tun "$m/dev/net/tun"
	fi
	mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5,nosuid,noexec devpts "$m/dev/pts"
	ln -s pts/ptmx "$m/dev/ptmx"
	mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$m/dev/shm"
	mount -t mqueue -o nosuid,nodev,noexec mqueue "$m/dev/mqueue"
	ln -s /proc/self/fd "$m/dev/fd"
	ln -s /proc/self/fd/0 "$m/dev/stdin"
	ln -s /proc/self/fd/1 "$m/dev/stdout"
	ln -s /proc/self/fd/2 "$m/dev/stderr"
	touch "$m/dev/console"
	mount --bind "$dir/console.log" "$m/dev/console"
	mount -t tmpfs -o mode=0755,nosuid,nodev,size=20% tmpfs "$m/run"
	mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$m/tmp"
	while [[ $# -ge 3 ]]; do
		local flag=$1 src=$2 dest=$m$3
		shift 3
		if [[ -d $src ]]; then mkdir -p "$dest"; else
			mkdir -p "$(dirname "$dest")"
			touch "$dest"
		fi
		mount --rbind "$src" "$dest"
		[[ $flag != --ro-bind ]] || mount -o remount,bind,ro "$dest"
	done
	echo up >"$dir/ready"
	mkdir -p "$m/run/oldroot"
	cd "$m"
	pivot_root . run/oldroot
	cd /
	umount -l /run/oldroot
	rmdir /run/oldroot
	# Kept from the bounding set: what systemd, libvirt and QEMU need; dropped: what no test needs.
	local -a drop=(-sys_module,-sys_rawio,-sys_time,-sys_boot,-wake_alarm,-block_suspend,-syslog,-mac_admin,-mac_override)
	if [[ $init == systemd ]]; then
		exec setpriv --bounding-set "${drop[*]}" env -i container=nova-ipmeta-host /lib/systemd/systemd --system
	fi
	# No systemd: what a sysvinit boot gives every daemon (/run/lock), then a reaper of orphans.
	mkdir -p -m 1777 /run/lock
	# shellcheck disable=SC2016 # Perl
	exec setpriv --bounding-set "${drop[*]}" env -i container=nova-ipmeta-host PATH="$PATH_INSIDE" \
		perl -e '$0 = "init"; $SIG{TERM} = sub { exit 0 }; while (1) { sleep 1 if waitpid(-1, 0) <= 0 }'
}

cmd_exec() {
	need_name "$@"
	local name=$1 dir pid
	shift
	[[ $# -gt 0 ]] || die 2 "exec: missing command"
	dir=$(sys_dir "$name")
	pid=$(pid1 "$name") || die 1 "$name is not up"
	local -a env
	mapfile -d '' -t env <"$dir/env"
	# Into the system's cgroups (so that what runs there is inside its tree, for nesting), then
	# into its namespaces, root and working directory.
	local cg
	while IFS=$'\t' read -r _ _ _ cg; do
		if [[ ! -d $cg/$CG_LEAF ]]; then
			mkdir -p "$cg/$CG_LEAF"
			if [[ -f $cg/cpuset.cpus ]] && [[ -z $(<"$cg/$CG_LEAF/cpuset.cpus") ]]; then
				cat "$cg/cpuset.cpus" >"$cg/$CG_LEAF/cpuset.cpus"
				cat "$cg/cpuset.mems" >"$cg/$CG_LEAF/cpuset.mems"
			fi
		fi
		echo "$BASHPID" >"$cg/$CG_LEAF/cgroup.procs"
	done <"$dir/cgroups"
	exec nsenter --target "$pid" --mount --uts --ipc --net --pid --cgroup --root --wd -- env -i "${env[@]}" "$@"
}

cmd_console() {
	need_name "$@"
	cat "$(sys_dir "$1")/console.log"
}

# Every process whose PID namespace is NS (a readlink of /proc/PID/ns/pid).
procs_in_ns() {
	local ns=$1 d
	for d in /proc/[0-9]*; do
		[[ $(readlink "$d/ns/pid" 2>/dev/null) == "$ns" ]] && printf '%s\n' "${d#/proc/}"
	done
	return 0
}

# The cgroup directories of a system, deepest first.
cgroup_dirs() {
	local dir=$1 cg
	[[ -f $dir/cgroups ]] || return 0
	while IFS=$'\t' read -r _ _ _ cg; do
		[[ -d $cg ]] && find "$cg" -depth -type d
	done <"$dir/cgroups"
	return 0
}

cmd_down() {
	need_name "$@"
	local name=$1 dir pid i init ns=''
	dir=$(sys_dir "$name")
	[[ -d $dir ]] || return 0
	init=$(cat "$dir/init" 2>/dev/null || echo systemd)
	[[ -s $dir/pidns ]] && ns=$(<"$dir/pidns")
	if pid=$(pid1 "$name"); then
		if [[ $init == systemd ]]; then
			(cmd_exec "$name" systemctl --no-block poweroff) >/dev/null 2>&1 || true
			for ((i = 0; i < 300; i++)); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
		fi
		if kill -0 "$pid" 2>/dev/null; then
			[[ $init != systemd ]] || say "$name: still up 30 s after poweroff: SIGKILL to its PID 1"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	# SIGKILL to PID 1 ends every process of its namespace; wait until the last is gone.
	if [[ -n $ns ]]; then
		for ((i = 0; i < 100; i++)); do
			[[ -z $(procs_in_ns "$ns") ]] && break
			sleep 0.1
		done
	fi
	if [[ -s $dir/launcher ]]; then
		local l
		l=$(<"$dir/launcher")
		for ((i = 0; i < 50; i++)); do
			[[ $(readlink "/proc/$l/cwd" 2>/dev/null) ]] || break
			grep -q 'unshare' "/proc/$l/cmdline" 2>/dev/null || break
			sleep 0.1
		done
	fi
	# Its cgroups, deepest first. One can stay busy a moment after its last process is gone from the
	# PID namespace: an `exec`'s nsenter, outside that namespace, ends only after its child, and with
	# cgroup v1 hierarchies a killed process can still hold its cgroup briefly. Try again for up to
	# 10 s; what is still there after that is left behind.
	local d busy
	for ((i = 0; i < 100; i++)); do
		busy=0
		while read -r d; do rmdir "$d" 2>/dev/null || busy=1; done < <(cgroup_dirs "$dir")
		((busy)) || break
		sleep 0.1
	done
	verify_gone "$name" || return 4
	rm -rf --one-file-system -- "$dir"
	[[ -e $dir ]] && die 4 "$name: $dir could not be removed (a mount left in it?)"
	return 0
}

# verify_gone NAME: no process in its PID namespace, no cgroup, no mount of its directory anywhere.
verify_gone() {
	local name=$1 dir ns left=() p d
	dir=$(sys_dir "$name")
	if [[ -s $dir/pidns ]]; then
		ns=$(<"$dir/pidns")
		while read -r p; do [[ -n $p ]] && left+=("process $p ($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-80))"); done < <(procs_in_ns "$ns")
	fi
	while read -r d; do [[ -n $d ]] && left+=("cgroup $d"); done < <(cgroup_dirs "$dir")
	# Mounts of its directory in any mount namespace on this machine.
	local f
	for f in /proc/[0-9]*/mountinfo; do
		if grep -qsF -- " $dir/" "$f"; then
			left+=("a mount of $dir in the mount namespace of pid $(basename "$(dirname "$f")")")
			break
		fi
	done
	if [[ ${#left[@]} -gt 0 ]]; then
		local x
		for x in "${left[@]}"; do printf 'system.sh: %s: left behind: %s\n' "$name" "$x" >&2; done
		return 1
	fi
}

cmd_leftovers() {
	local d name rc=0
	for d in "$RUN"/*/; do
		[[ -d $d ]] || continue
		name=$(basename "$d")
		if pid1 "$name" >/dev/null; then
			say "left behind: system $name is still up"
			rc=4
		elif ! verify_gone "$name"; then
			rc=4
		fi
	done
	# Cgroups of ours with no directory to name them.
	local mnt own
	while IFS=$'\t' read -r mnt _ _ own; do
		for d in "$own"/nova-ipmeta-host-*/; do
			[[ -d $d ]] || continue
			say "left behind: cgroup ${d%/}"
			rc=4
		done
	done < <(hierarchies)
	return "$rc"
}

[[ $# -ge 1 ]] || die 2 "usage: system.sh check|root|packages|boot|exec|down|console|leftovers ... (see the top of $0)"
command=$1
shift
case $command in
check) cmd_check ;;
root) cmd_root ;;
packages) cmd_packages "$@" ;;
boot) cmd_boot "$@" ;;
exec) cmd_exec "$@" ;;
down) cmd_down "$@" ;;
console) cmd_console "$@" ;;
leftovers) cmd_leftovers ;;
__init) cmd___init "$@" ;;
__download) cmd___download "$@" ;;
*) die 2 "unknown command $command" ;;
esac
