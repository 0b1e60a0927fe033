"""The proxy device driven over the qtest protocol (the test is the guest): every access size at
chosen offsets reaches the recorded trace in order with exact values; backends none and file;
config-space identity and BAR layout; the resolved shm path; lossy drop accounting."""

import os
import signal
import stat
import time

from harness import (RingHeader, accesses, check, dump_json, parse_record_summary, regdbg,
                     wait_for)

BAR_ADDR = 0xE0000000
I2C = ("regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,subsystem-vendor-id=0x8086,"
       "subsystem-id=0x7270,class-code=0x0c8000,revision=0x11,bar0-size=4096")


def setup_one(t, dev, bar=0, addr=BAR_ADDR, ids=(0x8086, 0x0F41)):
    q = t.qemu([dev])
    found = q.qtest.find_device(*ids)
    check(len(found) == 1, "proxy not found in config space (%r)" % found)
    q.qtest.map_bar(found[0], bar, addr)
    return q, found[0]


def start_recording(t, q, trace, *extra):
    shm = q.shm_path("/machine/peripheral/i2c0")
    rec = t.recorder("--qmp", q.qmp_path, "-o", trace, *extra)
    rec.wait_attached(shm)
    return rec, shm


# Offsets chosen to cover aligned and unaligned accesses of every size.
PATTERN = [
    (1, 0x000, 0xA5), (1, 0x003, 0x5A), (2, 0x010, 0xBEEF), (2, 0x013, 0x1234),
    (4, 0x020, 0xDEADBEEF), (4, 0x022, 0x01020304), (8, 0x040, 0x1122334455667788),
    (8, 0x04C, 0x0102030405060708), (4, 0xFFC, 0xCAFEF00D), (1, 0xFFF, 0x7E),
]


def test_every_size_recorded_in_order(t):
    q, _ = setup_one(t, I2C + ",default-read=0x8877665544332211")
    trace = t.tmp("sizes.trace")
    rec, _ = start_recording(t, q, trace, "--count", str(2 * len(PATTERN)))
    expected = []
    for size, off, val in PATTERN:
        q.qtest.write(BAR_ADDR + off, size, val)
        got = q.qtest.read(BAR_ADDR + off, size)
        want = 0x8877665544332211 & ((1 << (8 * size)) - 1)
        check(got == want, "read%d at 0x%x returned 0x%x, default-read gives 0x%x"
              % (size, off, got, want))
        expected += [("w", 0, off, size, val), ("r", 0, off, size, want)]
    status, out, err = rec.finish()
    check(status == 0, "record failed: " + err)
    check("%d events, 0 dropped" % len(expected) in out, "summary: " + out)
    events = dump_json(trace)
    check(accesses(events) == expected, "trace differs:\n%r\nexpected\n%r"
          % (accesses(events), expected))
    check([e["seq"] for e in events] == list(range(len(expected))), "sequence numbers")
    check(all(e["cpu"] == -1 and e["dev"] == "i2c0" and e["flags"] == [] for e in events),
          "qtest accesses have no vCPU: %r" % events[0])
    check(all(b["t_ns"] >= a["t_ns"] for a, b in zip(events, events[1:])), "time goes back")


def test_none_backend_drops_writes(t):
    q, _ = setup_one(t, I2C)
    q.qtest.write(BAR_ADDR + 0x10, 4, 0x12345678)
    check(q.qtest.read(BAR_ADDR + 0x10, 4) == 0, "backend none kept a write")


def test_file_backend(t):
    path = t.tmp("bar0.bin")
    content = bytes((i * 7 + 3) & 0xFF for i in range(4096))
    with open(path, "wb") as f:
        f.write(content)
    q, _ = setup_one(t, I2C + ",backend=file,bar0-file=" + path)
    trace = t.tmp("file.trace")
    rec, _ = start_recording(t, q, trace, "--count", "8")
    # Reads return the file's bytes, little-endian, at the exact width.
    for size, off in [(1, 5), (2, 6), (4, 0x100), (8, 0x200)]:
        want = int.from_bytes(content[off:off + size], "little")
        got = q.qtest.read(BAR_ADDR + off, size)
        check(got == want, "read%d at 0x%x: 0x%x, file has 0x%x" % (size, off, got, want))
    # Writes land in the file, exactly those bytes.
    q.qtest.write(BAR_ADDR + 0x300, 4, 0xA1B2C3D4)
    q.qtest.write(BAR_ADDR + 0x401, 1, 0xEE)
    q.qtest.write(BAR_ADDR + 0x502, 2, 0x7788)
    q.qtest.write(BAR_ADDR + 0x600, 8, 0x0102030405060708)
    with open(path, "rb") as f:
        now = f.read()
    expect = bytearray(content)
    expect[0x300:0x304] = (0xA1B2C3D4).to_bytes(4, "little")
    expect[0x401] = 0xEE
    expect[0x502:0x504] = (0x7788).to_bytes(2, "little")
    expect[0x600:0x608] = (0x0102030405060708).to_bytes(8, "little")
    check(now == bytes(expect), "file content after writes differs at %r" % [
        i for i in range(4096) if now[i] != expect[i]][:8])
    status, out, err = rec.finish()
    check(status == 0, err)
    events = dump_json(trace)
    check(len(events) == 8 and events[0]["value"] == content[5], "trace of file accesses")


def test_file_backend_creates_missing_file(t):
    path = t.tmp("new-bar0.bin")
    q, _ = setup_one(t, I2C + ",backend=file,bar0-file=" + path)
    q.qtest.write(BAR_ADDR + 8, 4, 0x55AA55AA)
    check(os.path.getsize(path) == 4096, "created file has %d bytes" % os.path.getsize(path))
    with open(path, "rb") as f:
        data = f.read()
    check(data[8:12] == (0x55AA55AA).to_bytes(4, "little"), "write not in the new file")


def test_config_space_identity(t):
    dev = ("regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,subsystem-vendor-id=0x1043,"
           "subsystem-id=0x8534,class-code=0x0c8000,revision=0x0e,bar0-size=4096,"
           "bar1-size=0x100000,bar1-type=mem64,bar1-prefetch=on,bar3-size=32,bar3-type=io,"
           "bar4-size=0x2000")
    q = t.qemu([dev])
    found = q.qtest.find_device(0x8086, 0x0F41)
    check(len(found) == 1, "device not found")
    bdf = found[0]
    qt = q.qtest
    check(qt.cfg_read(bdf, 0x2C) == (0x8534 << 16) | 0x1043, "subsystem ids 0x%x"
          % qt.cfg_read(bdf, 0x2C))
    check(qt.cfg_read(bdf, 0x08) == (0x0C8000 << 8) | 0x0E, "class/revision 0x%x"
          % qt.cfg_read(bdf, 0x08))
    sizes = {}
    for bar in range(6):
        sizes[bar] = qt.bar_size(bdf, bar)
    check(sizes[0][0] == 4096 and sizes[0][1] & 0xF == 0, "bar0 %r" % (sizes[0],))
    check(sizes[1][0] == 0x100000 and sizes[1][1] & 0xF == 0xC, "bar1 mem64 prefetch %r"
          % (sizes[1],))
    check(sizes[3][0] == 32 and sizes[3][1] & 1 == 1, "bar3 io %r" % (sizes[3],))
    check(sizes[4][0] == 0x2000, "bar4 %r" % (sizes[4],))
    check(sizes[5][0] == 0, "bar5 should be absent")
    # The ring header carries the same identity and layout.
    h = RingHeader(q.shm_path("/machine/peripheral/i2c0"))
    check((h.vendor_id, h.device_id, h.subsystem_vendor_id, h.subsystem_id, h.class_code,
           h.revision) == (0x8086, 0x0F41, 0x1043, 0x8534, 0x0C8000, 0x0E), "ring identity")
    check(h.bars[1] == (0x100000, 2, 1) and h.bars[3] == (32, 3, 0) and h.bars[2][0] == 0,
          "ring BAR layout %r" % h.bars)
    # Each BAR reaches the handler with its own number.
    qt.map_bar(bdf, 1, 0xE0100000)
    qt.map_bar(bdf, 3, 0xC000)
    qt.map_bar(bdf, 4, 0xE0200000)
    trace = t.tmp("bars.trace")
    rec = t.recorder("--qmp", q.qmp_path, "-o", trace, "--count", "3")
    rec.wait_attached(q.shm_path("/machine/peripheral/i2c0"))
    qt.write(0xE0100000 + 0x80, 8, 0xABCDEF0123456789)
    qt.out(0xC000 + 4, 2, 0x4321)
    qt.read(0xE0200000 + 0x1FFC, 4)
    status, out, err = rec.finish()
    check(status == 0, err)
    check(accesses(dump_json(trace)) == [("w", 1, 0x80, 8, 0xABCDEF0123456789),
                                         ("w", 3, 4, 2, 0x4321), ("r", 4, 0x1FFC, 4, 0)],
          "per-BAR trace %r" % accesses(dump_json(trace)))


def test_default_shm_path(t):
    q = t.qemu([I2C, "regdbg-proxy,bar0-size=4096,device-id=0x1234"])
    path = q.shm_path("/machine/peripheral/i2c0")
    check(path.startswith("/proc/%d/fd/" % q.proc.pid) and
          os.readlink(path) == "/memfd:regdbg-i2c0 (deleted)",
          "resolved shm is %s -> %s" % (path, os.readlink(path)))
    st = os.stat(path)
    check(stat.S_IMODE(st.st_mode) == 0o600, "ring mode %o" % stat.S_IMODE(st.st_mode))
    h = RingHeader(path)
    check(h.qemu_pid == q.proc.pid and h.dev_id == "i2c0" and h.ring_entries == 65536,
          "header %s %d" % (h.dev_id, h.ring_entries))
    anon = q.qmp.cmd("qom-list", path="/machine/peripheral-anon")
    names = [e["name"] for e in anon if e["type"] == "child<regdbg-proxy>"]
    check(len(names) == 1, "anonymous proxy %r" % anon)
    apath = q.shm_path("/machine/peripheral-anon/" + names[0])
    check(apath.startswith("/proc/%d/fd/" % q.proc.pid) and apath != path and
          RingHeader(apath).device_id == 0x1234, "anonymous ring %s" % apath)
    q.qmp.cmd("quit")
    q.wait(20)
    check(not os.path.exists(path), "ring %s left behind after quit" % path)


def test_ring_path_may_be_a_link(t):
    # QEMU may give the ring as /proc/PID/fd/N, a magic link to a memfd: what the path leads to
    # is checked, not whether it is a link.
    q, _ = setup_one(t, I2C)
    shm = q.shm_path("/machine/peripheral/i2c0")
    with open(shm, "rb") as held:
        magic = "/proc/%d/fd/%d" % (os.getpid(), held.fileno())
        link = t.tmp("ring-link")
        os.symlink(shm, link)
        for path in (magic, link):
            trace = t.tmp("link.trace")
            rec = t.recorder("--shm", path, "-o", trace, "--count", "2")
            rec.wait_attached(shm)
            q.qtest.write(BAR_ADDR, 4, 1)
            q.qtest.write(BAR_ADDR, 4, 2)
            status, out, err = rec.finish()
            check(status == 0 and "2 events" in out, "%s: %s" % (path, err))
            check([e["value"] for e in dump_json(trace)] == [1, 2], path)
    fifo = t.tmp("fifo")
    os.mkfifo(fifo)
    os.symlink(fifo, t.tmp("fifo-link"))
    for path in (t.tmp("fifo-link"), "/dev/null"):
        r = regdbg("record", "--shm", path, "-o", t.tmp("x.trace"), timeout=20)
        check(r.returncode == 1 and r.stderr == "regdbg record: %s is not a regdbg ring: not a "
              "regular file; is it the shm= of a regdbg-proxy device?\n" % path, r.stderr)


def test_lossy_without_reader_counts_drops(t):
    q, _ = setup_one(t, I2C + ",ring-mode=lossy,ring-entries=64")
    shm = q.shm_path("/machine/peripheral/i2c0")
    for i in range(200):
        q.qtest.write(BAR_ADDR + 4, 4, i)
    h = RingHeader(shm)
    check(h.head == 64 and h.dropped == 136, "head %d dropped %d" % (h.head, h.dropped))
    # A recorder that comes later records from then on: the 64 queued accesses are skipped and
    # the 136 drops before it are not its own.
    trace = t.tmp("lossy.trace")
    rec = t.recorder("--qmp", q.qmp_path, "-o", trace)
    rec.wait_attached(shm)
    for i in range(100):
        q.qtest.write(BAR_ADDR + 4, 4, 1000 + i)
    wait_for(lambda: RingHeader(shm).tail == RingHeader(shm).head, 10, "the recorder to drain")
    status, out, err = rec.finish(sig=signal.SIGINT)
    check(status == 0, err)
    summary = parse_record_summary(out)
    events = dump_json(trace)
    values = [e["value"] for e in events]
    dropped = RingHeader(shm).dropped - 136
    check(summary["skipped"] == 64, "the queued accesses are skipped: " + out)
    check(summary["events"] == len(events) and summary["dropped"] == dropped and
          len(events) + dropped == 100, "100 accesses = %d recorded + %d dropped: %s"
          % (len(events), dropped, out))
    check(values == sorted(values) and set(values) <= set(range(1000, 1100)),
          "only accesses made while recording, in order: %r" % values[:10])
    text = regdbg("dump", trace).stdout
    check(("# dropped" in text) == (dropped > 0), "text dump marks drops only when there were:\n"
          + text[-300:])


def test_lossless_without_reader_never_stalls(t):
    q, _ = setup_one(t, I2C + ",ring-entries=16")
    shm = q.shm_path("/machine/peripheral/i2c0")
    for i in range(100):
        q.qtest.write(BAR_ADDR, 4, i)
    h = RingHeader(shm)
    check(h.head == 16 and h.dropped == 84 and h.waits == 0, "head %d dropped %d waits %d"
          % (h.head, h.dropped, h.waits))


def test_lossless_with_reader_loses_nothing(t):
    q, _ = setup_one(t, I2C + ",ring-entries=8")
    trace = t.tmp("lossless.trace")
    rec, shm = start_recording(t, q, trace, "--count", "3000")
    for i in range(3000):
        q.qtest.write(BAR_ADDR + 0x10, 4, i)
    status, out, err = rec.finish()
    check(status == 0, err)
    events = dump_json(trace)
    check([e["value"] for e in events] == list(range(3000)), "lossless lost events")
    check(RingHeader(shm).dropped == 0, "drops in lossless mode")


def test_record_stops_when_qemu_exits(t):
    q, _ = setup_one(t, I2C)
    trace = t.tmp("exit.trace")
    rec, _ = start_recording(t, q, trace)
    for i in range(10):
        q.qtest.write(BAR_ADDR, 4, i)
    q.qmp.cmd("quit")
    status, out, err = rec.finish(timeout=20)
    check(status == 0 and err == "", "exit %d: %s" % (status, err))
    summary = parse_record_summary(out)
    check((summary["events"], summary["dropped"], summary["qemu_exited"]) == (10, 0, True), out)
    check([e["value"] for e in dump_json(trace)] == list(range(10)), "the recorded values")


def test_record_stops_on_sigint_and_sigterm(t):
    """SIGINT or SIGTERM stops a recording cleanly: exit 0, the one summary line with exactly
    what was recorded, and a trace with every access and its end record."""
    q, _ = setup_one(t, I2C)
    shm = q.shm_path("/machine/peripheral/i2c0")
    done = 0
    for sig, name in ((signal.SIGINT, "sigint"), (signal.SIGTERM, "sigterm")):
        trace = t.tmp(name + ".trace")
        rec, _ = start_recording(t, q, trace)
        values = [(0x1000 if sig == signal.SIGTERM else 0) + i for i in range(25)]
        for i, v in enumerate(values):
            q.qtest.write(BAR_ADDR + 4 * (i % 8), 4, v)
        done += 25
        # Wait until the recorder drained everything, then stop it.
        wait_for(lambda: RingHeader(shm).tail == done, 10, "the recorder to drain")
        status, out, err = rec.finish(sig=sig)
        check(status == 0 and err == "", "%s: exit %d: %s" % (name, status, err))
        summary = parse_record_summary(out)
        check((summary["events"], summary["dropped"], summary["file"], summary["qemu_exited"],
               summary["skipped"]) == (25, 0, trace, False, 0), "%s: %s" % (name, out))
        events = dump_json(trace)
        check(accesses(events) == [("w", 0, 4 * (i % 8), 4, v) for i, v in enumerate(values)],
              "%s: the trace holds %r" % (name, accesses(events)))
        text = regdbg("dump", trace)
        # the BAR placement (trace format 3) first: BAR0 as the test mapped it
        lines = text.stdout.splitlines()
        check(lines[0].startswith("# bar0 at 0x%x (PCI 00:" % BAR_ADDR), "%s: %r"
              % (name, lines[:1]))
        lines = lines[1:]
        check(text.returncode == 0 and text.stderr == "" and len(lines) == 26 and
              lines[-1] == "# end of recording: 25 events, 0 dropped",
              "%s: dump: %r %r" % (name, lines[-1:], text.stderr))
        # named by the shipped map of 8086:0f41; its fields follow after two spaces
        check(lines[0].startswith("W 4 ") and lines[0].split("  ")[0].endswith(
            " - i2c0 bar0+0x0000 IC_CON <- 0x%08x" % values[0]),
              "%s: text line: %r" % (name, lines[0]))
        check(RingHeader(shm).consumer_pid == 0, "%s: the recorder is still named the ring's "
              "consumer" % name)


# A --duration 0.5 recording lasts 0.5 s, plus the time to notice the deadline. The upper bound
# is coarse on purpose (a loaded 2-core machine): it is no timing measurement, it separates the
# 0.5 s asked for from the 5 s that a tenfold error would take.
DURATION_SLACK_S = 2.0


def test_record_duration(t):
    q, _ = setup_one(t, I2C)
    trace = t.tmp("duration.trace")
    rec, shm = start_recording(t, q, trace, "--duration", "0.5")
    attached = time.monotonic()
    for i in range(5):
        q.qtest.write(BAR_ADDR + 4 * i, 4, 0x50 + i)
    status, out, err = rec.finish(timeout=20)
    after_attach = time.monotonic() - attached
    check(status == 0 and err == "", "exit %d: %s" % (status, err))
    summary = parse_record_summary(out)
    check((summary["events"], summary["dropped"], summary["file"], summary["qemu_exited"]) ==
          (5, 0, trace, False), out)
    check(0.5 <= summary["secs"] < 0.5 + DURATION_SLACK_S,
          "a --duration 0.5 recording lasted %.3f s: %s" % (summary["secs"], out))
    check(after_attach < 0.5 + DURATION_SLACK_S, "regdbg record ran %.1f s after it attached"
          % after_attach)
    check([e["value"] for e in dump_json(trace)] == [0x50 + i for i in range(5)],
          "the accesses of the recording")


def test_unaligned_access_is_not_split(t):
    q, _ = setup_one(t, I2C)
    trace = t.tmp("unaligned.trace")
    rec, _ = start_recording(t, q, trace, "--count", "2")
    q.qtest.write(BAR_ADDR + 0x101, 4, 0x11223344)
    q.qtest.read(BAR_ADDR + 0x203, 8)
    status, out, err = rec.finish()
    check(status == 0, err)
    got = accesses(dump_json(trace))
    check(got == [("w", 0, 0x101, 4, 0x11223344), ("r", 0, 0x203, 8, 0)], "%r" % got)


def test_second_consumer_refused(t):
    q, _ = setup_one(t, I2C)
    trace = t.tmp("one.trace")
    rec, shm = start_recording(t, q, trace)
    r = regdbg("record", "--shm", shm, "-o", t.tmp("two.trace"), "--count", "1", timeout=20)
    check(r.returncode == 1 and "already has a consumer" in r.stderr, r.stderr)
    rec.finish(sig=signal.SIGTERM)

