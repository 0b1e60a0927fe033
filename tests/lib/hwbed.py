"""The hardware test bed's boot (tests/hwbed): a Linux guest under TCG in this project's QEMU with
QEMU's edu device, its /init (tests/hwbed/init) run once, and what it printed on the serial console
parsed into facts and blocks. tests/integration/test_hwbed.py checks one boot; tests/bench/bench.py
boots it with hwbed=bench for the DMA figures."""

import os
import re
import subprocess
import time

from harness import BUILD, QEMU, TestFailure, check

HWBED = os.path.join(BUILD, "hwbed")
VMLINUZ = os.path.join(HWBED, "fetched", "vmlinuz")
INITRAMFS = os.path.join(HWBED, "initramfs.cpio.gz")
BOOT_TIMEOUT = 180          # about 20 s here; TCG on a loaded machine is slower


class Bed:
    """What /init printed: facts ("hwbed: KEY=VALUE") and blocks ("hwbed-begin NAME" ..
    "hwbed-end NAME"), with the whole console text for failure messages."""

    def __init__(self, text, seconds):
        self.text = text
        self.seconds = seconds
        self.facts = {}
        self.blocks = {}
        name = None
        for line in text.splitlines():
            line = line.rstrip("\r")
            if name is not None:
                if line == "hwbed-end " + name:
                    name = None
                else:
                    self.blocks[name].append(line)
                continue
            m = re.match(r"hwbed-begin (\S+)$", line)
            if m:
                name = m.group(1)
                self.blocks[name] = []
                continue
            m = re.match(r"hwbed: ([a-z0-9_]+)=(.*)$", line)
            if m:
                self.facts[m.group(1)] = m.group(2)

    def fact(self, key):
        check(key in self.facts, "/init said no %s:\n%s" % (key, self.text[-6000:]))
        return self.facts[key]

    def num(self, key):
        return int(self.fact(key), 0)

    def block(self, name):
        check(name in self.blocks, "/init printed no block %s:\n%s" % (name, self.text[-6000:]))
        return self.blocks[name]


def boot(tmp, append="", timeout=BOOT_TIMEOUT):
    """One boot; append: more of the kernel's command line (hwbed=bench)."""
    for path, what in ((VMLINUZ, "the kernel"), (INITRAMFS, "the initramfs")):
        check(os.path.isfile(path), "%s of the test bed, %s, is missing: make test builds it "
              "(alone: make %s)" % (what, path, os.path.relpath(INITRAMFS, os.getcwd())))
    log = tmp("hwbed-console.txt")
    args = [QEMU, "-machine", "pc", "-accel", "tcg", "-cpu", "max", "-smp", "1", "-m", "160",
            "-nodefaults", "-display", "none", "-no-reboot", "-serial", "file:" + log,
            "-device", "edu", "-kernel", VMLINUZ, "-initrd", INITRAMFS,
            "-append", ("console=ttyS0 loglevel=1 panic=-1 rdinit=/init " + append).strip()]
    t0 = time.monotonic()
    with open(tmp("hwbed-qemu.txt"), "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        try:
            status = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            status = "killed after %d s" % timeout
    seconds = time.monotonic() - t0
    text = open(log, errors="replace").read() if os.path.exists(log) else ""
    qemu_out = open(tmp("hwbed-qemu.txt"), errors="replace").read()
    bed = Bed(text, seconds)
    check(status == 0 and bed.facts.get("end") == "ok",
          "the bed's VM ended with %s after %.1f s, /init said end=%r; QEMU: %s\nconsole:\n%s"
          % (status, seconds, bed.facts.get("end"), qemu_out, text[-8000:]))
    return bed
