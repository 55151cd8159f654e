#!/usr/bin/env bash
# nova-ipmeta, end to end, on this machine and without changing it: builds the project, starts a
# throwaway libvirt daemon with three nova instances (TCG guests), installs nova-ipmeta into that
# world with install.sh, seeds the network_info cache, starts the guests, and shows the ports the
# hook wrote into their domain XML.
#
#   ./demo.sh          bring it up, show it, take it down again (as root; --once is the same)
#   ./demo.sh --keep   bring it up and leave it running (it says how to look around)
#   ./demo.sh --down   take a kept demo down
#
# How it stays off the machine: the daemon runs in a private mount namespace with its own
# /etc/libvirt, /run/libvirt and /var/lib/libvirt (test/support/libvirtd.sh), so a libvirt that
# already runs here is never touched. install.sh runs unmodified, with its default paths, in a
# copy-on-write view of /etc, /usr and /var (test/support/sandbox.sh) that the daemon shares:
# /usr/sbin/nova-ipmeta, /etc/nova-ipmeta, /var/lib/nova-ipmeta and the hook exist only there,
# and systemd is hidden, so install.sh takes its cron path. The machine itself gets the Debian
# packages the demo needs (libvirt-daemon, qemu-system-x86, and nodejs/npm if there is no Node).
#
# Environment: NOVA_IPMETA_DEMO_ROOT (default /tmp/nova-ipmeta-demo; not under /etc, /usr, /var).
set -eu

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=${NOVA_IPMETA_DEMO_ROOT:-/tmp/nova-ipmeta-demo}
SYSTEM=$ROOT/system   # the sandbox: the copy-on-write /etc, /usr, /var
LIBVIRT=$ROOT/libvirt # the private daemon's root
LIBVIRTD_SH=$HERE/test/support/libvirtd.sh
SANDBOX_SH=$HERE/test/support/sandbox.sh
NS_1_0=http://openstack.org/xmlns/libvirt/nova/1.0
NS_1_1=http://openstack.org/xmlns/libvirt/nova/1.1

bold() { if [[ -t 1 ]]; then printf '\n\033[1m== %s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi; }
die() {
	printf 'demo.sh: %s\n' "$*" >&2
	exit 1
}
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# Runs a command in the demo's world (the daemon's mount namespace), as an operator on the host would.
in_demo() { bash "$LIBVIRTD_SH" nsexec "$LIBVIRT" "$@"; }

down() {
	if [[ -d $LIBVIRT ]]; then bash "$LIBVIRTD_SH" stop "$LIBVIRT"; fi
	if [[ -d $SYSTEM ]]; then bash "$SANDBOX_SH" down "$SYSTEM"; fi
	rm -rf "$ROOT"
	echo "demo.sh: down (guests, daemon and $ROOT removed)"
}

# ------------------------------------------------------------------------------------ preparation

prepare() {
	command -v apt-get >/dev/null || die "this demo needs a Debian or Ubuntu machine (apt-get)"
	local node_ok=no v
	if v=$(node --version 2>/dev/null) && [[ $v =~ ^v([0-9]+)\.([0-9]+) ]] &&
		((BASH_REMATCH[1] > 18 || (BASH_REMATCH[1] == 18 && BASH_REMATCH[2] >= 19))); then
		node_ok=yes
	fi
	if [[ $node_ok == no ]] || ! command -v npm >/dev/null; then
		# ca-certificates: Debian's Node uses the system's CAs, and npm reaches its registry by HTTPS.
		local -a apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends nodejs npm ca-certificates)
		bold "installing Node and npm (apt-get install nodejs npm ca-certificates)"
		# A fresh machine may have no package lists yet: the first try's "Unable to locate" is not shown.
		"${apt[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null && "${apt[@]}" >/dev/null; } ||
			die "could not install nodejs and npm with apt-get"
	fi
	cd "$HERE"
	if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
		bold "npm ci"
		npm ci --no-audit --no-fund
	fi
	if [[ ! -s dist/nova-ipmeta.cjs ]] || [[ -n $(find src scripts/build.mjs package.json -newer dist/nova-ipmeta.cjs -print -quit) ]]; then
		bold "npm run build"
		npm run build --silent
	fi
	bold "libvirt and QEMU packages (test/support/libvirtd.sh deps)"
	bash "$LIBVIRTD_SH" deps
	echo "ok: $(libvirtd --version)"
}

# ----------------------------------------------------------------------------------------- guests

# guest NAME UUID NS DISPLAY-NAME NOVA-PORTS-XML MAC=DEV...: a nova instance as a TCG guest, no disk.
guest() {
	local name=$1 uuid=$2 ns=$3 display=$4 ports=$5 iface
	shift 5
	cat <<EOF
<domain type='qemu'>
  <name>$name</name>
  <uuid>$uuid</uuid>
  <metadata>
    <nova:instance xmlns:nova="$ns">
      <nova:package version="$([[ $ns == "$NS_1_0" ]] && echo 22.4.0 || echo 26.2.2)"/>
      <nova:name>$display</nova:name>
      <nova:creationTime>2026-10-11 17:02:31</nova:creationTime>
      <nova:flavor name="m1.tiny">
        <nova:memory>48</nova:memory>
        <nova:disk>0</nova:disk>
        <nova:swap>0</nova:swap>
        <nova:ephemeral>0</nova:ephemeral>
        <nova:vcpus>1</nova:vcpus>
      </nova:flavor>
      <nova:owner>
        <nova:user uuid="3472c2a6-de91-4fb5-b618-42bc781ef670">demo</nova:user>
        <nova:project uuid="acf923f2-9b4d-4e0d-acfb-1b2976dd480f">demo</nova:project>
      </nova:owner>
      <nova:root type="image" uuid="fe55c69a-8b2e-4bbc-811a-9ad2023a0426"/>$ports
    </nova:instance>
  </metadata>
  <memory unit='MiB'>48</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <features><acpi/></features>
  <devices>
EOF
	for iface in "$@"; do
		cat <<EOF
    <interface type='ethernet'>
      <mac address='${iface%%=*}'/>
      <target dev='${iface#*=}' managed='yes'/>
      <model type='virtio'/>
      <rom enabled='no'/>
    </interface>
EOF
	done
	printf '  </devices>\n</domain>\n'
}

# network_info for web-1 (one port, v4 and v6, FLOATING as its floating IPs): nova's format.
web_network_info() {
	local floating=$1
	cat <<EOF
[{"id": "9f3c2a1e-5d4b-4c8a-9e7f-1a2b3c4d5e6f", "address": "fa:16:3e:2a:00:01",
  "devname": "tap9f3c2a1e-5d", "type": "ovs", "active": true, "vnic_type": "normal",
  "details": {"port_filter": true, "ovs_hybrid_plug": false}, "profile": {}, "meta": {},
  "network": {"id": "2f6c3b1e-8a1d-4f3e-9c55-0d1e6a7b8c90", "label": "private", "bridge": "br-int",
    "meta": {"mtu": 1442, "tunneled": true},
    "subnets": [
      {"cidr": "192.168.1.0/24", "version": 4, "meta": {"enable_dhcp": true},
       "gateway": {"address": "192.168.1.254", "type": "gateway", "version": 4, "meta": {}},
       "ips": [{"address": "192.168.1.10", "type": "fixed", "version": 4, "meta": {},
                "floating_ips": [$floating]}]},
      {"cidr": "fdf8:f53b:82e4::/64", "version": 6, "meta": {"ipv6_address_mode": "dhcpv6-stateful"},
       "gateway": {"address": "fdf8:f53b:82e4::1", "type": "gateway", "version": 6, "meta": {}},
       "ips": [{"address": "fdf8:f53b:82e4::a", "type": "fixed", "version": 6, "meta": {}, "floating_ips": []}]}]}}]
EOF
}

WEB=(instance-0000002a 9d7e3c1a-5b2f-4e8d-a1c3-7f6e5d4c3b2a)
DB=(instance-0000002b 0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5)
CACHE=(instance-0000002c 5e1f0a9b-7c3d-4e2f-9a8b-6c5d4e3f2a1b)

write_guests() {
	mkdir -p "$ROOT/guests"
	# web-1: nova < 23 (namespace 1.0), which writes no ports at all.
	guest "${WEB[0]}" "${WEB[1]}" "$NS_1_0" web-1 '' 'fa:16:3e:2a:00:01=tap9f3c2a1e-5d' >"$ROOT/guests/web-1.xml"
	# db-1: nova >= 23 (1.1), which wrote its fixed IPv4 only, and no floating IP (it never does).
	guest "${DB[0]}" "${DB[1]}" "$NS_1_1" db-1 '
      <nova:ports>
        <nova:port uuid="567a4527-b0e4-4d0a-bcc2-71fda37897f7">
          <nova:ip type="fixed" address="192.168.1.1" ipVersion="4"/>
        </nova:port>
      </nova:ports>' 'fa:16:3e:5b:1c:09=tap567a4527-b0' 'fa:16:3e:c4:7e:21=tapa3ca97e2-0c' >"$ROOT/guests/db-1.xml"
	# cache-1: 1.1 with an empty <nova:ports/>; its port is on a network without a subnet.
	guest "${CACHE[0]}" "${CACHE[1]}" "$NS_1_1" cache-1 '
      <nova:ports/>' 'fa:16:3e:00:00:01=tap3f1c9a52-11' >"$ROOT/guests/cache-1.xml"
	web_network_info '{"address": "203.0.113.10", "type": "floating", "version": 4, "meta": {}}' >"$ROOT/guests/web-1.network_info.json"
	cp "$HERE/test/fixtures/network_info/two-ports.json" "$ROOT/guests/db-1.network_info.json"
	cp "$HERE/test/fixtures/network_info/port-without-ip.json" "$ROOT/guests/cache-1.network_info.json"
}

ports_of() { # NAME: the <nova:ports> element of the live XML, as virsh dumpxml shows it
	in_demo virsh dumpxml "$1" | sed -n '/<nova:ports/,/<\/nova:ports>/p;/<nova:ports\/>/p'
}

# wait_for_ports NAME PATTERN: until the live XML's ports match (the hook writes ~1-2 s after start).
wait_for_ports() {
	local i
	for ((i = 0; i < 150; i++)); do
		ports_of "$1" | grep -q -- "$2" && return 0
		sleep 0.2
	done
	die "$1: its ports did not appear within 30 s; the hook's log: $(in_demo tail -n 5 /var/lib/nova-ipmeta/hook.log 2>&1 | tr '\n' ' ')"
}

# --------------------------------------------------------------------------------------------- up

up() {
	[[ ! -e $ROOT ]] || die "$ROOT exists: a demo is up ($0 --down first)"
	prepare
	local t uri
	mkdir -p "$ROOT"

	bold "a copy-on-write view of /etc, /usr, /var for install.sh, and the private daemon's directories"
	bash "$SANDBOX_SH" up "$SYSTEM"
	bash "$LIBVIRTD_SH" init "$LIBVIRT" >/dev/null
	bash "$SANDBOX_SH" exec "$SYSTEM" sh -c 'mkdir -p /etc/libvirt && mount --bind "$1/etc" /etc/libvirt' sh "$LIBVIRT"
	echo "ok: writes to /etc, /usr, /var land in $SYSTEM/upper; /etc/libvirt is $LIBVIRT/etc"

	bold "sudo ./install.sh (in that view, before the daemon starts: libvirt looks for hooks when it starts)"
	t=$(date +%s%N)
	bash "$SANDBOX_SH" exec "$SYSTEM" "$HERE/install.sh"
	echo "(install.sh took $(ms_since "$t") ms; what it wrote:)"
	(cd "$SYSTEM/upper" && find . \( -type f -o -type l \) -printf '  /%P\n' | LC_ALL=C sort)

	bold "the private libvirt daemon"
	t=$(date +%s%N)
	uri=$(bash "$SANDBOX_SH" exec "$SYSTEM" bash "$LIBVIRTD_SH" start "$LIBVIRT")
	echo "ok: $uri ($(ms_since "$t") ms)"

	bold "three nova instances, and their network_info in the cache (nova-ipmeta cache put)"
	write_guests
	local g
	for g in web-1 db-1 cache-1; do
		in_demo virsh -q define "$ROOT/guests/$g.xml"
	done
	in_demo nova-ipmeta cache put "${WEB[1]}" "$ROOT/guests/web-1.network_info.json"
	in_demo nova-ipmeta cache put "${DB[1]}" "$ROOT/guests/db-1.network_info.json"
	in_demo nova-ipmeta cache put "${CACHE[1]}" "$ROOT/guests/cache-1.network_info.json"
	echo "as defined (what nova wrote):"
	echo "  web-1 (${WEB[0]}, nova 1.0): no <nova:ports>"
	echo "  db-1 (${DB[0]}, nova 1.1): port 567a4527 with its fixed IPv4 only; port a3ca97e2 missing"
	echo "  cache-1 (${CACHE[0]}, nova 1.1): <nova:ports/>"

	bold "virsh start: the hook's detached reconcile writes the ports"
	t=$(date +%s%N)
	for g in "${WEB[0]}" "${DB[0]}" "${CACHE[0]}"; do in_demo virsh -q start "$g" >/dev/null; done
	wait_for_ports "${WEB[0]}" 'type="floating" address="203.0.113.10"'
	wait_for_ports "${DB[0]}" 'type="floating" address="11.22.33.44"'
	wait_for_ports "${CACHE[0]}" '<nova:port uuid="3f1c9a52-1111-4a6e-9d0b-0c0ffee00001"/>'
	echo "(3 guests started and their ports written in $(ms_since "$t") ms)"
	for g in "${WEB[0]}" "${DB[0]}" "${CACHE[0]}"; do
		echo "--- virsh dumpxml $g"
		ports_of "$g"
	done

	bold "nova-ipmeta list"
	in_demo nova-ipmeta list

	bold "a floating IP moves: web-1 gets 203.0.113.25 instead; cache put, then nova-ipmeta reconcile"
	web_network_info '{"address": "203.0.113.25", "type": "floating", "version": 4, "meta": {}}' >"$ROOT/guests/web-1.network_info.json"
	in_demo nova-ipmeta cache put "${WEB[1]}" "$ROOT/guests/web-1.network_info.json"
	in_demo nova-ipmeta reconcile
	in_demo nova-ipmeta find 203.0.113.25

	bold "nova-ipmeta doctor"
	# No cron daemon runs in the demo's world: its warnings are expected.
	in_demo nova-ipmeta doctor || true

	bold "the hook's log (/var/lib/nova-ipmeta/hook.log: no syslog in the demo's world)"
	in_demo cat /var/lib/nova-ipmeta/hook.log
}

explore() {
	cat <<EOF

The demo is up. Look around in its world (the daemon's mount namespace), e.g.:
  $LIBVIRTD_SH nsexec $LIBVIRT bash
    virsh list --all;  virsh dumpxml ${DB[0]};  nova-ipmeta list;  nova-ipmeta show web-1 ...
or from the host: virsh -c 'qemu:///system?socket=$LIBVIRT/run/libvirt-sock' list
Take it down: $0 --down
EOF
}

[[ $(id -u) == 0 ]] || die "run as root (e.g. sudo $0 $*)"
case ${1-} in
'' | --once)
	trap down EXIT
	up
	;;
--keep)
	up
	explore
	;;
--down) down ;;
-h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' ;;
*) die "unknown option $1 (try --help)" ;;
esac
