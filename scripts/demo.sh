#!/bin/bash
# `make demo`: the debugger (`regdbg launch`) on QEMU with regdbg-proxy posing as a BayTrail I2C
# controller (8086:0f41) and the demo firmware driving it forever, paced so that a person can
# follow; reads return 0x6 (TX FIFO empty, not full), so its status polls end at once.
# q quits (and shuts that QEMU down), ? lists every key.
set -eu

BUILD=${1:-build}
ACCEL=${DEMO_ACCEL:---tcg}
APPEND=${DEMO_APPEND:-"mode=i2c loops=0 delay=200"}

exec "$BUILD/bin/regdbg" launch "$ACCEL" -- -machine q35 -nodefaults -display none -m 64 \
    -device regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,class-code=0x0c8000,revision=0x01,bar0-size=4096,default-read=0x6 \
    -kernel "$BUILD/guest/regdbg-guest.elf" -append "$APPEND"
