"""The README's examples run as written. Each shell block marked `<!-- test: NAME -->` is run
verbatim with bash -e in a fresh temp dir (standing for the top of the source tree: `build` there
is the build under test) with build/bin on PATH, and its output is compared with the block marked
`<!-- test: NAME-output -->`: line for line, where only times, the recording's duration and rate,
the count of skipped earlier accesses, guest PCs with their offsets and lines (they follow the
test guest's code) and the varying fields of JSON lines may differ, and "..." stands for any
lines."""

import json
import os
import re
import signal
import subprocess

from harness import BUILD, QEMU, TOP, TempDir, check, parse_record_summary

README = os.path.join(TOP, "README.md")
MARK = re.compile(r"^<!-- test: ([\w-]+) -->\n```\n(.*?)^```$", re.M | re.S)
JSON_VARYING = {"seq", "t_ns", "off", "value", "reg", "fields", "pc", "sym", "src"}


def readme_blocks():
    with open(README) as f:
        return {m.group(1): m.group(2) for m in MARK.finditer(f.read())}


def normalize(line):
    """A line with what legitimately differs between runs replaced by placeholders."""
    if line.startswith("{"):
        obj = json.loads(line)
        return json.dumps({k: ("<%s>" % type(v).__name__ if k in JSON_VARYING else v)
                           for k, v in obj.items()}, sort_keys=True)
    line = re.sub(r"\b\d+\.\d{9}\b", "<T>", line)
    line = re.sub(r" pc=0x[0-9a-f]+", " pc=<PC>", line)
    line = re.sub(r"\+0x[0-9a-f]+ \(([^)]*):\d+\)(?=  |$)", r"+<OFF> (\1:<LINE>)", line)
    line = re.sub(r"\b\d+\.\d{3} s(, \d+ events/s)?", "<S>", line)
    line = re.sub(r"(; )?\d+ earlier accesses skipped", "", line)
    return re.sub(r" \(\)$", "", line)


def check_output(name, got, sample):
    got = got.splitlines()
    if "..." in sample:
        cut = sample.index("...")
        head, tail = sample[:cut], sample[cut + 1:]
    else:
        head, tail = sample, []
    check(len(got) >= len(head) + len(tail), "%s: %d lines of output, the README shows %d:\n%s"
          % (name, len(got), len(head) + len(tail), "\n".join(got)))
    pairs = list(zip(got[:len(head)], head)) + list(zip(got[len(got) - len(tail):], tail))
    if not tail and "..." not in sample:
        check(len(got) == len(head), "%s: %d lines of output, the README shows %d:\n%s"
              % (name, len(got), len(head), "\n".join(got)))
    for real, shown in pairs:
        check(normalize(real) == normalize(shown), "%s: the README shows\n  %s\nthe run printed\n"
              "  %s" % (name, shown, real))
    for line in got:
        if line.startswith("regdbg record:"):
            parse_record_summary(line)
    return got


def stop_leftovers(tmp):
    """QEMUs a failed example left daemonized (their -pidfile), and their rings."""
    for name in os.listdir(tmp.path):
        if not name.endswith(".pid"):
            continue
        try:
            pid = int(open(tmp(name)).read())
            if os.path.realpath("/proc/%d/exe" % pid) == os.path.realpath(QEMU):
                os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            continue
        for ring in os.listdir("/dev/shm"):
            if ring.startswith("regdbg-%d-" % pid):
                os.unlink(os.path.join("/dev/shm", ring))


def run_block(t, name):
    blocks = readme_blocks()
    check(name in blocks and name + "-output" in blocks, "README.md has no blocks %s and %s-output"
          % (name, name))
    tmp = TempDir()
    t.owned.append(type("Cleanup", (), {"kill": lambda self: (stop_leftovers(tmp),
                                                               tmp.cleanup())})())
    os.symlink(BUILD, tmp("build"))
    env = dict(os.environ, PATH=os.path.join(BUILD, "bin") + os.pathsep + os.environ["PATH"])
    try:
        r = subprocess.run(["bash", "-e"], input=blocks[name], capture_output=True, text=True,
                           cwd=tmp.path, env=env, timeout=120)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("%s did not finish in 120 s: %s" % (name, e.stderr))
    check(r.returncode == 0 and r.stderr == "", "%s: exit %d, stderr:\n%s" % (name, r.returncode,
                                                                              r.stderr))
    got = check_output(name, r.stdout, blocks[name + "-output"].splitlines())
    return tmp, got


def test_record_example(t):
    tmp, got = run_block(t, "record-example")
    accesses = [line for line in got[1:] if not line.startswith("#")]
    # every access made by the test guest's MMIO helpers (the lines that define them in
    # tests/guest/guest.h), inlined into guest_main
    with open(os.path.join(TOP, "tests", "guest", "guest.h")) as f:
        helpers = [str(n) for n, text in enumerate(f, 1)
                   if re.match(r"static inline \w+ mmio_(read|write)32\(", text)]
    check(len(helpers) == 2, "guest.h defines mmio_read32 and mmio_write32: lines %r" % helpers)
    check(len(accesses) == 2400 and all(
        re.fullmatch(r"[RW] 4 \d+\.\d{9} cpu0 i2c0 bar0\+0x[0-9a-f]{4} IC_\w+ (<-|->) "
                     r"0x[0-9a-f]{8} pc=0x[0-9a-f]+( mode=prot32)? guest_main\+0x[0-9a-f]+ "
                     r"\(tests/guest/guest\.h:(%s)\)(  \S.*)?" % "|".join(helpers), line)
        for line in accesses) and sum("mode=" in line for line in accesses) == 1,
        "dump printed %d access lines, or odd ones" % len(accesses))


test_record_example.timeout = 180


def test_record_running(t):
    tmp, got = run_block(t, "record-running")
    check(os.path.getsize(tmp("fw2.trace")) > 256, "no trace")


test_record_running.timeout = 180


def test_diff_example(t):
    tmp, got = run_block(t, "diff-example")
    check(got[2].startswith("registers: Synopsys DesignWare I2C"), "the elided line: " + got[2])


test_diff_example.timeout = 180
