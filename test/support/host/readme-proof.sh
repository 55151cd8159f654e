#!/usr/bin/env bash
# The README's two commands, proven where a newcomer runs them: a fresh Debian 12 (debootstrap
# minbase with systemd as PID 1, booted by test/support/host/system.sh), a clean clone of this repository
# (git clone of HEAD), and, as root inside, exactly
#
#   ./demo.sh
#   npm ci && npm test
#
# with nothing installed beforehand: whatever the project needs and does not install fails here.
# The system keeps this machine's network (its resolv.conf, extra CA certificates and CA variables,
# as any container runtime passes them), so apt-get and npm reach the registries themselves. Its
# /var/tmp is a fresh directory of this machine's disk (as a real machine's /var/tmp is a disk),
# where the host test group builds its own nested systems.
#
# Usage (root, from anywhere): test/support/host/readme-proof.sh
# Prints each command's output, then a summary; the last line is the tests' "N passed, N failed".
# Environment: NOVA_IPMETA_README_TEST_ARGS: arguments after `npm test --` (default: none, every
#   group; for trying this script out, e.g. "unit").
# Exit status: 0 both commands succeeded; 1 one failed (the summary says which); 3 this machine
#   cannot boot the system (system.sh's one-line reason); 4 the system left something behind.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../../.." && pwd -P)
SYSTEM=(bash "$HERE/system.sh")
NAME=nova-ipmeta-readme
TEST_ARGS=${NOVA_IPMETA_README_TEST_ARGS-}

die() { # CODE MESSAGE
	local code=$1
	shift
	printf 'readme-proof.sh: %s\n' "$*" >&2
	exit "$code"
}
section() { printf '\n======== %s\n' "$*"; }

"${SYSTEM[@]}" check || exit 3
command -v git >/dev/null || die 3 "git is needed to clone the repository"
git -C "$REPO" rev-parse --verify -q HEAD >/dev/null || die 3 "$REPO is not a git repository with a commit"
if [[ -n $(git -C "$REPO" status --porcelain --untracked-files=no) ]]; then
	printf 'readme-proof.sh: note: %s has uncommitted changes; the clone (HEAD) does not have them\n' "$REPO" >&2
fi

scratch=$(mktemp -d /var/tmp/nova-ipmeta-readme.XXXXXX)
cleanup() {
	"${SYSTEM[@]}" down "$NAME" || echo "readme-proof.sh: the fresh system left something behind (see above)" >&2
	rm -rf --one-file-system -- "$scratch"
}
trap cleanup EXIT

section "the root file system (debootstrap --variant=minbase bookworm + systemd, dbus; cached by recipe)"
t0=$SECONDS
root=$("${SYSTEM[@]}" root) || exit $?
echo "root: $root ($((SECONDS - t0)) s)"

section "a clean clone of $(git -C "$REPO" rev-parse --short HEAD)"
git clone -q --no-hardlinks "$REPO" "$scratch/clone"
git -C "$scratch/clone" log -1 --format='%h %s'
mkdir -p "$scratch/var-tmp"
chmod 1777 "$scratch/var-tmp"
# The host group inside boots its own throwaway systems from the same debootstrap root, built by
# this harness from the same recipe: handed in read-only (it is a test fixture, not this
# machine's software), it spares a second debootstrap. Its package layers are rebuilt inside.
ro_binds=(--ro-bind "$root" "$root")
mkdir -p "$scratch/var-tmp/$(basename "$root")"

section "boot a fresh Debian 12 (systemd as PID 1, this machine's network)"
t0=$SECONDS
"${SYSTEM[@]}" boot "$NAME" --net host --bind "$scratch/var-tmp" /var/tmp "${ro_binds[@]}" >/dev/null
in_system() { "${SYSTEM[@]}" exec "$NAME" "$@"; }
echo "up in $((SECONDS - t0)) s: $(in_system sh -c '. /etc/os-release && echo "$PRETTY_NAME, $(uname -r), systemd $(systemctl is-system-running)"')"
echo "node: $(in_system sh -c 'command -v node || echo none'), npm: $(in_system sh -c 'command -v npm || echo none')"
in_system mkdir -p /root/nova-ipmeta
tar -C "$scratch/clone" -cf - . | in_system tar -C /root/nova-ipmeta -xf -

section "# ./demo.sh"
t0=$SECONDS
demo=0
in_system bash -c 'cd /root/nova-ipmeta && exec ./demo.sh' </dev/null 2>&1 || demo=$?
demo_s=$((SECONDS - t0))

section "# npm ci && npm test${TEST_ARGS:+ -- $TEST_ARGS}"
t0=$SECONDS
tests=0
log=$scratch/tests.log
# shellcheck disable=SC2016 # expanded inside
in_system bash -c 'cd /root/nova-ipmeta && npm ci && exec npm test ${1:+--} $1' sh "$TEST_ARGS" </dev/null 2>&1 | tee "$log" || tests=$?
tests_s=$((SECONDS - t0))
counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 || true)

section "README proof: a fresh Debian 12, a clean clone, the README's two commands"
printf '  ./demo.sh              %s (%d s)\n' "$([[ $demo == 0 ]] && echo ok || echo "FAILED, exit $demo")" "$demo_s"
printf '  npm ci && npm test     %s (%d s): %s\n' "$([[ $tests == 0 ]] && echo ok || echo "FAILED, exit $tests")" "$tests_s" "${counts:-no count printed}"
trap - EXIT
down=0
"${SYSTEM[@]}" down "$NAME" || down=4
rm -rf --one-file-system -- "$scratch"
"${SYSTEM[@]}" leftovers || down=4
if [[ $down == 0 ]]; then
	echo "  the fresh system: powered off, nothing left behind"
else
	echo "  the fresh system: LEFT SOMETHING BEHIND (see above)"
fi
echo "  total: $SECONDS s"
printf '%s\n' "${counts:-0 passed, 1 failed}"
[[ $down == 0 ]] || exit 4
[[ $demo == 0 && $tests == 0 ]] || exit 1
