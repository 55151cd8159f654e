#!/usr/bin/env bash
# Installs nova-ipmeta on a libvirt compute host, or into DESTDIR for a package. Run as root:
#   sudo ./install.sh [--restart-libvirtd]      sudo ./install.sh --uninstall [--purge]
# Everything else: ./install.sh --help.
set -eu

usage() {
	cat <<'EOF'
Usage: sudo ./install.sh [OPTION]...
Installs nova-ipmeta from this checkout (it builds nothing: run `npm ci && npm run build` first).

  --restart-libvirtd    restart libvirtd (or virtqemud) afterwards, so that it runs the hook:
                        libvirt looks for hooks only when it starts. Running guests keep running,
                        and the `reconnect` hook then fills their ports.
  --uninstall           remove what install.sh installed (its manifest says what); the config file
                        stays if it was edited, the state directory and its cache stay
  --purge               with --uninstall: remove the config file and the state directory as well
  --no-hook             install everything but the libvirt hook (see FOREIGN HOOK)
  --hooks-dir DIR       libvirt's hooks directory (default /etc/libvirt/hooks)
  --libvirt-version V   take libvirt to be version V instead of asking libvirtd, virtqemud or virsh
  -h, --help            this text

What goes where (PREFIX=/usr):
  PREFIX/lib/nova-ipmeta/           nova-ipmeta.cjs (the program), hooks/qemu (the hook's source),
                                    nova-ipmeta-setup (hook placement, shared with the .deb),
                                    periodic-reconcile (what the timer or cron runs)
  PREFIX/sbin/nova-ipmeta           the command: runs nova-ipmeta.cjs with the Node found now
  PREFIX/share/man/man8/nova-ipmeta.8.gz
  /etc/nova-ipmeta/nova-ipmeta.conf every key with its default, commented out; kept if present
  /var/lib/nova-ipmeta/             state (0700): network_info/ cache, install-manifest
  /etc/libvirt/hooks/qemu.d/nova-ipmeta   the hook (libvirt >= 6.5); /etc/libvirt/hooks/qemu
                                    on older libvirt, only if absent or already nova-ipmeta's
  where systemd runs: PREFIX/lib/systemd/system/nova-ipmeta-reconcile.{service,timer} (every
                      minute: cache sync from Neutron when credentials are found, then
                      reconcile) and nova-ipmeta-watch.service, enabled and started
  elsewhere:          /etc/cron.d/nova-ipmeta (the same every minute, the watcher kept up;
                      its lines do nothing on a host where systemd runs)
  The periodic reconcile writes node_exporter metrics to
  /var/lib/prometheus/node-exporter/nova-ipmeta.prom when that directory exists (set
  NOVA_IPMETA_TEXTFILE_DIR in the service, empty for none: see PREFIX/lib/nova-ipmeta/periodic-reconcile).

FOREIGN HOOK: a hook that is not nova-ipmeta's (it lacks the line "# managed-by: nova-ipmeta") is
never overwritten: install.sh stops (exit 4) and changes nothing. libvirt >= 6.5 runs every script
in hooks/qemu.d/, so both simply run. On older libvirt only hooks/qemu runs: make yours call ours,
  xml=$(cat); printf '%s\n' "$xml" | /usr/lib/nova-ipmeta/hooks/qemu "$@"
(for the operations migrate and restore, what ours prints, if anything, is the XML libvirt must
use instead), then install with --no-hook.

Environment (for packagers):
  DESTDIR           install the files under DESTDIR only: no hook placed, no state directory, no
                    service enabled, nothing outside DESTDIR touched; root not needed
  PREFIX            default /usr
  SYSTEMD_UNIT_DIR  default PREFIX/lib/systemd/system
  NODE              the node binary the command runs (default: the first Node >= 18.19 of
                    /usr/bin/node, /usr/local/bin/node, PATH)

Exit status: 0 done; 1 a step failed; 2 usage; 3 a prerequisite is missing (root, Node >= 18.19,
the built bundle, a Debian package of nova-ipmeta already installed); 4 a hook that is not
nova-ipmeta's is in the way (nothing changed); 5 installed, but libvirt could not be restarted.
EOF
}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
MARKER='# managed-by: nova-ipmeta'
NODE_MIN=18.19
STATE_DIR=/var/lib/nova-ipmeta
MANIFEST=$STATE_DIR/install-manifest
CONF=/etc/nova-ipmeta/nova-ipmeta.conf
CRON=/etc/cron.d/nova-ipmeta
UNITS=(nova-ipmeta-reconcile.service nova-ipmeta-reconcile.timer nova-ipmeta-watch.service)

die() { # CODE MESSAGE
	local code=$1
	shift
	printf 'install.sh: %s\n' "$*" >&2
	exit "$code"
}
say() { printf '%s\n' "$*"; }

# ------------------------------------------------------------------------------------- arguments

action=install purge=no restart=no hook=yes
setup_args=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--uninstall) action=uninstall ;;
	--purge) purge=yes ;;
	--restart-libvirtd) restart=yes ;;
	--no-hook) hook=no ;;
	--hooks-dir | --libvirt-version)
		[[ $# -ge 2 && -n $2 ]] || die 2 "$1 needs a value"
		setup_args+=("$1" "$2")
		shift
		;;
	--hooks-dir=* | --libvirt-version=*) setup_args+=("${1%%=*}" "${1#*=}") ;;
	-h | --help)
		usage
		exit 0
		;;
	*) die 2 "unknown option $1 (install.sh --help)" ;;
	esac
	shift
done
[[ $purge == no || $action == uninstall ]] || die 2 "--purge goes with --uninstall"

DESTDIR=${DESTDIR-}
PREFIX=${PREFIX:-/usr}
SYSTEMD_UNIT_DIR=${SYSTEMD_UNIT_DIR:-$PREFIX/lib/systemd/system}
# These end up in sed replacements, shell scripts and unit files: plain paths only.
for var in PREFIX SYSTEMD_UNIT_DIR; do
	[[ ${!var} =~ ^/[A-Za-z0-9._+/-]*$ && ${!var} != *//* ]] || die 2 "$var must be an absolute path of letters, digits and ._+-/: ${!var}"
done
for ((i = 0; i < ${#setup_args[@]}; i += 2)); do
	if [[ ${setup_args[i]} == --hooks-dir && ! ${setup_args[i + 1]} =~ ^/[A-Za-z0-9._+/-]*$ ]]; then
		die 2 "--hooks-dir must be an absolute path of letters, digits and ._+-/: ${setup_args[i + 1]}"
	fi
done
[[ -z $DESTDIR || $DESTDIR == /* ]] || die 2 "DESTDIR must be an absolute path: $DESTDIR"
[[ $DESTDIR != / ]] || DESTDIR=
[[ -z $DESTDIR || $action == install ]] || die 2 "--uninstall works on this host, not in DESTDIR (remove DESTDIR instead)"
[[ -z $DESTDIR || $restart == no ]] || die 2 "--restart-libvirtd makes no sense with DESTDIR"

LIBDIR=$PREFIX/lib/nova-ipmeta
SBIN=$PREFIX/sbin/nova-ipmeta
SETUP_SRC=$HERE/packaging/lib/nova-ipmeta-setup

systemd_runs() { [[ -z $DESTDIR && -d /run/systemd/system ]]; }

# ----------------------------------------------------------------------------------------- checks

need_root() {
	[[ $(id -u) == 0 ]] || die 3 "run as root (sudo $0 $*)"
}

node_version_ok() { # NODE-BINARY: prints its version when it is >= NODE_MIN
	local v
	v=$("$1" --version 2>/dev/null) || return 1
	[[ $v =~ ^v([0-9]+)\.([0-9]+) ]] || return 1
	((BASH_REMATCH[1] > 18 || (BASH_REMATCH[1] == 18 && BASH_REMATCH[2] >= 19))) || return 1
	printf '%s\n' "$v"
}

# The Node the command will run: NODE if given, else the first good one of the usual places.
find_node() {
	local candidate
	if [[ -n ${NODE-} ]]; then
		[[ $NODE == /* ]] || die 2 "NODE must be an absolute path: $NODE"
		[[ -n $DESTDIR ]] || node_version_ok "$NODE" >/dev/null ||
			die 3 "NODE=$NODE is not a Node >= $NODE_MIN"
		printf '%s\n' "$NODE"
		return
	fi
	if [[ -n $DESTDIR ]]; then
		echo /usr/bin/node # a package depends on its distribution's nodejs
		return
	fi
	for candidate in /usr/bin/node /usr/local/bin/node "$(command -v node || true)"; do
		[[ -n $candidate && -x $candidate && $candidate != */node_modules/* ]] || continue
		if node_version_ok "$candidate" >/dev/null; then
			printf '%s\n' "$candidate"
			return
		fi
	done
	local found
	found=$(node --version 2>/dev/null || true)
	die 3 "nova-ipmeta needs Node >= $NODE_MIN${found:+ (found $found)}: apt-get install nodejs (Debian 12, Ubuntu 24.04), or NODE=/path/to/node $0"
}

check_bundle() {
	[[ -s $HERE/dist/nova-ipmeta.cjs ]] ||
		die 3 "$HERE/dist/nova-ipmeta.cjs is missing: run 'npm ci && npm run build' in $HERE first"
	local n
	for n in NOVA_IPMETA NOVA_IPMETA_CONFIG; do
		[[ $(grep -c "^$n=" "$HERE/hooks/qemu" 2>/dev/null) == 1 ]] ||
			die 3 "$HERE/hooks/qemu: expected exactly one line '$n=...' at column 0"
	done
}

check_no_package() {
	local status
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' nova-ipmeta 2>/dev/null || true)
	[[ $status != ii* && $status != iF* && $status != iU* ]] ||
		die 3 "the nova-ipmeta Debian package is installed: upgrade it with apt or dpkg, or remove it (apt-get remove nova-ipmeta) before using install.sh"
}

# --------------------------------------------------------------------------------- file placement

# Only for a real install (no DESTDIR): what install.sh creates, one "KIND PATH" a line, so that
# --uninstall removes exactly that. KIND: dir, file, conf (with the default's sha256), and those
# nova-ipmeta-setup adds (hook, hookdir).
record() { # KIND PATH [SHA]
	[[ -z $DESTDIR ]] || return 0
	local line="$1 $2${3:+ $3}"
	grep -Fxq -- "$line" "$MANIFEST" 2>/dev/null || printf '%s\n' "$line" >>"$MANIFEST"
}

ensure_dir() { # PATH (under DESTDIR): creates it and missing parents, 0755, recording each
	local dir=$1
	[[ -d $DESTDIR$dir ]] && return 0
	[[ $dir != / ]] || die 1 "cannot create $DESTDIR/"
	ensure_dir "$(dirname "$dir")"
	mkdir -m 0755 "$DESTDIR$dir"
	record dir "$dir"
}

# put CONTENT-FILE PATH MODE [KIND [SHA]]: installs a file atomically (an identical one is left
# untouched) and records it as KIND (default file).
put() {
	local src=$1 dest=$2 mode=$3 kind=${4:-file} sha=${5:-} tmp
	ensure_dir "$(dirname "$dest")"
	if [[ -f $DESTDIR$dest ]] && cmp -s "$src" "$DESTDIR$dest" &&
		[[ $(stat -c %a "$DESTDIR$dest") == "${mode#0}" ]]; then
		record "$kind" "$dest" "$sha"
		return 0
	fi
	tmp=$(mktemp "$DESTDIR$(dirname "$dest")/.nova-ipmeta.XXXXXX")
	cat "$src" >"$tmp"
	chmod "$mode" "$tmp"
	mv -f "$tmp" "$DESTDIR$dest"
	record "$kind" "$dest" "$sha"
	say "installed $DESTDIR$dest"
}

# The repository's files name the default paths; another PREFIX rewrites them.
with_prefix() { # FILE: prints it with /usr/lib/nova-ipmeta and /usr/sbin/nova-ipmeta moved
	sed -e "s|/usr/lib/nova-ipmeta|$LIBDIR|g" -e "s|/usr/sbin/nova-ipmeta|$SBIN|g" "$1"
}

# The hook as installed: the two assignment lines point at the installed command and config,
# and the marker line after the shebang says it is ours.
hook_text() {
	sed -e "1a\\
$MARKER" \
		-e "s|^NOVA_IPMETA=.*|NOVA_IPMETA=$SBIN|" \
		-e "s|^NOVA_IPMETA_CONFIG=.*|NOVA_IPMETA_CONFIG=$CONF|" "$HERE/hooks/qemu"
}

install_files() {
	local work node
	node=$(find_node)
	work=$(mktemp -d)
	# shellcheck disable=SC2064 # expand now: work is local
	trap "rm -rf '$work'" EXIT

	put "$HERE/dist/nova-ipmeta.cjs" "$LIBDIR/nova-ipmeta.cjs" 0755
	hook_text >"$work/qemu"
	put "$work/qemu" "$LIBDIR/hooks/qemu" 0755
	put "$SETUP_SRC" "$LIBDIR/nova-ipmeta-setup" 0755
	with_prefix "$HERE/packaging/lib/periodic-reconcile" >"$work/periodic-reconcile"
	put "$work/periodic-reconcile" "$LIBDIR/periodic-reconcile" 0755
	cat >"$work/nova-ipmeta" <<EOF
#!/bin/sh
# nova-ipmeta: the bundled program, run by the Node that install.sh chose.
exec $node $LIBDIR/nova-ipmeta.cjs "\$@"
EOF
	put "$work/nova-ipmeta" "$SBIN" 0755
	gzip -9n <"$HERE/packaging/man/nova-ipmeta.8" >"$work/nova-ipmeta.8.gz"
	put "$work/nova-ipmeta.8.gz" "$PREFIX/share/man/man8/nova-ipmeta.8.gz" 0644

	# The config: an operator's file is never replaced.
	if [[ -e $DESTDIR$CONF ]]; then
		say "kept $DESTDIR$CONF"
	else
		put "$HERE/packaging/etc/nova-ipmeta.conf" "$CONF" 0644 conf \
			"$(sha256sum <"$HERE/packaging/etc/nova-ipmeta.conf" | cut -d' ' -f1)"
	fi

	# systemd units where systemd runs, cron elsewhere; a package (DESTDIR) ships both.
	local unit
	if [[ -n $DESTDIR ]] || systemd_runs; then
		for unit in "${UNITS[@]}"; do
			with_prefix "$HERE/packaging/systemd/$unit" >"$work/$unit"
			put "$work/$unit" "$SYSTEMD_UNIT_DIR/$unit" 0644
		done
	fi
	if [[ -n $DESTDIR ]] || ! systemd_runs; then
		with_prefix "$HERE/packaging/cron/nova-ipmeta" >"$work/cron"
		put "$work/cron" "$CRON" 0644
	fi
	rm -rf "$work"
	trap - EXIT
}

# -------------------------------------------------------------------------------------- install

do_install() {
	check_bundle
	if [[ -n $DESTDIR ]]; then
		mkdir -p "$DESTDIR"
		install_files
		say "nova-ipmeta installed into $DESTDIR (files only: the package's postinst places the hook)"
		return 0
	fi
	need_root
	check_no_package
	find_node >/dev/null
	# Refuse before anything changes when a foreign hook is in the way.
	if [[ $hook == yes ]]; then
		sh "$SETUP_SRC" check-hook --libdir "$LIBDIR" "${setup_args[@]}" >/dev/null || exit $?
	fi
	sh "$SETUP_SRC" state-dir
	install_files
	local setup=$LIBDIR/nova-ipmeta-setup
	if [[ $hook == yes ]]; then
		"$setup" place-hook "${setup_args[@]}" || exit $?
	else
		say "hook: not installed (--no-hook): call $LIBDIR/hooks/qemu from your own hook"
	fi
	"$setup" enable-services
	if [[ $restart == yes ]]; then
		"$setup" restart-libvirt || exit 5
	fi
	say "nova-ipmeta $("$SBIN" --version 2>/dev/null || echo '(version unknown)') installed. Next: nova-ipmeta doctor;"
	say "  its credentials line says where the timer's cache sync takes Neutron credentials from"
	say "  (nova-compute's own config on a compute host); with none, fill the cache with cache put"
}

# ------------------------------------------------------------------------------------ uninstall

do_uninstall() {
	need_root --uninstall
	check_no_package
	# The installed helper, or the checkout's when it is gone.
	local setup=$SETUP_SRC
	[[ -x $LIBDIR/nova-ipmeta-setup ]] && setup=$LIBDIR/nova-ipmeta-setup
	sh "$setup" disable-services --libdir "$LIBDIR"
	sh "$setup" remove-hook --libdir "$LIBDIR" "${setup_args[@]}"
	if [[ -f $MANIFEST ]]; then
		local kind path sha
		local -a kept=()
		# Last created, first removed: files before the directories that hold them.
		while read -r kind path sha; do
			case $kind in
			file)
				rm -f "$path"
				say "removed $path"
				;;
			conf)
				if [[ $purge == yes ]] || { [[ -f $path ]] && [[ $(sha256sum <"$path" | cut -d' ' -f1) == "$sha" ]]; }; then
					rm -f "$path"
					say "removed $path"
				elif [[ -e $path ]]; then
					say "kept $path (edited; --uninstall --purge removes it)"
					kept=("$kind $path $sha" "${kept[@]}")
				fi
				;;
			dir)
				if rmdir "$path" 2>/dev/null; then
					say "removed $path/"
				elif [[ -d $path ]]; then
					say "kept $path/ (not empty)"
					kept=("$kind $path" "${kept[@]}")
				fi
				;;
			esac
		done < <(tac "$MANIFEST")
		# What stays is still ours: a later --uninstall --purge removes it.
		if [[ $purge == no && ${#kept[@]} -gt 0 ]]; then
			printf '%s\n' "${kept[@]}" >"$MANIFEST"
		else
			rm -f "$MANIFEST"
		fi
	else
		say "no $MANIFEST: install.sh installed nothing here (or it was removed already)"
	fi
	if systemd_runs; then systemctl daemon-reload; fi
	if [[ $purge == yes ]]; then
		sh "$SETUP_SRC" purge
	elif [[ -d $STATE_DIR ]]; then
		say "kept $STATE_DIR (the network_info cache; --uninstall --purge removes it)"
	fi
}

case $action in
install) do_install ;;
uninstall) do_uninstall ;;
esac
