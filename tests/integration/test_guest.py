"""The proxy under real vCPUs: the bare-metal test guest (tests/guest) runs its DesignWare I2C
sequence under TCG and KVM (skipped, and counted so, where /dev/kvm is unusable) and the
recorded trace must be exactly what it did; two vCPUs hammering the BAR lose nothing in lossless
mode and count every drop in lossy; a recorder that comes after the guest is done skips what the
ring had queued."""

import os
import re
import signal

from harness import (GUEST, HeldRing, RingHeader, check, dump_json, parse_record_summary,
                     regdbg, require_kvm, wait_for)

PROXY = "regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,class-code=0x0c8000,bar0-size=4096"
EXIT_DEV = "isa-debug-exit,iobase=0xf4,iosize=0x04"


def i2c_model(loops, read_value):
    """The accesses tests/guest's i2c mode makes: (dir, off, value) with reads answered by
    read_value(off), which replays what the trace says the device returned."""
    seq = []

    def rd(off):
        v = read_value(off)
        seq.append(("r", off, v))
        return v

    def wr(off, v):
        seq.append(("w", off, v))

    def poll(off, done, limit):
        for _ in range(limit):
            if done(rd(off)):
                break

    for i in range(loops):
        rd(0xFC)
        wr(0x6C, 0)
        poll(0x9C, lambda v: (v & 1) == 0, 8)
        wr(0x00, 0x63)
        wr(0x04, 0x50)
        wr(0x14, 0x190)
        wr(0x18, 0x1D6)
        wr(0x30, 0)
        wr(0x6C, 1)
        wr(0x10, i & 0xFF)
        wr(0x10, 0x300)
        poll(0x70, lambda v: v & 4, 16)
        poll(0x34, lambda v: v & 4, 16)
        rd(0x10)
        rd(0x40)
        wr(0x6C, 0)
    return seq


def run_guest(t, accel, append, device, smp=1, record=True, name="vm"):
    """Boot the guest paused, attach the recorder, resume, and wait for the guest to exit."""
    extra = ["-kernel", GUEST, "-append", append, "-device", EXIT_DEV, "-smp", str(smp),
             "-serial", "file:" + t.tmp(name + "-serial.log")]
    q = t.qemu([device], qtest=False, accel=accel, extra=extra, paused=True, name=name)
    shm = q.shm_path("/machine/peripheral/i2c0")
    trace = t.tmp(name + ".trace")
    rec = None
    if record:
        rec = t.recorder("--qmp", q.qmp_path, "-o", trace)
        rec.wait_attached(shm)
    header_before_exit = RingHeader(shm)
    q.qmp.cmd("cont")
    status = q.wait(240)
    with open(t.tmp(name + "-serial.log")) as f:
        serial = f.read()
    check(status == 1, "guest exit status %d (expected 1 = success); serial:\n%s\nQEMU:\n%s"
          % (status, serial, q.output()))
    result = {"serial": serial, "shm": shm, "header": header_before_exit}
    if rec:
        code, out, err = rec.finish(timeout=60)
        check(code == 0 and "QEMU exited" in out, "record: %s %s" % (out, err))
        result["summary"] = out
        result["events"] = dump_json(trace)
    return result


def check_i2c_trace(events, loops, default_read):
    """The trace is exactly what the guest did against a device whose every read returns
    default_read (backend=none): the model is computed from that value, not from the trace."""
    model = i2c_model(loops, lambda off: default_read & 0xFFFFFFFF)
    got = [(e["dir"], e["off"], e["value"]) for e in events]
    check(len(got) == len(model), "trace has %d accesses, the guest made %d" % (len(got),
                                                                            len(model)))
    for n, (a, b) in enumerate(zip(got, model)):
        check(a == b, "access %d differs: trace %r, guest %r" % (n, a, b))
    check(all(e["size"] == 4 and e["bar"] == 0 and e["dev"] == "i2c0" and e["cpu"] == 0
              for e in events), "every access is 32-bit, BAR0, from vCPU 0")
    check([e["seq"] for e in events] == list(range(len(events))), "sequence numbers")


def test_i2c_sequence_tcg(t):
    r = run_guest(t, "tcg", "mode=i2c loops=5", PROXY)
    check("done loops=5" in r["serial"], r["serial"])
    check_i2c_trace(r["events"], 5, 0)
    # With default-read 0 every poll runs to its limit: 3 + 8 + 16 + 16 reads... per loop.
    check(len(r["events"]) == 5 * (1 + 1 + 1 + 6 + 2 + 16 + 16 + 2 + 1), "%d events"
          % len(r["events"]))


def test_i2c_sequence_polls_end_early_on_status(t):
    # Reads return 0x4 with bit 0 clear: IC_ENABLE_STATUS, IC_STATUS and IC_RAW_INTR_STAT polls all
    # succeed at their first read.
    r = run_guest(t, "tcg", "mode=i2c loops=3", PROXY + ",default-read=0x4")
    check_i2c_trace(r["events"], 3, 0x4)
    check(len(r["events"]) == 3 * 16, "%d events" % len(r["events"]))


def test_i2c_sequence_all_ones(t):
    # Every read returns 0xffffffff: the IC_ENABLE_STATUS poll (bit 0 never clears) runs to its
    # 8 reads, the IC_STATUS and IC_RAW_INTR_STAT polls (bit 2 set) end at their first.
    r = run_guest(t, "tcg", "mode=i2c loops=2", PROXY + ",default-read=0xffffffff")
    check_i2c_trace(r["events"], 2, 0xFFFFFFFF)
    check(len(r["events"]) == 2 * (1 + 1 + 8 + 6 + 2 + 1 + 1 + 2 + 1), "%d events"
          % len(r["events"]))
    check([e["value"] for e in r["events"] if e["dir"] == "r"] == [0xFFFFFFFF] * (2 * 13),
          "every read returned default-read")


def test_i2c_sequence_kvm(t):
    require_kvm()       # skipped, and counted as such, where /dev/kvm is unusable
    r = run_guest(t, "kvm", "mode=i2c loops=3", PROXY)
    check_i2c_trace(r["events"], 3, 0)


test_i2c_sequence_kvm.timeout = 300


def test_two_vcpus_lossless(t):
    count = 20000
    r = run_guest(t, "tcg", "mode=hammer cpus=2 count=%d" % count, PROXY + ",ring-entries=256",
                  smp=2)
    events = r["events"]
    check("0 dropped" in r["summary"], r["summary"])
    check([e["seq"] for e in events] == list(range(2 * count)), "sequence numbers are not "
          "contiguous (%d events)" % len(events))
    for cpu in (0, 1):
        mine = [e for e in events if e["cpu"] == cpu]
        check(len(mine) == count, "cpu %d: %d events" % (cpu, len(mine)))
        check(all(e["off"] == 0x100 + 4 * cpu and e["dir"] == "w" for e in mine),
              "cpu %d wrote elsewhere" % cpu)
        check([e["value"] for e in mine] == [(cpu << 24) | j for j in range(count)],
              "cpu %d: values out of order, lost or duplicated" % cpu)
    switches = sum(1 for a, b in zip(events, events[1:]) if a["cpu"] != b["cpu"])
    check(switches > 1, "the two vCPUs never interleaved (%d switches)" % switches)


test_two_vcpus_lossless.timeout = 240


def test_two_vcpus_lossy_with_reader(t):
    # A lossy ring of 64 entries: whatever the recorder could not take is counted, exactly once.
    count = 5000
    r = run_guest(t, "tcg", "mode=hammer cpus=2 count=%d" % count,
                  PROXY + ",ring-mode=lossy,ring-entries=64", smp=2)
    events, summary = r["events"], parse_record_summary(r["summary"])
    text = regdbg("dump", t.tmp("vm.trace")).stdout.splitlines()
    marked = sum(int(line.split()[2]) for line in text if line.startswith("# dropped "))
    check(summary["events"] == len(events) and summary["skipped"] == 0 and
          summary["dropped"] == marked and len(events) + marked == 2 * count,
          "%d recorded + %d dropped (marked: %d) for %d accesses: %s" % (
              len(events), summary["dropped"], marked, 2 * count, r["summary"]))
    for cpu in (0, 1):
        values = [e["value"] & 0xFFFFFF for e in events if e["cpu"] == cpu]
        check(values == sorted(values) and len(set(values)) == len(values),
              "cpu %d events out of order or duplicated" % cpu)


test_two_vcpus_lossy_with_reader.timeout = 240


def test_two_vcpus_lossy_without_reader(t):
    count, entries = 5000, 1024
    serial = t.tmp("serial.log")
    # No isa-debug-exit: the guest halts when done, and the ring stays for a late reader.
    extra = ["-kernel", GUEST, "-append", "mode=hammer cpus=2 count=%d" % count, "-smp", "2",
             "-serial", "file:" + serial]
    q = t.qemu([PROXY + ",ring-mode=lossy,ring-entries=%d" % entries], qtest=False,
               accel="tcg", extra=extra)
    wait_for(lambda: "hammer done" in open(serial).read(), 120, "the guest to finish")
    shm = q.shm_path("/machine/peripheral/i2c0")
    h = RingHeader(shm)
    produced = h.head + h.dropped
    check(produced == 2 * count, "the ring saw %d accesses, the guest made %d" % (produced,
                                                                               2 * count))
    check(h.head == entries and h.waits == 0, "head %d waits %d" % (h.head, h.waits))
    # A recorder that comes now records from now on: the guest is done, so it records nothing,
    # and it says that it skipped the accesses queued before it (the drops were never queued).
    trace = t.tmp("late.trace")
    r = regdbg("record", "--qmp", q.qmp_path, "-o", trace, "--duration", "0.2")
    check(r.returncode == 0 and r.stderr == "", r.stderr)
    summary = parse_record_summary(r.stdout)
    check((summary["events"], summary["dropped"], summary["skipped"]) == (0, 0, entries),
          r.stdout)
    check(dump_json(trace) == [], "a late recording has no accesses")
    h = RingHeader(shm)
    check(h.tail == h.head == entries and h.dropped == produced - entries,
          "the skipped slots are handed back: head %d tail %d dropped %d" % (h.head, h.tail,
                                                                            h.dropped))


test_two_vcpus_lossy_without_reader.timeout = 240


def test_lossless_ring_with_a_stopped_consumer(t):
    """A lossless ring whose consumer stops draining (the recorder is SIGSTOPped): the guest
    waits for a slot once, consumer-timeout long, and then goes on without waiting, every
    access it makes meanwhile dropped and counted exactly; the recorder, once continued, keeps
    the ring's contents and marks the drops."""
    count, entries = 1000, 16
    serial = t.tmp("serial.log")
    q = t.qemu([PROXY + ",ring-entries=%d,consumer-timeout=300" % entries], qtest=False,
               accel="tcg", paused=True,
               extra=["-kernel", GUEST, "-append", "mode=hammer cpus=1 count=%d" % count,
                      "-device", EXIT_DEV, "-smp", "1", "-serial", "file:" + serial])
    shm = q.shm_path("/machine/peripheral/i2c0")
    ring = HeldRing(shm)            # the header outlives QEMU
    t.owned.append(type("Close", (), {"kill": lambda self: ring.close()})())
    trace = t.tmp("stopped.trace")
    rec = t.recorder("--qmp", q.qmp_path, "-o", trace)
    rec.wait_attached(shm)
    os.kill(rec.proc.pid, signal.SIGSTOP)
    try:
        q.qmp.cmd("cont")
        # Had every access waited its 0.3 s, the guest would take 5 minutes, not seconds.
        status = q.wait(60)
        with open(serial) as f:
            out = f.read()
        check(status == 1 and "hammer done cpus=1 count=%d" % count in out,
              "guest exit status %d:\n%s" % (status, out))
        h = RingHeader(ring)
        check((h.head, h.tail, h.dropped, h.waits, h.stalled_tail, h.consumer_pid) ==
              (entries, 0, count - entries, 1, 0, rec.proc.pid),
              "head %d tail %d dropped %d waits %d stalled_tail %d consumer %d" % (
                  h.head, h.tail, h.dropped, h.waits, h.stalled_tail, h.consumer_pid))
    finally:
        os.kill(rec.proc.pid, signal.SIGCONT)
    code, out, err = rec.finish(timeout=60)
    check(code == 0 and err == "", "record: %d %s" % (code, err))
    summary = parse_record_summary(out)
    check((summary["events"], summary["dropped"], summary["qemu_exited"]) ==
          (entries, count - entries, True), out)
    events = dump_json(trace)
    check([(e["cpu"], e["off"], e["value"]) for e in events] ==
          [(0, 0x100, j) for j in range(entries)], "the ring's %d accesses: %r"
          % (entries, events))
    # (the BAR's placements, format 3, left out: the recording's first lines)
    text = [ln for ln in regdbg("dump", trace).stdout.splitlines() if not ln.startswith("# bar")]
    check(text[entries:] == ["# dropped %d events here (ring full or producer gone)"
                             % (count - entries),
                             "# end of recording: %d events, %d dropped" % (entries,
                                                                            count - entries)],
          "dump: %r" % text)


test_lossless_ring_with_a_stopped_consumer.timeout = 120


def test_access_times_follow_the_host_clock(t):
    """The device stamps accesses from the TSC, scaled to CLOCK_MONOTONIC (qemu-device/
    regdbg-clock.c): over 3 s of i2c iterations 100 ms apart (the guest waits on its PIT), every
    stamp lies between the host's clock before and after the run, stamps never go back, and each
    iteration starts 100 ms after the last by the stamps, as by the guest's timer. The TSC's
    scale is measured over 1 ms first, then over windows ten times longer up to 1 s (trace
    event regdbg_clock_scale), each agreeing with the last within 1 %: a first scale only after
    a second stamped a firmware's whole first second by clock reads, at twice the cost. The
    device idles 4.5 s first: no scale is taken over a window that long. (On a host whose kernel
    clock is not the TSC, the device takes no scale: every stamp is a read.)"""
    import time
    from harness import ring_event
    serial = t.tmp("serial.log")
    log = t.tmp("clock.log")
    q = t.qemu([PROXY], qtest=False, accel="tcg", paused=True,
               extra=["-kernel", GUEST, "-append", "mode=i2c loops=30 delay=100",
                      "-device", EXIT_DEV, "-serial", "file:" + serial,
                      "-trace", "regdbg_clock_scale", "-D", log])
    ring = HeldRing(q.shm_path("/machine/peripheral/i2c0"))
    t.owned.append(type("Close", (), {"kill": lambda self: ring.close()})())
    # Idle longer than 2^32 ns after realize before the first access: a scale taken over that
    # window overflowed its 32.32 shift (a scale 20 times too small, or worse)
    time.sleep(4.5)
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    q.qmp.cmd("cont")
    status = q.wait(60)
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    check(status == 1, "the guest failed:\n" + open(serial).read())
    events, pos = [], 0
    while True:
        e = ring_event(ring, pos)
        if not e:
            break
        events.append(e)
        pos += 1
    check(len(events) > 30 * 10, "%d events" % len(events))
    stamps = [e["t_ns"] for e in events]
    check(before <= stamps[0] and stamps[-1] <= after,
          "stamps %d..%d outside the run %d..%d" % (stamps[0], stamps[-1], before, after))
    back = [(i, stamps[i - 1], stamps[i]) for i in range(1, len(stamps))
            if stamps[i] < stamps[i - 1]]
    check(not back, "stamps go back: %r" % back[:5])
    starts = [e["t_ns"] for e in events if e["dir"] == "r" and e["off"] == 0xFC]
    gaps = sorted(b - a for a, b in zip(starts, starts[1:]))
    median = gaps[len(gaps) // 2]
    check(95e6 <= median <= 130e6, "iterations %.1f ms apart by the stamps, 100 ms by the guest"
          % (median / 1e6))
    text = open(log).read()
    scales = [tuple(int(x, 0) for x in m.groups()) for m in re.finditer(
        r"regdbg_clock_scale TSC scale measured over (\d+) ns \(window (\d+) ns\): (0x[0-9a-f]+)",
        text)]
    windows = [w for _, w, _ in scales]
    with open("/sys/devices/system/clocksource/clocksource0/current_clocksource") as f:
        if f.read().strip() != "tsc":
            # the kernel's clock is not the TSC: the device stamps with clock reads, no scale
            check(not scales, "a TSC scale on a kernel whose clock is not the TSC: %r" % scales)
            return
    check(windows[:4] == [10**6, 10**7, 10**8, 10**9] and set(windows[4:]) <= {10**9},
          "scale windows %r:\n%s" % (windows, text[-2000:]))
    check(all(span >= w for span, w, _ in scales), "a scale measured too early: %r" % scales)
    last = scales[-1][2]
    check(all(abs(m - last) / last < 0.01 for _, _, m in scales),
          "scales %s, the last %#x" % ([hex(m) for _, _, m in scales], last))


test_access_times_follow_the_host_clock.timeout = 90


def test_access_stamps_keep_time_at_the_microsecond(t):
    """Within a burst, the device's stamps (TSC scaled, regdbg-clock.c) measure what the guest's
    own TSC measures: for each timed loop of bench mode (5000 accesses in well under a
    millisecond), the stamps' span over the guest's TSC cycles gives the same nanoseconds per
    cycle in every loop, within 3 %. A clock stuck between resyncs, or scaled wrong, spreads it
    by far more."""
    import struct
    import time
    iters, runs = 5000, 7
    serial = t.tmp("serial.log")
    q = t.qemu([PROXY + ",ring-entries=131072"], qtest=False, accel="tcg", paused=True,
               extra=["-kernel", GUEST, "-append",
                      "mode=bench iters=%d runs=%d off=0x4" % (iters, runs),
                      "-device", EXIT_DEV, "-serial", "file:" + serial])
    ring = HeldRing(q.shm_path("/machine/peripheral/i2c0"))
    t.owned.append(type("Close", (), {"kill": lambda self: ring.close()})())
    time.sleep(1.5)     # the device idle a while after realize, as a firmware's often is
    q.qmp.cmd("cont")
    check(q.wait(120) == 1, "the guest failed:\n" + open(serial).read())
    out = open(serial).read()
    cycles = [(int(m.group(1)), int(m.group(2))) for m in
              re.finditer(r"bench run=\d+ read_cycles=(\d+) write_cycles=(\d+)", out)]
    check(len(cycles) == runs, "bench output:\n" + out)
    h = RingHeader(ring)
    n = (1 + runs) * 2 * iters
    check(h.head == n, "%d events, expected %d" % (h.head, n))
    raw = os.pread(ring.fd, n * 64, h.events_offset)
    stamps = [ev[1] for ev in struct.iter_unpack("<QQ48x", raw)]
    ratios = []
    for r in range(runs):
        base = (1 + r) * 2 * iters          # the warm-up loop comes first
        for k, cyc in enumerate(cycles[r]):
            first = base + k * iters
            span = stamps[first + iters - 1] - stamps[first]
            ratios.append(span / (cyc * (iters - 1)))
    check(max(ratios) / min(ratios) < 1.03,
          "ns per guest TSC cycle, per timed loop: %s" % ", ".join("%.4f" % x for x in ratios))
