#!/bin/bash
# `make demo-diff`: the scenario of comparing firmware runs. The demo firmware (the test guest in
# i2c mode, tests/guest/README.md) is recorded from its first access as it is and in three
# variants, each different in one way: one sets another speed in IC_CON, one addresses another
# target in IC_TAR, one polls IC_STATUS longer. Then `regdbg diff --tui` opens the four runs side
# by side (the first, as it is, against each variant: Tab shows the next). With "text" as the
# second argument it prints diff's text report instead (the test suite runs it so).
#
#   scripts/demo-diff.sh [BUILD [tui|text]]    DEMO_DIFF_DIR: where the traces go
#   REGDBG: the regdbg to run (the build's by default)
set -eu

BUILD=${1:-build}
SHOW=${2:-tui}
OUT=${DEMO_DIFF_DIR:-$BUILD/demo-diff}
QEMU=$BUILD/bin/qemu-system-x86_64
REGDBG=${REGDBG:-$BUILD/bin/regdbg}
LOOPS=2

case $SHOW in
tui|text) ;;
*) echo "demo-diff: the second argument is tui or text, not '$SHOW'" >&2; exit 2 ;;
esac
mkdir -p "$OUT"

# record NAME ARGS: the firmware with ARGS, recorded from its first access into OUT/NAME.trace;
# QEMU starts stopped (-S), `record --start` resumes it, the firmware ends QEMU (isa-debug-exit).
record() {
    local name=$1 args=$2
    rm -f "$OUT/$name.trace" "$OUT/$name.sock" "$OUT/$name.pid"
    "$QEMU" -daemonize -pidfile "$OUT/$name.pid" -S -machine q35 -m 64 -display none -nodefaults \
        -serial null -qmp "unix:$OUT/$name.sock,server=on,wait=off" \
        -device regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,class-code=0x0c8000,revision=0x01,bar0-size=4096,default-read=0x6 \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -kernel "$BUILD/guest/regdbg-guest.elf" -append "mode=i2c loops=$LOOPS $args"
    "$REGDBG" record --qmp "$OUT/$name.sock" --start -o "$OUT/$name.trace" >/dev/null
}

record fw-as-is ""
record fw-fast "speed=fast"
record fw-other-target "tar=0x1a"
record fw-slow-poll "polls=8"

runs=("$OUT/fw-as-is.trace" "$OUT/fw-fast.trace" "$OUT/fw-other-target.trace"
      "$OUT/fw-slow-poll.trace")
if [ "$SHOW" = text ]; then
    # diff's exit status 1 only says that the runs differ, which they do here
    "$REGDBG" diff "${runs[@]}" --context 1 || [ $? -eq 1 ]
else
    exec "$REGDBG" diff --tui "${runs[@]}"
fi
