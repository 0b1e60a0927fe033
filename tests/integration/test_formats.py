"""`regdbg export --format mmiotrace` and `regdbg import mmiotrace` (docs/formats.md): the import
of text that Linux's own mmiotrace tracer wrote (tests/fixtures/mmiotrace, made by capture.sh
there) matches regdbg's recording of the same run access for access; export then import gives
back every access's BAR, offset, size, direction, value and PC, a BAR that moves included;
several devices, accesses outside every BAR, unknown operations and lost events are counted and
reported; every malformed line is refused with its line number and what was expected."""

import json
import os
import struct

from harness import TOP, check, regdbg

FIXTURES = os.path.join(TOP, "tests", "fixtures", "mmiotrace")
LINUX_TEXT = os.path.join(FIXTURES, "dw-i2c-probe.mmiotrace")
LINUX_RECORDING = os.path.join(FIXTURES, "dw-i2c-probe.trace")

# docs/trace-format.md, version 3
HEADER = struct.Struct("<8sIIIIQQ64sHHHHIBB2x96sB39x")
FULL = struct.Struct("<BBBBiQQQQQQHHB3x")
BAR = struct.Struct("<BBBBB3xQQ8x")
DROP = struct.Struct("<B7xQQQ")
PC, PC_AFTER = 1 << 7, 1 << 8
MEM32, MEM64, IO = 1, 2, 3


def accesses_of(trace):
    r = regdbg("dump", trace, "--format", "json")
    check(r.returncode == 0, "dump %s: %s" % (trace, r.stderr))
    return [(e["bar"], e["off"], e["size"], e["dir"], e["value"], e.get("pc"))
            for e in map(json.loads, r.stdout.splitlines())]


def test_import_of_linux_mmiotrace_matches_regdbg_recording(t):
    """The real driver's probe and removal, as Linux's mmiotrace wrote it, imports onto the
    device, BAR and offset regdbg recorded the same accesses at, with the same values and PCs
    (the kernel's instruction addresses: both name the instruction that touched the register)."""
    out = t.tmp("linux.trace")
    r = regdbg("import", "mmiotrace", LINUX_TEXT, "-o", out)
    check(r.returncode == 0 and r.stderr == "", "import: %d %s" % (r.returncode, r.stderr))
    check(r.stdout.splitlines() == [
        "regdbg import: 33 accesses of 8086:0f41 at 00:01.0 -> " + out,
        "  2 MARK lines of text (trace_marker), not kept"], r.stdout)
    mine, linux = accesses_of(LINUX_RECORDING), accesses_of(out)
    check(len(linux) == 33 and linux == mine, "the import differs from regdbg's recording:\n%r\n%r"
          % (linux, mine))
    check(all(a[5] and a[5] >= 0xFFFFFFFF80000000 for a in linux), "kernel PCs: %r" % linux)
    text = regdbg("dump", out).stdout.splitlines()
    check(text[0] == "# bar0 at 0xfebfe000 (PCI 00:01.0)" and
          text[1].startswith("R 4 ") and " 00:01.0 bar0+0x00fc IC_COMP_TYPE -> 0x44570140 " in
          text[1], "dump of the import:\n" + "\n".join(text[:3]))
    r = regdbg("diff", LINUX_RECORDING, out)
    check(r.returncode == 0 and r.stdout.splitlines()[-1] == "no differences", r.stdout)


def craft(path, records, bars=((4096, MEM32), (0, 0), (1 << 20, MEM64), (0, 0), (256, IO),
                               (0, 0)), version=3):
    """A trace of 8086:0f41 with BARs of (size, type) and records: ("bar", n, addr, pci) or
    ("drop", count, next seq) or (bar, off, size, dir, value, pc, flags)."""
    bar_info = b"".join(struct.pack("<QBB6x", size, kind, 0) for size, kind in bars)
    data = HEADER.pack(b"RDBGTRCE", version, 256, 32, 0, 0, 1000, b"i2c0", 0x8086, 0x0F41, 0, 0,
                       0x0C8000, 0, 0, bar_info, 1)
    seq = 0
    for rec in records:
        if rec[0] == "bar":
            _, n, addr, pci = rec
            data += BAR.pack(6, n, pci is not None, (pci or 0) >> 8, (pci or 0) & 0xFF, addr,
                             1000 + 1000 * seq)
        elif rec[0] == "drop":
            data += DROP.pack(3, rec[1], seq, 1000 + 1000 * seq)
        else:
            bar, off, size, d, value, pc, flags = rec
            data += FULL.pack(2, bar, size, d, 0, seq, 1000 + 1000 * seq, off, value, value, pc,
                              flags, 0xFFFF, 7 if flags & PC else 0)
            seq += 1
    data += struct.pack("<B7xQQQ", 4, seq, 0, 99999)
    with open(path, "wb") as f:
        f.write(data)


def test_export_then_import_is_exact(t):
    """Every width, both directions, 64-bit values, PCs (and none), two memory BARs, a BAR that
    moves in the middle, a drop: export writes the physical addresses, import places them back
    on the same BAR and offset; an access to an I/O BAR is left out and said to be."""
    trace, text, back = t.tmp("a.trace"), t.tmp("a.mmiotrace"), t.tmp("b.trace")
    recs = [("bar", 0, 0xFEBF0000, 0x0010), ("bar", 2, 0x800000000, 0x0010),
            ("bar", 4, 0xC000, 0x0010),
            (0, 0x00, 4, 1, 0x65, 0x100010, PC),
            (0, 0x11, 1, 0, 0x01, 0, 0),
            (2, 0x1000, 8, 1, 0x1122334455667788, 0xFFFFFFFF81000000, PC),
            (2, 0xFFFF8, 8, 0, 0xFFFFFFFFFFFFFFFF, 0x100020, PC | PC_AFTER),
            (4, 0x4, 4, 1, 0x5, 0x100030, PC),
            ("drop", 3),
            (0, 0x22, 2, 0, 0xBEEF, 0x100040, PC),
            ("bar", 0, 0xFEBE0000, 0x0010),
            (0, 0x04, 4, 1, 0x50, 0x100050, PC),
            (0, 0xFFC, 4, 0, 0x44570140, 0x100060, PC)]
    craft(trace, recs)
    r = regdbg("export", trace, "--format", "mmiotrace", "-o", text)
    check(r.returncode == 0, "export: %d %s" % (r.returncode, r.stderr))
    check(r.stdout == "regdbg export: 7 accesses, 3 mappings, 3 events lost -> %s\n" % text and
          r.stderr == "regdbg export: note: 1 accesses to I/O BARs left out (mmiotrace traces "
          "memory only)\n", "%r %r" % (r.stdout, r.stderr))
    lines = open(text).read().splitlines()
    check(lines[:4] == [
        "VERSION 20070824",
        "PCIDEV 0010 80860f41 0 febf0000 0 800000004 0 c001 0 0 1000 0 100000 0 100 0 0 ",
        "MAP 0.000000 1 0xfebf0000 0x0 0x1000 0x0 0",
        "MAP 0.000000 2 0x800000000 0x0 0x100000 0x0 0"] and
        lines[4] == "W 4 0.000000 1 0xfebf0000 0x65 0x100010 0" and
        lines[5] == "R 1 0.000001 1 0xfebf0011 0x1 0x0 0" and
        lines[6] == "W 8 0.000002 2 0x800001000 0x1122334455667788 0xffffffff81000000 0" and
        lines[8] == "MARK 0.000005 Lost 3 events." and
        lines[10:13] == [
            "UNMAP 0.000006 1 0x0 0",
            "PCIDEV 0010 80860f41 0 febe0000 0 800000004 0 c001 0 0 1000 0 100000 0 100 0 0 ",
            "MAP 0.000006 3 0xfebe0000 0x0 0x1000 0x0 0"] and
        lines[-2:] == ["UNMAP 0.000007 3 0x0 0", "UNMAP 0.000007 2 0x0 0"],
        "the mmiotrace text:\n" + "\n".join(lines))
    r = regdbg("import", "mmiotrace", text, "-o", back)
    check(r.returncode == 0 and r.stdout.splitlines() == [
        "regdbg import: 7 accesses of 8086:0f41 at 00:02.0 -> " + back,
        "  3 events the tracer lost, marked as drops"], "import: %r %r" % (r.stdout, r.stderr))
    want = [a for a in accesses_of(trace) if a[0] != 4]
    check(accesses_of(back) == want, "round trip:\n%r\n%r" % (accesses_of(back), want))
    dumped = regdbg("dump", back).stdout.splitlines()
    check("# bar0 at 0xfebe0000 (PCI 00:02.0)" in dumped and
          "# dropped 3 events here (ring full or producer gone)" in dumped, "\n".join(dumped))


def test_export_needs_the_bars_placed(t):
    """A trace of format 2 places no BAR: export says which access and what to give; --bar
    places it."""
    trace, text = t.tmp("v2.trace"), t.tmp("v2.mmiotrace")
    craft(trace, [(0, 0x10, 4, 1, 0x155, 0, 0)], version=2)
    r = regdbg("export", trace, "--format", "mmiotrace", "-o", text)
    check((r.returncode, r.stdout) == (1, "") and r.stderr.startswith(
        "regdbg export: access 1 (seq 0) is to BAR 0, which the trace places nowhere") and
        "give --bar 0=ADDRESS" in r.stderr and not os.path.exists(text), r.stderr)
    r = regdbg("export", trace, "--format", "mmiotrace", "--bar", "0=0xe0000000")
    check(r.returncode == 0 and "W 4 0.000000 1 0xe0000010 0x155 0x0 0\n" in r.stdout, r.stdout)
    for bad in ("6=0x1000", "0", "0=later", "x=1"):
        r = regdbg("export", trace, "--format", "mmiotrace", "--bar", bad)
        check(r.returncode == 2 and "--bar %s: expected N=ADDRESS" % bad in r.stderr, r.stderr)


TWO_DEVICES = """VERSION 20070824
PCIDEV 0008 80860f41 a febfe000 0 0 0 0 0 0 1000 0 0 0 0 0 0 i2c_designware_pci
PCIDEV 0010 80860f42 a febfd000 0 0 0 c041 0 0 1000 0 0 0 20 0 0 
MARK 1.000000 loading
MAP 1.100000 1 0xfebfe000 0xffffc90000010000 0x1000 0x0 0
MAP 1.100001 2 0xfebfd000 0xffffc90000020000 0x1000 0x0 0
R 4 1.200000 1 0xfebfe0fc 0x44570140 0xffffffff8176d3af 0
W 4 1.200001 2 0xfebfd000 0x63 0xffffffff8176ce7b 0
W 2 1.200002 1 0xfebfe004 0x50 0xffffffff8176ce7b 0
R 4 1.200003 1 0xfee00020 0x0 0xffffffff81000000 0
UNKNOWN 1.200004 1 0xfebfe010 0f,b6,07 0xffffffff81000010 0
MARK 0.000000 Lost 7 events.
R 4 1.200005 7 0xfebfe070 0x6 0xffffffff8176ce5b 0
UNMAP 1.300000 1 0x0 0
"""


def test_import_places_each_device_and_reports_the_rest(t):
    """Two devices with accesses: import asks which (and lists them); --device by vendor:device
    or by PCI address takes one, and the summary counts the other's accesses, the one outside
    every BAR (line and address), the UNKNOWN line, the lost events, the text mark and the
    access through a map no MAP line opened."""
    text, out = t.tmp("two.mmiotrace"), t.tmp("two.trace")
    with open(text, "w") as f:
        f.write(TWO_DEVICES)
    r = regdbg("import", "mmiotrace", text, "-o", out)
    check(r.returncode == 1 and r.stderr == (
        "regdbg import: %s: accesses fall on 2 devices; choose one with --device VVVV:DDDD or "
        "BB:DD.F: 8086:0f41 at 00:01.0 (3 accesses), 8086:0f42 at 00:02.0 (1 accesses)\n" % text)
        and not os.path.exists(out), r.stderr)
    for device in ("8086:0f41", "00:01.0"):
        r = regdbg("import", "mmiotrace", text, "-o", out, "--device", device)
        check(r.returncode == 0 and r.stdout.splitlines() == [
            "regdbg import: 3 accesses of 8086:0f41 at 00:01.0 -> " + out,
            "  1 accesses of 8086:0f42 at 00:02.0 left out (--device 00:02.0 takes them)",
            "  1 accesses outside every BAR the PCIDEV lines give, left out (the first at line "
            "10, address 0xfee00020)",
            "  1 UNKNOWN lines (accesses mmiotrace could not decode), left out",
            "  1 accesses through a mapping no open MAP line holds (the first at line 13), "
            "placed by their physical address",
            "  7 events the tracer lost, marked as drops",
            "  1 MARK lines of text (trace_marker), not kept"], "%s: %r %r" % (device, r.stdout,
                                                                         r.stderr))
        check(accesses_of(out) == [(0, 0xFC, 4, "r", 0x44570140, 0xFFFFFFFF8176D3AF),
                                   (0, 0x4, 2, "w", 0x50, 0xFFFFFFFF8176CE7B),
                                   (0, 0x70, 4, "r", 0x6, 0xFFFFFFFF8176CE5B)],
              "%s: %r" % (device, accesses_of(out)))
    r = regdbg("import", "mmiotrace", text, "-o", out, "--device", "00:02.0")
    check(r.returncode == 0 and accesses_of(out) == [(0, 0, 4, "w", 0x63, 0xFFFFFFFF8176CE7B)],
          r.stdout)
    r = regdbg("import", "mmiotrace", text, "-o", out, "--device", "1234:5678")
    check(r.returncode == 1 and "no PCIDEV device is 1234:5678; the devices: 8086:0f41 at "
          "00:01.0" in r.stderr, r.stderr)


def test_malformed_lines_are_refused_with_their_number(t):
    """Each damaged line stops the import with FILE:LINE and what was expected; no trace is
    left behind."""
    good = TWO_DEVICES.splitlines()
    out = t.tmp("bad.trace")
    for line_no, line, why in [
        (7, "R 3 1.200000 1 0xfebfe0fc 0x44570140 0x0 0", "R: the width '3' is not 1, 2, 4 or 8"),
        (7, "R 4 1.2 1 0xfebfe0fc 0x44570140 0x0 0", "R: '1.2' is not a time (SECONDS.MICRO"),
        (7, "R 4 1.200000 1 0xfebfe0fc 0x44570140 0x0", "expected 'R|W WIDTH SECONDS MAP_ID "
         "PHYS VALUE PC PID' (7 fields after R), found 6"),
        (7, "R 4 1.200000 1 zz 0x44570140 0x0 0", "R: expected 'R|W WIDTH SECONDS MAP_ID PHYS "
         "VALUE PC PID' with a decimal map id"),
        (7, "R 1 1.200000 1 0xfebfe0fc 0x144 0x0 0", "R: the value 0x144 does not fit 1 bytes"),
        (2, "PCIDEV 0008 8086 a febfe000", "expected 'PCIDEV BBDD VVVVDDDD IRQ START x7 SIZE x7 "
         "[DRIVER]' (at least 17 fields after PCIDEV), found 4"),
        (2, "PCIDEV 08 80860f41 a febfe000 0 0 0 0 0 0 1000 0 0 0 0 0 0",
         "PCIDEV: '08' is not a bus and devfn"),
        (5, "MAP 1.100000 1 0xfebfe000", "expected 'MAP SECONDS MAP_ID PHYS VIRT LENGTH PC PID'"),
        (1, "VERSION 20080101", "VERSION 20080101: this reads mmiotrace version 20070824"),
        (4, "HELLO world", "'HELLO' is not an mmiotrace record: expected VERSION, PCIDEV, MAP, "
         "UNMAP, R, W, MARK, UNKNOWN or LSPCI"),
    ]:
        text = t.tmp("bad.mmiotrace")
        lines = list(good)
        lines[line_no - 1] = line
        with open(text, "w") as f:
            f.write("\n".join(lines) + "\n")
        r = regdbg("import", "mmiotrace", text, "-o", out, "--device", "00:01.0")
        check(r.returncode == 1 and r.stdout == "" and
              r.stderr.startswith("regdbg import: %s:%d: %s" % (text, line_no, why)) and
              not os.path.exists(out), "line %d %r: %d %r" % (line_no, line, r.returncode,
                                                             r.stderr))
    with open(text, "w") as f:
        f.write("R 4 1.200000 1 0xfebfe0fc 0x44570140 0x0 0\n")
    r = regdbg("import", "mmiotrace", text, "-o", out)
    check(r.returncode == 1 and "no 'VERSION 20070824' line: not mmiotrace text" in r.stderr,
          r.stderr)
