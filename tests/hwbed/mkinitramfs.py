#!/usr/bin/python3
"""Builds the initramfs of the hardware test bed's Linux guest (tests/hwbed/hwbed.mk calls it): a
gzip-compressed cpio (newc) archive holding the static busybox, the project's QEMU (stripped) and
regdbg with every library `ldd` lists and the dynamic loader, the tools of the bed (--tool, in
/bin), the shipped register maps at the very path where this regdbg looks for them (--maps), the
firmware files the inner QEMU opens (found where that QEMU looks: `qemu-system-x86_64 -L help`),
the test firmware, the uio modules and tests/hwbed/init as /init. Owned by root, dated 0: the same inputs give the same
archive."""

import argparse
import gzip
import io
import os
import subprocess
import sys
import tempfile

# What the inner QEMU opens (-machine pc, -kernel with a multiboot ELF, under TCG)
FIRMWARE = ("bios-256k.bin", "kvmvapic.bin", "multiboot_dma.bin")


def fail(msg):
    sys.exit("mkinitramfs: " + msg)


class Cpio:
    """A newc archive, entries in the order they are added (directories before their files)."""

    def __init__(self):
        self.out = io.BytesIO()
        self.ino = 1
        self.dirs = set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        name = name.lstrip("/")
        head = "070701" + "".join("%08X" % v for v in (
            self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0))
        self.ino += 1
        self.out.write(head.encode() + name.encode() + b"\0")
        self.out.write(b"\0" * (-self.out.tell() % 4))
        self.out.write(data)
        self.out.write(b"\0" * (-self.out.tell() % 4))

    def dir(self, path):
        path = path.strip("/")
        if not path or path in self.dirs:
            return
        self.dir(os.path.dirname(path))
        self.dirs.add(path)
        self._entry(path, 0o040755)

    def file(self, path, data, mode=0o644):
        self.dir(os.path.dirname(path.strip("/")))
        self._entry(path, 0o100000 | mode, data)

    def copy(self, path, src, mode=None):
        with open(src, "rb") as f:
            data = f.read()
        self.file(path, data, mode if mode is not None else os.stat(src).st_mode & 0o777)

    def chardev(self, path, major, minor):
        self.dir(os.path.dirname(path.strip("/")))
        self._entry(path, 0o020600, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0)
        return self.out.getvalue()


def libraries(binary):
    """The paths of the shared libraries and loader `ldd` lists for binary."""
    r = subprocess.run(["ldd", binary], capture_output=True, text=True)
    if r.returncode != 0:
        fail("ldd %s: %s" % (binary, r.stderr.strip()))
    paths = []
    for line in r.stdout.splitlines():
        words = line.split()
        if "=>" in words:
            target = words[words.index("=>") + 1]
            if target == "not":
                fail("%s: %s" % (binary, line.strip()))
            paths.append(target)
        elif words and words[0].startswith("/"):
            paths.append(words[0])
    return paths


def stripped(binary, tmp):
    out = os.path.join(tmp, os.path.basename(binary))
    r = subprocess.run(["strip", "-o", out, binary], capture_output=True, text=True)
    if r.returncode != 0:
        fail("strip %s: %s" % (binary, r.stderr.strip()))
    return out


def firmware_dirs(qemu):
    r = subprocess.run([qemu, "-L", "help"], capture_output=True, text=True)
    if r.returncode != 0:
        fail("%s -L help: %s" % (qemu, r.stderr.strip()))
    return [d for d in r.stdout.split() if os.path.isabs(d) and ".." not in d.split("/")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--regdbg", required=True)
    ap.add_argument("--guest", required=True)
    ap.add_argument("--init", required=True)
    ap.add_argument("--fetched", required=True, help="hwbed-fetch.sh's folder")
    ap.add_argument("--tool", action="append", default=[], help="a program for /bin")
    ap.add_argument("--maps", help="the shipped maps' folder, an absolute path")
    opts = ap.parse_args()

    cpio = Cpio()
    for d in ("bin", "dev", "proc", "sys", "tmp", "lib/modules"):
        cpio.dir(d)
    cpio.chardev("dev/console", 5, 1)
    cpio.copy("init", opts.init, 0o755)
    cpio.copy("bin/busybox", os.path.join(opts.fetched, "busybox"), 0o755)
    for mod in ("uio.ko", "uio_pci_generic.ko"):
        cpio.copy("lib/modules/" + mod, os.path.join(opts.fetched, mod))
    cpio.copy("guest.elf", opts.guest)
    libs = []
    with tempfile.TemporaryDirectory(prefix="regdbg-initramfs-") as tmp:
        for binary in [opts.qemu, opts.regdbg] + opts.tool:
            cpio.copy("bin/" + os.path.basename(binary), stripped(binary, tmp), 0o755)
            libs += [lib for lib in libraries(binary) if lib not in libs]
    if opts.maps:
        if not os.path.isabs(opts.maps):
            fail("--maps %s: give the absolute path regdbg was built with" % opts.maps)
        for name in sorted(os.listdir(opts.maps)):
            if name.endswith(".json"):
                cpio.copy(os.path.join(opts.maps, name), os.path.join(opts.maps, name), 0o644)
    for lib in libs:
        cpio.copy(lib, os.path.realpath(lib), 0o755)
    dirs = firmware_dirs(opts.qemu)
    for name in FIRMWARE:
        found = [d for d in dirs if os.path.isfile(os.path.join(d, name))]
        if not found:
            fail("%s is in none of the folders where %s looks for firmware (%s); "
                 "install seabios and qemu-system-data (make deps)" % (name, opts.qemu,
                                                                      " ".join(dirs)))
        cpio.copy(os.path.join(found[0], name), os.path.join(found[0], name), 0o644)

    tmp = opts.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(gzip.compress(cpio.finish(), compresslevel=6, mtime=0))
    os.replace(tmp, opts.out)


if __name__ == "__main__":
    main()
