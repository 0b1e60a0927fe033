#!/bin/sh
# Installs every Debian 12 package regdbg needs to build, test and run, idempotently.
# Adds deb-src and bookworm-backports entries derived from the machine's own Debian entries
# (QEMU 10.0 needs meson >= 1.5 from backports; its source tarball comes from deb-src).
# Quiet when nothing is missing; uses sudo when not root.
set -eu

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

PKGS="python3 gcc make pkg-config libc6-dev binutils libjansson-dev libpci-dev libdw-dev pciutils libncurses-dev tmux
 ninja-build python3-venv libglib2.0-dev libpixman-1-dev libfdt-dev libslirp-dev flex bison bzip2 xz-utils
 seabios qemu-system-data ipxe-qemu dpkg-dev clang libclang-rt-14-dev jq"
BPO_PKGS="meson python3-pycotap"
LIST=/etc/apt/sources.list.d/regdbg-backports.sources

missing=
for p in $PKGS; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing="$missing $p"
done
meson_ok=0
if dpkg-query -W -f='${Version}\n' meson 2>/dev/null | grep -q . &&
   dpkg --compare-versions "$(dpkg-query -W -f='${Version}' meson)" ge 1.5; then
    meson_ok=1
fi
dpkg-query -W -f='${Status}\n' python3-pycotap 2>/dev/null | grep -q '^install ok installed' || meson_ok=0

if [ -z "$missing" ] && [ "$meson_ok" = 1 ] && [ -f "$LIST" ]; then
    exit 0
fi

echo "deps: installing:${missing:-} ${BPO_PKGS}" >&2

if [ ! -f "$LIST" ]; then
    # Derive the mirror from the machine's own bookworm entry; never hard-code a host.
    uri=
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        uri=$(awk '/^URIs:/ {u=$2} /^Suites:/ && / bookworm( |$)/ {print u; exit}' \
              /etc/apt/sources.list.d/debian.sources)
    fi
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1=="deb" && $3=="bookworm" {print $2; exit}' /etc/apt/sources.list)
    fi
    if [ -z "$uri" ]; then
        echo "deps: cannot find a Debian bookworm entry in /etc/apt to derive backports from" >&2
        exit 1
    fi
    printf 'Types: deb deb-src\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb-src\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$uri" "$uri" | $SUDO tee "$LIST.tmp" >/dev/null
    $SUDO mv "$LIST.tmp" "$LIST"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports $BPO_PKGS >/dev/null
echo "deps: done" >&2
