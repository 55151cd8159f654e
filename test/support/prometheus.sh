#!/usr/bin/env bash
# Debian's Prometheus and node_exporter for tests (docs/design.md, "The test harness"), run as
# plain binaries: the packages' own `prometheus`, `promtool` and `prometheus-node-exporter`,
# unpacked from the .debs (`apt-get download`, `dpkg-deb -x`) into OUTDIR, never installed. An
# installed package runs its postinst, which creates a system user, enables and (where systemd
# runs, as on a fresh Debian 12) starts system services on the default ports 9090 and 9100; the
# tests start their own on free ports of 127.0.0.1 and must not leave any service behind. When
# the packages are installed already, their binaries are used as they are.
#
# Usage: prometheus.sh OUTDIR    prints three lines: the paths of prometheus, promtool and
#                                prometheus-node-exporter
set -eu

[[ $# -eq 1 && -n $1 ]] || {
  echo 'usage: prometheus.sh OUTDIR' >&2
  exit 2
}
OUT=$(readlink -m "$1")
PACKAGES=(prometheus prometheus-node-exporter)

die() {
  printf 'prometheus.sh: %s\n' "$*" >&2
  exit 1
}

installed() {
  local status
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null || true)
  [[ $status == ii* ]]
}

apt() {
  # A fresh machine may have no package lists yet.
  "$@" >&2 || { apt-get -o DPkg::Lock::Timeout=300 update -q >&2 && "$@" >&2; }
}

mkdir -p "$OUT"
exec {lockfd}>"$OUT/.lock"
flock "$lockfd"

if installed prometheus && installed prometheus-node-exporter; then
  printf '%s\n' /usr/bin/prometheus /usr/bin/promtool /usr/bin/prometheus-node-exporter
  exit 0
fi

# One unpacked tree per package version, kept between runs.
root=
for pkg in "${PACKAGES[@]}"; do
  version=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^  Candidate: //p')
  if [[ -z $version || $version == '(none)' ]]; then
    apt-get -o DPkg::Lock::Timeout=300 update -q >&2
    version=$(apt-cache policy "$pkg" | sed -n 's/^  Candidate: //p')
  fi
  [[ -n $version && $version != '(none)' ]] || die "no $pkg package in the apt sources"
  dir=$OUT/$pkg-${version//[:~]/_}
  if [[ ! -f $dir/.unpacked ]]; then
    rm -rf "$dir" "$OUT/download"
    mkdir -p "$dir" "$OUT/download"
    (cd "$OUT/download" && apt apt-get -o APT::Sandbox::User=root download -q "$pkg=$version")
    dpkg-deb -x "$OUT/download/"*.deb "$dir"
    rm -rf "$OUT/download"
    touch "$dir/.unpacked"
  fi
  root="$root $dir"
done
read -r prom exporter <<<"$root"
for f in "$prom/usr/bin/prometheus" "$prom/usr/bin/promtool" "$exporter/usr/bin/prometheus-node-exporter"; do
  [[ -x $f ]] || die "$f missing from the unpacked package"
done
printf '%s\n' "$prom/usr/bin/prometheus" "$prom/usr/bin/promtool" "$exporter/usr/bin/prometheus-node-exporter"
