"""The hook that puts regdbg-proxy into a user's own QEMU tree (`make qemu QEMU_SRC=...`): exactly
one meson line and one Kconfig line, added once however often it runs, and the device's files
copied in; and the whole of `make qemu QEMU_SRC=` on a QEMU tree of its own, whose binary then
serves the debugger. (The pinned build, which every other test uses, goes through the same step.)
And the layers of the C code: the library (debugger/) free of curses, getopt, views/ and cli/
headers and of process spawning but QEMU's launch, checked by the script the build runs."""

import os
import re
import shutil
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
    for name in ["regdbg-proxy.c", "regdbg-backend.c", "regdbg-rules.c", "regdbg-irq.c",
                 "regdbg-guard.c", "regdbg-dma.c",
                 "regdbg-proxy.h",
                 "regdbg-hostirq.c",
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


def _check_layers(*args):
    return subprocess.run([os.path.join(TOP, "scripts", "check-layers.py")] + list(args),
                          capture_output=True, text=True, timeout=60)


def test_the_library_has_no_curses_getopt_views_or_spawning(t):
    """debugger/ is the model library: scripts/check-layers.py (which the Makefile runs before it
    archives libregdbg.a) finds nothing wrong in its sources and archives, and refuses each kind
    of violation planted in a copy of the tree; the library, the command line and the views are
    compiled with the include paths of their own layer, none with tests/unit."""
    libs = [p for p in (os.path.join(BUILD, "lib", "libregdbg.a"),
                        os.path.join(BUILD, "asan", "lib", "libregdbg.a"),
                        os.path.join(BUILD, "fuzz", "lib", "libregdbg.a")) if os.path.exists(p)]
    check(len(libs) >= 2, "no built library in %s" % BUILD)
    r = _check_layers(*sum((["--lib", p] for p in libs), []))
    check(r.returncode == 0 and r.stdout == "", "the tree breaks the layering:\n" + r.stdout +
          r.stderr)
    # Nothing but the launcher may spawn, and the library's objects need no curses or getopt.
    nm = subprocess.run(["nm", "-A", "-u", libs[0]], capture_output=True, text=True).stdout
    spawners = {line.split(":")[1] for line in nm.splitlines()
                if re.search(r"\b(fork|execvp)\b", line)}
    check(spawners == {"launch.o"}, "objects that spawn: %r" % spawners)

    trees = []

    def planted(rel, text, where):
        trees.append(rel)
        top = t.tmp("tree-%d" % len(trees))
        for d in ("debugger", "debugger/cli", "views"):
            os.makedirs(os.path.join(top, d))
            for name in os.listdir(os.path.join(TOP, d)):
                if name.endswith((".c", ".h")):
                    shutil.copy(os.path.join(TOP, d, name), os.path.join(top, d, name))
        with open(os.path.join(top, rel)) as f:
            lines = f.read().split("\n")
        at = next(i for i, line in enumerate(lines) if line.startswith(where))
        lines.insert(at, text)
        with open(os.path.join(top, rel), "w") as f:
            f.write("\n".join(lines))
        r = _check_layers("--top", top)
        check(r.returncode == 1, "check-layers.py accepted %r in %s: %s" % (text, rel, r.stdout))
        return r.stdout

    out = planted("debugger/session.c", "#include <curses.h>", "#include")
    check(re.fullmatch(r"debugger/session\.c:\d+: the library includes <curses\.h>: curses and "
                       r"getopt belong to views/ and debugger/cli/\n", out), out)
    out = planted("debugger/recorder.h", "#include <getopt.h>", "#include")
    check("debugger/recorder.h:" in out and "<getopt.h>" in out, out)
    out = planted("debugger/session.h", '#include "ui.h"', "#include")
    check(re.fullmatch(r'debugger/session\.h:\d+: the library includes "ui\.h", a views/ '
                       r'header\n', out), out)
    out = planted("debugger/qmp.c", '#include "cli.h"', "#include")
    check('"cli.h", a debugger/cli/ header' in out, out)
    out = planted("debugger/session.c", "static void f(void) { (void)fork(); }",
                  "#include <time.h>")
    check(re.fullmatch(r"debugger/session\.c:\d+: the library spawns a process \(fork\); only "
                       r"debugger/launch\.c does \(QEMU\)\n", out), out)
    # a comment or a string that names them is no violation
    top = t.tmp("tree-quiet")
    shutil.copytree(os.path.join(TOP, "debugger"), os.path.join(top, "debugger"))
    shutil.copytree(os.path.join(TOP, "views"), os.path.join(top, "views"))
    with open(os.path.join(top, "debugger", "session.c"), "a") as f:
        f.write('/* fork() and system() */\nconst char *regdbg_words = "popen(";\n')
    r = _check_layers("--top", top)
    check(r.returncode == 0, r.stdout)

    # The compile lines of each layer: make -n prints them without running anything.
    r = subprocess.run(["make", "-C", TOP, "-n", "-B", "BUILD=" + t.tmp("b"),
                        t.tmp("b") + "/obj/debugger/session.o",
                        t.tmp("b") + "/obj/debugger/cli/record.o",
                        t.tmp("b") + "/obj/views/tui.o"], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    lines = {m.group(1): line for line in r.stdout.splitlines()
             for m in [re.search(r" -c -o \S+/obj/(\S+)\.o ", line)] if m}
    check(set(lines) == {"debugger/session", "debugger/cli/record", "views/tui"},
          "make -n: %s%s" % (r.stdout, r.stderr))
    for name, line in lines.items():
        check("-Itests/unit" not in line, "%s is compiled with -Itests/unit: %s" % (name, line))
    check("-Iviews" not in lines["debugger/session"] and "-Idebugger/cli" not in
          lines["debugger/session"], "the library sees other layers: " + lines["debugger/session"])


def test_runners_use_the_build_they_are_given(t):
    """tests/run.py --build DIR and tests/bench/bench.py --build DIR run DIR's QEMU and regdbg
    (harness takes its paths from REGDBG_BUILD when imported: the option must come first). Given
    a build folder without binaries, both fail naming a path inside it, not the tree's build."""
    empty = t.tmp("empty-build")
    os.makedirs(empty)
    env = {k: v for k, v in os.environ.items() if k != "REGDBG_BUILD"}
    for cmd in (["tests/run.py", "--build", empty, "-k", "test_guest.test_i2c_sequence_tcg"],
                ["tests/bench/bench.py", "--build", empty, "--only", "guest-tcg"]):
        r = subprocess.run(["python3"] + cmd, cwd=TOP, env=env, capture_output=True, text=True,
                           timeout=120)
        out = r.stdout + r.stderr
        check(r.returncode != 0 and os.path.join(empty, "bin", "qemu-system-x86_64") in out,
              "%s: exit %d, output:\n%s" % (" ".join(cmd), r.returncode, out[-2000:]))
