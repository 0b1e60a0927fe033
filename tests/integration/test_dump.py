"""`regdbg dump` on crafted trace files (docs/trace-format.md): extreme times print without
undefined behaviour (the ASan+UBSan build is the one under test), a device id holding
terminal escape codes or bytes that are not UTF-8 is escaped in text and stays valid JSON, and
the accesses of a device the shipped maps (or --map) know are decoded by register and field, in
text, JSON and CSV."""

import csv
import io
import json
import struct

from harness import check, regdbg

# docs/trace-format.md (version 2): header (256 bytes, guest_pc at 216), the full access record
# (64 bytes, cpu_mode at 60), the short access with PC (32 bytes) and the end marker
HEADER = struct.Struct("<8sIIIIQQ64sHHHHIBB2x96sB39x")
FULL = struct.Struct("<BBBBiQQQQQQHHB3x")
SHORT_PC = struct.Struct("<BBHIQIB3xQ")
END = struct.Struct("<B7xQQQ")
assert HEADER.size == 256 and FULL.size == 64 and SHORT_PC.size == 32 and END.size == 32


def bars(size0=4096):
    return struct.pack("<QBB6x", size0, 1, 0) + bytes(16 * 5)


# A device no shipped map knows: its accesses print undecoded.
NO_MAP = (0x1234, 0x0001)
I2C = (0x8086, 0x0F41)


def craft(path, start_ns, records, dev_id=b"i2c0", version=2, ids=NO_MAP):
    """A trace whose header starts at start_ns, with full access records (seq, t_ns, value) and
    an end record."""
    data = HEADER.pack(b"RDBGTRCE", version, 256, 32, 0, 0, start_ns, dev_id, ids[0], ids[1], 0,
                       0, 0x0C8000, 0, 0, bars(), 0)
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


def test_header_of_another_size_is_refused(t):
    """A header whose size is not the format's is damage, whatever its record unit says."""
    good = t.tmp("good.trace")
    craft(good, 0, [(0, 5, 1)])
    bad = t.tmp("bad-header.trace")
    data = bytearray(open(good, "rb").read())
    data[12:16] = (512).to_bytes(4, "little")
    with open(bad, "wb") as f:
        f.write(data)
    r = regdbg("dump", bad)
    check((r.returncode, r.stdout, r.stderr) == (1, "", "regdbg dump: %s is corrupt: header size "
                                                 "512 and record unit 32, expected 256 and 32\n"
                                                 % bad), "%d %r %r" % (r.returncode, r.stdout,
                                                                       r.stderr))


def test_trace_cut_at_a_record_boundary_keeps_its_last_record(t):
    """A recording killed between two records ends exactly at a record's end: every record is
    printed, the last one too, and dump says only that the end record is missing."""
    trace = t.tmp("cut.trace")
    craft(trace, 0, [(0, 5, 1), (1, 6, 2)])
    with open(trace, "rb") as f:
        data = f.read()[:-END.size]
    with open(trace, "wb") as f:
        f.write(data)
    r = regdbg("dump", trace)
    check((r.returncode, r.stdout.splitlines()) ==
          (0, ["R 4 0.000000005 cpu0 i2c0 bar0+0x0010 0x00000001",
               "R 4 0.000000006 cpu0 i2c0 bar0+0x0010 0x00000002"]) and
          r.stderr == "regdbg dump: note: %s has no end record; the recording was interrupted or "
          "is still running\n" % trace, "%d %r %r" % (r.returncode, r.stdout, r.stderr))


def test_version_1_trace_is_read(t):
    """A trace written before guest PCs (format version 1: no record kind 0x05, the full
    record's byte 60 and the header's byte 216 reserved) is still read; a record of the kind
    version 2 added is damage in it."""
    v1, v2 = t.tmp("v1.trace"), t.tmp("v2.trace")
    records = [(0, 5, 0x10), (1, 6, 0x11), (5, 9, 0x12)]
    craft(v1, 0, records, version=1)
    craft(v2, 0, records, version=2)
    for fmt in ("text", "json"):
        r1, r2 = regdbg("dump", v1, "--format", fmt), regdbg("dump", v2, "--format", fmt)
        check(r1.returncode == 0 and r1.stderr == "" and r1.stdout == r2.stdout and
              len(r1.stdout.splitlines()) == (4 if fmt == "text" else 3),
              "%s: version 1: %d %r %r; version 2: %r" % (fmt, r1.returncode, r1.stdout,
                                                          r1.stderr, r2.stdout))
    with open(v1, "rb") as f:
        data = bytearray(f.read())
    short_pc = SHORT_PC.pack(5, 2 << 3, 0, 0x10, 7, 0x13, 4, 0x10117B)
    data[256 + 64:256 + 64] = short_pc
    with open(v1, "wb") as f:
        f.write(data)
    r = regdbg("dump", v1)
    check((r.returncode, len(r.stdout.splitlines()), r.stderr) ==
          (1, 1, "regdbg dump: %s is corrupt at byte 320 (record 1): unknown record kind\n" % v1),
          "kind 0x05 in a version 1 file: %d %r %r" % (r.returncode, r.stdout, r.stderr))
    data[256 + 64:256 + 64 + 32] = b""
    data[8:12] = (6).to_bytes(4, "little")
    with open(v1, "wb") as f:
        f.write(data)
    r = regdbg("dump", v1)
    check((r.returncode, r.stdout, r.stderr) ==
          (1, "", "regdbg dump: %s is trace format version 6; this regdbg reads versions 1 to "
           "5\n" % v1), "version 6: %d %r %r" % (r.returncode, r.stdout, r.stderr))


def test_pcs_modes_and_names_of_a_crafted_trace(t):
    """The PC columns on crafted records: a vCPU's mode shown when it is new to it, pc-after,
    no PC at all; names from an nm list whose names would move the terminal are escaped in text
    and are valid JSON (a name that is not UTF-8 goes as its escaped text)."""
    trace = t.tmp("pcs.trace")
    pc_flag, after = 1 << 7, 1 << 8
    real, prot32, long64 = 1, 4, 7
    data = HEADER.pack(b"RDBGTRCE", 2, 256, 32, 0, 0, 0, b"i2c0", NO_MAP[0], NO_MAP[1], 0, 0,
                       0x0C8000, 0, 0, bars(), 1)
    full = [  # seq, cpu, pc, flags, mode
        (0, 0, 0x7C00, pc_flag, real),
        (2, 1, 0x7C10, pc_flag, real),
        (3, 0, 0x100010, pc_flag, prot32),
        (4, 0, 0, 0, 0),
        (5, 0, 0x100022, pc_flag | after, long64),
        (6, 1, 0x100024, pc_flag | after, long64),
    ]
    for seq, cpu, pc, flags, mode in full:
        data += FULL.pack(2, 0, 4, 1, cpu, seq, seq + 10, 0x10, seq, seq, pc, flags, 0xFFFF,
                          mode)
        if seq == 0:
            # seq 1, cpu 0, in the short form with PC: bar 0, width 4, a read
            data += SHORT_PC.pack(5, 2 << 3, 0, 0x14, 11, 0x99, real, 0x7C02)
    data += END.pack(4, 7, 0, 99)
    with open(trace, "wb") as f:
        f.write(data)
    names = t.tmp("names.map")
    with open(names, "wb") as f:
        f.write(b"00007c00 t \x1b[2Jwipe\n00007c10 T \xff\xfename\n00100000 T main\n"
                b"00100021 T next\n00200000 D end\n")
    r = regdbg("dump", trace, "--symbols", names)
    check(r.returncode == 0 and r.stderr == "", r.stderr)
    want = [
        "W 4 0.000000010 cpu0 i2c0 bar0+0x0010 0x00000000 pc=0x7c00 mode=real \\x1b[2Jwipe+0x0",
        "R 4 0.000000011 cpu0 i2c0 bar0+0x0014 0x00000099 pc=0x7c02 \\x1b[2Jwipe+0x2",
        "W 4 0.000000012 cpu1 i2c0 bar0+0x0010 0x00000002 pc=0x7c10 mode=real "
        "\\xff\\xfename+0x0",
        "W 4 0.000000013 cpu0 i2c0 bar0+0x0010 0x00000003 pc=0x100010 mode=prot32 main+0x10",
        "W 4 0.000000014 cpu0 i2c0 bar0+0x0010 0x00000004",
        "W 4 0.000000015 cpu0 i2c0 bar0+0x0010 0x00000005 pc=0x100022(after) mode=long64 "
        "next+0x1",
        "W 4 0.000000016 cpu1 i2c0 bar0+0x0010 0x00000006 pc=0x100024(after) mode=long64 "
        "next+0x3",
        "# end of recording: 7 events, 0 dropped",
    ]
    check(r.stdout.splitlines() == want, "text:\n%s" % r.stdout)
    r = regdbg("dump", trace, "--symbols", names, "--format", "json")
    check(r.returncode == 0 and all(0x20 <= ord(c) < 0x80 for c in r.stdout.replace("\n", "")),
          "JSON output %r" % r.stdout)
    got = [json.loads(line) for line in r.stdout.splitlines()]
    keys = ("pc", "mode", "pc_after", "sym", "src")
    check([tuple(e.get(k) for k in keys) for e in got] == [
        (0x7C00, "real", None, "\x1b[2Jwipe+0x0", None),
        (0x7C02, "real", None, "\x1b[2Jwipe+0x2", None),
        (0x7C10, "real", None, "\\xff\\xfename+0x0", None),
        (0x100010, "prot32", None, "main+0x10", None),
        (None, None, None, None, None),
        (0x100022, "long64", True, "next+0x1", None),
        (0x100024, "long64", True, "next+0x3", None),
    ] and all(e["flags"] == [] for e in got) and "pc" not in got[4] and "sym" not in got[4],
        "JSON: %r" % got)


def craft_accesses(path, accesses, ids=I2C, dev_id=b"i2c0"):
    """A trace of full access records (offset, size, dir, value, flags, rule, orig), seq and
    time counting from 0 and 10, and an end record."""
    data = HEADER.pack(b"RDBGTRCE", 2, 256, 32, 0, 0, 0, dev_id, ids[0], ids[1], 0, 0, 0x0C8000,
                       0, 0, bars(), 0)
    for seq, (off, size, d, value, flags, rule, orig) in enumerate(accesses):
        data += FULL.pack(2, 0, size, d, 0, seq, seq + 10, off, value, orig, 0, flags, rule, 0)
    data += END.pack(4, len(accesses), 0, 99)
    with open(path, "wb") as f:
        f.write(data)


NO_RULE = 0xFFFF
I2C_ACCESSES = [  # offset, size, dir, value, flags, rule, orig
    (0x00, 4, 1, 0x65, 0, NO_RULE, 0x65),       # IC_CON: SPEED has names
    (0x11, 1, 0, 0x01, 0, NO_RULE, 0x01),       # byte 1 of IC_DATA_CMD: DAT is not in it
    (0x0C, 4, 0, 0x7, 0, NO_RULE, 0x7),         # a gap between IC_SAR and IC_DATA_CMD
    (0xFC, 4, 0, 0x44570140, 0, NO_RULE, 0x44570140),   # IC_COMP_TYPE has no fields
    (0x04, 4, 1, 0x33, 1, 0, 0x50),             # IC_TAR, edited by rule 0
]


def test_registers_and_fields_are_decoded(t):
    """With the shipped map of the DesignWare I2C controller (8086:0f41), each access is named
    by its register (an access inside one as REG+N) and its fields follow, enum names where the
    map has them; an access to a gap stays as it was. JSON has reg and fields (numbers)."""
    trace = t.tmp("i2c.trace")
    craft_accesses(trace, I2C_ACCESSES)
    r = regdbg("dump", trace)
    check(r.returncode == 0 and r.stderr == "", r.stderr)
    check(r.stdout.splitlines() == [
        "W 4 0.000000010 cpu0 i2c0 bar0+0x0000 IC_CON <- 0x00000065  MASTER_MODE=1 SPEED=fast "
        "IC_10BITADDR_SLAVE=0 IC_10BITADDR_MASTER=0 IC_RESTART_EN=1 IC_SLAVE_DISABLE=1 "
        "STOP_DET_IFADDRESSED=0 TX_EMPTY_CTRL=0 RX_FIFO_FULL_HLD_CTRL=0",
        "R 1 0.000000011 cpu0 i2c0 bar0+0x0011 IC_DATA_CMD+1 -> 0x01  CMD=read STOP=0 RESTART=0",
        "R 4 0.000000012 cpu0 i2c0 bar0+0x000c 0x00000007",
        "R 4 0.000000013 cpu0 i2c0 bar0+0x00fc IC_COMP_TYPE -> 0x44570140",
        "W 4 0.000000014 cpu0 i2c0 bar0+0x0004 IC_TAR <- 0x00000033 edited orig=0x00000050 rule=0"
        "  IC_TAR=0x33 GC_OR_START=0 SPECIAL=0 IC_10BITADDR_MASTER=0",
        "# end of recording: 5 events, 0 dropped"], "text:\n" + r.stdout)
    r = regdbg("dump", trace, "--format", "json")
    check(r.returncode == 0 and r.stderr == "", r.stderr)
    got = [json.loads(line) for line in r.stdout.splitlines()]
    check([(e["reg"], e["fields"]) for e in got] == [
        ("IC_CON", {"MASTER_MODE": 1, "SPEED": 2, "IC_10BITADDR_SLAVE": 0,
                    "IC_10BITADDR_MASTER": 0, "IC_RESTART_EN": 1, "IC_SLAVE_DISABLE": 1,
                    "STOP_DET_IFADDRESSED": 0, "TX_EMPTY_CTRL": 0, "RX_FIFO_FULL_HLD_CTRL": 0}),
        ("IC_DATA_CMD", {"CMD": 1, "STOP": 0, "RESTART": 0}),
        (None, None),
        ("IC_COMP_TYPE", {}),
        ("IC_TAR", {"IC_TAR": 0x33, "GC_OR_START": 0, "SPECIAL": 0, "IC_10BITADDR_MASTER": 0}),
    ], "JSON: %r" % got)
    # the order of the fields is the map's
    check(list(got[0]["fields"])[:2] == ["MASTER_MODE", "SPEED"], "field order %r" % got[0])


def test_map_option_adds_a_map(t):
    """--map FILE adds a map, chosen by vendor:device like the shipped ones; without it the
    device's accesses print undecoded; a map with an error stops dump before it prints."""
    trace = t.tmp("other.trace")
    craft_accesses(trace, [(0x10, 4, 1, 0x3, 0, NO_RULE, 0x3)], ids=NO_MAP)
    plain = "W 4 0.000000010 cpu0 i2c0 bar0+0x0010 0x00000003"
    r = regdbg("dump", trace)
    check((r.returncode, r.stdout.splitlines()[0]) == (0, plain), r.stdout)
    mine = t.tmp("mine.json")
    with open(mine, "w") as f:
        json.dump({"name": "mine", "match": [{"vendor": "0x1234", "device": "0x0001"}],
                   "registers": [{"name": "CTRL", "offset": "0x10", "fields": [
                       {"name": "MODE", "bits": "1:0", "values": {"off": 0, "run": 3}}]}]}, f)
    r = regdbg("dump", trace, "--map", mine)
    check((r.returncode, r.stdout.splitlines()[0], r.stderr) ==
          (0, "W 4 0.000000010 cpu0 i2c0 bar0+0x0010 CTRL <- 0x00000003  MODE=run", ""),
          "%d %r %r" % (r.returncode, r.stdout, r.stderr))
    r = regdbg("dump", trace, "--map", mine, "--format", "json")
    ev = json.loads(r.stdout.splitlines()[0])
    check((ev["reg"], ev["fields"]) == ("CTRL", {"MODE": 3}), r.stdout)
    with open(mine, "w") as f:
        f.write('{"name": "mine"}\n')
    r = regdbg("dump", trace, "--map", mine)
    check((r.returncode, r.stdout) == (1, "") and r.stderr.startswith("regdbg dump: " + mine +
                                                                      ":1:1: missing required"),
          "%d %r %r" % (r.returncode, r.stdout, r.stderr))


def test_csv_has_a_column_per_json_key(t):
    """--format csv: a header row of the JSON keys, then a row per access whose cells are the
    JSON values (fields as the text decodes them, flags comma-separated, absent keys empty),
    read back by Python's csv module: a device id with a comma, a quote and a line break is
    quoted, its control character escaped."""
    trace = t.tmp("csv.trace")
    dev_id = b'a,b"c\nd'
    craft_accesses(trace, I2C_ACCESSES, dev_id=dev_id)
    r = regdbg("dump", trace, "--format", "csv")
    check(r.returncode == 0 and r.stderr == "", r.stderr)
    rows = list(csv.reader(io.StringIO(r.stdout, newline="")))
    header = ["seq", "t_ns", "cpu", "dev", "bar", "off", "size", "dir", "value", "reg",
              "fields", "flags", "orig", "rule", "pc", "mode", "pc_after"]
    check(rows[0] == header and len(rows) == 1 + len(I2C_ACCESSES) and
          all(len(row) == len(header) for row in rows), "CSV rows: %r" % rows)
    text = [ln.split("  ", 1) for ln in regdbg("dump", trace).stdout.splitlines()[:-1]]
    jsons = [json.loads(ln) for ln in regdbg("dump", trace, "--format", "json").stdout
             .splitlines()]
    for row, ev, line in zip(rows[1:], jsons, text):
        cells = dict(zip(header, row))
        check(cells["dev"] == 'a,b"c\\x0ad', "dev cell %r" % cells["dev"])
        for key in ("seq", "t_ns", "cpu", "bar", "off", "size", "value", "orig", "rule"):
            check(cells[key] == str(ev.get(key, "")), "%s: %r in CSV, %r in JSON" %
                  (key, cells[key], ev.get(key)))
        check(cells["dir"] == ev["dir"] and cells["reg"] == (ev["reg"] or "") and
              cells["flags"] == ",".join(ev["flags"]) and cells["fields"] ==
              (line[1] if len(line) > 1 else ""), "row %r, JSON %r, text %r" % (row, ev, line))
