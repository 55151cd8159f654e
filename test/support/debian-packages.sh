#!/usr/bin/env bash
# Installs the Debian packages a test group needs and this machine lacks, so that `npm test` works
# on a fresh Debian 12 (scripts/test.mjs calls it before each group; the libvirt harness installs
# its own in libvirtd.sh deps). One installer at a time; `apt-get update` first only when the
# package lists are missing or stale.
#
# Usage: debian-packages.sh PKG...
# Exit status: 0 all there (or installed); 1 apt-get failed; 3 packages missing and not root, or
# no apt-get (not a Debian or Ubuntu machine): one line on stderr says which.
set -eu

missing() {
	local pkg status
	for pkg in "$@"; do
		status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
		[[ $status == ii* ]] || printf '%s\n' "$pkg"
	done
}

[[ $# -gt 0 ]] || exit 0
command -v dpkg-query >/dev/null || {
	echo "debian-packages.sh: not a Debian or Ubuntu machine: install $* yourself" >&2
	exit 3
}
mapfile -t want < <(missing "$@")
[[ ${#want[@]} -gt 0 ]] || exit 0
[[ $(id -u) == 0 ]] || {
	echo "debian-packages.sh: missing Debian packages ${want[*]} (run the tests as root, or apt-get install them)" >&2
	exit 3
}
lockdir=/run/lock
[[ -d $lockdir ]] || lockdir=/tmp
exec {lockfd}>"$lockdir/nova-ipmeta-libvirt-deps.lock"
flock "$lockfd"
mapfile -t want < <(missing "$@")
[[ ${#want[@]} -gt 0 ]] || exit 0
printf 'debian-packages.sh: installing %s\n' "${want[*]}" >&2
apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${want[@]}")
if ! "${apt[@]}" >&2; then
	# A fresh machine may have no package lists yet.
	env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -q >&2
	"${apt[@]}" >&2
fi
