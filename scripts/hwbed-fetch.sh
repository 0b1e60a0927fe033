#!/bin/sh
# Fetches what the hardware test bed's Linux guest is made of (tests/hwbed): Debian 12's current
# kernel with its modules and a static busybox, with `apt-get download` (nothing is installed),
# unpacked in the cache that also holds the QEMU build (REGDBG_CACHE, default ~/.cache/regdbg),
# under hwbed/. The kernel package is derived each time from `apt-cache depends linux-image-amd64`
# (Debian's archive keeps only the current one); a version already unpacked is not fetched again,
# and older ones are removed.
#
#   hwbed-fetch.sh OUT_DIR    OUT_DIR gets vmlinuz, uio.ko, uio_pci_generic.ko, busybox,
#                             i2c-ccgx-ucsi.ko and i2c-designware-pci.ko (the real I2C driver that
#                             tests/integration/test_linux_guest.py loads against the proxy) and versions,
#                             each replaced only when it differs (so that make rebuilds the
#                             initramfs only when one of them changed)
set -eu

CACHE=${REGDBG_CACHE:-${XDG_CACHE_HOME:-${HOME:-/var/tmp}/.cache}/regdbg}
BED="$CACHE/hwbed"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

say() { echo "hwbed-fetch: $*" >&2; }

[ $# -eq 1 ] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
OUT=$1

kernel_pkg() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1
}

# fetch PACKAGE: PACKAGE's .deb unpacked in $BED/PACKAGE_VERSION (once); prints that folder
fetch() {
    ver=$(apt-cache show --no-all-versions "$1" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)
    [ -n "$ver" ] || { say "apt knows no package $1 (run apt-get update)"; return 1; }
    dir="$BED/$1_$(echo "$ver" | tr ':' '+')"
    if [ ! -f "$dir/.unpacked" ]; then
        say "downloading $1 $ver"
        rm -rf "$dir" "$dir.tmp" && mkdir -p "$dir.tmp/deb"
        (cd "$dir.tmp/deb" && apt-get download -qq "$1=$ver" >/dev/null 2>&1) || {
            rm -rf "$dir.tmp"; say "apt-get download $1=$ver failed"; return 1; }
        dpkg-deb -x "$dir.tmp"/deb/*.deb "$dir.tmp/root"
        rm -rf "$dir.tmp/deb"
        touch "$dir.tmp/.unpacked"
        mv "$dir.tmp" "$dir"
    fi
    echo "$dir"
}

mkdir -p "$BED"
pkg=$(kernel_pkg)
if [ -z "$pkg" ] || ! kdir=$(fetch "$pkg") || ! bdir=$(fetch busybox-static); then
    # The machine's package lists may be older than the archive (which keeps one kernel only).
    say "updating the package lists and trying again"
    $SUDO apt-get update -qq
    pkg=$(kernel_pkg)
    [ -n "$pkg" ] || { say "apt-cache depends linux-image-amd64 names no kernel package"; exit 1; }
    kdir=$(fetch "$pkg") || exit 1
    bdir=$(fetch busybox-static) || exit 1
fi
# Only the current kernel is kept.
for old in "$BED"/linux-image-*; do
    [ -e "$old" ] && [ "$old" != "$kdir" ] && rm -rf "$old"
done

kver=${pkg#linux-image-}
vmlinuz="$kdir/root/boot/vmlinuz-$kver"
uio="$kdir/root/lib/modules/$kver/kernel/drivers/uio"
i2c="$kdir/root/lib/modules/$kver/kernel/drivers/i2c/busses"
for f in "$vmlinuz" "$uio/uio.ko" "$uio/uio_pci_generic.ko" "$bdir/root/bin/busybox" \
         "$i2c/i2c-ccgx-ucsi.ko" "$i2c/i2c-designware-pci.ko"; do
    [ -f "$f" ] || { say "$f is missing from the unpacked packages"; exit 1; }
done

sync_file() { # copy only when different, so unchanged files keep their mtime
    if ! cmp -s "$1" "$2"; then cp "$1" "$2.tmp" && mv "$2.tmp" "$2"; fi
}
mkdir -p "$OUT"
sync_file "$vmlinuz" "$OUT/vmlinuz"
sync_file "$uio/uio.ko" "$OUT/uio.ko"
sync_file "$uio/uio_pci_generic.ko" "$OUT/uio_pci_generic.ko"
sync_file "$bdir/root/bin/busybox" "$OUT/busybox"
sync_file "$i2c/i2c-ccgx-ucsi.ko" "$OUT/i2c-ccgx-ucsi.ko"
sync_file "$i2c/i2c-designware-pci.ko" "$OUT/i2c-designware-pci.ko"
printf '%s\n%s\n' "$(basename "$kdir")" "$(basename "$bdir")" >"$OUT/versions.new"
sync_file "$OUT/versions.new" "$OUT/versions"
rm -f "$OUT/versions.new"
