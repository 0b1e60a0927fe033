"""`regdbg map import` (docs/formats.md): a register map from a C header. The real header of
Linux's DesignWare I2C driver (tests/fixtures/linux, as Linux ships it) gives a map that the
loader takes and that decodes a recorded DW I2C trace as the shipped BayTrail map does, on every
register and field both know; every #define it does not place is listed, none dropped; a
crafted header tries each rule and each reason."""

import json
import os
import re

from harness import TOP, check, regdbg

HEADER = os.path.join(TOP, "tests", "fixtures", "linux", "i2c-designware-core.h")
SHIPPED = os.path.join(TOP, "maps", "dw-i2c-baytrail.json")
# a recording of the real driver (tests/fixtures/mmiotrace/capture.sh)
TRACE = os.path.join(TOP, "tests", "fixtures", "mmiotrace", "dw-i2c-probe.trace")


def bits(field):
    b = field["bits"].split(":")
    return (int(b[0]), int(b[-1]))


def fields_by_bits(m):
    """{offset: (register name, {(msb, lsb): field})} of a map."""
    return {int(r["offset"], 0): (r["name"], {bits(f): f for f in r.get("fields", [])})
            for r in m["registers"]}


def test_real_header_decodes_like_the_shipped_map(t):
    out = t.tmp("dw.json")
    r = regdbg("map", "import", HEADER, "--prefix", "DW_IC_", "--strip", "DW_", "--id",
               "8086:0f41", "-o", out)
    check(r.returncode == 0 and r.stdout == "", "%d %r %r" % (r.returncode, r.stdout,
                                                              r.stderr[-500:]))
    err = r.stderr.splitlines()
    summary = re.fullmatch(r"regdbg map import: (\d+) registers, (\d+) fields, (\d+) field "
                           r"values from (.*) -> (.*); (\d+) #defines not placed \(listed "
                           r"above\)", err[-1])
    check(summary and summary.group(4, 5) == (HEADER, out), err[-1])
    placed = sum(int(summary.group(i)) for i in (1, 2, 3))
    listed = [ln for ln in err[:-1] if ln.startswith(HEADER + ":")]
    with open(HEADER) as f:
        defines = sum(1 for ln in f if re.match(r"\s*#\s*define\s", ln))
    # none dropped silently: each #define is placed, or listed with why
    check(placed + len(listed) == defines and len(listed) == int(summary.group(6)) and
          len(err) == len(listed) + 1, "%d placed + %d listed of %d #defines:\n%s"
          % (placed, len(listed), defines, "\n".join(err)))
    check(HEADER + ":86: DW_IC_INTR_RX_UNDER: a mask named after no register (no register "
          "macro followed by _ begins its name)" in listed and
          HEADER + ":136: DW_IC_MASTER: offset 0x0 is register DW_IC_CON's already" in listed,
          "\n".join(listed))
    mine, shipped = json.load(open(out)), json.load(open(SHIPPED))
    check(mine["match"] == [{"vendor": "0x8086", "device": "0x0f41"}], mine["match"])
    a, b = fields_by_bits(mine), fields_by_bits(shipped)
    common = set(a) & set(b)
    check(len(common) == 37 and all(a[o][0] == b[o][0] for o in common),
          "registers both know: %r" % sorted((a[o][0], b[o][0]) for o in common))
    # the decoding of a recording of the real driver: the shipped map, and the imported one
    # (--map loads after the shipped maps: it wins for 8086:0f41)
    dumped = {}
    for name, args in (("shipped", []), ("imported", ["--map", out])):
        r = regdbg("dump", TRACE, "--format", "json", *args)
        check(r.returncode == 0, r.stderr)
        dumped[name] = [json.loads(ln) for ln in r.stdout.splitlines()]
    compared = set()
    for x, y in zip(dumped["shipped"], dumped["imported"]):
        check(x["reg"] == y["reg"] and x["off"] == y["off"], "%r vs %r" % (x, y))
        regs_x, regs_y = b[x["off"]][1], a[x["off"]][1]
        for rng in set(regs_x) & set(regs_y):
            fx, fy = regs_x[rng], regs_y[rng]
            vx, vy = x["fields"][fx["name"]], y["fields"][fy["name"]]
            check(vx == vy, "%s %s: %s=%d vs %s=%d" % (x["reg"], rng, fx["name"], vx,
                                                       fy["name"], vy))
            if fx.get("values") and fy.get("values"):
                nx = [k for k, v in fx["values"].items() if v == vx]
                ny = [k for k, v in fy["values"].items() if v == vy]
                check([n.lower() for n in nx] == [n.lower() for n in ny], "%s: %r vs %r"
                      % (fx["name"], nx, ny))
            compared.add((x["reg"], fx["name"], fy["name"]))
    check({("IC_CON", "SPEED", "SPEED"), ("IC_CON", "MASTER_MODE", "MASTER"),
           ("IC_SDA_HOLD", "IC_SDA_RX_HOLD", "RX"),
           ("IC_COMP_PARAM_1", "MAX_SPEED_MODE", "SPEED_MODE")} <= compared,
          "fields compared: %r" % sorted(compared))


CRAFTED = """/* a device that is not real */
#define X_CTRL 0x00 /* control */
#define X_DATA\t\t(0x8)
#define X_CTRL_EN BIT(0) // enable
#define X_CTRL_MODE_MASK GENMASK(3, \\
                                 1)
#define X_CTRL_MODE_SLOW (1 << 1)
#define X_CTRL_MODE_FAST (2 << 1)
#define X_CTRL_MODE_TURBO (2 << 1)
#define X_CTRL_MODE_HUGE (8 << 1)
#define X_CTRL_BAD (BIT(4) | BIT(6))
#define X_CTRL_CLASH BIT(2)
#define X_DATA_BYTE GENMASK_ULL(7, X_SHIFT)
#define X_SHIFT 0
#define X_MAX(a, b) ((a) > (b) ? (a) : (b))
#define X_ODD 0x6
#define X_COUNT (FOO + 1)
#define Y_OTHER 0x10
#define X_DATA_HIGH BIT(40)
#define X_SELF X_SELF
"""


def test_crafted_header_each_rule(t):
    header = t.tmp("x.h")
    with open(header, "w") as f:
        f.write(CRAFTED)
    r = regdbg("map", "import", header, "--prefix", "X_", "--name", "X device")
    check(r.returncode == 0, r.stderr)
    m = json.loads(r.stdout)
    check(m["name"] == "X device" and m["match"] == [{"vendor": "0xffff", "device": "0xffff"}],
          r.stdout)
    regs = {reg["name"]: reg for reg in m["registers"]}
    check(sorted(regs) == ["X_CTRL", "X_DATA"] and regs["X_DATA"]["offset"] == "0x8",
          sorted(regs))
    ctrl = [(f["name"], f["bits"], f.get("values")) for f in regs["X_CTRL"]["fields"]]
    check(ctrl == [("EN", "0", None), ("MODE", "3:1", {"SLOW": 1, "FAST": 2})],
          "X_CTRL's fields %r" % ctrl)
    check([(f["name"], f["bits"]) for f in regs["X_DATA"]["fields"]] == [("BYTE", "7:0")],
          regs["X_DATA"])
    check(r.stderr.splitlines() == [
        header + ":9: X_CTRL_MODE_TURBO: field MODE of X_CTRL already calls 2 FAST",
        header + ":10: X_CTRL_MODE_HUGE: 0x10 is not a value of field MODE (bits 3:1) of X_CTRL",
        header + ":11: X_CTRL_BAD: a mask of bits that are not side by side (0x50) is no field "
        "of X_CTRL",
        header + ":12: X_CTRL_CLASH: its bits 2:2 overlap field MODE (X_CTRL_MODE_MASK) of "
        "X_CTRL",
        header + ":14: X_SHIFT: offset 0x0 is register X_CTRL's already",
        header + ":15: X_MAX: its value '' is no integer this reads: a function-like macro",
        header + ":16: X_ODD: 0x6 is no register offset (a multiple of 4 bytes) and its name "
        "extends no register's",
        header + ":17: X_COUNT: its value '(FOO + 1)' is no integer this reads: it names FOO, "
        "which the header does not define",
        header + ":18: Y_OTHER: its name does not begin with --prefix X_",
        header + ":19: X_DATA_HIGH: bits 40:40 lie outside X_DATA's 32 bits",
        header + ":20: X_SELF: its value 'X_SELF' is no integer this reads: it is defined in "
        "terms of itself",
        "regdbg map import: 2 registers, 3 fields, 2 field values from %s; 11 #defines not "
        "placed (listed above)" % header,
        "regdbg map import: note: the map matches ffff:ffff, which no device has: give --id "
        "VVVV:DDDD, or edit its match"], "stderr:\n" + r.stderr)
    for args, why in [([], "the only map command is import"),
                      (["import"], "give exactly one HEADER.h to import"),
                      (["import", header, "--id", "8086"], "--id 8086: expected VVVV:DDDD"),
                      (["export", header], "'export: the only map command is import")]:
        r = regdbg("map", *args)
        check(r.returncode == 2 and why in r.stderr, "%r: %d %r" % (args, r.returncode,
                                                                    r.stderr))
    r = regdbg("map", "import", t.tmp("missing.h"))
    check(r.returncode == 1 and "cannot open" in r.stderr and "No such file" in r.stderr,
          r.stderr)
    with open(header, "w") as f:
        f.write("#define A_FLAG BIT(1)\n")
    r = regdbg("map", "import", header)
    check(r.returncode == 1 and "no #define is a register offset" in r.stderr, r.stderr)
