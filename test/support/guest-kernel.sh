#!/usr/bin/env bash
# A kernel and a tiny initramfs for a TCG guest that answers ACPI hot-plug and hot-unplug
# (docs/design.md, "Facts about libvirt"): Debian's linux-image-cloud-amd64 and ~1 MB of busybox-static whose /init mounts
# proc and sys and sleeps forever. Installs both packages if missing (libvirtd.sh deps --kernel),
# builds the initramfs once into OUTDIR (rebuilt only when busybox or /init change), and prints
# two lines: the kernel path, the initrd path.
#
# Usage: guest-kernel.sh OUTDIR
set -eu

[[ $# -eq 1 && -n $1 ]] || {
  echo 'usage: guest-kernel.sh OUTDIR' >&2
  exit 2
}
HERE=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
OUT=$(readlink -m "$1")

bash "$HERE/libvirtd.sh" deps --kernel

shopt -s nullglob
kernels=(/boot/vmlinuz-*-cloud-amd64)
shopt -u nullglob
[[ ${#kernels[@]} -gt 0 ]] || {
  echo 'guest-kernel.sh: no /boot/vmlinuz-*-cloud-amd64 after installing linux-image-cloud-amd64' >&2
  exit 1
}
kernel=$(printf '%s\n' "${kernels[@]}" | sort -V | tail -n 1)

BUSYBOX=/bin/busybox # busybox-static's: no shared libraries to copy
INIT='#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
echo "nova-ipmeta test guest: init up"
while :; do /bin/busybox sleep 3600; done
'
initrd=$OUT/initramfs-busybox.cpio.gz
key="$(sha256sum "$BUSYBOX" | cut -d' ' -f1) $(printf '%s' "$INIT" | sha256sum | cut -d' ' -f1)"

mkdir -p "$OUT"
exec {lockfd}>"$OUT/.lock"
flock "$lockfd"
if [[ ! -s $initrd || ! -f $OUT/initramfs.key || $(<"$OUT/initramfs.key") != "$key" ]]; then
  stage=$(mktemp -d "$OUT/stage.XXXXXX")
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage/root/bin" "$stage/root/proc" "$stage/root/sys" "$stage/root/dev"
  cp "$BUSYBOX" "$stage/root/bin/busybox"
  ln -s busybox "$stage/root/bin/sh"
  printf '%s' "$INIT" >"$stage/root/init"
  chmod 0755 "$stage/root/init" "$stage/root/bin/busybox"
  # The kernel opens /dev/console for init's stdio before anything is mounted.
  mknod -m 0600 "$stage/root/dev/console" c 5 1 2>/dev/null || true
  (cd "$stage/root" && find . | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null) |
    gzip -9 >"$stage/initrd"
  mv -f "$stage/initrd" "$initrd"
  printf '%s\n' "$key" >"$OUT/initramfs.key"
fi
exec {lockfd}>&-

printf '%s\n%s\n' "$kernel" "$initrd"
