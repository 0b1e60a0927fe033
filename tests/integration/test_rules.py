"""Breakpoints, stepping, edits, injections and drops, driven by `regdbg batch` against the real
QEMU: breakpoints with the real guest (script mode makes exact accesses; a parked vCPU while QMP
and the other vCPU go on), edits and injections over qtest (the test is the guest), and the
accesses that must never park (qtest and the monitor run on QEMU's main loop)."""

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

from harness import (GUEST, REGDBG, SAN_ENV, HeldRing, RingHeader, check, dump_json, regdbg,
                     require_kvm, ring_event, rule_table, wait_for)

BAR = 0xE0000000
I2C = "regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,bar0-size=4096"


def file_proxy(t, extra=""):
    path = t.tmp("bar0.bin")
    with open(path, "wb") as f:
        f.write(bytes(range(256)) * 16)
    q = t.qemu([I2C + ",backend=file,bar0-file=" + path + extra])
    bdf = q.qtest.find_device(0x8086, 0x0F41)[0]
    q.qtest.map_bar(bdf, 0, BAR)
    return q, path


def read_file(path, off, size):
    with open(path, "rb") as f:
        f.seek(off)
        return int.from_bytes(f.read(size), "little")


class Batch:
    """`regdbg batch` fed its script line by line on stdin."""

    def __init__(self, t, q, *extra):
        self.proc = subprocess.Popen([REGDBG, "batch", "--qmp", q.qmp_path] + list(extra) +
                                     ["-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=dict(os.environ, **SAN_ENV),
                                     text=True)
        t.owned.append(self)
        self.shm = HeldRing(q.shm_path("/machine/peripheral/i2c0"))
        wait_for(lambda: RingHeader(self.shm).consumer_pid == self.proc.pid, 10,
                 "regdbg batch to attach")

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def finish(self, timeout=30):
        if self.proc.stdin and self.proc.stdin.closed:
            self.proc.stdin = None
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError("regdbg batch did not finish: " + err)
        check(self.proc.returncode not in (86, 87) and "Sanitizer" not in err,
              "sanitizer report from regdbg batch:\n" + err)
        return self.proc.returncode, out, err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()
        self.shm.close()


def in_thread(fn):
    """Run a (blocking) qtest access in a thread; returns (thread, result list)."""
    result = []
    th = threading.Thread(target=lambda: result.append(fn()), daemon=True)
    th.start()
    return th, result


EXIT_DEV = "isa-debug-exit,iobase=0xf4,iosize=0x04"


def guest_proxy(t, ops, extra=""):
    """The file-backed proxy and a real vCPU that makes the 32-bit accesses in ops, in order
    (tests/guest script mode: "w10=0x5", "r40"), paused until the test sends cont. Only vCPU
    accesses park: a qtest access would hold QEMU's main loop."""
    path = t.tmp("bar0.bin")
    with open(path, "wb") as f:
        f.write(bytes(range(256)) * 16)
    serial = t.tmp("serial.log")
    q = t.qemu([I2C + ",backend=file,bar0-file=" + path + extra], qtest=False, accel="tcg",
               paused=True, extra=["-kernel", GUEST, "-append", "mode=script ops=" + ",".join(ops),
                                   "-device", EXIT_DEV, "-serial", "file:" + serial])
    return q, path, serial


def guest_done(q, serial, timeout=60):
    status = q.wait(timeout)
    with open(serial) as f:
        out = f.read()
    check(status == 1 and "script done" in out, "guest exit status %d:\n%s" % (status, out))
    return out


def test_write_breakpoint_parks_until_continued_with_value(t):
    q, path, serial = guest_proxy(t, ["w10=0x11223344"])
    trace = t.tmp("bp.trace")
    b = Batch(t, q, "--record", trace)
    b.send("break w bar0+0x10")
    b.send("wait 20")
    b.send("print")
    time.sleep(0.3)
    q.qmp.cmd("cont")
    wait_for(lambda: RingHeader(b.shm).parks == 1, 20, "the write to park")
    time.sleep(0.5)
    check(q.proc.poll() is None, "the guest finished although its write should be parked")
    check(q.qmp.cmd("query-status")["status"] == "running", "QMP while parked")
    check(read_file(path, 0x10, 4) == 0x13121110, "the write reached the file while parked")
    b.send("expect value == 0x11223344")
    b.send("continue 0x99")
    b.proc.stdin.close()
    guest_done(q, serial)
    code, out, err = b.finish()
    check(code == 0, "batch failed: " + err)
    check('"off":16' in out and '"value":287454020' in out and '"rule":0' in out and
          '"cpu":0' in out, out)
    check(read_file(path, 0x10, 4) == 0x99, "continue with value: file has 0x%x"
          % read_file(path, 0x10, 4))
    ev = [e for e in dump_json(trace) if e["off"] == 0x10]
    check(len(ev) == 1 and ev[0]["value"] == 0x99 and ev[0]["orig"] == 0x11223344 and
          "parked" in ev[0]["flags"] and "edited" in ev[0]["flags"] and ev[0]["rule"] == 0,
          "trace: %r" % ev)


test_write_breakpoint_parks_until_continued_with_value.timeout = 90


def test_skip_leaves_the_file_unchanged(t):
    q, path, serial = guest_proxy(t, ["w20=0xDEADBEEF"])
    b = Batch(t, q)
    b.send("break w bar0+0x20")
    b.send("wait 20")
    b.send("skip")
    b.proc.stdin.close()
    time.sleep(0.3)
    q.qmp.cmd("cont")
    guest_done(q, serial)
    code, out, err = b.finish()
    check(code == 0, err)
    check(read_file(path, 0x20, 4) == 0x23222120, "skip: the write reached the file")


def test_accesses_without_a_vcpu_are_not_parked(t):
    """qtest and the monitor's xp run on QEMU's main loop: a breakpoint flags them and lets them
    go, and QMP never stops answering (before, they parked with the main loop held)."""
    q, path = file_proxy(t)
    trace = t.tmp("novcpu.trace")
    b = Batch(t, q, "--record", trace)
    b.send("break w bar0+0x10")
    b.send("break r bar0+0x40")
    for line in b.proc.stderr:       # "regdbg batch: rule 1: ..." once both are set
        if "rule 1:" in line:
            break
    q.qtest.write(BAR + 0x10, 4, 0x5150)
    check(read_file(path, 0x10, 4) == 0x5150, "the write did not reach the file")
    out = q.qmp.cmd("human-monitor-command", **{"command-line": "xp /1wx 0x%x" % (BAR + 0x40)})
    check("43424140" in out, "xp through QMP: %r" % out)
    check(q.qmp.cmd("query-status")["status"] == "running", "QMP answers")
    h = RingHeader(b.shm)
    check(h.parks == 0 and h.park_timeouts == 0, "parks %d, timeouts %d" % (h.parks,
                                                                         h.park_timeouts))
    b.proc.stdin.close()
    code, out, err = b.finish()
    check(code == 0, err)
    ev = {e["off"]: e for e in dump_json(trace)}
    check(ev[0x10]["flags"] == ["not-parked-no-vcpu"] and ev[0x10]["rule"] == 0 and
          ev[0x10]["cpu"] == -1, "qtest write: %r" % ev[0x10])
    check(ev[0x40]["flags"] == ["not-parked-no-vcpu"] and ev[0x40]["rule"] == 1,
          "xp read: %r" % ev[0x40])


test_accesses_without_a_vcpu_are_not_parked.timeout = 30


def test_read_injection_and_edits_apply_without_parking(t):
    q, path = file_proxy(t)
    trace = t.tmp("edit.trace")
    b = Batch(t, q, "--record", t.tmp("batch.trace"), "--keep")
    for line in ["inject r bar0+0x40 = 0x1234", "edit w bar0+0x50 set 0xf0000000",
                 "edit w bar0+0x54 clear 0xff", "edit w bar0+0x58 = 0x5a5a",
                 "drop w bar0+0x5c", "inject r bar0+0x60 xor 0xffff"]:
        b.send(line)
    b.send("info rules")
    b.proc.stdin.close()
    code, out, err = b.finish()
    check(code == 0, "batch: " + err)
    check(out.splitlines() == [
        "0\ti2c0\tenabled\thits=0\tinject r i2c0:bar0+0x40 = 0x1234",
        "1\ti2c0\tenabled\thits=0\tedit w i2c0:bar0+0x50 set 0xf0000000",
        "2\ti2c0\tenabled\thits=0\tedit w i2c0:bar0+0x54 clear 0xff",
        "3\ti2c0\tenabled\thits=0\tedit w i2c0:bar0+0x58 = 0x5a5a",
        "4\ti2c0\tenabled\thits=0\tdrop w i2c0:bar0+0x5c",
        "5\ti2c0\tenabled\thits=0\tinject r i2c0:bar0+0x60 xor 0xffff"],
        "info rules:\n%s" % out)
    # the batch left with --keep; the rules stay in the device and apply with nobody but a
    # recorder attached
    rec = t.recorder("--qmp", q.qmp_path, "-o", trace, "--count", "6")
    rec.wait_attached(b.shm.path)
    check(q.qtest.read(BAR + 0x40, 4) == 0x1234, "injected read")
    check(q.qtest.read(BAR + 0x60, 4) == 0x63626160 ^ 0xFFFF, "xor injection")
    q.qtest.write(BAR + 0x50, 4, 0x1)
    q.qtest.write(BAR + 0x54, 4, 0x12345678)
    q.qtest.write(BAR + 0x58, 4, 0x1)
    q.qtest.write(BAR + 0x5C, 4, 0x77777777)
    check(read_file(path, 0x50, 4) == 0xF0000001, "set: 0x%x" % read_file(path, 0x50, 4))
    check(read_file(path, 0x54, 4) == 0x12345600, "clear")
    check(read_file(path, 0x58, 4) == 0x5A5A, "assign")
    check(read_file(path, 0x5C, 4) == 0x5F5E5D5C, "drop: the write reached the file")
    status, out, err = rec.finish()
    check(status == 0, err)
    ev = {e["off"]: e for e in dump_json(trace)}
    check(ev[0x40]["value"] == 0x1234 and ev[0x40]["orig"] == 0x43424140 and
          "injected" in ev[0x40]["flags"], "inject in trace %r" % ev[0x40])
    check(ev[0x50]["orig"] == 1 and ev[0x50]["value"] == 0xF0000001 and
          "edited" in ev[0x50]["flags"] and ev[0x50]["rule"] == 1, "edit %r" % ev[0x50])
    check("dropped" in ev[0x5C]["flags"], "drop %r" % ev[0x5C])
    # the next session lists the rules the device kept, each hit by exactly one access
    script = t.tmp("info.rgb")
    with open(script, "w") as f:
        f.write("info rules\n")
    r = regdbg("batch", "--qmp", q.qmp_path, script)
    check(r.returncode == 0 and [ln.split("\t")[:4] for ln in r.stdout.splitlines()] ==
          [[str(n), "i2c0", "enabled", "hits=1"] for n in range(6)],
          "info rules after one access each:\n%s%s" % (r.stdout, r.stderr))


def test_conditions_ignore_temp_and_step(t):
    ops = (["w10=%d" % v for v in [1, 2, 3, 50, 101]] +
           ["w14=0x%x" % v for v in [0x14a, 0x14b, 0x14c]] +
           ["w18=0x18a", "w30=0x30", "w34=0x31", "w18=0x18b"])   # temp: no second park
    q, path, serial = guest_proxy(t, ops)
    b = Batch(t, q)
    b.send("break w bar0+0x10 if value == 3 || value > 100")
    b.send("break w bar0+0x14 ignore 2")
    b.send("break w bar0+0x18 temp")
    b.send("wait 20")
    b.send("expect value == 3")
    b.send("continue")
    b.send("wait 20")
    b.send("expect value == 101")
    b.send("continue")
    b.send("wait 20")
    b.send("expect value == 0x14c")    # the third write to 0x14: two ignored
    b.send("continue")
    b.send("wait 20")
    b.send("expect value == 0x18a")
    b.send("step 2")
    b.send("continue")
    b.send("wait 20")
    b.send("expect value == 0x30")     # the next access, whatever it is
    b.send("continue")
    b.send("wait 20")
    b.send("expect value == 0x31")
    b.send("continue")
    b.proc.stdin.close()
    time.sleep(0.3)
    q.qmp.cmd("cont")
    code, out, err = b.finish(timeout=60)
    check(code == 0, "batch: " + err)
    guest_done(q, serial)
    check(RingHeader(b.shm).parks == 6, "parks: %d" % RingHeader(b.shm).parks)


test_conditions_ignore_temp_and_step.timeout = 120


def test_expect_failure_exits_non_zero(t):
    q, path, serial = guest_proxy(t, ["w10=7"])
    b = Batch(t, q)
    b.send("break w bar0+0x10")
    b.send("wait 20")
    b.send("expect value == 5")
    b.proc.stdin.close()
    time.sleep(0.3)
    q.qmp.cmd("cont")
    code, out, err = b.finish()
    check(code == 1 and "expect failed: expect value == 5 (value=0x7" in err, err)
    check(rule_table(b.shm) == {}, "the batch left its rules: %r" % rule_table(b.shm))
    guest_done(q, serial, 20)     # leaving the batch lets the parked access go
    check(RingHeader(b.shm).park_timeouts == 0, "the access waited for park-timeout")


def test_killed_debugger_resumes_the_guest_and_rules_stay(t):
    q, path, serial = guest_proxy(t, ["w10=0xABCD", "w10=0xABCE"], ",park-timeout=3000")
    b = Batch(t, q)
    b.send("break w bar0+0x10")
    b.send("wait 30")
    time.sleep(0.3)
    q.qmp.cmd("cont")
    wait_for(lambda: RingHeader(b.shm).parks >= 1, 20, "the park")
    b.proc.send_signal(signal.SIGKILL)
    b.proc.wait()
    # the recorder takes the ring over while the access is still parked; it answers no park
    trace = t.tmp("after.trace")
    rec = t.recorder("--qmp", q.qmp_path, "-o", trace, "--count", "1")
    guest_done(q, serial)
    status, out, err = rec.finish()
    check(status == 0, err)
    h = RingHeader(b.shm)
    check(h.parks == 1 and h.park_timeouts == 1, "the access did not resume by park-timeout, "
          "or the second one parked with nobody to answer (parks %d)" % h.parks)
    check(read_file(path, 0x10, 4) == 0xABCE, "the writes must go on unmodified")
    # the parked access began before the recording: the ring itself shows how it ended
    ev = ring_event(b.shm, h.head - 2)
    check(ev and ev["value"] == 0xABCD and "timed-out" in ev["flags"] and
          "parked" in ev["flags"], "flags in the ring: %r" % ev)
    ev = dump_json(trace)
    check(len(ev) == 1 and ev[0]["value"] == 0xABCE and
          [f for f in ev[0]["flags"] if f != "pc"] == ["not-parked-no-debugger"]
          and ev[0]["rule"] == 0, "a breakpoint with no debugger attached: %r" % ev)


test_killed_debugger_resumes_the_guest_and_rules_stay.timeout = 90


def test_parked_vcpu_leaves_qmp_and_the_other_vcpu_running(t):
    serial = t.tmp("serial.log")
    q = t.qemu([I2C], qtest=False, accel="tcg", paused=True,
               extra=["-kernel", GUEST, "-append", "mode=hammer cpus=2 count=200000",
                      "-smp", "2", "-serial", "file:" + serial])
    b = Batch(t, q)
    b.send("break w bar0+0x100 if cpu == 0")   # HAMMER_CPU0 written by vCPU 0 only
    b.send("wait 60")
    b.send("print")
    time.sleep(0.3)
    q.qmp.cmd("cont")
    shm = q.shm_path("/machine/peripheral/i2c0")
    wait_for(lambda: RingHeader(shm).parks >= 1, 60, "vCPU 0 to park")
    time.sleep(0.5)
    # vCPU 0 is parked: QMP answers, vCPU 1 keeps writing.
    status = q.qmp.cmd("query-status")
    check(status["status"] == "running", "query-status while parked: %r" % status)
    # vCPU 1 makes all its writes while vCPU 0 waits at its first one.
    wait_for(lambda: RingHeader(shm).head >= 200000, 60, "vCPU 1's writes")
    h = RingHeader(shm)
    check(h.parks == 1 and h.park_timeouts == 0, "vCPU 0 should still be parked")
    b.send("delete")
    b.send("continue")
    b.proc.stdin.close()
    code, out, err = b.finish(timeout=60)
    check(code == 0 and '"cpu":0' in out and '"off":256' in out, out + err)
    wait_for(lambda: "hammer done" in open(serial).read(), 120, "the guest to finish")


test_parked_vcpu_leaves_qmp_and_the_other_vcpu_running.timeout = 200


def test_rule_errors_point_at_the_column(t):
    q, path = file_proxy(t)
    script = t.tmp("bad.rgb")
    with open(script, "w") as f:
        f.write("# a comment\nbreak w IC_DATA_CMDD\n")
    r = regdbg("batch", "--qmp", q.qmp_path, script)
    check(r.returncode == 1 and ":2:9: unknown register 'IC_DATA_CMDD'" in r.stderr and
          "IC_DATA_CMD" in r.stderr, r.stderr)


def test_rules_file_for_record(t):
    q, path = file_proxy(t)
    rules = t.tmp("fw.rules")
    with open(rules, "w") as f:
        f.write("# make the controller look enabled\ninject r bar0+0x9c = 1\n"
                "edit w bar0+0x6c set 0x2\n")
    trace = t.tmp("rules.trace")
    rec = t.recorder("--qmp", q.qmp_path, "-o", trace, "--count", "2", "--rules", rules)
    rec.wait_attached(q.shm_path("/machine/peripheral/i2c0"))
    time.sleep(0.2)
    check(q.qtest.read(BAR + 0x9C, 4) == 1, "the rules file's injection is not in place")
    q.qtest.write(BAR + 0x6C, 4, 1)
    status, out, err = rec.finish()
    check(status == 0, err)
    check(read_file(path, 0x6C, 4) == 3, "edit from the rules file")
    ev = dump_json(trace)
    check(ev[0]["value"] == 1 and ev[0]["orig"] == 0x9F9E9D9C and ev[1]["value"] == 3, "%r" % ev)

    bad = t.tmp("bad.rules")
    with open(bad, "w") as f:
        f.write("inject r bar0+0x9c = 1\nbreak w bar0+0x10\n")
    r = regdbg("record", "--qmp", q.qmp_path, "-o", t.tmp("x.trace"), "--rules", bad)
    check(r.returncode == 1 and "bad.rules:2: regdbg record cannot answer a breakpoint" in r.stderr,
          r.stderr)
    with open(bad, "w") as f:
        f.write("inject r bar9+0x9c = 1\n")
    r = regdbg("record", "--qmp", q.qmp_path, "-o", t.tmp("x.trace"), "--rules", bad)
    check(r.returncode == 1 and "bad.rules:1:10:" in r.stderr, r.stderr)


def test_simple_conditions_of_every_comparison(t):
    """The device checks `FIELD OP constant` without running the condition program: every
    comparison, on the value and on a field, against the program's own answer."""
    q, path = file_proxy(t)
    b = Batch(t, q, "--keep")
    rules = [(0x200, "value < 5"), (0x204, "value > 5"), (0x208, "value <= 5"),
             (0x20c, "value >= 5"), (0x210, "value == 5"), (0x214, "value != 5")]
    for off, cond in rules:
        b.send("edit w bar0+0x%x set 0x100 if %s" % (off, cond))
    b.send("edit w IC_DATA_CMD set 0x400 if CMD == read")
    b.send("edit w IC_CON set 0x80 if SPEED != std && value > 0")   # not simple: the program
    b.proc.stdin.close()
    code, out, err = b.finish()
    check(code == 0, err)
    for off, cond in rules:
        for v in (4, 5, 6):
            q.qtest.write(BAR + off, 4, v)
            expect = v | 0x100 if eval(cond.replace("value", str(v))) else v
            got = read_file(path, off, 4)
            check(got == expect, "%s with value %d: 0x%x, expected 0x%x" % (cond, v, got,
                                                                           expect))
    q.qtest.write(BAR + 0x10, 4, 0x155)
    check(read_file(path, 0x10, 4) == 0x555, "field condition true")
    q.qtest.write(BAR + 0x10, 4, 0x55)
    check(read_file(path, 0x10, 4) == 0x55, "field condition false")
    q.qtest.write(BAR + 0x00, 4, 0x63)      # SPEED=std (1): no edit
    check(read_file(path, 0x00, 4) == 0x63, "program condition false")
    q.qtest.write(BAR + 0x00, 4, 0x65)      # SPEED=fast (2): edit
    check(read_file(path, 0x00, 4) == 0xE5, "program condition true")


# --- rules files are applied whole; a batch removes what it added ----------------------------------

def keep_rules(t, q, lines):
    """Rules of another client: set by a batch that leaves them (--keep)."""
    script = t.tmp("others.rgb")
    with open(script, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    r = regdbg("batch", "--keep", "--qmp", q.qmp_path, script)
    check(r.returncode == 0, "the other client's batch: " + r.stderr)


def test_rules_file_with_a_bad_line_changes_nothing(t):
    """A --rules file whose line 2 is wrong leaves the rule table exactly as it was, however
    often it is tried: attach (launch applies it the same way) and record."""
    q, path = file_proxy(t)
    shm = q.shm_path("/machine/peripheral/i2c0")
    keep_rules(t, q, ["edit w bar0+0x80 set 0x1", "break w bar0+0x84"])
    before = rule_table(shm)
    check(len(before) == 2, "the other client's rules: %r" % before)
    bad = t.tmp("bad.rules")
    with open(bad, "w") as f:
        f.write("inject r bar0+0x9c = 1\nbreak w IC_DATA_CMDD\nedit w bar0+0x6c set 0x2\n")
    for attempt in range(2):
        r = regdbg("attach", q.qmp_path, "--rules", bad)
        check(r.returncode == 1 and "bad.rules:2:9: unknown register 'IC_DATA_CMDD'" in r.stderr,
              "attach --rules, attempt %d: %d %s" % (attempt + 1, r.returncode, r.stderr))
        check(rule_table(shm) == before, "attach --rules with a bad line 2 changed the rule "
              "table (attempt %d):\nbefore %r\nafter  %r" % (attempt + 1, before,
                                                             rule_table(shm)))
    # record refuses a breakpoint (it cannot answer one): line 1's injection must not stay either
    with open(bad, "w") as f:
        f.write("inject r bar0+0x9c = 1\nbreak w bar0+0x10\n")
    for attempt in range(2):
        r = regdbg("record", "--qmp", q.qmp_path, "-o", t.tmp("x.trace"), "--rules", bad)
        check(r.returncode == 1 and "bad.rules:2: regdbg record cannot answer a breakpoint"
              in r.stderr, r.stderr)
        check(rule_table(shm) == before, "record --rules with a bad line 2 changed the rule "
              "table: %r" % rule_table(shm))
    check(q.qtest.read(BAR + 0x9C, 4) == 0x9F9E9D9C, "line 1's injection is in force")
    # a batch script file is checked whole before its first line runs
    with open(bad, "w") as f:
        f.write("break w bar0+0x10\nwait 5\nbogus\n")
    r = regdbg("batch", "--qmp", q.qmp_path, bad)
    check(r.returncode == 1 and "bad.rules:3:1: unknown command 'bogus'" in r.stderr and
          "wait" not in r.stderr, "batch with a bad line 3: %s" % r.stderr)
    check(rule_table(shm) == before, "batch with a bad line 3: %r" % rule_table(shm))


def test_rules_file_overflowing_the_table_leaves_nothing(t):
    """64 rules fit; a file whose 5th rule finds the table full takes back its first 4, and
    puts back what it had changed (a rule it disabled, one it deleted)."""
    q, path = file_proxy(t)
    shm = q.shm_path("/machine/peripheral/i2c0")
    keep_rules(t, q, ["edit w bar0+0x%x set 0x1" % (0x100 + 4 * i) for i in range(60)])
    before = rule_table(shm)
    check(len(before) == 60, "60 rules of another client: %d" % len(before))
    big = t.tmp("big.rules")
    with open(big, "w") as f:
        f.write("disable 3\ndelete 7\n")
        f.write("".join("inject r bar0+0x%x = 0x%x\n" % (0x800 + 4 * i, i) for i in range(6)))
    for attempt in range(2):
        r = regdbg("attach", q.qmp_path, "--rules", big)
        check(r.returncode == 1 and "big.rules:8: all 64 rules are in use; delete one first"
              in r.stderr and "nothing in %s was applied" % big in r.stderr,
              "attach --rules overflowing: %d %s" % (r.returncode, r.stderr))
        check(rule_table(shm) == before, "an overflowing rules file left rules behind "
              "(attempt %d): %d rules, %r" % (attempt + 1, len(rule_table(shm)),
                                              set(rule_table(shm).items()) ^
                                              set(before.items())))
    q.qtest.write(BAR + 0x10C, 4, 0x10)
    check(read_file(path, 0x10C, 4) == 0x11, "the disabled rule 3 is not back in force")
    q.qtest.write(BAR + 0x11C, 4, 0x10)
    check(read_file(path, 0x11C, 4) == 0x11, "the deleted rule 7 is not back in force")
    check(q.qtest.read(BAR + 0x800, 4) == 0x03020100, "an injection of the file stayed")


def test_batch_removes_its_rules_on_every_way_out(t):
    """A batch deletes the rules it added, and only those, when its script ends, when an expect
    fails, on an error and on SIGINT or SIGTERM; --keep leaves them. A breakpoint it leaves
    behind would park every later matching access with nobody to answer."""
    q, path = file_proxy(t)
    shm = q.shm_path("/machine/peripheral/i2c0")
    keep_rules(t, q, ["edit w bar0+0x80 set 0x1"])
    before = rule_table(shm)

    def after(what):
        check(rule_table(shm) == before, "%s: the rule table is\n%r\ninstead of\n%r"
              % (what, rule_table(shm), before))
        check(RingHeader(shm).heartbeat_ns == 0, "%s: the heartbeat was left at %d"
              % (what, RingHeader(shm).heartbeat_ns))

    # the script ends
    b = Batch(t, q)
    for line in ["break w bar0+0x10", "inject r bar0+0x40 = 0x1234", "edit w bar0+0x44 set 1",
                 "disable 1", "delete 3"]:
        b.send(line)
    b.proc.stdin.close()
    code, out, err = b.finish()
    check(code == 0, err)
    after("the script ended")

    # an expect that fails: test_expect_failure_exits_non_zero (it needs a vCPU to park)

    # an error (a line that does not parse)
    b = Batch(t, q)
    b.send("break w bar0+0x10")
    b.send("inject r bar0+0x40 = 1")
    b.send("break w NO_SUCH_REGISTER")
    b.proc.stdin.close()
    code, out, err = b.finish()
    check(code == 1 and "unknown register 'NO_SUCH_REGISTER'" in err, err)
    after("a bad line")

    # a signal, while waiting for a park and while waiting for the next line
    for sig, name, waiting in [(signal.SIGINT, "SIGINT", True), (signal.SIGTERM, "SIGTERM", True),
                               (signal.SIGTERM, "SIGTERM", False)]:
        b = Batch(t, q)
        b.send("break w bar0+0x10")
        b.send("inject r bar0+0x40 = 1")
        if waiting:
            b.send("wait 60")
        b.send("info rules")
        wait_for(lambda: len(rule_table(shm)) == 3, 10, "the batch's rules")
        if not waiting:
            wait_for(lambda: b.proc.stdout.readline(), 10, "info rules")
        b.proc.send_signal(sig)
        code, out, err = b.finish()
        check(code == 1 and "stopped by " + name in err, "%s: %d %s" % (name, code, err))
        after(name + (" during wait" if waiting else " between lines"))

    # --keep: they stay
    b = Batch(t, q, "--keep")
    b.send("break w bar0+0x10 temp")
    b.proc.stdin.close()
    code, out, err = b.finish()
    check(code == 0, err)
    kept = rule_table(shm)
    check(len(kept) == 2 and set(before.items()) < set(kept.items()),
          "--keep: %r" % kept)


test_batch_removes_its_rules_on_every_way_out.timeout = 120


def write_file(path, off, size, value):
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(value.to_bytes(size, "little"))


# (rule, access, value the guest writes / the device holds, what reaches the device / the guest)
FIELD_RULES = [
    # IC_CON.SPEED is bits 2:1: fast (2) replaces those two bits only (0x63 -> 0x65, not 0x4)
    ("edit w IC_CON.SPEED = fast", "w", 0x00, 0x63, 0x65),
    # IC_SDA_HOLD.IC_SDA_RX_HOLD is bits 23:16
    ("edit w IC_SDA_HOLD.IC_SDA_RX_HOLD = 0x5a", "w", 0x7C, 0x12345678, 0x125A5678),
    # IC_DATA_CMD.CMD is bit 8: set 1 sets 0x100
    ("edit w IC_DATA_CMD.CMD set 1", "w", 0x10, 0x42, 0x142),
    # LPSS_PRIV_CLOCK_PARAMS.N_VAL is bits 30:16
    ("edit w LPSS_PRIV_CLOCK_PARAMS.N_VAL clear 0x7fff", "w", 0x800, 0xFFFFFFFF, 0x8000FFFF),
    # IC_COMP_PARAM_1.MAX_SPEED_MODE is bits 3:2 (3 in the device): and 1 leaves 1 there and the
    # other fields alone (0x20100e -> 0x201006, not 0x4)
    ("inject r IC_COMP_PARAM_1.MAX_SPEED_MODE and 1", "r", 0xF4, 0x0020100E, 0x00201006),
    # IC_STATUS.TFE is bit 2
    ("inject r IC_STATUS.TFE = 1", "r", 0x70, 0x73727170, 0x73727174),
    # IC_ENABLE_STATUS.SLV_RX_DATA_LOST is bit 2
    ("inject r IC_ENABLE_STATUS.SLV_RX_DATA_LOST xor 1", "r", 0x9C, 0x9F9E9D9C, 0x9F9E9D98),
    # IC_TX_ABRT_SOURCE.TX_FLUSH_CNT is bits 31:23
    ("inject r IC_TX_ABRT_SOURCE.TX_FLUSH_CNT or 0x1ff", "r", 0x80, 0x83828180, 0xFF828180),
]


def test_field_edits_and_injections_in_the_device(t):
    """Rules on a field of a register (maps/dw-i2c-baytrail.json, matched by 8086:0f41) change
    that field only, in the device: the file backend shows exactly what reached the device, the
    qtest read exactly what the guest got, and the trace both values and the rule."""
    q, path = file_proxy(t)
    b = Batch(t, q, "--keep")
    for rule, _, _, _, _ in FIELD_RULES:
        b.send(rule)
    b.proc.stdin.close()
    code, out, err = b.finish()
    check(code == 0, "batch: " + err)
    check(err.splitlines() == ["regdbg batch: rule %d: %s" % (n, rule.replace(" w ", " w i2c0:")
                                                              .replace(" r ", " r i2c0:"))
                               for n, (rule, _, _, _, _) in enumerate(FIELD_RULES)],
          "the rules as the batch set them:\n" + err)
    trace = t.tmp("fields.trace")
    rec = t.recorder("--qmp", q.qmp_path, "-o", trace, "--count", str(len(FIELD_RULES)))
    rec.wait_attached(b.shm.path)
    for rule, d, off, value, want in FIELD_RULES:
        if d == "w":
            q.qtest.write(BAR + off, 4, value)
            got = read_file(path, off, 4)
            check(got == want, "%s: the guest wrote 0x%x, the device got 0x%x, not 0x%x"
                  % (rule, value, got, want))
        else:
            write_file(path, off, 4, value)
            got = q.qtest.read(BAR + off, 4)
            check(got == want, "%s: the device holds 0x%x, the guest read 0x%x, not 0x%x"
                  % (rule, value, got, want))
            check(read_file(path, off, 4) == value, "%s: the read changed the device" % rule)
    status, out, err = rec.finish()
    check(status == 0, err)
    got = [(e["dir"], e["off"], e["orig"], e["value"], e["flags"], e["rule"])
           for e in dump_json(trace)]
    check(got == [(d, off, value, want, ["edited" if d == "w" else "injected"], n)
                  for n, (_, d, off, value, want) in enumerate(FIELD_RULES)],
          "trace: %r" % got)


def test_temp_enable_and_disable_in_the_device(t):
    """temp: the device applies the rule once, then it is spent (an edit and an injection);
    disable N: the device stops applying it; enable N: it applies again, with its hit count
    kept. Checked on what reaches the file, what qtest reads and the rule table in shared
    memory; `info rules` after each step is also the sign that the batch has done it."""
    q, path = file_proxy(t)
    b = Batch(t, q)
    texts = ["edit w i2c0:bar0+0x10 set 0x100 temp", "edit w i2c0:bar0+0x14 set 0x200",
             "inject r i2c0:bar0+0x40 = 0x1234 temp"]

    def info_rules(states, hits, what):
        b.send("info rules")
        lines = [b.proc.stdout.readline().rstrip("\n") for _ in texts]
        want = ["%d\ti2c0\t%s\thits=%d\t%s" % (n, states[n], hits[n], texts[n])
                for n in range(len(texts))]
        check(lines == want, "%s: info rules\n%s\ninstead of\n%s" % (what, "\n".join(lines),
                                                                    "\n".join(want)))
        table = rule_table(b.shm)
        check({n: (text, enabled) for n, (text, enabled, _) in table.items()} ==
              {n: (texts[n], int(states[n] == "enabled")) for n in range(len(texts))},
              "%s: the device's rule table %r" % (what, table))

    b.send("edit w bar0+0x10 set 0x100 temp")
    b.send("edit w bar0+0x14 set 0x200")
    b.send("inject r bar0+0x40 = 0x1234 temp")
    info_rules(["enabled"] * 3, [0, 0, 0], "set")
    q.qtest.write(BAR + 0x10, 4, 0x1)
    check(read_file(path, 0x10, 4) == 0x101, "temp edit, first write: 0x%x"
          % read_file(path, 0x10, 4))
    q.qtest.write(BAR + 0x10, 4, 0x2)
    check(read_file(path, 0x10, 4) == 0x2, "temp edit applied a second time: 0x%x"
          % read_file(path, 0x10, 4))
    check(q.qtest.read(BAR + 0x40, 4) == 0x1234, "temp injection, first read")
    check(q.qtest.read(BAR + 0x40, 4) == 0x43424140, "temp injection applied a second time")
    q.qtest.write(BAR + 0x14, 4, 0x1)
    check(read_file(path, 0x14, 4) == 0x201, "rule 1 enabled: 0x%x" % read_file(path, 0x14, 4))
    info_rules(["enabled"] * 3, [1, 1, 1], "temp rules spent")
    b.send("disable 1")
    info_rules(["enabled", "disabled", "enabled"], [1, 1, 1], "disable 1")
    q.qtest.write(BAR + 0x14, 4, 0x3)
    check(read_file(path, 0x14, 4) == 0x3, "rule 1 disabled, yet the write was edited: 0x%x"
          % read_file(path, 0x14, 4))
    b.send("enable 1")
    info_rules(["enabled"] * 3, [1, 1, 1], "enable 1")
    q.qtest.write(BAR + 0x14, 4, 0x5)
    check(read_file(path, 0x14, 4) == 0x205, "rule 1 enabled again: 0x%x"
          % read_file(path, 0x14, 4))
    info_rules(["enabled"] * 3, [1, 2, 1], "rule 1 hit again")
    b.proc.stdin.close()
    code, out, err = b.finish()
    check(code == 0 and out == "", "batch: %d %r %s" % (code, out, err))
    check(rule_table(b.shm) == {}, "the batch left its rules: %r" % rule_table(b.shm))


def test_temp_breakpoint_parks_once(t):
    """A temporary breakpoint parks the vCPU at its first hit only: the second write to the same
    register goes on, and the next park is another rule's."""
    q, path, serial = guest_proxy(t, ["w18=0x1", "w18=0x2", "w1c=0x3"])
    b = Batch(t, q)
    b.send("break w bar0+0x18 temp")
    b.send("break w bar0+0x1c")
    b.send("wait 20")
    b.send("print")
    b.send("continue")
    b.send("wait 20")
    b.send("print")
    b.send("continue")
    b.proc.stdin.close()
    time.sleep(0.3)
    q.qmp.cmd("cont")
    code, out, err = b.finish(timeout=60)
    guest_done(q, serial)
    check(code == 0, "batch: " + err)
    parked = [(p["off"], p["value"], p["rule"]) for p in map(json.loads, out.splitlines())]
    check(parked == [(0x18, 1, 0), (0x1c, 3, 1)], "parked accesses (off, value, rule): %r"
          % parked)
    check(RingHeader(b.shm).parks == 2, "parks: %d" % RingHeader(b.shm).parks)
    check(read_file(path, 0x18, 4) == 2 and read_file(path, 0x1c, 4) == 3,
          "the writes went on unmodified")


test_temp_breakpoint_parks_once.timeout = 90


def test_many_equal_conditions_on_one_register(t):
    """The device decides the `value == K` rules of a register with one search over their K
    (regdbg-rules.c): every rule whose K is the value acts, and only those, with repeated K,
    a field condition beside them and other conditions mixed in."""
    q, path = file_proxy(t)
    b = Batch(t, q, "--keep")
    ks = [5, 9, 9, 0x100, 3, 0xFFFFFFFF, 7, 5, 1, 0x40000]
    for j, k in enumerate(ks):
        b.send("edit w bar0+0x300 set 0x%x if value == 0x%x" % (1 << (j + 12), k))
    b.send("edit w bar0+0x300 set 0x800 if value > 0x100")        # not an EQ: checked alone
    b.send("edit w IC_CON set 0x80000000 if SPEED == fast")       # a field group
    b.send("edit w IC_CON set 0x40000000 if SPEED == std")
    b.send("edit w IC_CON set 0x20000000 if value == 0x65")       # the whole value, same register
    b.proc.stdin.close()
    code, out, err = b.finish()
    check(code == 0, err)
    for v in [5, 9, 0x100, 3, 0xFFFFFFFF, 7, 1, 2, 0, 0x40000, 0x101, 8]:
        q.qtest.write(BAR + 0x300, 4, v)
        want = v
        for j, k in enumerate(ks):
            if k == v:
                want |= 1 << (j + 12)
        if v > 0x100:
            want |= 0x800
        got = read_file(path, 0x300, 4)
        check(got == want & 0xFFFFFFFF, "value 0x%x: 0x%x reached the device, expected 0x%x"
              % (v, got, want & 0xFFFFFFFF))
    for v, want in [(0x65, 0xA0000065), (0x63, 0x40000063), (0x67, 0x67), (0x45, 0x80000045)]:
        q.qtest.write(BAR + 0x00, 4, v)
        got = read_file(path, 0x00, 4)
        check(got == want, "IC_CON 0x%x: 0x%x, expected 0x%x" % (v, got, want))


def test_a_spent_temporary_rule_stays_spent_across_disable_and_enable(t):
    """docs/rules.md: a temp rule acts once and is then spent; disable and enable keep its
    counters (they are rewritten under the rule's seqlock with them), so it does not come back."""
    q, path = file_proxy(t)
    b = Batch(t, q, "--keep")
    b.send("edit w bar0+0x10 set 0x100 temp")
    b.proc.stdin.close()
    check(b.finish()[0] == 0, "batch")
    q.qtest.write(BAR + 0x10, 4, 0x1)
    check(read_file(path, 0x10, 4) == 0x101, "the temporary edit did not act once")
    q.qtest.write(BAR + 0x10, 4, 0x2)
    check(read_file(path, 0x10, 4) == 0x2, "the temporary edit acted twice")
    script = t.tmp("toggle.rgb")
    with open(script, "w") as f:
        f.write("disable 0\nenable 0\ninfo rules\n")
    r = regdbg("batch", "--qmp", q.qmp_path, "--keep", script)
    check(r.returncode == 0 and "hits=1" in r.stdout, r.stdout + r.stderr)
    q.qtest.write(BAR + 0x10, 4, 0x3)
    check(read_file(path, 0x10, 4) == 0x3, "enable re-armed a spent temporary rule")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gdb_rip(port):
    """Real gdb, in batch mode, attached to QEMU's gdbstub: the PC it sees."""
    r = subprocess.run(["gdb", "-nx", "-batch", "-ex", "target remote :%d" % port,
                        "-ex", "info registers rip", "-ex", "detach"],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    m = re.search(r"^rip\s+(0x[0-9a-f]+)", r.stdout, re.M)
    check(m, "gdb did not show rip:\n%s\n%s" % (r.stdout, r.stderr))
    return int(m.group(1), 16)


def gdb_handoff(t, accel, gdb_port=None):
    """A write parks; `gdb` in the batch script lets it go on with the VM stopped right after
    it; real gdb attached to the stub then sees the PC the hand-off reported."""
    extra = ["-gdb", "tcp::%d" % gdb_port] if gdb_port else []
    path = t.tmp("bar0.bin")
    with open(path, "wb") as f:
        f.write(bytes(256) * 16)
    serial = t.tmp("serial.log")
    q = t.qemu([I2C + ",backend=file,bar0-file=" + path], qtest=False, accel=accel, paused=True,
               extra=["-kernel", GUEST, "-append", "mode=script ops=w10=0x1234,w14=0x5",
                      "-device", EXIT_DEV, "-serial", "file:" + serial] + extra)
    b = Batch(t, q)
    b.send("break w bar0+0x10")
    b.send("wait 20")
    b.send("print")
    b.send("gdb")
    time.sleep(0.3)
    q.qmp.cmd("cont")
    wait_for(lambda: RingHeader(b.shm).parks == 1, 20, "the write to park")
    lines = []
    wait_for(lambda: lines.append(b.proc.stdout.readline()) or len(lines) == 2, 30,
             "print and gdb output")
    if not lines[1]:
        code, out, err = b.finish()
        raise AssertionError("regdbg batch ended (%d) after %r: %s" % (code, lines[0], err))
    park, hand = json.loads(lines[0]), json.loads(lines[1])["gdb"]
    check(q.qmp.cmd("query-status")["status"] == "paused", "the VM should be stopped")
    check(read_file(path, 0x10, 4) == 0x1234, "the access went on before the stop")
    check(park["pc"] == hand["park_pc"], "park %r vs hand-off %r" % (park, hand))
    rip = gdb_rip(hand["port"])
    check(rip == hand["stop_pc"], "gdb sees rip 0x%x, the hand-off said 0x%x" %
          (rip, hand["stop_pc"]))
    check(hand["command"].startswith("gdb -ex 'target remote :%d'" % hand["port"]), "%r" % hand)
    b.send("delete")
    b.proc.stdin.close()
    code, out, err = b.finish()
    check(code == 0, "batch failed: " + err)
    guest_done(q, serial)   # gdb's detach let the VM go on
    return hand


def test_gdb_handoff_stops_after_the_access_tcg(t):
    hand = gdb_handoff(t, "tcg")
    # TCG stops at the end of the translation block that made the access: the guest's script
    # loop goes on to its next iteration's check, within a few dozen bytes.
    check(hand["started"] and not hand["park_pc_after"] and 0 < hand["bytes_after"] < 256,
          "TCG hand-off: %r" % hand)


def test_gdb_handoff_uses_the_stub_on_the_command_line(t):
    port = free_port()
    hand = gdb_handoff(t, "tcg", gdb_port=port)
    check(hand["port"] == port and not hand["started"], "%r" % hand)


def test_gdb_handoff_stops_after_the_access_kvm(t):
    require_kvm()
    hand = gdb_handoff(t, "kvm")
    # KVM completes the write, then exits: the stop is at (or just after) the next instruction,
    # which is what the park's PC (pc-after) already names.
    check(hand["park_pc_after"] and 0 <= hand["bytes_after"] < 256, "KVM hand-off: %r" % hand)
