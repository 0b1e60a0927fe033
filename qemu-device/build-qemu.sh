#!/bin/sh
# Builds QEMU with regdbg-proxy compiled in.
#
#   build-qemu.sh pinned OUT_BIN    the pinned QEMU 10.0.2 (Debian's source package) in a cache outside
#                                   the repository; OUT_BIN becomes a copy of the binary, replaced only
#                                   when it changed (make rebuilds what is made of it only then)
#   build-qemu.sh tree QEMU_SRC     the user's own QEMU tree: install the device, add the two-line hook
#                                   (hw/misc/meson.build, hw/misc/Kconfig) and build it in QEMU_SRC/build
#   build-qemu.sh hook QEMU_SRC     only install the device and the hook (idempotent), no build
#   build-qemu.sh unpack DIR        a QEMU tree to try `make qemu QEMU_SRC=DIR` on: the pinned source,
#                                   unpacked into DIR (once; idempotent), without the device
#
# The cache (REGDBG_CACHE, default ~/.cache/regdbg) is keyed by the QEMU version; the device sources are
# copied in only when they differ, so ninja rebuilds just what a device change touched.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
QEMU_VERSION=10.0.2
DEB_VERSION="1:10.0.2+ds-2+deb13u1~bpo12+1"
TARBALL="qemu_10.0.2+ds.orig.tar.xz"
CACHE=${REGDBG_CACHE:-${XDG_CACHE_HOME:-${HOME:-/var/tmp}/.cache}/regdbg}
DEVICE_FILES="regdbg-proxy.c regdbg-proxy.h regdbg-backend.c regdbg-rules.c regdbg-irq.c regdbg-guard.c regdbg-cpu.c regdbg-clock.c
 regdbg-dma.c regdbg-hostirq.c meson.build Kconfig trace-events"
CONFIGURE_ARGS="--python=/usr/bin/python3 --target-list=x86_64-softmmu --without-default-features
 --disable-docs --disable-werror --enable-slirp --enable-kvm --enable-tcg --disable-download
 --disable-install-blobs --firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu"

say() { echo "build-qemu: $*" >&2; }

sync_file() { # copy only when different, so unchanged files keep their mtime
    if ! cmp -s "$1" "$2"; then cp "$1" "$2.tmp" && mv "$2.tmp" "$2"; fi
}

install_device() { # $1 = QEMU source tree
    dst="$1/hw/misc/regdbg"
    mkdir -p "$dst/include/regdbg"
    for f in $DEVICE_FILES; do
        [ -f "$HERE/$f" ] && sync_file "$HERE/$f" "$dst/$f"
    done
    for f in "$TOP"/include/regdbg/*.h; do
        [ -f "$f" ] || continue
        sync_file "$f" "$dst/include/regdbg/$(basename "$f")"
    done
    # The whole hook: one meson line and one Kconfig line.
    grep -qx "subdir('regdbg')" "$1/hw/misc/meson.build" ||
        printf "\nsubdir('regdbg')\n" >>"$1/hw/misc/meson.build"
    grep -qx 'source regdbg/Kconfig' "$1/hw/misc/Kconfig" ||
        printf '\nsource regdbg/Kconfig\n' >>"$1/hw/misc/Kconfig"
}

fetch_pinned() { # $1 = directory to unpack into
    if [ -f "$1/.regdbg-unpacked" ]; then return; fi
    mkdir -p "$CACHE/dl"
    if [ ! -f "$CACHE/dl/$TARBALL" ]; then
        say "downloading QEMU $QEMU_VERSION source ($DEB_VERSION)"
        # Debian serves the orig tarball but not the .dsc of this backport: ignore apt's 404s,
        # check the tarball instead.
        (cd "$CACHE/dl" && apt-get source --download-only -qq "qemu=$DEB_VERSION" >/dev/null 2>&1) || true
        if [ ! -f "$CACHE/dl/$TARBALL" ]; then
            say "could not download $TARBALL: is deb-src for bookworm-backports configured? (make deps)"
            exit 1
        fi
    fi
    say "unpacking $TARBALL"
    rm -rf "$1.tmp" && mkdir -p "$1.tmp"
    tar -xJf "$CACHE/dl/$TARBALL" -C "$1.tmp" --strip-components=1
    # The +ds tarball drops the firmware blobs; configure still wants these names.
    for f in $(sed -n "s/^ *'\(edk2-[a-z0-9_-]*\.fd\)',$/\1/p" "$1.tmp/pc-bios/meson.build"); do
        [ -f "$1.tmp/pc-bios/$f.bz2" ] || bzip2 </dev/null >"$1.tmp/pc-bios/$f.bz2"
    done
    touch "$1.tmp/.regdbg-unpacked"
    rm -rf "$1" && mv "$1.tmp" "$1"
}

configure_and_build() { # $1 = source tree, $2 = build dir
    stamp="$2/.regdbg-configure-args"
    if [ ! -f "$2/build.ninja" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$CONFIGURE_ARGS" ]; then
        say "configuring QEMU in $2"
        rm -rf "$2" && mkdir -p "$2"
        # shellcheck disable=SC2086
        (cd "$2" && "$1/configure" $CONFIGURE_ARGS >configure.log 2>&1) || {
            tail -30 "$2/configure.log" >&2; say "configure failed (log: $2/configure.log)"; exit 1; }
        echo "$CONFIGURE_ARGS" >"$stamp"
    fi
    say "building qemu-system-x86_64 in $2"
    ninja -C "$2" -j"$(nproc)" qemu-system-x86_64
}

case "${1:-}" in
pinned)
    out=$2
    src="$CACHE/qemu-$QEMU_VERSION/src"
    bld="$CACHE/qemu-$QEMU_VERSION/build"
    fetch_pinned "$src"
    install_device "$src"
    configure_and_build "$src" "$bld"
    mkdir -p "$(dirname "$out")"
    sync_file "$bld/qemu-system-x86_64" "$out"
    ;;
unpack)
    fetch_pinned "$2"
    ;;
hook)
    src=$(cd "$2" && pwd)
    [ -f "$src/hw/misc/meson.build" ] || { say "$src does not look like a QEMU source tree"; exit 1; }
    install_device "$src"
    ;;
tree)
    src=$(cd "$2" && pwd)
    [ -f "$src/hw/misc/meson.build" ] || { say "$src does not look like a QEMU source tree"; exit 1; }
    install_device "$src"
    if [ -f "$src/build/build.ninja" ]; then
        ninja -C "$src/build" qemu-system-x86_64
    else
        configure_and_build "$src" "$src/build"
    fi
    say "built $src/build/qemu-system-x86_64 with regdbg-proxy"
    ;;
*)
    echo "usage: $0 pinned OUT_BIN | tree QEMU_SRC | hook QEMU_SRC | unpack DIR" >&2
    exit 2
    ;;
esac
