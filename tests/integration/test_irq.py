"""The proxy's interrupt, without a real device: QEMU's qtest protocol intercepts the IOAPIC's
inputs (`irq_intercept_in ioapic`: q35 routes INTA of the proxy to a GSI from 16), and an MSI
aimed at guest RAM is read back from there (the libqos trick). Covered: `irq assert|deassert|
pulse` from batch scripts and rules files reach the interrupt controller; rules that fire an
interrupt once a write or a read has gone through (with conditions, temp, drops); MSI delivered
instead of INTx once the guest enables it, blocked without bus mastering, never recursing into
the device; a reset lowers the line; and every interrupt is an event of its own in the ring, in
recorded traces (regdbg dump, text and JSON), in the TUI's stream and its filter, and left out of
regdbg diff with a count."""

import csv
import io
import json
import os
import re

from harness import (GUEST, REGDBG, HeldRing, RingHeader, TestFailure, check, dump_json,
                     qemu_fails, regdbg, ring_event, rule_table, wait_for)

BAR = 0xE0000000
MSI_ADDR = 0x100000             # guest RAM: the MSI's write lands there, qtest reads it back
MSI_DATA = 0x4321
DEV = "regdbg-proxy,id=dev0,vendor-id=0x1234,device-id=0x5678,bar0-size=4096"
# A map for DEV, so that rules can name the example: on w DMA_CMD if START == 1 irq pulse
MAP = {
    "name": "irq test device",
    "match": [{"vendor": "0x1234", "device": "0x5678"}],
    "registers": [
        {"name": "DMA_CMD", "offset": "0x20", "width": 32, "access": "rw",
         "fields": [{"name": "START", "bits": "0"}, {"name": "DIR", "bits": "1"}]},
        {"name": "INTR_CLR", "offset": "0x24", "width": 32, "access": "rw"},
    ],
}


def intx_vm(t, extra="", name="vm", devices=None, qemu_extra=()):
    """A qtest VM with the proxy, its BAR 0 mapped, the IOAPIC's inputs intercepted."""
    q = t.qemu(devices or [DEV + extra], name=name, extra=list(qemu_extra))
    found = q.qtest.find_device(0x1234, 0x5678)
    check(len(found) >= 1, "proxy not found in config space")
    q.qtest.map_bar(found[0], 0, BAR)
    q.qtest.intercept_irqs()
    q.bdf = found[0]
    q.shm = q.shm_path("/machine/peripheral/dev0")
    return q


def map_file(t):
    path = t.tmp("irqdev.json")
    with open(path, "w") as f:
        json.dump(MAP, f)
    return path


def batch(t, q, lines, *extra):
    script = t.tmp("irq-%d.batch" % len(os.listdir(t.tmp(""))))
    with open(script, "w") as f:
        f.write("\n".join(lines) + "\n")
    return regdbg("batch", "--qmp", q.qmp_path, *extra, script)


def ring_events(shm):
    """Every event of the ring, as published so far (harness.ring_event)."""
    return [ring_event(shm, pos) for pos in range(RingHeader(shm).head)]


def irq_events(trace):
    return [e for e in dump_json(trace) if e["dir"] == "irq"]


def wait_lines(q, n, what):
    """The IOAPIC lines qtest reported, once there are n of them."""
    try:
        return q.qtest.wait_irqs(n, 5)
    except TestFailure:
        raise TestFailure("%s: the IOAPIC saw %r, expected %d lines" % (what, q.qtest.irqs, n))


def one_gsi(lines):
    """The GSI every line of lines is on (INTA of the proxy has one), checked."""
    gsis = {n for _, n in lines}
    check(len(gsis) == 1 and 16 <= min(gsis) <= 23, "interrupt lines on %r: INTA of a q35 PCI "
          "device goes to one GSI from 16 to 23" % lines)
    return gsis.pop()


# --- the debugger's irq command ---------------------------------------------------------------

def test_batch_irq_commands_reach_the_ioapic(t):
    q = intx_vm(t)
    trace = t.tmp("cmds.trace")
    r = batch(t, q, ["irq assert", "irq assert", "irq deassert", "irq pulse",
                     "irq deassert dev0"], "--record", trace)
    check(r.returncode == 0, "batch failed: " + r.stderr)
    check("regdbg batch: irq pulse: dev0" in r.stderr, r.stderr)
    lines = wait_lines(q, 4, "assert, assert, deassert, pulse, deassert")
    gsi = one_gsi(lines)
    q.qtest.poll_irqs(0.3)
    check(q.qtest.irqs == [("raise", gsi), ("lower", gsi), ("raise", gsi), ("lower", gsi)],
          "the IOAPIC saw %r: the second assert and the last deassert change nothing"
          % q.qtest.irqs)
    check(q.qmp.cmd("qom-get", path="/machine/peripheral/dev0", property="irq") == "deassert",
          "the irq property after the script")
    # The ring: one event per change the controller saw, and one per request that changed none.
    want = [("raised", "assert"), ("unchanged", "assert"), ("lowered", "deassert"),
            ("raised", "pulse"), ("lowered", "pulse"), ("unchanged", "deassert")]
    evs = ring_events(q.shm)
    check([(e["irq"], e["action"]) for e in evs] == want, "ring: %r" % evs)
    for e in evs:
        check(e["dir"] == "irq" and e["source"] == "debugger" and e["off"] == 1 and
              e["bar"] == 0 and e["size"] == 0 and e["rule"] == 0xFFFF and e["cpu"] == -1 and
              e["flags"] == [] and e["pc"] is None, "ring event %r" % e)
    # The recorded trace says the same, in JSON and in text.
    got = irq_events(trace)
    check([(e["irq"], e["action"]) for e in got] == want, "trace: %r" % got)
    check(all(e["line"] == "intx" and e["pin"] == 1 and e["source"] == "debugger" and
              e["flags"] == [] and e["cpu"] == -1 and "rule" not in e and "bar" not in e and
              "value" not in e for e in got), "trace events: %r" % got)
    text = [ln for ln in regdbg("dump", trace).stdout.splitlines() if not ln.startswith("#")]
    check(len(text) == len(want), "dump text: %r" % text)
    for ln, (what, action) in zip(text, want):
        check(re.fullmatch(r"I - \d+\.\d{9} - dev0 INTA %s by=debugger\(%s\)" % (what, action),
                           ln), "dump line %r" % ln)
    # CSV: the JSON keys' columns; an interrupt's other keys where the fields go
    r = regdbg("dump", trace, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    check(r.returncode == 0 and [(x["dir"], x["off"], x["value"], x["fields"], x["bar"])
                                 for x in rows] ==
          [("irq", "1", what, "line=intx source=debugger action=" + action, "")
           for what, action in want], "dump csv: %r" % rows)


test_batch_irq_commands_reach_the_ioapic.timeout = 60


def test_irq_needs_a_device_and_a_word(t):
    two = [DEV, DEV.replace("id=dev0", "id=dev1")]
    q = intx_vm(t, devices=two)
    shm1 = q.shm_path("/machine/peripheral/dev1")
    r = batch(t, q, ["irq pulse"])
    check(r.returncode == 1 and "irq pulse: which device? name it (irq pulse ID)" in r.stderr,
          "no device named among two: %d %s" % (r.returncode, r.stderr))
    check(RingHeader(q.shm).head == 0 and RingHeader(shm1).head == 0, "an interrupt happened")
    r = batch(t, q, ["irq pulse dev1"])
    check(r.returncode == 0, r.stderr)
    check(RingHeader(q.shm).head == 0 and RingHeader(shm1).head == 2, "dev1's pulse went to "
          "rings %d/%d" % (RingHeader(q.shm).head, RingHeader(shm1).head))
    r = batch(t, q, ["irq assert"], "--device", "dev0")
    check(r.returncode == 0 and RingHeader(q.shm).head == 1, r.stderr)
    # A script is checked whole first: a bad word on line 2 and line 1 never runs.
    r = batch(t, q, ["irq deassert dev0", "irq lower dev0"])
    check(r.returncode == 1 and ":2:5: expected assert, deassert or pulse, not 'lower'" in
          r.stderr and RingHeader(q.shm).head == 1, r.stderr)
    # QMP itself refuses other words, and the property only drives a device that exists.
    refused = None
    try:
        q.qmp.cmd("qom-set", path="/machine/peripheral/dev0", property="irq", value="raise")
    except TestFailure as e:
        refused = str(e)
    check(refused and "irq=raise: expected assert, deassert or pulse" in refused,
          "qom-set irq=raise: %r" % refused)
    status, out = qemu_fails(t.tmp, [DEV + ",irq=assert"])
    check(status != 0 and "irq=assert: the interrupt can be driven once the device exists "
          "(qom-set), not as a -device option" in out, "-device irq=: %s" % out)


test_irq_needs_a_device_and_a_word.timeout = 60


def test_rules_file_irq_lines(t):
    q = intx_vm(t)
    rules = t.tmp("fw.rules")
    with open(rules, "w") as f:
        f.write("irq assert   # the line starts high\non w bar0+0x10 irq deassert\n")
    trace = t.tmp("rules.trace")
    rec = t.recorder("--qmp", q.qmp_path, "--rules", rules, "-o", trace, "--count", "3")
    rec.wait_attached(q.shm)
    gsi = one_gsi(wait_lines(q, 1, "the rules file's irq assert"))
    check(list(rule_table(q.shm).values()) == [("on w dev0:bar0+0x10 irq deassert", 1, 5)],
          "rules: %r" % rule_table(q.shm))
    q.qtest.write(BAR + 0x10, 4, 1)
    check(wait_lines(q, 2, "the rule's deassert") == [("raise", gsi), ("lower", gsi)],
          "lines %r" % q.qtest.irqs)
    status, out, err = rec.finish()
    check(status == 0, err)
    evs = dump_json(trace)
    check([(e["dir"], e.get("irq"), e.get("source")) for e in evs] ==
          [("irq", "raised", "debugger"), ("w", None, None), ("irq", "lowered", "rule")],
          "trace: %r" % evs)
    # Without QMP (--shm) nothing can drive the interrupt: the file is refused whole.
    r = regdbg("record", "--shm", q.shm, "--rules", rules, "-o", t.tmp("no.trace"),
               "--count", "1")
    check(r.returncode != 0 and "fw.rules:1: irq drives the interrupt over QMP: give --qmp "
          "(regdbg record --shm cannot)" in r.stderr, r.stderr)


test_rules_file_irq_lines.timeout = 60


# --- rules that fire the interrupt --------------------------------------------------------------

def test_rules_fire_irq_after_the_access(t):
    q = intx_vm(t)
    rules = ["on w DMA_CMD if START == 1 irq pulse",    # 0: the example
             "on w bar0+0x10 irq assert temp",          # 1: once
             "on r INTR_CLR irq deassert",              # 2: read-to-clear
             "drop w bar0+0x18 if value == 7",          # 3
             "on w bar0+0x18 irq pulse ignore 1"]       # 4: not for dropped writes
    r = batch(t, q, rules, "--keep", "--map", map_file(t))
    check(r.returncode == 0, r.stderr)
    texts = [v[0] for _, v in sorted(rule_table(q.shm).items())]
    check(texts == ["on w dev0:DMA_CMD if START == 1 irq pulse",
                    "on w dev0:bar0+0x10 temp irq assert", "on r dev0:INTR_CLR irq deassert",
                    "drop w dev0:bar0+0x18 if value == 7",
                    "on w dev0:bar0+0x18 ignore 1 irq pulse"], "rules: %r" % texts)
    trace = t.tmp("rules.trace")
    rec = t.recorder("--qmp", q.qmp_path, "-o", trace, "--count", "17")
    rec.wait_attached(q.shm)
    qt = q.qtest
    steps = [  # (access, lines the IOAPIC sees after it)
        (("w", 0x20, 0x0), []),                    # START == 0
        (("w", 0x20, 0x1), ["raise", "lower"]),
        (("w", 0x20, 0x3), ["raise", "lower"]),    # START == 1, DIR == 1
        (("w", 0x10, 0x5), ["raise"]),             # temp: held high
        (("w", 0x10, 0x5), []),                    # spent
        (("r", 0x24, None), ["lower"]),
        (("w", 0x18, 0x8), []),                    # ignore 1
        (("w", 0x18, 0x7), []),                    # dropped: never reached the backend
        (("w", 0x18, 0x8), ["raise", "lower"]),
    ]
    seen = 0
    for (d, off, value), want in steps:
        if d == "w":
            qt.write(BAR + off, 4, value)
        else:
            qt.read(BAR + off, 4)
        qt.poll_irqs(0.1)
        got = [kind for kind, _ in qt.irqs[seen:]]
        check(got == want, "after %s 0x%x: the IOAPIC saw %r, wanted %r" % (d, off, got, want))
        seen = len(qt.irqs)
    one_gsi(qt.irqs)
    status, out, err = rec.finish()
    check(status == 0, err)
    # In the trace, each interrupt event follows the access that fired it and names its rule.
    evs = dump_json(trace)
    got = [(e["dir"], e.get("off"), e.get("irq"), e.get("rule")) for e in evs]
    want = [("w", 0x20, None, None),
            ("w", 0x20, None, None), ("irq", None, "raised", 0), ("irq", None, "lowered", 0),
            ("w", 0x20, None, None), ("irq", None, "raised", 0), ("irq", None, "lowered", 0),
            ("w", 0x10, None, None), ("irq", None, "raised", 1),
            ("w", 0x10, None, None),
            ("r", 0x24, None, None), ("irq", None, "lowered", 2),
            ("w", 0x18, None, None),
            ("w", 0x18, None, 3),                  # the drop's own rule, on the access
            ("w", 0x18, None, None), ("irq", None, "raised", 4), ("irq", None, "lowered", 4)]
    check(got == want, "trace:\n%r\nwanted\n%r" % (got, want))
    check(all(e["source"] == "rule" and e["cpu"] == -1 for e in evs if e["dir"] == "irq"),
          "qtest makes the accesses: no vCPU, no PC")
    check(evs[13]["flags"] == ["dropped"], "the dropped write: %r" % evs[13])
    text = [ln for ln in regdbg("dump", trace).stdout.splitlines() if not ln.startswith("#")]
    check(re.fullmatch(r"I - \d+\.\d{9} - dev0 INTA raised by=rule:0\(pulse\)", text[2]) and
          re.fullmatch(r"I - \d+\.\d{9} - dev0 INTA lowered by=rule:2\(deassert\)", text[11]),
          "dump text: %r" % text[:12])
    # mmiotrace has no line for an interrupt: a mark, after the access that fired it
    r = regdbg("export", trace, "--format", "mmiotrace")
    lines = [ln for ln in r.stdout.splitlines() if ln.split()[0] in ("W", "R", "MARK")]
    check(r.returncode == 0 and len(lines) == 17 and lines[1].startswith("W 4 ") and
          re.fullmatch(r"MARK \d+\.\d{6} regdbg interrupt: INTA raised by rule 0 \(pulse\)",
                       lines[2]) and lines[10].startswith("R 4 ") and
          re.fullmatch(r"MARK \d+\.\d{6} regdbg interrupt: INTA lowered by rule 2 "
                       r"\(deassert\)", lines[11]), "export: %d %r %s" % (r.returncode, lines,
                                                                       r.stderr))


test_rules_fire_irq_after_the_access.timeout = 60


def test_guest_write_fires_irq_with_its_pc(t):
    """A real vCPU (TCG) makes the write: the rule's interrupt event carries its vCPU and PC."""
    serial = t.tmp("serial.log")
    # the test guest looks for the DesignWare identity
    q = t.qemu([DEV.replace("0x1234", "0x8086").replace("0x5678", "0x0f41")], qtest=False,
               accel="tcg", paused=True,
               extra=["-kernel", GUEST, "-append", "mode=script ops=w10=0x5,w14=0x6",
                      "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                      "-serial", "file:" + serial])
    held = HeldRing(q.shm_path("/machine/peripheral/dev0"))
    try:
        r = batch(t, q, ["on w bar0+0x10 irq pulse"], "--keep")
        check(r.returncode == 0, r.stderr)
        q.qmp.cmd("cont")
        status = q.wait(60)
        with open(serial) as f:
            check(status == 1, "guest exit status %d: %s" % (status, f.read()))
        evs = [e for e in (ring_event(held, pos) for pos in range(RingHeader(held).head))
               if e and (e["dir"] == "irq" or e["off"] in (0x10, 0x14))]
    finally:
        held.close()
    check([(e["dir"], e.get("irq")) for e in evs] ==
          [("w", None), ("irq", "raised"), ("irq", "lowered"), ("w", None)], "ring: %r" % evs)
    w, raised = evs[0], evs[1]
    check(w["cpu"] == 0 and "pc" in w["flags"] and w["pc"], "the write has no PC: %r" % w)
    for e in evs[1:3]:
        check(e["cpu"] == 0 and e["pc"] == w["pc"] and e["mode"] == w["mode"] and
              e["source"] == "rule" and e["rule"] == 0, "event %r, write %r" % (e, w))
    check(raised["t_ns"] >= w["t_ns"], "the interrupt before the write")


test_guest_write_fires_irq_with_its_pc.timeout = 90


# --- MSI ----------------------------------------------------------------------------------------

def test_msi_is_delivered_instead_of_intx(t):
    q = intx_vm(t, ",msi=on")
    qt = q.qtest
    cap = qt.find_cap(q.bdf, 0x05)
    check(cap and qt.cfg_read(q.bdf, cap + 2, 2) & 0x80, "msi=on: no 64-bit MSI capability "
          "(capability at 0x%x)" % cap)
    # INTx first: asserted, then the guest enables MSI, which lowers INTx (the PCI spec makes
    # them exclusive); the device says so.
    check(batch(t, q, ["irq assert"]).returncode == 0, "irq assert")
    gsi = one_gsi(wait_lines(q, 1, "INTx before MSI"))
    qt.enable_msi(q.bdf, MSI_ADDR, MSI_DATA)
    check(wait_lines(q, 2, "enabling MSI") == [("raise", gsi), ("lower", gsi)],
          "%r" % qt.irqs)
    evs = ring_events(q.shm)
    check([(e["irq"], e["source"], e["action"]) for e in evs] ==
          [("raised", "debugger", "assert"), ("lowered", "device", None)],
          "the events of assert, then enabling MSI: %r" % evs)
    check(q.qmp.cmd("qom-get", path="/machine/peripheral/dev0", property="irq") == "deassert",
          "the level is forgotten")
    # Without bus mastering the message goes nowhere; the event says it was blocked.
    qt.write(MSI_ADDR, 4, 0)
    check(batch(t, q, ["irq pulse"]).returncode == 0, "irq pulse")
    check(qt.read(MSI_ADDR, 4) == 0, "an MSI was written without bus mastering")
    e = ring_events(q.shm)[-1]
    check(e["irq"] == "msi" and e["flags"] == ["msi", "blocked"] and e["off"] == 0, "%r" % e)
    qt.cfg_write(q.bdf, 0x04, 2, qt.cfg_read(q.bdf, 0x04, 2) | 0x4)
    trace = t.tmp("msi.trace")
    r = batch(t, q, ["irq pulse", "irq deassert", "irq assert", "on w bar0+0x10 irq pulse"],
              "--keep", "--record", trace)
    check(r.returncode == 0, r.stderr)
    check(qt.read(MSI_ADDR, 4) == MSI_DATA, "no MSI data at 0x%x" % MSI_ADDR)
    qt.write(MSI_ADDR, 4, 0)
    qt.write(BAR + 0x10, 4, 1)
    check(qt.read(MSI_ADDR, 4) == MSI_DATA, "the rule's MSI did not arrive")
    qt.poll_irqs(0.3)
    check(qt.irqs == [("raise", gsi), ("lower", gsi)], "INTx moved with MSI enabled: %r"
          % qt.irqs)
    got = [(e["irq"], e["line"], e["vector"], e.get("action"), e["flags"])
           for e in irq_events(trace)]
    check(got == [("msi", "msi", 0, "pulse", []), ("unchanged", "msi", 0, "deassert", []),
                  ("msi", "msi", 0, "assert", [])], "trace: %r" % got)
    evs = ring_events(q.shm)
    check([(e["dir"], e.get("irq"), e["rule"]) for e in evs[-2:]] ==
          [("w", None, 0xFFFF), ("irq", "msi", 0)], "the rule's MSI: %r" % evs[-2:])
    text = regdbg("dump", trace).stdout.splitlines()
    check(re.fullmatch(r"I - \d+\.\d{9} - dev0 MSI0 msi by=debugger\(pulse\)", text[0]),
          "dump text: %r" % text)


test_msi_is_delivered_instead_of_intx.timeout = 60


def test_msi_is_off_by_default(t):
    """Without msi=on the config space has no capability (as before MSI existed): the proxy
    shows the guest what the real device's identity gives, and no more."""
    q = intx_vm(t)
    qt = q.qtest
    check(qt.cfg_read(q.bdf, 0x06, 2) & 0x10 == 0 and qt.cfg_read(q.bdf, 0x34, 1) == 0,
          "a capability list without msi=on")
    check(all(qt.cfg_read(q.bdf, off) == 0 for off in range(0x40, 0x100, 4)),
          "device-specific config space is not all zero")
    check(qt.cfg_read(q.bdf, 0x3D, 1) == 1, "interrupt pin is not INTA")


def test_msi_aimed_at_the_device_does_not_recurse(t):
    """A guest may aim the MSI at the device's own BAR, where a rule fires the interrupt again:
    the second interrupt is refused (LOG_GUEST_ERROR) instead of recursing until QEMU's stack
    runs out."""
    q = intx_vm(t, ",msi=on", qemu_extra=["-d", "guest_errors"])
    qt = q.qtest
    qt.cfg_write(q.bdf, 0x04, 2, qt.cfg_read(q.bdf, 0x04, 2) | 0x4)
    qt.enable_msi(q.bdf, BAR + 0x10, MSI_DATA)
    check(batch(t, q, ["on w bar0+0x10 irq pulse"], "--keep").returncode == 0, "rule")
    qt.write(BAR + 0x10, 4, 1)
    check(q.proc.poll() is None, "QEMU died: %s" % q.output()[-2000:])
    evs = ring_events(q.shm)
    got = [(e["dir"], e.get("irq"), e["value"] if e["dir"] == "w" else None) for e in evs]
    check(got == [("w", None, 1), ("w", None, MSI_DATA), ("irq", "msi", None)],
          "ring: %r" % got)
    wait_for(lambda: "its MSI reached the device itself" in q.output(), 5, "the guest error")


test_msi_aimed_at_the_device_does_not_recurse.timeout = 60


def test_reset_lowers_the_line(t):
    q = intx_vm(t)
    check(batch(t, q, ["irq assert"]).returncode == 0, "irq assert")
    gsi = one_gsi(wait_lines(q, 1, "assert"))
    q.qmp.cmd("system_reset")
    wait_for(lambda: ("lower", gsi) in q.qtest.poll_irqs(0.1) or ("lower", gsi) in q.qtest.irqs,
             5, "the reset to lower GSI %d" % gsi)
    # (a reset moves other lines too: the timer's IRQ 0)
    check([x for x in q.qtest.irqs if x[1] == gsi] == [("raise", gsi), ("lower", gsi)],
          "%r" % q.qtest.irqs)
    wait_for(lambda: RingHeader(q.shm).head == 2, 5, "the reset's event")
    e = ring_events(q.shm)[1]
    check(e["irq"] == "lowered" and e["source"] == "device" and e["action"] is None, "%r" % e)
    check(q.qmp.cmd("qom-get", path="/machine/peripheral/dev0", property="irq") == "deassert",
          "the level after a reset")


# --- the TUI and diff ---------------------------------------------------------------------------

def test_tui_stream_shows_and_filters_interrupts(t):
    from tui import Term
    q = intx_vm(t)
    term = Term(t, "irq", [REGDBG, "attach", q.qmp_path], cols=120, rows=30)
    term.wait(lambda ls: "VM:" in ls[0], 10, "the TUI")
    for cmd in (":irq pulse", ":on w bar0+0x10 irq assert"):
        term.type(cmd)
        term.keys("Enter")
    term.wait(lambda ls: any("rule 0: on w dev0:bar0+0x10 irq assert" in ln for ln in ls), 5,
              "the rule's notice")
    gsi = one_gsi(wait_lines(q, 2, ":irq pulse"))
    q.qtest.write(BAR + 0x10, 4, 0x5)
    q.qtest.write(BAR + 0x14, 4, 0x6)
    check(wait_lines(q, 3, "the rule")[2] == ("raise", gsi), "%r" % q.qtest.irqs)
    irq_re = r"^\s+\d+\.\d{6} -\s+dev0\s+IRQ INTA\s+(?:-\s+)?%s\s+by %s$"
    want = [irq_re % ("raised", r"debugger \(pulse\)"),
            irq_re % ("lowered", r"debugger \(pulse\)"),
            r"^\s+\d+\.\d{6} -\s+dev0\s+W4 bar0\+0x0010\s+.*<- 0x00000005",
            irq_re % ("raised", r"rule 0 \(assert\)"),
            r"^\s+\d+\.\d{6} -\s+dev0\s+W4 bar0\+0x0014\s+.*<- 0x00000006"]

    def stream_is(patterns):
        def pred(ls):
            rows = [ln for ln in ls[1:-2] if ln.strip()]
            return len(rows) == len(patterns) and all(re.match(p, r) for p, r in
                                                      zip(patterns, rows))
        return pred
    term.wait(stream_is(want), 10, "the stream with its interrupts")
    term.keys("f")
    term.type("dir=irq")
    term.keys("Enter")
    term.wait(stream_is([want[0], want[1], want[3]]), 5, "only interrupts")
    term.keys("f")
    term.type("irq=lowered")
    term.keys("Enter")
    term.wait(stream_is([want[1]]), 5, "only the lowered line")
    term.keys("f")
    term.type("bar=0")
    term.keys("Enter")
    term.wait(stream_is([want[2], want[4]]), 5, "bar=0: accesses only")
    term.keys("F")
    term.wait(stream_is(want), 5, "the filter cleared")
    term.keys("q")
    term.check_clean_exit(5)


test_tui_stream_shows_and_filters_interrupts.timeout = 60


def test_diff_leaves_interrupts_out(t):
    q = intx_vm(t)
    traces = []
    # two accesses each; the interrupt events of run 1 and of run 2
    for n, (script, events) in enumerate([(["pulse"], 2), (["assert", "deassert", "pulse"], 4)]):
        trace = t.tmp("run%d.trace" % n)
        rec = t.recorder("--qmp", q.qmp_path, "-o", trace, "--count", str(2 + events))
        rec.wait_attached(q.shm)
        q.qtest.write(BAR + 0x10, 4, 1)
        for word in script:     # not batch: the recording holds the ring
            q.qmp.cmd("qom-set", path="/machine/peripheral/dev0", property="irq", value=word)
        q.qtest.write(BAR + 0x14, 4, 2)
        status, out, err = rec.finish()
        check(status == 0, err)
        traces.append(trace)
    r = regdbg("diff", *traces)
    check(r.returncode == 0, "the runs' accesses agree: %d\n%s%s" % (r.returncode, r.stdout,
                                                                    r.stderr))
    check(re.search(r"^run 1: .*, 2 accesses; 2 interrupt events, not compared$", r.stdout, re.M)
          and re.search(r"^run 2: .*, 2 accesses; 4 interrupt events, not compared$", r.stdout,
                        re.M), r.stdout)
    r = regdbg("diff", *traces, "--format", "json")
    runs = json.loads(r.stdout)["runs"]
    check([x["irq_events"] for x in runs] == [2, 4] and [x["accesses"] for x in runs] == [2, 2],
          "json runs: %r" % runs)
