"""`regdbg diff` (docs/diff.md) on real recordings: the test guest makes exact accesses in script
mode under a real QEMU and `regdbg record --start` records them from the first; runs that differ
in one value, one access or the length of a poll; three and four runs; --mask, --ignore and
--writes; the JSON report; a damaged trace (exit 2, the damage located). Traces written here with
struct, in format version 1 (docs/trace-format.md), stand for what a recording cannot make at
will: polls that see several values, other devices, runs too different to align."""

import json
import os
import re
import struct

from harness import GUEST, check, regdbg

I2C = ("regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,class-code=0x0c8000,"
       "bar0-size=4096,default-read=0x%x")
EXIT_DEV = "isa-debug-exit,iobase=0xf4,iosize=0x04"

# A DesignWare I2C transfer as the test guest's script mode makes it (tests/guest/README.md):
# accesses 1-3 read IC_COMP_TYPE, disable, read IC_ENABLE_STATUS; 4 writes IC_CON, 5 IC_TAR,
# 6 enables; 7-9 poll IC_STATUS three times; then a byte out, one in, disable.
BASE = ["rfc", "w6c=0", "r9c", "w0=0x63", "w4=0x50", "w6c=1", "r70", "r70", "r70", "w10=0x15",
        "w10=0x300", "r70", "r10", "w6c=0"]


def record(t, name, ops, default_read=0x6):
    """A trace of the guest making ops, recorded from its first access."""
    serial = t.tmp(name + "-serial.log")
    q = t.qemu([I2C % default_read], qtest=False, accel="tcg", paused=True, name=name,
               extra=["-kernel", GUEST, "-append", "mode=script ops=" + ",".join(ops),
                      "-device", EXIT_DEV, "-serial", "file:" + serial])
    trace = t.tmp(name + ".trace")
    r = regdbg("record", "--qmp", q.qmp_path, "--start", "-o", trace, timeout=120)
    check(r.returncode == 0, "record %s: %s" % (name, r.stderr))
    status = q.wait(60)
    check(status == 1, "guest exit status %d: %s" % (status, open(serial).read()))
    return trace


def replaced(ops, index, op):
    return ops[:index] + [op] + ops[index + 1:]


def diff(*args):
    r = regdbg("diff", *args)
    check(r.returncode in (0, 1, 2), "exit %d: %s" % (r.returncode, r.stderr))
    return r


def hunk_lines(out):
    """The lines of the hunks: those starting with '-', '+' or ' ' and a number."""
    return [line for line in out.splitlines() if line[:1] in "-+ " and line[1:11].strip().isdigit()]


def test_identical_runs_are_the_same(t):
    a, b = record(t, "a", BASE), record(t, "b", BASE)
    r = diff(a, b)
    lines = r.stdout.splitlines()
    check(r.returncode == 0 and lines[-1] == "no differences",
          "exit %d, last line %r:\n%s" % (r.returncode, lines[-1], r.stdout))
    check(lines[0] == "run 1: %s: i2c0 8086:0f41, 14 accesses" % a and
          lines[1] == "run 2: %s: i2c0 8086:0f41, 14 accesses" % b, r.stdout)
    check("@@" not in r.stdout and "first divergence" not in r.stdout and
          "note:" not in r.stdout, r.stdout)
    # the summary: IC_STATUS read 4 times in each, one value
    row = [ln for ln in lines if ln.split()[:1] == ["IC_STATUS"]]
    check(row and row[0].split()[1:] == ["4/0", "4/0", "0x00000006"], "summary row %r" % row)


def test_changed_value_is_the_first_divergence(t):
    a = record(t, "a", BASE)
    b = record(t, "b", replaced(BASE, 3, "w0=0x65"))
    r = diff(a, b)
    check(r.returncode == 1, "exit %d:\n%s%s" % (r.returncode, r.stdout, r.stderr))
    check("first divergence: access 4 (run 1) / 4 (run 2): IC_CON written 0x00000063 in run 1, "
          "0x00000065 in run 2; SPEED: std vs fast\n" in r.stdout, r.stdout)
    lines = hunk_lines(r.stdout)
    check([(ln[0], int(ln[1:11])) for ln in lines] ==
          [(" ", 1), (" ", 2), (" ", 3), ("-", 4), ("+", 4), (" ", 5), (" ", 6), (" ", 7)],
          "three accesses of context before and after:\n" + "\n".join(lines))
    check(lines[3].split()[1:5] == ["4", "W4", "IC_CON", "←"] and "SPEED=std" in lines[3] and
          "SPEED=fast" in lines[4], "decoded lines:\n%s\n%s" % (lines[3], lines[4]))
    check(r.stdout.count("@@") == 2 and r.stdout.splitlines()[-1] == "the runs differ: 1 hunk",
          r.stdout)
    # --context 1
    r = diff(a, b, "--context", "1")
    check([ln[0] for ln in hunk_lines(r.stdout)] == [" ", "-", "+", " "], r.stdout)


def test_inserted_access_is_one_hunk(t):
    a = record(t, "a", BASE)
    b = record(t, "b", BASE[:5] + ["w4=0x51"] + BASE[5:])
    r = diff(a, b, "--context", "2")
    check(r.returncode == 1, "exit %d: %s" % (r.returncode, r.stderr))
    check("first divergence: access 6 (run 1) / 6 (run 2): run 2 makes 1 access more, from IC_TAR "
          "written 0x00000051\n" in r.stdout, r.stdout)
    lines = hunk_lines(r.stdout)
    check([(ln[0], int(ln[1:11])) for ln in lines] ==
          [(" ", 4), (" ", 5), ("+", 6), (" ", 6), (" ", 7)], "\n".join(lines))
    # everything after the insertion is aligned: one hunk only
    check(r.stdout.count("@@ access") == 1, r.stdout)


def test_longer_poll_is_a_note_not_a_hunk(t):
    """Timing is not a divergence: runs that poll IC_STATUS 3 and 8 times agree (exit 0), with
    a note."""
    a = record(t, "a", BASE)
    b = record(t, "b", BASE[:6] + ["r70"] * 8 + BASE[9:])
    r = diff(a, b)
    check(r.returncode == 0 and "@@" not in r.stdout, "exit %d:\n%s" % (r.returncode, r.stdout))
    check("note: run 2: IC_STATUS polled 3 vs 8 times at access 7 (run 1) / 7 (run 2)\n" in
          r.stdout, r.stdout)
    check(r.stdout.splitlines()[-1] == "no differences (polls of other lengths: see the notes)",
          r.stdout)
    # a poll is one line, with its count
    c = record(t, "c", replaced(BASE[:6] + ["r70"] * 8 + BASE[9:], 3, "w0=0x65"))
    r = diff(a, c, "--context", "5")
    poll = [ln for ln in hunk_lines(r.stdout) if "IC_STATUS" in ln]
    check(len(poll) == 1 and poll[0][1:].split()[:5] == ["7", "R4", "IC_STATUS", "×3", "→"],
          "the poll as one context line: %r" % poll)


def test_three_and_four_runs_say_which_agree(t):
    a = record(t, "a", BASE)
    changed = record(t, "changed", replaced(BASE, 3, "w0=0x65"))
    same = record(t, "same", BASE)
    inserted = record(t, "inserted", BASE[:5] + ["w4=0x51"] + BASE[5:])
    r = diff(a, changed, same)
    check(r.returncode == 1, r.stderr)
    check("@@ access 4 (run 1) / 4 (run 2) @@ this in run 2; as run 1: run 3\n" in r.stdout,
          r.stdout)
    # runs 2 and 4 differ alike: one hunk for both; run 3 agrees with run 1 there
    r = diff(a, changed, same, changed)
    check(r.stdout.count("@@ access") == 1 and "@@ access 4 (run 1) / 4 (run 2) @@ this in runs 2,"
          " 4; as run 1: run 3\n" in r.stdout, r.stdout)
    # two places: each hunk names the runs that differ there and the ones that do not
    r = diff(a, changed, inserted, same)
    heads = [ln for ln in r.stdout.splitlines() if ln.startswith("@@")]
    check(heads == ["@@ access 4 (run 1) / 4 (run 2) @@ this in run 2; as run 1: runs 3, 4",
                    "@@ access 6 (run 1) / 6 (run 3) @@ this in run 3; as run 1: runs 2, 4"],
          "\n".join(heads))
    # runs that differ from run 1 at one place, each in its own way
    other = record(t, "other", replaced(BASE, 3, "w0=0x61"))
    r = diff(a, changed, other)
    heads = [ln for ln in r.stdout.splitlines() if ln.startswith("@@")]
    check(heads == ["@@ access 4 (run 1) / 4 (run 2) @@ this in run 2; otherwise: run 3",
                    "@@ access 4 (run 1) / 4 (run 3) @@ this in run 3; otherwise: run 2"],
          "\n".join(heads))
    r = diff(a, same, same)
    check(r.returncode == 0 and r.stdout.splitlines()[-1] == "no differences", r.stdout)


def test_mask_and_ignore_make_a_difference_disappear(t):
    a = record(t, "a", BASE)
    b = record(t, "b", replaced(BASE, 3, "w0=0x65"))      # IC_CON.SPEED 1 -> 2 (bits 2:1)
    for args, status in [([], 1), (["--mask", "IC_CON=0x61"], 0), (["--mask", "IC_CON=0x6"], 1),
                         (["--mask", "bar0+0x0=0xfffffff9"], 0), (["--ignore", "IC_CON"], 0),
                         (["--ignore", "bar0+0x0"], 0), (["--ignore", "bar0+0x3"], 0),
                         (["--ignore", "IC_TAR"], 1), (["--ignore", "bar0+0x4"], 1)]:
        r = diff(a, b, *args)
        check(r.returncode == status, "%r: exit %d, expected %d:\n%s%s" % (
            args, r.returncode, status, r.stdout, r.stderr))
    # ignored accesses keep their numbers in the file: the header says how many were compared
    r = diff(a, b, "--ignore", "IC_CON")
    check("run 1: %s: i2c0 8086:0f41, 14 accesses (13 compared)\n" % a in r.stdout, r.stdout)
    check(not [ln for ln in r.stdout.splitlines() if ln.split()[:1] == ["IC_CON"]],
          "an ignored register has no summary row")
    # a register that does not exist, a BAR the device lacks
    r = diff(a, b, "--ignore", "IC_CNO")
    check(r.returncode == 2 and "--ignore IC_CNO: no register IC_CNO in the map" in r.stderr and
          "did you mean IC_CON?" in r.stderr, r.stderr)
    r = diff(a, b, "--mask", "bar2+0x10=1")
    check(r.returncode == 2 and r.stderr == "regdbg diff: --mask bar2+0x10: the device "
          "(8086:0f41) has no BAR 2\n", r.stderr)
    r = diff(a, b, "--mask", "IC_CON")
    check(r.returncode == 2 and "expected REG=MASK" in r.stderr, r.stderr)


def test_writes_compares_only_the_writes(t):
    a = record(t, "a", BASE)
    b = record(t, "b", BASE, default_read=0x4)       # every read gives 4 instead of 6
    r = diff(a, b)
    check(r.returncode == 1 and "first divergence: access 1 (run 1) / 1 (run 2): IC_COMP_TYPE "
          "read 0x00000006 in run 1, 0x00000004 in run 2" in r.stdout, r.stdout)
    r = diff(a, b, "--writes")
    check(r.returncode == 0 and r.stdout.splitlines()[-1] == "no differences", r.stdout)
    check("run 1: %s: i2c0 8086:0f41, 14 accesses (7 compared)\n" % a in r.stdout, r.stdout)
    check("IC_STATUS" not in r.stdout, "reads are left out of the summary too")


def test_json_report(t):
    a = record(t, "a", BASE)
    b = record(t, "b", replaced(BASE, 3, "w0=0x65"))
    c = record(t, "c", BASE[:6] + ["r70"] * 5 + BASE[9:])
    r = diff(a, b, c, "--format", "json", "--context", "1")
    check(r.returncode == 1, r.stderr)
    doc = json.loads(r.stdout)
    check([(x["run"], x["file"], x["dev"], x["vendor"], x["device"], x["accesses"],
            x["complete"]) for x in doc["runs"]] ==
          [(1, a, "i2c0", "0x8086", "0x0f41", 14, True), (2, b, "i2c0", "0x8086", "0x0f41", 14,
                                                         True),
           (3, c, "i2c0", "0x8086", "0x0f41", 16, True)], doc["runs"])
    check(doc["same"] is False and doc["first_divergence"] == 0 and len(doc["hunks"]) == 1,
          "same %r, first %r, %d hunks" % (doc["same"], doc["first_divergence"],
                                          len(doc["hunks"])))
    h = doc["hunks"][0]
    check(h["access"] == [4, 4] and h["run"] == 2 and h["same_in"] == [2] and
          h["as_run_1"] == [3] and h["otherwise"] == [] and h["coarse"] is False, h)
    check([(x["op"], x["run"], x["access"], x["dir"], x["reg"], x["value"]) for x in h["lines"]]
          == [(" ", 1, 3, "r", "IC_ENABLE_STATUS", 6), ("-", 1, 4, "w", "IC_CON", 0x63),
              ("+", 2, 4, "w", "IC_CON", 0x65), (" ", 1, 5, "w", "IC_TAR", 0x50)], h["lines"])
    check("SPEED=fast" in h["lines"][2]["fields"], h["lines"][2])
    check(doc["notes"] == [{"run": 3, "reg": "IC_STATUS", "bar": 0, "off": 0x70, "dir": "r",
                            "polls": 1, "access": [7, 7], "count": [3, 5]}], doc["notes"])
    con = [row for row in doc["summary"] if row["reg"] == "IC_CON"][0]
    check(con["differs"] is True and [x["values"] for x in con["runs"]] == [[0x63], [0x65], [0x63]]
          and [x["writes"] for x in con["runs"]] == [1, 1, 1], con)
    status = [row for row in doc["summary"] if row["reg"] == "IC_STATUS"][0]
    check([x["reads"] for x in status["runs"]] == [4, 4, 6], status)
    # the same runs: same is true, no hunk, no first divergence
    doc = json.loads(diff(a, a, "--format", "json").stdout)
    check(doc["same"] is True and doc["first_divergence"] is None and doc["hunks"] == [], doc)


def record_starts(data):
    """The byte offsets of the records of a trace (docs/trace-format.md: the kind byte gives the
    size: 64 bytes for a full access, 32 for the others)."""
    starts, at = [], 256
    while at < len(data):
        starts.append(at)
        at += 64 if data[at] == 0x02 else 32
    return starts


def test_damaged_trace_is_trouble_and_located(t):
    a = record(t, "a", BASE)
    data = open(a, "rb").read()
    starts = record_starts(data)
    cut = t.tmp("cut.trace")
    with open(cut, "wb") as f:
        f.write(data[:starts[4] + 10])              # four records and 10 bytes of the fifth
    r = diff(a, cut)
    check((r.returncode, r.stdout, r.stderr) ==
          (2, "", "regdbg diff: %s is truncated: 10 stray bytes after the last whole record "
                  "(byte %d)\n" % (cut, starts[4])), "%d %r %r" % (r.returncode, r.stdout,
                                                                   r.stderr))
    bad = t.tmp("bad.trace")
    damaged = bytearray(data)
    damaged[starts[2]] = 0x7f                       # the kind byte of record 2
    with open(bad, "wb") as f:
        f.write(damaged)
    r = diff(bad, a)
    check((r.returncode, r.stdout, r.stderr) ==
          (2, "", "regdbg diff: %s is corrupt at byte %d (record 2): unknown record kind\n"
                  % (bad, starts[2])), "%d %r %r" % (r.returncode, r.stdout, r.stderr))
    r = diff(a, t.tmp("missing.trace"))
    check(r.returncode == 2 and "cannot open" in r.stderr, r.stderr)
    # a trace cut at a record boundary is read, with a note
    with open(cut, "wb") as f:
        f.write(data[:starts[4]])
    r = diff(a, cut)
    check(r.returncode == 1 and r.stderr == "regdbg diff: note: %s has no end record; the "
          "recording was interrupted or is still running\n" % cut, r.stderr)


# ---- traces written here (format version 1) ----------------------------------------------------

HEADER = struct.Struct("<8sIIIIQQ64sHHHHIBB2x96s40x")
FULL = struct.Struct("<BBBBiQQQQQQHHI")
END = struct.Struct("<B7xQQQ")


def write_trace(path, accesses, vendor=0x8086, device=0x0F41, dev_id=b"i2c0"):
    """accesses: (dir, offset, value), 4-byte accesses to BAR 0, full records, an end record."""
    bars = struct.pack("<QBB6x", 4096, 1, 0) + bytes(16 * 5)
    data = HEADER.pack(b"RDBGTRCE", 1, 256, 32, 0, 0, 0, dev_id, vendor, device, 0, 0, 0x0C8000,
                       0, 0, bars)
    for seq, (d, off, value) in enumerate(accesses):
        data += FULL.pack(2, 0, 4, 1 if d == "w" else 0, 0, seq, 1000 + seq, off, value, value, 0,
                          0, 0xFFFF, 0)
    data += END.pack(4, len(accesses), 0, 0)
    with open(path, "wb") as f:
        f.write(data)
    return path


def test_polls_that_waited_on_other_values(t):
    """A poll that found its value at once matches one that waited for it (a note); two polls
    that waited on different values differ (a hunk)."""
    before, after = [("w", 0x6C, 1)], [("w", 0x10, 0x15)]
    waited = write_trace(t.tmp("waited.trace"), before + [("r", 0x70, 2)] * 3 + [("r", 0x70, 6)]
                         + after)
    at_once = write_trace(t.tmp("at-once.trace"), before + [("r", 0x70, 6)] + after)
    other = write_trace(t.tmp("other.trace"), before + [("r", 0x70, 3)] * 3 + [("r", 0x70, 6)]
                        + after)
    r = diff(waited, at_once)
    check(r.returncode == 0 and "note: run 2: IC_STATUS polled 4 vs 1 times at access 2 (run 1) "
          "/ 2 (run 2)\n" in r.stdout, r.stdout)
    r = diff(waited, other)
    check(r.returncode == 1 and "IC_STATUS read 0x00000006 in run 1, 0x00000006 in run 2 (after "
          "0x00000002 vs 0x00000003)" in r.stdout, r.stdout)
    line = [ln for ln in hunk_lines(r.stdout) if ln.startswith("-")][0]
    check(line.split()[1:] == ["2", "R4", "IC_STATUS", "×4", "→", "0x00000006", "(0x00000002",
                               "until", "the", "last)", "ACTIVITY=0", "TFNF=1", "TFE=1",
                               "RFNE=0", "RFF=0", "MST_ACTIVITY=0", "SLV_ACTIVITY=0"], line)


def test_traces_of_other_devices_are_trouble(t):
    a = write_trace(t.tmp("a.trace"), [("w", 0, 0x63)])
    other = write_trace(t.tmp("other.trace"), [("w", 0, 0x63)], device=0x0F42, dev_id=b"i2c1")
    r = diff(a, other)
    check((r.returncode, r.stdout, r.stderr) ==
          (2, "", "regdbg diff: %s is of device 8086:0f41 (\"i2c0\") but %s of 8086:0f42 "
                  "(\"i2c1\"): diff compares runs of one device\n" % (a, other)), r.stderr)
    r = diff(a, a, "--dev", "i2c1")
    check(r.returncode == 2 and r.stderr == "regdbg diff: %s records device \"i2c0\", not "
          "\"i2c1\" (--dev); a trace holds one device: give the traces of i2c1\n" % a, r.stderr)
    r = diff(a, a, "--dev", "i2c0")
    check(r.returncode == 0, r.stderr)
    # no map for the device: places by BAR and offset, and register names are refused
    unknown = write_trace(t.tmp("u1.trace"), [("w", 0x10, 1)], vendor=0x1234, device=0x5678)
    unknown2 = write_trace(t.tmp("u2.trace"), [("w", 0x10, 2)], vendor=0x1234, device=0x5678)
    r = diff(unknown, unknown2)
    check(r.returncode == 1 and "first divergence: access 1 (run 1) / 1 (run 2): bar0+0x0010 "
          "written 0x00000001 in run 1, 0x00000002 in run 2\n" in r.stdout, r.stdout)
    r = diff(unknown, unknown2, "--ignore", "IC_CON")
    check(r.returncode == 2 and "no register map for the device 1234:5678" in r.stderr, r.stderr)


def test_runs_too_different_to_align(t):
    """More edits than --max-edits: the report says where the runs part and where they meet
    again, and exits 1."""
    common = [("w", 0x10, i) for i in range(50)]
    a = write_trace(t.tmp("a.trace"), common + [("w", 0x4, i) for i in range(40)] + common)
    b = write_trace(t.tmp("b.trace"), common + [("w", 0x4, 1000 + i) for i in range(40)] + common)
    r = diff(a, b, "--max-edits", "20", "--context", "2")
    check(r.returncode == 1, "exit %d: %s" % (r.returncode, r.stderr))
    check("@@ access 51 (run 1) / 51 (run 2) @@ run 2 diverges too much to align: more inserted "
          "and deleted accesses than --max-edits allows\n" in r.stdout and
          "  ... the runs agree again from access 91 (run 1) / 91 (run 2) to their end\n" in
          r.stdout, r.stdout)
    check(r.stdout.splitlines()[-1] == "the runs differ: 0 hunks, 1 run too different to align",
          r.stdout)
    r = diff(a, b)
    check(r.returncode == 1 and r.stdout.count("@@ access") == 1 and
          r.stdout.count("\n- ") == 40 and r.stdout.count("\n+ ") == 40, r.stdout)


def test_help_and_usage(t):
    r = regdbg("--help")
    check(r.returncode == 0 and "\n  diff " in r.stdout, r.stdout)
    r = regdbg("diff", "--help")
    check(r.returncode == 0 and r.stdout.startswith("usage: regdbg diff A.trace B.trace"),
          r.stdout)
    a = write_trace(t.tmp("a.trace"), [("w", 0, 1)])
    for args, message in [([a], "give at least two trace files to compare"),
                          ([a, a, "--context", "x"], "--context x: expected a number"),
                          ([a, a, "--format", "xml"], "--format xml: expected text or json"),
                          ([a, a, "--bogus"], "unknown option '--bogus'")]:
        r = regdbg("diff", *args)
        check(r.returncode == 2 and r.stderr.startswith("regdbg diff: " + message) and
              r.stderr.endswith("; try 'regdbg diff --help'\n"), "%r: %d %r" % (
                  args, r.returncode, r.stderr))
    check(os.path.exists(a), "diff leaves its inputs alone")


def test_demo_diff_recipe(t):
    """`make demo-diff` without its screen: scripts/demo-diff.sh records the demo firmware as it
    is and its three variants (another speed in IC_CON, another IC_TAR, a longer poll) with the
    project's QEMU, and diff's text report of them names what each variant changed: IC_CON's
    SPEED, IC_TAR, and the longer poll as a note, not a hunk."""
    from harness import BUILD, REGDBG, SAN_ENV
    import subprocess
    out = t.tmp("demo-diff")
    r = subprocess.run([os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "scripts", "demo-diff.sh"), BUILD, "text"],
        capture_output=True, text=True, timeout=240,
        env=dict(os.environ, DEMO_DIFF_DIR=out, REGDBG=REGDBG, **SAN_ENV))
    check(r.returncode == 0 and r.stderr == "", "demo-diff.sh: exit %d\n%s%s"
          % (r.returncode, r.stdout, r.stderr))
    lines = r.stdout.splitlines()
    names = ["fw-as-is", "fw-fast", "fw-other-target", "fw-slow-poll"]
    check([ln.split(": ")[1] for ln in lines[:4]] == [os.path.join(out, n + ".trace")
                                                      for n in names], r.stdout)
    check("first divergence: access 4 (run 1) / 4 (run 2): IC_CON written 0x00000063 in run 1, "
          "0x00000065 in run 2; SPEED: std vs fast" in lines, r.stdout)
    hunks = [ln for ln in lines if ln.startswith("@@")]
    changed = [ln for ln in hunk_lines(r.stdout) if ln[0] in "-+"]
    # each loop of the firmware: IC_CON in run 2, IC_TAR in run 3; run 4 agrees with run 1
    check(len(hunks) == 4 and all(h.endswith("this in run %d; as run 1: run 4; otherwise: run %d"
                                             % ((2, 3) if "run 2)" in h else (3, 2)))
                                  for h in hunks), "hunks:\n" + "\n".join(hunks))
    check(sorted(set(ln.split()[3] for ln in changed)) == ["IC_CON", "IC_TAR"] and
          any("SPEED=fast" in ln for ln in changed) and any("IC_TAR=0x1a" in ln for ln in changed),
          "changed lines:\n" + "\n".join(changed))
    check([ln for ln in lines if ln.startswith("note:")] ==
          ["note: run 4: IC_STATUS polled 1 vs 8 times at access 12 (run 1) / 12 (run 4); 1 more "
           "polls of IC_STATUS differ only in length"], r.stdout)
    check(lines[-1] == "the runs differ: 4 hunks", lines[-1])


test_demo_diff_recipe.timeout = 300


def test_tui_side_by_side_and_divergence_keys(t):
    """`regdbg diff --tui` in tmux: run 1 and run 2 side by side with register names and fields,
    the cursor on the first divergence with what differs below ("SPEED: std vs fast"); n goes to
    the next one (an access only run 2 makes), N back, Tab to run 3 (a poll that ran longer:
    '~', no divergence); ? shows the diff screen's keys from the key table; q quits with 0."""
    from tui import Term
    from harness import REGDBG
    base = [("r", 0xFC, 6), ("w", 0x6C, 0), ("w", 0x00, 0x63), ("w", 0x04, 0x50),
            ("w", 0x6C, 1), ("r", 0x70, 6), ("w", 0x10, 0x15), ("w", 0x6C, 0)]
    a = write_trace(t.tmp("std.trace"), base)
    b = write_trace(t.tmp("fast.trace"), base[:2] + [("w", 0x00, 0x65)] + base[3:6] +
                    [("w", 0x10, 0x33)] + base[6:])
    c = write_trace(t.tmp("slow.trace"), base[:5] + [("r", 0x70, 6)] * 5 + base[6:])
    term = Term(t, "difftui", [REGDBG, "diff", "--tui", a, b, c], cols=140, rows=24)
    term.wait_text("at the cursor: differs")
    lines = term.lines()
    check(lines[0].startswith(" regdbg diff  |  run 1 vs run 2 of 3 (Tab: next)  |  2 "
                              "divergences (at 1)") and
          lines[1].startswith(" run 1: " + a) and "| run 2: " + b in lines[1],
          "top lines:\n" + "\n".join(lines[:2]))
    row = [ln for ln in lines[2:] if " | " in ln and "IC_CON" in ln]
    # (each side cut to half the width: SPEED=st and SPEED=fas at 140 columns)
    check(len(row) == 1 and re.match(r"^ +3 W4 IC_CON +<- 0x00000063  MASTER_MODE=1 SPEED=st",
                                      row[0]) and
          re.search(r" \| +3 W4 IC_CON +<- 0x00000065  MASTER_MODE=1 SPEED=fa", row[0]),
          "the IC_CON row:\n" + "\n".join(lines))
    check(" SPEED: std vs fast" in lines and
          any(ln.startswith(" run 2      3 W4 IC_CON") for ln in lines), "\n".join(lines))
    term.keys("n")
    term.wait_text("only the run on the right makes this access")
    lines = term.lines()
    check(any(re.search(r"^ +> +7 W4 IC_DATA_CMD +<- 0x00000033", ln) for ln in lines) and
          "(at 2)" in lines[0], "the second divergence:\n" + "\n".join(lines))
    term.keys("n")
    term.wait_text("no divergence after this one")
    term.keys("N")
    term.wait_text("at the cursor: differs")
    term.keys("Tab")
    term.wait_text("run 1 vs run 3 of 3")
    lines = term.lines()
    check("0 divergences" in lines[0] and "1 poll of other lengths" in lines[0] and
          any(re.search(r"IC_STATUS +-> 0x00000006 .* ~ +6 R4 IC_STATUS x5 ", ln) for ln in lines),
          "run 3:\n" + "\n".join(lines))
    term.keys("?")
    term.wait_text("Keys of the diff screen")
    text = term.text()
    check("the next divergence" in text and "the previous divergence" in text and
          "Commands (type : first)" not in text, text)
    term.keys("Escape", "q")
    term.check_clean_exit()


test_tui_side_by_side_and_divergence_keys.timeout = 60


def test_symbols_name_the_code_of_each_access(t):
    """--symbols (issue 11): each access of the report names the code that made it, by the PC its
    trace carries (the guest's script loop in guest_main); PCs are never compared."""
    a = record(t, "a", BASE)
    b = record(t, "b", replaced(BASE, 3, "w0=0x65"))
    r = diff(a, b, "--symbols", GUEST)
    check(r.returncode == 1, "exit %d: %s" % (r.returncode, r.stderr))
    lines = hunk_lines(r.stdout)
    check(lines and all(re.search(r"  \[guest_main\+0x[0-9a-f]+\]$", ln) for ln in lines),
          "hunk lines without their code:\n" + "\n".join(lines))
    j = json.loads(diff(a, b, "--symbols", GUEST, "--format", "json").stdout)
    syms = [ln.get("sym") for h in j["hunks"] for ln in h["lines"]]
    check(syms and all(s and s.startswith("guest_main+0x") for s in syms), "json: %r" % syms)
    # without --symbols: no code in the report, no sym key
    check(not re.search(r"\[guest_main", diff(a, b).stdout), "code named without --symbols")
    r = diff(a, b, "--symbols", t.tmp("missing.elf"))
    check(r.returncode == 2 and "missing.elf" in r.stderr, "a missing symbols file: %d %s"
          % (r.returncode, r.stderr))
