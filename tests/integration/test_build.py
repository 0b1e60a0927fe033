"""The hook that puts regdbg-proxy into a user's own QEMU tree (`make qemu QEMU_SRC=...`): exactly
one meson line and one Kconfig line, added once however often it runs, and the device's files
copied in; and the whole of `make qemu QEMU_SRC=` on a QEMU tree of its own, whose binary then
serves the debugger. (The pinned build, which every other test uses, goes through the same step.)"""

import os
import subprocess

from harness import BUILD, TOP, Qemu, check, dump_json, regdbg


def test_hook_into_a_qemu_tree_is_two_lines_and_idempotent(t):
    misc = t.tmp("qemu/hw/misc")
    os.makedirs(misc)
    with open(os.path.join(misc, "meson.build"), "w") as f:
        f.write("system_ss.add(when: 'CONFIG_EDU', if_true: files('edu.c'))\n")
    with open(os.path.join(misc, "Kconfig"), "w") as f:
        f.write("config EDU\n    bool\n")
    for _ in range(2):
        r = subprocess.run([os.path.join(TOP, "qemu-device", "build-qemu.sh"), "hook",
                            t.tmp("qemu")], capture_output=True, text=True)
        check(r.returncode == 0, r.stderr)
    meson = open(os.path.join(misc, "meson.build")).read().splitlines()
    kconfig = open(os.path.join(misc, "Kconfig")).read().splitlines()
    check(meson.count("subdir('regdbg')") == 1 and len([m for m in meson if m.strip()]) == 2,
          "meson.build: %r" % meson)
    check(kconfig.count("source regdbg/Kconfig") == 1 and len([k for k in kconfig if k.strip()])
          == 3, "Kconfig: %r" % kconfig)
    for name in ["regdbg-proxy.c", "regdbg-backend.c", "regdbg-rules.c", "regdbg-guard.c",
                 "regdbg-proxy.h",
                 "meson.build", "Kconfig", "trace-events", "include/regdbg/abi.h",
                 "include/regdbg/ring.h", "include/regdbg/rules.h"]:
        check(os.path.isfile(os.path.join(misc, "regdbg", name)), "missing " + name)
    r = subprocess.run([os.path.join(TOP, "qemu-device", "build-qemu.sh"), "hook", t.tmp("")],
                       capture_output=True, text=True)
    check(r.returncode == 1 and "does not look like a QEMU source tree" in r.stderr, r.stderr)


def cache_dir():
    """build-qemu.sh's cache: REGDBG_CACHE, else $XDG_CACHE_HOME/regdbg, else ~/.cache/regdbg."""
    if os.environ.get("REGDBG_CACHE"):
        return os.environ["REGDBG_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.environ.get("HOME", "/var/tmp"),
                                                            ".cache")
    return os.path.join(base, "regdbg")


def test_make_qemu_into_a_user_tree_builds_a_working_qemu(t):
    """A QEMU tree that is not the pinned build's (the pinned source unpacked apart, kept in the
    cache so that a warm run only recompiles what changed): `make qemu QEMU_SRC=` hooks the device
    in, configures and builds; that QEMU has regdbg-proxy and the debugger records through it."""
    tree = os.path.join(cache_dir(), "user-tree-test", "qemu")
    r = subprocess.run([os.path.join(TOP, "qemu-device", "build-qemu.sh"), "unpack", tree],
                       capture_output=True, text=True, timeout=600)
    check(r.returncode == 0, r.stderr)
    r = subprocess.run(["make", "-C", TOP, "BUILD=" + BUILD, "qemu", "QEMU_SRC=" + tree],
                       capture_output=True, text=True, timeout=1500, stdin=subprocess.DEVNULL)
    check(r.returncode == 0 and "built %s/build/qemu-system-x86_64 with regdbg-proxy" % tree
          in r.stderr, (r.stdout + r.stderr)[-3000:])
    misc = os.path.join(tree, "hw", "misc")
    check(open(os.path.join(misc, "meson.build")).read().count("subdir('regdbg')") == 1 and
          open(os.path.join(misc, "Kconfig")).read().count("source regdbg/Kconfig") == 1,
          "the hook is not exactly two lines")
    binary = os.path.join(tree, "build", "qemu-system-x86_64")
    r = subprocess.run([binary, "-device", "regdbg-proxy,help"], capture_output=True, text=True,
                       timeout=30)
    check(r.returncode == 0 and "park-timeout=" in r.stdout and "bar0-file=" in r.stdout,
          r.stdout + r.stderr)
    # Run from its build folder, QEMU looks for firmware in its own tree's pc-bios/; Debian's
    # +ds source ships none (a QEMU checkout does), so point it at Debian's packages.
    firmware = []
    for d in ("/usr/share/seabios", "/usr/lib/ipxe/qemu", "/usr/share/qemu"):
        firmware += ["-L", d]
    q = Qemu(t.tmp, ["regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,bar0-size=4096"],
             binary=binary, name="user-tree", extra=firmware)
    t.owned.append(q)
    bdf = q.qtest.find_device(0x8086, 0x0F41)[0]
    q.qtest.map_bar(bdf, 0, 0xE0000000)
    trace = t.tmp("user-tree.trace")
    rec = t.recorder("--qmp", q.qmp_path, "-o", trace, "--count", "1")
    rec.wait_attached(q.shm_path("/machine/peripheral/i2c0"))
    q.qtest.write(0xE0000000 + 0x10, 4, 0x1234)
    status, out, err = rec.finish()
    check(status == 0, err)
    ev = dump_json(trace)
    check(len(ev) == 1 and ev[0]["off"] == 0x10 and ev[0]["value"] == 0x1234, "%r" % ev)
    check(regdbg("--version").returncode == 0, "regdbg --version")


test_make_qemu_into_a_user_tree_builds_a_working_qemu.timeout = 1800
