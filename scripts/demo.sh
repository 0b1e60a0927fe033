#!/bin/bash
# `make demo`: QEMU with regdbg-proxy posing as a BayTrail I2C controller (8086:0f41), the demo
# firmware driving it forever, `regdbg record` draining the ring into a trace and
# `regdbg dump --follow` printing every access as it happens. Ctrl-C stops all three.
set -eu

BUILD=${1:-build}
DIR=$BUILD/demo
QMP=$DIR/qmp.sock
TRACE=$DIR/demo.trace
ACCEL=${DEMO_ACCEL:-tcg}
# The firmware pauses between I2C transfers so that a person can follow the stream.
APPEND=${DEMO_APPEND:-"mode=i2c loops=0 delay=500"}

mkdir -p "$DIR"
rm -f "$QMP" "$TRACE"

"$BUILD/bin/qemu-system-x86_64" -machine q35 -accel "$ACCEL" -nodefaults -display none -m 64 \
    -serial "file:$DIR/serial.log" -qmp "unix:$QMP,server=on,wait=off" \
    -device regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,class-code=0x0c8000,revision=0x01,bar0-size=4096 \
    -kernel "$BUILD/guest/regdbg-guest.elf" -append "$APPEND" &
QEMU_PID=$!
REC_PID=

stop() {
    trap - EXIT INT TERM
    [ -n "$REC_PID" ] && kill -INT "$REC_PID" 2>/dev/null && wait "$REC_PID" 2>/dev/null
    kill "$QEMU_PID" 2>/dev/null
    wait "$QEMU_PID" 2>/dev/null
    echo "demo: trace kept in $TRACE (regdbg dump $TRACE)"
}
trap stop EXIT INT TERM

for _ in $(seq 100); do
    [ -S "$QMP" ] && break
    kill -0 "$QEMU_PID" 2>/dev/null || { echo "demo: QEMU did not start" >&2; exit 1; }
    sleep 0.1
done
"$BUILD/bin/regdbg" record --qmp "$QMP" -o "$TRACE" &
REC_PID=$!
for _ in $(seq 100); do
    [ -s "$TRACE" ] && break
    sleep 0.1
done
echo "demo: QEMU pid $QEMU_PID, firmware: $APPEND; Ctrl-C stops"
"$BUILD/bin/regdbg" dump --follow "$TRACE"
