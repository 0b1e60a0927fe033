"""The hook that puts regdbg-proxy into a user's own QEMU tree (`make qemu QEMU_SRC=...`): exactly
one meson line and one Kconfig line, added once however often it runs, and the device's files
copied in. (The pinned build, which every other test uses, goes through the same step.)"""

import os
import subprocess

from harness import TOP, check


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
    for name in ["regdbg-proxy.c", "regdbg-backend.c", "regdbg-rules.c", "regdbg-proxy.h",
                 "meson.build", "Kconfig", "trace-events", "include/regdbg/abi.h",
                 "include/regdbg/ring.h", "include/regdbg/rules.h"]:
        check(os.path.isfile(os.path.join(misc, "regdbg", name)), "missing " + name)
    r = subprocess.run([os.path.join(TOP, "qemu-device", "build-qemu.sh"), "hook", t.tmp("")],
                       capture_output=True, text=True)
    check(r.returncode == 1 and "does not look like a QEMU source tree" in r.stderr, r.stderr)
