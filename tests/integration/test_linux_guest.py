"""Who made a real driver's accesses: Debian's own Linux kernel (the test bed's, build/hwbed/fetched,
scripts/hwbed-fetch.sh) boots under TCG with a regdbg-proxy posing as BayTrail's I2C controller,
and its real i2c-designware-pci driver probes it while `regdbg record --start` records the proxy.
The guest prints the kernel's symbols from /proc/kallsyms (nm form: what `--symbols` reads for a
kernel or module without its debug info; Debian's System.map is a stub) on its console, and
`regdbg dump --symbols` names each access by the driver's functions."""

import json
import os
import re
import struct
import sys

from harness import BUILD, check, dump_json, regdbg

FETCHED = os.path.join(BUILD, "hwbed", "fetched")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hwbed"))

from mkinitramfs import Cpio  # noqa: E402

I2C = ("regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,class-code=0x0c8000,"
       "bar0-size=4096,backend=file,bar0-file=%s")

# The guest's /init. The driver's probe happens inside insmod; kallsyms is read after it, so that
# the module's own symbols are there too. Only the text symbols of the I2C DesignWare code are
# printed (the whole of kallsyms is megabytes on a serial port), each with the text symbol that
# follows it, where it ends (an nm list's function runs up to the next symbol).
INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
insmod /i2c-ccgx-ucsi.ko
insmod /i2c-designware-pci.ko
echo "linux-guest: adapters $(cat /sys/bus/i2c/devices/*/name 2>/dev/null)"
echo "kallsyms-begin"
awk '$2 ~ /^[tT]$/ { if ($3 ~ /dw|designware/) { print; keep = 1 } else if (keep) { print; keep = 0 } }' /proc/kallsyms
echo "kallsyms-end"
poweroff -f
"""


def initramfs(path):
    cpio = Cpio()
    cpio.copy("bin/busybox", os.path.join(FETCHED, "busybox"), 0o755)
    for ko in ("i2c-ccgx-ucsi.ko", "i2c-designware-pci.ko"):
        cpio.copy(ko, os.path.join(FETCHED, ko), 0o644)
    for d in ("proc", "sys", "dev"):
        cpio.dir(d)
    cpio.chardev("dev/console", 5, 1)
    cpio.file("init", INIT.encode(), 0o755)
    with open(path, "wb") as f:
        f.write(cpio.finish())


def test_linux_driver_accesses_named_from_kallsyms(t):
    for f in ("vmlinuz", "busybox", "i2c-designware-pci.ko"):
        check(os.path.isfile(os.path.join(FETCHED, f)),
              "%s is missing from %s: make test fetches it (scripts/hwbed-fetch.sh)" % (f, FETCHED))
    # BAR0 seeded with what the probe checks (../shared/notes/linux-guest.md): IC_COMP_TYPE, the
    # FIFO depths in IC_COMP_PARAM_1, IC_COMP_VERSION, IC_ENABLE_STATUS 0
    bar = bytearray(4096)
    for off, value in ((0xFC, 0x44570140), (0xF4, 0x000F0F00), (0xF8, 0x3131312A), (0x9C, 0)):
        bar[off:off + 4] = struct.pack("<I", value)
    bar_file = t.tmp("bar0.bin")
    with open(bar_file, "wb") as f:
        f.write(bar)
    rd = t.tmp("initramfs.cpio")
    initramfs(rd)
    console = t.tmp("console.log")
    q = t.qemu([I2C % bar_file], qtest=False, accel="tcg", paused=True,
               extra=["-m", "256", "-no-reboot", "-serial", "file:" + console,
                      "-kernel", os.path.join(FETCHED, "vmlinuz"), "-initrd", rd,
                      "-append", "console=ttyS0 loglevel=1 panic=-1 nokaslr rdinit=/init"])
    trace = t.tmp("linux.trace")
    rec = t.recorder("--qmp", q.qmp_path, "--start", "-o", trace)
    status, out, err = rec.finish(timeout=150)
    check(status == 0 and err == "", "record: %d %s %s" % (status, out, err))
    q.wait(30)
    text = open(console, errors="replace").read()
    check("Synopsys DesignWare I2C adapter" in text,
          "the driver registered no adapter; console:\n" + text[-4000:])
    m = re.search(r"kallsyms-begin\r?\n(.*?)kallsyms-end", text, re.S)
    check(m, "no kallsyms on the console:\n" + text[-4000:])
    syms = t.tmp("kallsyms.txt")
    with open(syms, "w") as f:
        f.write(m.group(1).replace("\r", ""))
    listed = {}
    for line in m.group(1).splitlines():
        w = line.split()
        if len(w) >= 3:
            listed[w[2]] = int(w[0], 16)
    check(listed and all(a for a in listed.values()),
          "kallsyms gave no addresses (kptr_restrict?):\n" + m.group(1)[:2000])

    events = [e for e in dump_json(trace) if e.get("dir") in ("r", "w")]
    check(len(events) >= 15, "%d accesses recorded" % len(events))
    check(all("pc" in e for e in events), "accesses without a PC: %r"
          % [e for e in events if "pc" not in e][:3])
    # The probe's first access reads IC_COMP_TYPE (0xfc), in long mode, from kernel text
    first = events[0]
    check(first["off"] == 0xFC and first["dir"] == "r" and first["mode"] == "long64" and
          first["pc"] >= 0xFFFFFFFF80000000, "first access: %r" % first)
    r = regdbg("dump", "--symbols", syms, "--format", "json", trace)
    check(r.returncode == 0 and r.stderr == "", "dump --symbols: %d %s" % (r.returncode, r.stderr))
    named = [json.loads(ln) for ln in r.stdout.splitlines()]
    named = [e for e in named if e.get("dir") in ("r", "w")]
    funcs = sorted(listed.items(), key=lambda kv: kv[1])
    for e in named:
        check("sym" in e, "access without a name: %r" % e)
        func, off = re.fullmatch(r"(\S+)\+0x([0-9a-f]+)", e["sym"]).groups()
        check(re.search(r"dw|designware", func), "access %r named %s, not the driver's code"
              % (e, e["sym"]))
        # the name is the listed function the PC falls in: at or after its start, before the next
        start = listed[func]
        later = [a for _, a in funcs if a > start]
        check(e["pc"] == start + int(off, 16) and (not later or e["pc"] < min(later)),
              "pc %#x named %s (listed at %#x)" % (e["pc"], e["sym"], start))
    names = sorted({e["sym"].split("+")[0] for e in named})
    # Linux 6.1 reaches the registers through the driver's regmap callbacks (linux-guest.md)
    check(any(n.startswith("dw_reg_") for n in names), "functions named: %r" % names)


test_linux_driver_accesses_named_from_kallsyms.timeout = 240
