#!/usr/bin/env bash
# The commands the administrator's guide uses besides nova-ipmeta and virsh (xmllint from
# libxml2-utils, curl), installed when missing, so that its tests can run its examples
# (test/docs/admin-guide.libvirt.test.ts, test/usecases/reconcile/prometheus.libvirt.test.ts).
set -eu

declare -A PACKAGE_OF=([xmllint]=libxml2-utils [curl]=curl)
missing=()
for cmd in "${!PACKAGE_OF[@]}"; do
  command -v "$cmd" >/dev/null || missing+=("${PACKAGE_OF[$cmd]}")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
[[ $(id -u) == 0 ]] || {
  echo "guide-tools.sh: must run as root to install ${missing[*]}" >&2
  exit 1
}
lockdir=/run/lock
[[ -d $lockdir ]] || lockdir=/tmp
exec {lockfd}>"$lockdir/nova-ipmeta-guide-tools.lock"
flock "$lockfd"
apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}")
# A fresh machine may have no package lists yet.
"${apt[@]}" >&2 || { apt-get -o DPkg::Lock::Timeout=300 update -q >&2 && "${apt[@]}" >&2; }
