"""`regdbg dump` on crafted trace files (docs/trace-format.md): extreme times print without
undefined behaviour (the ASan+UBSan build is the one under test), and a device id holding
terminal escape codes or bytes that are not UTF-8 is escaped in text and stays valid JSON."""

import json
import struct

from harness import check, regdbg

# docs/trace-format.md: header (256 bytes) and the full access record (64 bytes)
HEADER = struct.Struct("<8sIIIIQQ64sHHHHIBB2x96s40x")
FULL = struct.Struct("<BBBBiQQQQQQHHI")
END = struct.Struct("<B7xQQQ")
assert HEADER.size == 256 and FULL.size == 64 and END.size == 32


def bars(size0=4096):
    return struct.pack("<QBB6x", size0, 1, 0) + bytes(16 * 5)


def craft(path, start_ns, records, dev_id=b"i2c0"):
    """A trace whose header starts at start_ns, with full access records (seq, t_ns, value) and
    an end record."""
    data = HEADER.pack(b"RDBGTRCE", 1, 256, 32, 0, 0, start_ns, dev_id, 0x8086, 0x0F41, 0, 0,
                       0x0C8000, 0, 0, bars())
    for seq, t_ns, value in records:
        data += FULL.pack(2, 0, 4, 0, 0, seq, t_ns, 0x10, value, value, 0, 0, 0xFFFF, 0)
    data += END.pack(4, len(records), 0, 0)
    with open(path, "wb") as f:
        f.write(data)


def test_extreme_time_differences(t):
    trace = t.tmp("times.trace")
    # 2^63 ns after the start (what made dump negate INT64_MIN), and 2^64 - 1 before it.
    craft(trace, 0, [(0, 2**63, 1), (1, 2**64 - 1, 2)])
    r = regdbg("dump", trace)
    check(r.returncode == 0, r.stderr)
    check(r.stdout.splitlines() == [
        "R 4 9223372036.854775808 cpu0 i2c0 bar0+0x0010 0x00000001",
        "R 4 18446744073.709551615 cpu0 i2c0 bar0+0x0010 0x00000002",
        "# end of recording: 2 events, 0 dropped"], r.stdout)
    trace = t.tmp("before.trace")
    craft(trace, 2**64 - 1, [(0, 0, 3), (1, 2**63 - 1, 4)])
    r = regdbg("dump", trace)
    check(r.returncode == 0, r.stderr)
    check(r.stdout.splitlines()[:2] == [
        "R 4 -18446744073.709551615 cpu0 i2c0 bar0+0x0010 0x00000003",
        "R 4 -9223372036.854775808 cpu0 i2c0 bar0+0x0010 0x00000004"], r.stdout)


def test_device_id_is_escaped(t):
    for dev_id, text, json_dev in [
        (b"\x1b[31mred\x1b[0m", r"\x1b[31mred\x1b[0m", "\x1b[31mred\x1b[0m"),
        (b"a b\\c\x7f", r"a\x20b\x5cc\x7f", "a b\\c\x7f"),
        (b"\xff\xfeid", r"\xff\xfeid", r"\xff\xfeid"),
        (b"\xc3\xa9t\xc3\xa9", r"\xc3\xa9t\xc3\xa9", "\u00e9t\u00e9"),
    ]:
        trace = t.tmp("dev.trace")
        craft(trace, 0, [(0, 5, 0x42)], dev_id=dev_id)
        r = regdbg("dump", trace)
        check(r.returncode == 0, r.stderr)
        first = r.stdout.splitlines()[0]
        check(first == "R 4 0.000000005 cpu0 %s bar0+0x0010 0x00000042" % text,
              "%r: text line %r" % (dev_id, first))
        r = regdbg("dump", trace, "--format", "json")
        check(r.returncode == 0, r.stderr)
        # Valid JSON leaves DEL as is; it moves no terminal.
        check(all(0x20 <= ord(c) < 0x80 for c in r.stdout.rstrip("\n")),
              "%r: raw control or non-ASCII bytes in JSON output %r" % (dev_id, r.stdout))
        ev = json.loads(r.stdout.splitlines()[0])
        check(ev["dev"] == json_dev, "%r: JSON dev %r" % (dev_id, ev["dev"]))


def test_duplicated_record_is_corrupt(t):
    """A record that appears twice (its seq does not go forward) is damage: dump prints what
    comes before it, names the place and exits 1, in text and in JSON."""
    trace = t.tmp("dup.trace")
    craft(trace, 0, [(0, 5, 0x10), (1, 6, 0x11), (1, 6, 0x11), (2, 7, 0x12)])
    want_err = ("regdbg dump: %s is corrupt at byte %d (record 2): sequence number goes "
                "backwards\n" % (trace, 256 + 2 * 64))
    r = regdbg("dump", trace)
    check((r.returncode, r.stdout.splitlines(), r.stderr) ==
          (1, ["R 4 0.000000005 cpu0 i2c0 bar0+0x0010 0x00000010",
               "R 4 0.000000006 cpu0 i2c0 bar0+0x0010 0x00000011"], want_err),
          "dump of a duplicated record: %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
    r = regdbg("dump", trace, "--format", "json")
    check(r.returncode == 1 and [json.loads(ln)["seq"] for ln in r.stdout.splitlines()] == [0, 1]
          and r.stderr == want_err, "dump --format json: %d\n%s%s" % (r.returncode, r.stdout,
                                                                       r.stderr))


def test_follow_waits_for_the_recording_to_begin(t):
    # `dump --follow` can be started before `record` creates the file (README: "Recording and
    # reading traces").
    import os
    import subprocess
    import time
    from harness import REGDBG, SAN_ENV
    trace = t.tmp("later.trace")
    follower = subprocess.Popen([REGDBG, "dump", "--follow", trace], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=dict(os.environ, **SAN_ENV))
    t.owned.append(type("K", (), {"kill": lambda self: follower.kill()})())
    time.sleep(0.5)  # not a check: gives the follower the time to find no file
    craft(trace + ".tmp", 0, [(0, 5, 0x42)])
    os.rename(trace + ".tmp", trace)
    out, err = follower.communicate(timeout=20)
    check(follower.returncode == 0 and out.decode().splitlines() == [
        "R 4 0.000000005 cpu0 i2c0 bar0+0x0010 0x00000042",
        "# end of recording: 1 events, 0 dropped"], "exit %d: %r %r" % (follower.returncode,
                                                                       out, err))
