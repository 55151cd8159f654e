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
  --no-hook             install everything but the libvirt hook: the containerized mode, for a
                        libvirtd in a container (kolla-ansible's nova_libvirt), which never runs
                        this host's hooks; the watcher then reconciles every guest start. Writes
                        /etc/nova-ipmeta/no-hook (doctor and the package honour it) and removes a
                        hook of ours; an install without it removes that file again. Also for a
                        hook of your own that calls ours (see FOREIGN HOOK)
  --hooks-dir DIR       libvirt's hooks directory (default /etc/libvirt/hooks)
  --libvirt-version V   take libvirt to be version V instead of asking libvirtd, virtqemud or virsh
  -h, --help            this text

What goes where (PREFIX=/usr):
  PREFIX/lib/nova-ipmeta/           nova-ipmeta.cjs (the program's head) and nova-ipmeta.programs
                                    (what it runs), nova-ipmeta.cjs.cache (V8's code cache for
                                    them, made for that Node; not with DESTDIR),
                                    hooks/qemu (the hook's source), periodic-reconcile (what the
                                    timer or cron runs)
  PREFIX/sbin/nova-ipmeta           the command: a link to nova-ipmeta.cjs, whose first line names
                                    the Node found now (a sh wrapper where that Node's path has
                                    a blank or is longer than 124 bytes)
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
# The Node minimum is declared once, in package.json's engines.node (">=18.19").
NODE_MIN=$(sed -n 's/^ *"node": *">= *\([0-9][0-9]*\.[0-9][0-9]*\)".*/\1/p' "$HERE/package.json" 2>/dev/null || true)
CONF=/etc/nova-ipmeta/nova-ipmeta.conf
NO_HOOK=/etc/nova-ipmeta/no-hook
CRON=/etc/cron.d/nova-ipmeta
UNITS=(nova-ipmeta-reconcile.service nova-ipmeta-reconcile.timer nova-ipmeta-watch.service)

# One word for sh, whatever it holds: single-quoted, each ' written as '\''.
shell_quote() {
	printf "'%s'" "${1//\'/\'\\\'\'}"
}

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
# The steps that tie the program into the host (hook placement, the install manifest, the
# services, the libvirt restart) are its own `setup` command: run from this checkout's bundle,
# the one that is being installed.
setup() { # ACTION [ARG...]
	"$NODE_BIN" "$HERE/dist/nova-ipmeta.cjs" setup "$@" --libdir "$LIBDIR"
}

systemd_runs() { [[ -z $DESTDIR && -d /run/systemd/system ]]; }

# ----------------------------------------------------------------------------------------- checks

need_root() {
	[[ $(id -u) == 0 ]] || die 3 "run as root (sudo $0 $*)"
}

node_version_ok() { # NODE-BINARY: prints its version when it is >= NODE_MIN
	[[ -n $NODE_MIN ]] || die 3 "$HERE/package.json declares no \"node\": \">=MAJOR.MINOR\" engine: not a nova-ipmeta checkout?"
	local v
	v=$("$1" --version 2>/dev/null) || return 1
	[[ $v =~ ^v([0-9]+)\.([0-9]+) ]] || return 1
	local need_major=${NODE_MIN%.*} need_minor=${NODE_MIN#*.}
	((BASH_REMATCH[1] > need_major || (BASH_REMATCH[1] == need_major && BASH_REMATCH[2] >= need_minor))) || return 1
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
	local f
	for f in nova-ipmeta.cjs nova-ipmeta.programs; do
		[[ -s $HERE/dist/$f ]] ||
			die 3 "$HERE/dist/$f is missing: run 'npm ci && npm run build' in $HERE first"
	done
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

# Only for a real install (no DESTDIR): what install.sh creates, one "KIND PATH [SHA256]" a line
# (KIND: dir, file, conf), handed to `setup record` at the end, so that --uninstall (`setup
# uninstall`) removes exactly that. The manifest's one format lives in the program.
RECORDED=
record() { # KIND PATH [SHA]
	[[ -z $DESTDIR ]] || return 0
	RECORDED+="$1 $2${3:+ $3}"$'\n'
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

# put_link TARGET PATH: makes PATH a symbolic link to TARGET (relative to PATH's directory), put in
# place by rename, and records it as a file (uninstall removes the link).
put_link() {
	local target=$1 dest=$2 tmp
	ensure_dir "$(dirname "$dest")"
	if [[ -L $DESTDIR$dest && $(readlink "$DESTDIR$dest") == "$target" ]]; then
		record file "$dest"
		return 0
	fi
	tmp="$DESTDIR$(dirname "$dest")/.nova-ipmeta.$$.link"
	ln -sfn "$target" "$tmp"
	mv -fT "$tmp" "$DESTDIR$dest"
	record file "$dest"
	say "installed $DESTDIR$dest -> $target"
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

WORK=
cleanup() { [[ -z $WORK ]] || rm -rf -- "$WORK"; }
trap cleanup EXIT

install_files() {
	local node
	node=$(find_node)
	WORK=$(mktemp -d)
	local work=$WORK

	# The programs before the head that reads them (a head of another build refuses them).
	put "$HERE/dist/nova-ipmeta.programs" "$LIBDIR/nova-ipmeta.programs" 0644
	# The command is the head itself, its first line naming the Node found now, so that the kernel
	# starts that Node on it: no shell in between, on every start the hook and the units make. The
	# kernel takes that line up to its first blank, and not past 127 bytes on older kernels: a Node
	# elsewhere gets a sh wrapper that runs it instead.
	if [[ $node =~ ^/[^[:space:]]{1,124}$ ]]; then
		{ printf '#!%s\n' "$node" && tail -n +2 "$HERE/dist/nova-ipmeta.cjs"; } >"$work/nova-ipmeta.cjs"
		put "$work/nova-ipmeta.cjs" "$LIBDIR/nova-ipmeta.cjs" 0755
		put_link "../lib/nova-ipmeta/nova-ipmeta.cjs" "$SBIN"
	else
		put "$HERE/dist/nova-ipmeta.cjs" "$LIBDIR/nova-ipmeta.cjs" 0755
		cat >"$work/nova-ipmeta" <<EOF
#!/bin/sh
# nova-ipmeta: the bundled program, run by the Node that install.sh chose.
exec $(shell_quote "$node") $(shell_quote "$LIBDIR/nova-ipmeta.cjs") "\$@"
EOF
		put "$work/nova-ipmeta" "$SBIN" 0755
	fi
	hook_text >"$work/qemu"
	put "$work/qemu" "$LIBDIR/hooks/qemu" 0755
	with_prefix "$HERE/packaging/lib/periodic-reconcile" >"$work/periodic-reconcile"
	put "$work/periodic-reconcile" "$LIBDIR/periodic-reconcile" 0755
	gzip -9n <"$HERE/packaging/man/nova-ipmeta.8" >"$work/nova-ipmeta.8.gz"
	put "$work/nova-ipmeta.8.gz" "$PREFIX/share/man/man8/nova-ipmeta.8.gz" 0644
	# Made by the program from its own command declarations (any Node runs it: the build's too).
	"${NODE_BIN:-$(command -v node)}" "$HERE/dist/nova-ipmeta.cjs" completion bash >"$work/completion"
	put "$work/completion" "$PREFIX/share/bash-completion/completions/nova-ipmeta" 0644

	# The config: an operator's file is never replaced. It may hold a Keystone secret: 0640.
	if [[ -e $DESTDIR$CONF ]]; then
		say "kept $DESTDIR$CONF"
	else
		put "$HERE/packaging/etc/nova-ipmeta.conf" "$CONF" 0640 conf \
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
	rm -rf -- "$WORK"
	WORK=
}

# The file that says nova-ipmeta runs without a libvirt hook: doctor reports the hook as not used,
# and the package's postinst places none while it exists.
put_no_hook() {
	local text
	text=$(mktemp)
	printf '%s\n' "# nova-ipmeta was installed without a libvirt hook (install.sh --no-hook): the watcher" \
		"# reconciles every guest start. The .deb's postinst honours this file too. Remove it and" \
		"# install again to place the hook." >"$text"
	put "$text" "$NO_HOOK" 0644
	rm -f "$text"
}

# -------------------------------------------------------------------------------------- install

# V8's code cache beside the installed program, for the Node it runs on: only a faster start, so
# a failure says so and nothing else. One already made for this Node and program is left alone.
code_cache() {
	if "$NODE_BIN" "$LIBDIR/nova-ipmeta.cjs" --write-code-cache; then
		record file "$LIBDIR/nova-ipmeta.cjs.cache"
		say "code cache: $LIBDIR/nova-ipmeta.cjs.cache (for $("$NODE_BIN" --version 2>/dev/null))"
	else
		say "code cache: none made (nova-ipmeta starts a little slower)"
	fi
}

do_install() {
	[[ -n $DESTDIR ]] || need_root
	check_bundle
	if [[ -n $DESTDIR ]]; then
		mkdir -p "$DESTDIR"
		install_files
		say "nova-ipmeta installed into $DESTDIR (files only: the package's postinst places the hook)"
		return 0
	fi
	need_root
	check_no_package
	NODE_BIN=$(find_node)
	# A config file the program cannot read stops the install before anything changes: state-dir
	# goes on without it (for the package's upgrades), and record would then fail with the files
	# copied but not recorded for --uninstall. It also warns of a secret others can read.
	setup check-config || exit 1
	# Refuse before anything changes when a foreign hook is in the way (setup says why: exit 1).
	if [[ $hook == yes ]]; then
		setup check-hook "${setup_args[@]}" >/dev/null || exit 4
	fi
	setup state-dir || exit 1
	install_files
	code_cache
	# The containerized mode's mark, recorded with the other files (install.sh --no-hook).
	[[ $hook == yes ]] || put_no_hook
	printf '%s' "$RECORDED" | setup record || exit 1
	if [[ $hook == yes ]]; then
		if [[ -e $NO_HOOK ]]; then
			rm -f "$NO_HOOK"
			say "removed $NO_HOOK"
		fi
		setup place-hook "${setup_args[@]}" || exit 4
	else
		setup remove-hook "${setup_args[@]}" || exit 1
		say "hook: not installed (--no-hook, the containerized mode): the watcher reconciles every guest start; a hook of your own may call $LIBDIR/hooks/qemu"
	fi
	setup enable-services || exit 1
	if [[ $restart == yes ]]; then
		setup restart-libvirt "${setup_args[@]}" || exit 5
	elif [[ $hook == yes ]]; then
		local hint
		hint=$(setup restart-hint "${setup_args[@]}")
		if [[ -n $hint ]]; then
			say "$hint"
			say "hook: (or run install.sh again with --restart-libvirtd)"
		fi
	fi
	say "nova-ipmeta $("$SBIN" --version 2>/dev/null || echo '(version unknown)') installed. Next: nova-ipmeta doctor;"
	say "  its credentials line says where the timer's cache sync takes Neutron credentials from"
	say "  (nova-compute's own config on a compute host); with none, fill the cache with cache put"
}

# ------------------------------------------------------------------------------------ uninstall

do_uninstall() {
	need_root --uninstall
	check_no_package
	check_bundle
	NODE_BIN=$(find_node)
	# What the install manifest lists, last created first; the hook; the services.
	local -a purge_flag=()
	[[ $purge == no ]] || purge_flag=(--purge)
	setup uninstall "${setup_args[@]}" "${purge_flag[@]}" || exit 1
}

case $action in
install) do_install ;;
uninstall) do_uninstall ;;
esac
