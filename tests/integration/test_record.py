"""`regdbg record` against a real QEMU: it trusts nothing it reads from the ring (the test writes
damage into the real shared memory, as include/regdbg/abi.h lays it out, and checks the exact
error, a trace that `dump` still reads, and its bounded size); a recording starts when it attaches;
its summary is the one line the README shows; a second QMP client is told who holds the socket;
--start resumes a VM started with -S; the one recorder writes the same kind of trace for
`record`, `batch --record` and the TUI's :record."""

import mmap
import os
import re
import signal
import struct
import subprocess
import time

from harness import (GUEST, REGDBG, SAN_ENV, RingHeader, check, dump_json, parse_record_summary,
                     regdbg, wait_for)
from tui import Term

BAR_ADDR = 0xE0000000
I2C = "regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,class-code=0x0c8000,bar0-size=4096"

# struct regdbg_event: seq, t_ns, offset, value, orig_value, guest_pc, cpu, flags, rule, bar,
# size, dir, cpu_mode, pad[4]
EVENT = struct.Struct("<QQQQQQiHHBBBBBBBx")
assert EVENT.size == 64
HEAD_OFFSET, DROPPED_OFFSET = 256, 264
TRACE_HEADER, FULL, SHORT, MARKER = 256, 64, 32, 32
# Format 3: `record --qmp` first places the BAR the test mapped (query-pci), in a 32-byte record
# that dump shows as one line.
BAR_RECORD = 32
BAR_LINE = "# bar0 at 0x%x (PCI 00:" % 0xE0000000


class Ring:
    """The real ring of a proxy, mapped read-write: the test plays a (broken) producer."""

    def __init__(self, path):
        self.hdr = RingHeader(path)
        self.file = open(path, "r+b")
        self.mm = mmap.mmap(self.file.fileno(), self.hdr.shm_size)

    def publish(self, pos, **fields):
        """Fill the slot of position pos (a valid write unless fields say otherwise), publish it
        (seq last) and move head past it, as a producer would."""
        ev = dict(t_ns=time.clock_gettime_ns(time.CLOCK_MONOTONIC), offset=0x10, value=0x55,
                  orig_value=0x55, guest_pc=0, cpu=-1, flags=0, rule=0xFFFF, bar=0, size=4,
                  dir=1, cpu_mode=0, irq_source=0, dma_what=0, dma_why=0)
        ev.update(fields)
        off = self.hdr.events_offset + (pos % self.hdr.ring_entries) * EVENT.size
        body = EVENT.pack(0, ev["t_ns"], ev["offset"], ev["value"], ev["orig_value"],
                          ev["guest_pc"], ev["cpu"], ev["flags"], ev["rule"], ev["bar"],
                          ev["size"], ev["dir"], ev["cpu_mode"], ev["irq_source"],
                          ev["dma_what"], ev["dma_why"])
        self.mm[off + 8:off + 64] = body[8:]
        struct.pack_into("<Q", self.mm, off, pos)
        self.set_head(pos + 1)

    def set_head(self, value):
        struct.pack_into("<Q", self.mm, HEAD_OFFSET, value)

    def set_dropped(self, value):
        struct.pack_into("<Q", self.mm, DROPPED_OFFSET, value)

    def close(self):
        self.mm.close()
        self.file.close()


def qtest_vm(t, dev=I2C):
    q = t.qemu([dev])
    found = q.qtest.find_device(0x8086, 0x0F41)
    check(len(found) == 1, "proxy not found in config space (%r)" % found)
    q.qtest.map_bar(found[0], 0, BAR_ADDR)
    return q, q.shm_path("/machine/peripheral/i2c0")


def recording_of_three(t, name="damage"):
    """A recorder attached to a fresh VM that has recorded three writes (values 1, 2, 3)."""
    q, shm = qtest_vm(t)
    trace = t.tmp(name + ".trace")
    rec = t.recorder("--qmp", q.qmp_path, "-o", trace)
    rec.wait_attached(shm)
    for i in range(3):
        q.qtest.write(BAR_ADDR + 4 * i, 4, i + 1)
    wait_for(lambda: RingHeader(shm).tail == 3, 10, "the recorder to drain three accesses")
    return q, shm, trace, rec


def check_damage_reported(rec, shm, trace, what):
    """The recorder stopped with the one-line error for damage at position 3, and the trace
    holds exactly the three good accesses: readable by dump, and nothing more on disk."""
    status, out, err = rec.finish(timeout=20)
    want = ("regdbg record: the ring %s is damaged at position 3: %s (only QEMU writes events "
            "there: restart it); %s keeps the 3 events recorded before it\n" % (shm, what, trace))
    check(status == 1 and out == "", "exit %d, stdout %r" % (status, out))
    if "*" in what:
        check(re.fullmatch(re.escape(want).replace(r"\*", ".*"), err, re.S), "stderr %r" % err)
    else:
        check(err == want, "stderr:\n%r\nexpected\n%r" % (err, want))
    events = dump_json(trace)
    check([(e["seq"], e["value"]) for e in events] == [(0, 1), (1, 2), (2, 3)],
          "the trace keeps the accesses before the damage: %r" % events)
    text = regdbg("dump", trace)
    check(text.returncode == 0 and len(text.stdout.splitlines()) == 4 and
          text.stdout.startswith(BAR_LINE) and "no end record" in text.stderr,
          "dump of the cut recording: %r %r" % (text.stdout, text.stderr))
    size = os.path.getsize(trace)
    check(size == TRACE_HEADER + BAR_RECORD + FULL + 2 * SHORT, "the trace has %d bytes" % size)


BAD_EVENTS = [
    (dict(size=0), "size 0 is not 1, 2, 4 or 8"),
    (dict(size=3), "size 3 is not 1, 2, 4 or 8"),
    (dict(dir=4), "dir 4 is not 0 (read), 1 (write), 2 (interrupt) or 3 (DMA)"),
    (dict(irq_source=1), "an access with interrupt source 1"),
    (dict(dma_what=1), "dma_what 1, dma_why 0 in an event other than DMA's"),
    (dict(flags=0x1000), "flags 0x1000 has DMA-event bits"),
    # interrupt events (ABI 5): INTA raised by the debugger, unless the fields say otherwise
    (dict(dir=2), "interrupt event with size 4 and bar 0 (both are 0)"),
    (dict(dir=2, size=0, offset=1, value=7, orig_value=1, irq_source=1),
     "interrupt event 7 is not 1-6"),
    (dict(dir=2, size=0, offset=1, value=1, orig_value=4, irq_source=1),
     "interrupt request 4 is not 0-3"),
    (dict(dir=2, size=0, offset=1, value=1, orig_value=1, irq_source=0),
     "interrupt source 0 is not 1-4"),
    (dict(dir=2, size=0, offset=5, value=1, orig_value=1, irq_source=1),
     "INTx pin 5 is not 1-4 (INTA-INTD)"),
    (dict(dir=2, size=0, offset=32, value=3, orig_value=1, irq_source=1, flags=0x200),
     "MSI vector 32 is not 0-31"),
    (dict(dir=2, size=0, offset=1, value=1, orig_value=1, irq_source=1, flags=0x1),
     "flags 0x0001 has bits an interrupt event does not have"),
    (dict(dir=2, size=0, offset=1, value=1, orig_value=1, irq_source=2),
     "interrupt from a rule with rule 65535"),
    (dict(dir=2, size=0, offset=1, value=1, orig_value=1, irq_source=1, rule=3),
     "interrupt from no rule with rule 3"),
    (dict(dir=2, size=0, offset=1, value=1, orig_value=1, irq_source=1, dma_why=2),
     "dma_what 0, dma_why 2 in an event other than DMA's"),
    # DMA events (ABI 6): what they may hold
    (dict(dir=3, size=0, dma_what=0), "DMA event with dma_what 0 (1-4)"),
    (dict(dir=3, size=0, dma_what=1, dma_why=9), "DMA event with dma_why 9 (0-8)"),
    (dict(dir=3, size=0, dma_what=1, flags=0x800), "DMA event with flags 0x0800"),
    (dict(dir=3, size=4, dma_what=2), "DMA event with bar 0, engine 4, rule 65535, cpu_mode 0, "
                                      "interrupt source 0"),
    (dict(dir=3, size=0, dma_what=2, bar=1), "DMA event with bar 1, engine 0, rule 65535, "
                                             "cpu_mode 0, interrupt source 0"),
    (dict(dir=3, size=0, dma_what=2, irq_source=3), "DMA event with bar 0, engine 0, rule "
                                                    "65535, cpu_mode 0, interrupt source 3"),
    (dict(dir=3, size=0, dma_what=2, t_ns=2**64 - 1), "t_ns 18446744073709551615 is later than "
                                                     "now (*"),
    (dict(bar=6), "bar 6 is not 0-5"),
    (dict(bar=1), "bar 1 is absent from this device"),
    (dict(offset=0xFFE), "offset 0xffe + size 4 runs past the end of BAR 0 (0x1000 bytes)"),
    (dict(offset=2**64 - 2), "offset 0xfffffffffffffffe + size 4 runs past the end of BAR 0 "
                             "(0x1000 bytes)"),
    (dict(flags=0x2000), "flags 0x2000 has unknown bits"),
    (dict(flags=0x200), "flags 0x0200 has interrupt-event bits"),
    (dict(flags=0x100, guest_pc=0x1000), "flags 0x0100 has pc-after (0x100) without pc (0x80)"),
    (dict(flags=0x80, guest_pc=0x1000, cpu_mode=8), "cpu_mode 8 is not a CPU mode 0-7"),
    (dict(cpu=-2), "cpu -2 is neither -1 (none) nor a vCPU index 0-4095"),
    (dict(cpu=100000), "cpu 100000 is neither -1 (none) nor a vCPU index 0-4095"),
    (dict(rule=64), "rule 64 is neither 0xffff (none) nor a rule 0-63"),
    (dict(t_ns=2**64 - 1), "t_ns 18446744073709551615 is later than now (*"),
    (dict(t_ns=time.clock_gettime_ns(time.CLOCK_MONOTONIC) + 3600 * 10**9),
     "t_ns * is later than now (*) by more than the 1000000 ns a stamp may run ahead"),
]
# Stamped 200 ms after its publication: past the 1 ms a stamp may run ahead (the recorder reads
# it within a few ms), well short of any larger bound. Its t_ns is computed when it is published.
AHEAD_200MS = "t_ns * is later than now (*) by more than the 1000000 ns a stamp may run ahead"


def test_damaged_event_stops_the_recording(t):
    for fields, what in BAD_EVENTS + [(None, AHEAD_200MS)]:
        q, shm, trace, rec = recording_of_three(t)
        ring = Ring(shm)
        if fields is None:
            fields = dict(t_ns=time.clock_gettime_ns(time.CLOCK_MONOTONIC) + 200 * 10**6)
        ring.publish(3, **fields)
        try:
            check_damage_reported(rec, shm, trace, what)
        except Exception as e:
            raise type(e)("event %r: %s" % (fields, e))
        finally:
            ring.close()
            q.kill()


test_damaged_event_stops_the_recording.timeout = 300


def test_stamp_a_little_ahead_of_the_clock_is_recorded(t):
    """The device scales its stamps from the TSC, which may run ahead of the recorder's own
    clock_gettime() (REGDBG_STAMP_AHEAD_NS, 1 ms, in include/regdbg/abi.h): an access stamped
    0.99 ms after the moment it is published is recorded, not taken for damage (one stamped
    far later is, in BAD_EVENTS)."""
    q, shm, trace, rec = recording_of_three(t, "ahead")
    ring = Ring(shm)
    try:
        ring.publish(3, value=4, orig_value=4,
                     t_ns=time.clock_gettime_ns(time.CLOCK_MONOTONIC) + 990000)
        wait_for(lambda: RingHeader(shm).tail == 4 or rec.proc.poll() is not None, 10,
                 "the recorder to drain the fourth access")
    finally:
        ring.close()
    status, out, err = rec.finish(timeout=20, sig=signal.SIGINT)
    check(status == 0 and err == "", "exit %d, stderr %r" % (status, err))
    check([e["value"] for e in dump_json(trace)] == [1, 2, 3, 4], "trace %r" % dump_json(trace))
    q.kill()


def test_head_beyond_the_ring_is_damage_not_drops(t):
    # Live producer: the head jumps further than the ring holds.
    q, shm, trace, rec = recording_of_three(t)
    ring = Ring(shm)
    ring.set_head(2**62)
    check_damage_reported(rec, shm, trace, "head 4611686018427387904 is 4611686018427387901 "
                          "positions ahead of the tail, more than the ring's 65536 entries")
    ring.close()


def test_head_one_lap_and_a_bit_ahead_is_damage(t):
    # The boundary: one position more than the ring holds is already damage, not drops.
    q, shm, trace, rec = recording_of_three(t)
    ring = Ring(shm)
    ring.set_head(3 + 65536 + 1)
    check_damage_reported(rec, shm, trace, "head 65540 is 65537 positions ahead of the tail, "
                          "more than the ring's 65536 entries")
    ring.close()


def test_dead_producer_with_huge_head_does_not_fill_the_disk(t):
    # The case that wrote drop markers until the disk was full: QEMU dead, head absurd.
    q, shm, trace, rec = recording_of_three(t)
    ring = Ring(shm)
    ring.set_head(2**62)
    q.proc.kill()
    q.proc.wait()
    check_damage_reported(rec, shm, trace, "head 4611686018427387904 is 4611686018427387901 "
                          "positions ahead of the tail, more than the ring's 65536 entries")
    ring.close()


def test_dead_producer_unpublished_positions_are_one_gap(t):
    # A QEMU that died with 5 positions reserved and never published: one drop marker for 5.
    q, shm, trace, rec = recording_of_three(t)
    ring = Ring(shm)
    ring.set_head(8)
    q.qmp.cmd("quit")
    q.wait(20)
    status, out, err = rec.finish(timeout=20)
    check(status == 0 and err == "", "exit %d: %s" % (status, err))
    summary = parse_record_summary(out)
    check((summary["events"], summary["dropped"], summary["qemu_exited"]) == (3, 5, True), out)
    text = regdbg("dump", trace).stdout.splitlines()
    check(text[0].startswith(BAR_LINE) and
          text[4:] == ["# dropped 5 events here (ring full or producer gone)",
                       "# end of recording: 3 events, 5 dropped"], "%r" % text)
    check(os.path.getsize(trace) == TRACE_HEADER + BAR_RECORD + FULL + 2 * SHORT + 2 * MARKER,
          "%d bytes" % os.path.getsize(trace))
    ring.close()


def test_dead_producer_gap_then_accesses_is_still_one_marker(t):
    # Positions 3-7 never published, 8 and 9 published: one marker for the gap, then both
    # accesses, each once (the marker is not written again before each later access).
    q, shm, trace, rec = recording_of_three(t)
    ring = Ring(shm)
    ring.publish(8, value=0x88)
    ring.publish(9, value=0x99)
    ring.set_head(10)
    q.qmp.cmd("quit")
    q.wait(20)
    status, out, err = rec.finish(timeout=20)
    check(status == 0 and err == "", "exit %d: %s" % (status, err))
    summary = parse_record_summary(out)
    check((summary["events"], summary["dropped"]) == (5, 5), out)
    text = regdbg("dump", trace).stdout.splitlines()
    check(text[4] == "# dropped 5 events here (ring full or producer gone)" and
          [re.findall(r" (0x[0-9a-f]+)", ln)[0] for ln in text[5:7]] ==
          ["0x00000088", "0x00000099"] and
          text[7:] == ["# end of recording: 5 events, 5 dropped"], "%r" % text)
    ring.close()


def test_drop_counter_going_back_or_racing_is_damage(t):
    q, shm, trace, rec = recording_of_three(t)
    ring = Ring(shm)
    ring.set_dropped(2**63)
    check_damage_reported(rec, shm, trace, "dropped rose by 9223372036854775808 in * ns, more "
                          "than one access per nanosecond")
    ring.close()
    q.kill()

    q, shm, trace, rec = recording_of_three(t, "back")
    ring = Ring(shm)
    ring.set_dropped(5)
    wait_for(lambda: os.path.getsize(trace) == TRACE_HEADER + BAR_RECORD + FULL + 2 * SHORT +
             MARKER, 10,
             "the recorder to mark the 5 drops")
    ring.set_dropped(2)
    status, out, err = rec.finish(timeout=20)
    check(status == 1 and err == "regdbg record: the ring %s is damaged at position 3: dropped "
          "went back from 5 to 2 (only QEMU writes events there: restart it); %s keeps the 3 "
          "events recorded before it\n" % (shm, trace), err)
    check(regdbg("dump", trace).stdout.splitlines()[4:] ==
          ["# dropped 5 events here (ring full or producer gone)"], "the drop marker stays")
    ring.close()


def check_times(trace, summary):
    """Every access lies between the start of the recording and its end."""
    lines = regdbg("dump", trace).stdout.splitlines()
    times = [float(line.split()[2]) for line in lines if not line.startswith("#")]
    check(all(0 <= x <= summary["secs"] + 0.0005 for x in times),
          "times outside [0, %.3f]: %r" % (summary["secs"], times))
    return times


def test_recording_starts_when_it_attaches(t):
    # 10 accesses queued in the ring before the recorder comes are not part of the recording.
    q, shm = qtest_vm(t)
    for i in range(10):
        q.qtest.write(BAR_ADDR, 4, i)
    check(RingHeader(shm).head == 10, "queued accesses")
    trace = t.tmp("count.trace")
    rec = t.recorder("--qmp", q.qmp_path, "-o", trace, "--count", "5")
    rec.wait_attached(shm)
    for i in range(5):
        q.qtest.write(BAR_ADDR + 8, 4, 100 + i)
    status, out, err = rec.finish()
    check(status == 0 and err == "", err)
    summary = parse_record_summary(out)
    check((summary["events"], summary["dropped"], summary["skipped"], summary["file"]) ==
          (5, 0, 10, trace), out)
    check([e["value"] for e in dump_json(trace)] == list(range(100, 105)), "recorded values")
    check(len(check_times(trace, summary)) == 5, "five accesses")

    trace = t.tmp("duration.trace")
    rec = t.recorder("--qmp", q.qmp_path, "-o", trace, "--duration", "1")
    rec.wait_attached(shm)
    for i in range(7):
        q.qtest.write(BAR_ADDR + 8, 4, 200 + i)
    status, out, err = rec.finish()
    check(status == 0 and err == "", err)
    summary = parse_record_summary(out)
    check((summary["events"], summary["dropped"], summary["skipped"]) == (7, 0, 0), out)
    # at least the second asked for, and far from the 10 s of a tenfold error (a coarse bound
    # for a loaded machine, as in test_qtest.test_record_duration)
    check(1 <= summary["secs"] < 3 and summary["rate"] is not None, out)
    check([e["value"] for e in dump_json(trace)] == list(range(200, 207)), "recorded values")
    check(len(check_times(trace, summary)) == 7, "seven accesses")


def test_second_qmp_client_is_told_who_holds_the_socket(t):
    q, shm = qtest_vm(t)
    first = t.recorder("--qmp", q.qmp_path, "-o", t.tmp("first.trace"))
    first.wait_attached(shm)
    second = t.tmp("second.trace")
    r = regdbg("record", "--qmp", q.qmp_path, "-o", second, timeout=30)
    check(r.returncode == 1 and r.stdout == "", "exit %d %r" % (r.returncode, r.stdout))
    want = ("regdbg record: another program (regdbg, pid %d) holds the QMP socket %s, and QEMU "
            "serves one client per QMP socket: record from it (`:record FILE` in the TUI), stop "
            "it, or start QEMU with a second -qmp unix:PATH,server=on,wait=off for regdbg record\n"
            % (first.proc.pid, q.qmp_path))
    check(r.stderr == want, "stderr:\n%r\nexpected\n%r" % (r.stderr, want))
    check(not os.path.exists(second), "a trace was created")
    # Once the first client is gone, the socket serves the next one.
    status, out, err = first.finish(sig=signal.SIGINT)
    check(status == 0, err)
    r = regdbg("record", "--qmp", q.qmp_path, "-o", second, "--duration", "0.2", timeout=30)
    check(r.returncode == 0 and parse_record_summary(r.stdout)["events"] == 0, r.stderr)


EXIT_DEV = "isa-debug-exit,iobase=0xf4,iosize=0x04"


def test_start_resumes_a_vm_started_with_S(t):
    serial = t.tmp("serial.log")
    q = t.qemu([I2C + ",default-read=0x4"], qtest=False, accel="tcg", paused=True,
               extra=["-kernel", GUEST, "-append", "mode=i2c loops=3", "-device", EXIT_DEV,
                      "-serial", "file:" + serial])
    check(q.qmp.cmd("query-status")["status"] == "prelaunch", "QEMU did not start paused")
    trace = t.tmp("start.trace")
    r = regdbg("record", "--qmp", q.qmp_path, "--start", "-o", trace, timeout=120)
    check(r.returncode == 0 and r.stderr == "", "exit %d: %s" % (r.returncode, r.stderr))
    summary = parse_record_summary(r.stdout)
    check(q.wait(60) == 1, "guest exit status (1 = success); serial: " + open(serial).read())
    # Reads return 0x4: every poll of the guest's i2c mode ends at once, 16 accesses a loop.
    check((summary["events"], summary["dropped"], summary["skipped"], summary["qemu_exited"])
          == (48, 0, 0, True), r.stdout)
    events = dump_json(trace)
    check(len(events) == 48 and [e["seq"] for e in events] == list(range(48)) and
          all(e["cpu"] == 0 for e in events), "the whole run from its first access")
    check(len(check_times(trace, summary)) == 48, "48 accesses")


test_start_resumes_a_vm_started_with_S.timeout = 180


def test_start_needs_qmp(t):
    r = regdbg("record", "--shm", t.tmp("ring"), "--start", "-o", t.tmp("a.trace"))
    check(r.returncode == 2 and r.stderr.startswith("regdbg record: --start needs --qmp"),
          r.stderr)
    r = regdbg("record", "--help")
    check("--start" in r.stdout, "--help documents --start")


# The accesses of one loop of the guest's i2c mode against reads that return 0 (test_guest.py's
# i2c_model: every poll runs to its limit).
I2C_LOOP_ACCESSES = 1 + 1 + 1 + 6 + 2 + 16 + 16 + 2 + 1


def _lossy_i2c_vm(t, name, loops):
    """A VM started paused whose guest drives the I2C controller loops times, 10 ms apart, into
    a lossy ring of 16 entries: each loop's burst overflows it before any reader can drain it,
    and the pause lets the reader catch up, so that drops and recorded accesses alternate."""
    extra = ["-kernel", GUEST, "-append", "mode=i2c loops=%d delay=10" % loops,
             "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
             "-serial", "file:" + t.tmp(name + "-serial.log")]
    q = t.qemu([I2C + ",ring-mode=lossy,ring-entries=16"], qtest=False, accel="tcg", extra=extra,
               paused=True, name=name)
    return q, q.shm_path("/machine/peripheral/i2c0")


def _run_guest_to_its_end(q):
    q.qmp.cmd("cont")
    status = q.wait(240)
    check(status == 1, "guest exit status %d (expected 1 = success):\n%s" % (status, q.output()))


def _trace_shape(trace, produced):
    """What a recording of an overflowing lossy ring holds, checked: its accesses, the drop
    markers (some of them between accesses, where the drops happened), and an end record whose
    counts are those: together every access the guest made, each exactly once. Returns
    (accesses, marker counts, the end line)."""
    r = regdbg("dump", trace)
    check(r.returncode == 0 and r.stderr == "", "dump %s: %s" % (trace, r.stderr))
    lines = r.stdout.splitlines()
    events = [ln for ln in lines if not ln.startswith("#")]
    markers = [(i, ln) for i, ln in enumerate(lines) if ln.startswith("# dropped ")]
    counts = [int(ln.split()[2]) for _, ln in markers]
    check(all(ln == "# dropped %d events here (ring full or producer gone)" % n
              for (_, ln), n in zip(markers, counts)), "markers: %r" % markers[:3])
    end = lines[-1]
    check(end == "# end of recording: %d events, %d dropped" % (len(events), sum(counts)),
          "%s: end line %r for %d accesses and %d marked drops" % (trace, end, len(events),
                                                                   sum(counts)))
    check(len(events) + sum(counts) == produced, "%s: %d recorded + %d dropped, the guest made %d"
          % (trace, len(events), sum(counts), produced))
    check(counts and any(i + 1 < len(lines) and not lines[i + 1].startswith("#")
                         for i, _ in markers),
          "%s: the ring overflowed, but no drop marker sits between accesses: %r" % (
              trace, [ln for _, ln in markers]))
    return events, counts, end


def test_one_recorder_for_record_batch_and_the_tui(t):
    """The same overflowing lossy ring recorded three ways, by `regdbg record`, by `regdbg batch
    --record` and by the TUI's :record, gives the same kind of trace: its drops marked where
    they happened, an end record that counts them, nothing lost or counted twice; the summary
    and the TUI's notice say what the trace holds."""
    loops = 30
    produced = loops * I2C_LOOP_ACCESSES
    # regdbg record
    q, shm = _lossy_i2c_vm(t, "record", loops)
    trace = t.tmp("record.trace")
    rec = t.recorder("--qmp", q.qmp_path, "-o", trace)
    rec.wait_attached(shm)
    _run_guest_to_its_end(q)
    status, out, err = rec.finish(timeout=60)
    check(status == 0 and err == "", "record: %d %s" % (status, err))
    summary = parse_record_summary(out)
    events, counts, _ = _trace_shape(trace, produced)
    check((summary["events"], summary["dropped"], summary["skipped"]) ==
          (len(events), sum(counts), 0), out)

    # regdbg batch --record: the recording has begun once its file is there
    q, shm = _lossy_i2c_vm(t, "batch", loops)
    trace = t.tmp("batch.trace")
    env = dict(os.environ, **SAN_ENV)
    batch = subprocess.Popen([REGDBG, "batch", "--qmp", q.qmp_path, "--record", trace, "-"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env, text=True)
    try:
        wait_for(lambda: os.path.exists(trace) or batch.poll() is not None, 10,
                 "regdbg batch to begin recording")
        _run_guest_to_its_end(q)
        out, err = batch.communicate("", timeout=60)
    finally:
        if batch.poll() is None:
            batch.kill()
            batch.communicate()
    check(batch.returncode == 0 and err == "", "batch: %d %s" % (batch.returncode, err))
    _trace_shape(trace, produced)

    # the TUI's :record
    q, shm = _lossy_i2c_vm(t, "tui", loops)
    trace = t.tmp("tui.trace")
    term = Term(t, "tui", [REGDBG, "attach", q.qmp_path], cols=160)
    term.wait_text("VM: prelaunch", 10)
    term.keys(":")
    term.type("record " + trace)
    term.keys("Enter")
    term.wait_text("recording i2c0 into " + trace, 5)
    _run_guest_to_its_end(q)
    term.wait_text("VM: gone", 10)
    term.keys(":")
    term.type("record stop")
    term.keys("Enter")
    m = term.wait(lambda ls: re.search(r"recording stopped: (\d+) events in %s, (\d+) dropped"
                                       % re.escape(trace), ls[-2]), 10, "recording stopped")
    events, counts, _ = _trace_shape(trace, produced)
    check((int(m.group(1)), int(m.group(2))) == (len(events), sum(counts)),
          "the notice says %s, the trace has %d events and %d drops" % (m.group(0), len(events),
                                                                       sum(counts)))
    term.keys("q")
    term.check_clean_exit(15)


test_one_recorder_for_record_batch_and_the_tui.timeout = 600


def test_bar_placements_follow_the_guest(t):
    """Trace format 3: `record --qmp` places BAR0 where the test mapped it, before its first
    access; when the BAR moves, the next placement (query-pci, asked again once a second) comes
    before the accesses at its new address; BAR1 (absent) is never placed."""
    q, shm = qtest_vm(t)
    bdf = q.qtest.find_device(0x8086, 0x0F41)[0]
    trace = t.tmp("bars.trace")
    rec = t.recorder("--qmp", q.qmp_path, "-o", trace)
    rec.wait_attached(shm)
    q.qtest.write(BAR_ADDR, 4, 1)
    wait_for(lambda: RingHeader(shm).tail == 1, 10, "the recorder to drain the first access")
    moved = 0xE0100000
    q.qtest.map_bar(bdf, 0, moved)
    time.sleep(1.5)     # not a check: the recorder asks where the BARs are once a second
    q.qtest.write(moved + 4, 4, 2)
    wait_for(lambda: RingHeader(shm).tail == 2, 10, "the recorder to drain the second access")
    status, out, err = rec.finish(timeout=20, sig=signal.SIGINT)
    check(status == 0 and err == "", "exit %d: %s" % (status, err))
    pci = "(PCI %02x:%02x.%x)" % (bdf >> 8, (bdf >> 3) & 31, bdf & 7)
    lines = regdbg("dump", trace).stdout.splitlines()
    check([ln.split("  ")[0][:42] if not ln.startswith("#") else ln for ln in lines] == [
        "# bar0 at 0x%x %s" % (BAR_ADDR, pci),
        lines[1].split("  ")[0][:42],
        "# bar0 at 0x%x %s" % (moved, pci),
        lines[3].split("  ")[0][:42],
        "# end of recording: 2 events, 0 dropped"] and
        [re.findall(r"bar0\+0x[0-9a-f]+", ln)[0] for ln in (lines[1], lines[3])] ==
        ["bar0+0x0000", "bar0+0x0004"], "dump:\n" + "\n".join(lines))


test_bar_placements_follow_the_guest.timeout = 60
