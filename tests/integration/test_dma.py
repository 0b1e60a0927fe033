"""DMA through the proxy (dma=, dma-map=; qemu-device/regdbg-dma.c) on sysfs-like trees of regular
files, never a device of this machine: a file does no DMA, so these tests check what the proxy does
around a transfer, and tests/integration/test_hwbed.py checks real transfers of a real edu. Here:
the refusals at start, the guest's Bus Master Enable reaching the host's command register only with
dma=bounce, the bounce buffer's address written into the device's address register in place of the
guest's (and the guest's read back), the copies both ways (the file stands in for a device that
hands back what it was given: a transfer from the device returns the bounce buffer's content), the
refusals of transfers that cannot be bounced, and the events of each, read from the ring."""

import json
import os
import re
import struct

from harness import TOP, HeldRing, RingHeader, check, qemu_fails, ring_event, wait_for
from sysfs_tree import MEM, make_device, read_bytes

BAR = 0xE0000000
ADDR = "0000:00:02.0"
SRC, DST, CNT, CMD = 0x80, 0x88, 0x90, 0x98
RUN, FROM_DEVICE = 0x1, 0x2
RAM_A, RAM_B = 0x100000, 0x200000
PATTERN = bytes((i * 7 + 3) & 0xFF for i in range(4096))


def edu_tree(t, name="sys-bus-pci"):
    root = t.tmp(name)
    d = make_device(root, ADDR, 0x1234, 0x11E8, [(0xFEA00000, 0x100000, MEM)])
    return root, d


def edu_map(t, address_bits=64, **engine):
    """The shipped edu map (maps/edu.json), with another DMA address width or engine keys."""
    with open(os.path.join(TOP, "maps", "edu.json")) as f:
        m = json.load(f)
    m["dma"]["address_bits"] = address_bits
    m["dma"]["engines"][0].update(engine)
    for k, v in list(engine.items()):
        if v is None:
            del m["dma"]["engines"][0][k]
    path = t.tmp("edu-%d-%d.json" % (address_bits, len(os.listdir(os.path.dirname(
        t.tmp("x"))))))
    with open(path, "w") as f:
        json.dump(m, f)
    return path


def proxy(root, extra):
    return ("regdbg-proxy,id=edu0,vendor-id=0x1234,device-id=0x11e8,bar0-size=0x100000,"
            "backend=hw,host=%s,sysfs-path=%s%s" % (ADDR, root, extra))


def host_command(d):
    return read_bytes(os.path.join(d, "config"), 4, 2)


def events(ring, start=0):
    out = []
    while True:
        e = ring_event(ring, start + len(out))
        if e is None:
            return out
        out.append(e)


def memwrite(q, addr, data):
    """The guest's memory, written as a device's DMA would (qtest "write ADDR SIZE DATA")"""
    q.qtest.cmd("write 0x%x 0x%x 0x%s" % (addr, len(data), data.hex()))


def memread(q, addr, n):
    """The guest's memory (qtest "read ADDR SIZE": the bytes as one hex number)"""
    return q.qtest.cmd("read 0x%x 0x%x" % (addr, n)).to_bytes(n, "big")


def start(q, src, dst, cnt, cmd):
    q.qtest.write(BAR + SRC, 8, src)
    q.qtest.write(BAR + DST, 8, dst)
    q.qtest.write(BAR + CNT, 8, cnt)
    q.qtest.write(BAR + CMD, 8, cmd)


def device_done(d, cmd):
    """The "device" finishes: its command register loses RUN (a write to the file)."""
    with open(os.path.join(d, "resource0"), "r+b") as f:
        f.seek(CMD)
        f.write(struct.pack("<Q", cmd & ~RUN))


def test_dma_refusals_at_start(t):
    root, d = edu_tree(t)
    cases = [
        (",dma=bounce", "dma=bounce needs dma-map=FILE: a register map whose \"dma\" section "
         "describes the device's DMA engines (docs/register-maps.md)"),
        (",dma=bounce,dma-map=" + os.path.join(TOP, "maps", "dw-i2c-baytrail.json"),
         "dma-map=%s: the map has no \"dma\" section describing the device's DMA engines "
         "(docs/register-maps.md)" % os.path.join(TOP, "maps", "dw-i2c-baytrail.json")),
        (",dma-map=" + edu_map(t, length="DMA_COUNT"),
         "engine dma: length: the map has no register \"DMA_COUNT\""),
        (",dma-map=" + edu_map(t, start="DMA_CMD.GO"),
         "start: register DMA_CMD has no field \"GO\" with bits inside it"),
        (",dma-map=" + edu_map(t, completion="interrupt"),
         "engine dma: completion by the device's interrupt alone needs host-irq=uio (without "
         "it the proxy does not see the host device's interrupt, and would never copy a "
         "transfer back); set host-irq=uio, or add a completion by a status field"),
        (",dma-map=" + edu_map(t, source=None),
         "engine dma: a transfer toward the device needs the register of its memory address "
         "('source')"),
        (",dma=sometimes", "Parameter 'dma' does not accept value 'sometimes'"),
    ]
    for extra, want in cases:
        status, out = qemu_fails(t.tmp, [proxy(root, extra)])
        check(status == 1 and want in out and len(out.strip().splitlines()) == 1,
              "%s: status %d, %r" % (extra, status, out))
    # nothing on the host was touched
    check(open(os.path.join(d, "enable")).read() == "0\n" and host_command(d) == 0x0002,
          "a refused start changed the device")
    status, out = qemu_fails(t.tmp, ["regdbg-proxy,bar0-size=4096,dma=bounce,dma-map=" +
                                     edu_map(t)])
    check(status == 1 and "dma=bounce: only backend=hw has a device that does DMA" in out, out)


def test_dma_bounce_swaps_addresses_and_copies_both_ways(t):
    """dma=bounce: the guest's Bus Master Enable reaches the host's command register; a start
    toward the device copies the guest's memory into the buffer and puts the buffer's address in
    DMA_SRC (the guest reads its own back); a transfer from the device, once the device has
    cleared RUN and the guest has read DMA_CMD, is copied into the guest's memory."""
    root, d = edu_tree(t)
    res0 = os.path.join(d, "resource0")
    q = t.qemu([proxy(root, ",dma=bounce,dma-map=" + edu_map(t))])
    ring = HeldRing(q.shm_path("/machine/peripheral/edu0"))
    bdf = q.qtest.find_device(0x1234, 0x11E8)[0]
    q.qtest.map_bar(bdf, 0, BAR)
    check(host_command(d) & 0x4 == 0, "host bus master on before the guest's: 0x%04x"
          % host_command(d))
    q.qtest.cfg_write(bdf, 0x04, 2, q.qtest.cfg_read(bdf, 0x04, 2) | 0x4)
    check(host_command(d) & 0x4, "the guest's Bus Master Enable did not reach the host: 0x%04x"
          % host_command(d))
    memwrite(q, RAM_A, PATTERN)
    first = len(events(ring))
    start(q, RAM_A, 0x40000, 4096, RUN)
    buf = read_bytes(res0, SRC, 8)
    check(buf not in (0, RAM_A) and buf % 4096 == 0 and read_bytes(res0, CMD, 8) == RUN,
          "the device holds DMA_SRC 0x%x, DMA_CMD 0x%x" % (buf, read_bytes(res0, CMD, 8)))
    check(q.qtest.read(BAR + SRC, 8) == RAM_A, "the guest reads back another DMA_SRC")
    ev = events(ring, first)
    check([(e["dir"], e["off"]) for e in ev] ==
          [("w", SRC), ("w", DST), ("w", CNT), ("w", SRC), ("dma", RAM_A), ("w", CMD),
           ("r", SRC)], "events: %r" % ev)
    swap, dma, rd = ev[3], ev[4], ev[6]
    check(swap["flags"] == ["dma-addr"] and swap["value"] == buf and swap["orig"] == RAM_A,
          "the address the proxy wrote: %r" % swap)
    check(dma["what"] == "start" and dma["why"] is None and dma["value"] == buf and
          dma["orig"] == 4096 and dma["flags"] == [] and 0 < dma["copy_ns"] < 10 ** 8 and
          dma["engine"] == 0 and dma["bar"] == 0, "the bounce: %r" % dma)
    check(rd["flags"] == ["dma-addr"] and rd["value"] == RAM_A and rd["orig"] == buf,
          "the guest's read of DMA_SRC: %r" % rd)
    check(all(ev[i]["t_ns"] <= ev[i + 1]["t_ns"] for i in range(len(ev) - 1)),
          "times go back: %r" % [e["t_ns"] for e in ev])

    # from the device: the previous transfer is seen complete at the start (the proxy reads
    # DMA_CMD), then the device "hands back" the buffer
    device_done(d, RUN)
    memwrite(q, RAM_B, bytes(4096))
    first = len(events(ring))
    start(q, 0x40000, RAM_B, 4096, RUN | FROM_DEVICE)
    check(read_bytes(res0, DST, 8) == buf and read_bytes(res0, SRC, 8) == 0x40000,
          "DMA_DST 0x%x, DMA_SRC 0x%x" % (read_bytes(res0, DST, 8), read_bytes(res0, SRC, 8)))
    check(memread(q, RAM_B, 4096) == bytes(4096), "copied before the completion")
    device_done(d, RUN | FROM_DEVICE)
    check(q.qtest.read(BAR + CMD, 8) == FROM_DEVICE, "DMA_CMD")
    check(memread(q, RAM_B, 4096) == PATTERN, "the transfer from the device did not reach the "
          "guest's memory")
    ev = events(ring, first)
    kinds = [(e["dir"], e["off"], e.get("what")) for e in ev]
    check(kinds == [("w", SRC, None), ("w", DST, None), ("w", CNT, None), ("dma", RAM_A, "done"),
                    ("w", DST, None), ("dma", RAM_B, "start"), ("w", CMD, None),
                    ("r", CMD, None), ("dma", RAM_B, "done")], "events: %r" % kinds)
    check(ev[5]["flags"] == ["from-device"] and ev[5]["copy_ns"] == 0 and
          ev[8]["flags"] == ["from-device"] and ev[8]["copy_ns"] > 0 and
          ev[8]["value"] == buf and ev[8]["orig"] == 4096, "from the device: %r" % ev[5:])
    check(ev[3]["flags"] == [] and ev[3]["copy_ns"] == 0, "toward the device, done: %r" % ev[3])

    # the guest turns its bus master off: the host's goes off; at exit, as found
    q.qtest.cfg_write(bdf, 0x04, 2, q.qtest.cfg_read(bdf, 0x04, 2) & ~0x4)
    check(host_command(d) & 0x4 == 0, "host bus master still on: 0x%04x" % host_command(d))
    q.qtest.cfg_write(bdf, 0x04, 2, q.qtest.cfg_read(bdf, 0x04, 2) | 0x4)
    q.qmp.cmd("quit")
    q.wait(10)
    check(host_command(d) == 0x0002 and open(os.path.join(d, "enable")).read() == "0\n",
          "after QEMU: command 0x%04x" % host_command(d))
    ring.close()


def test_dma_refuses_what_it_cannot_bounce(t):
    """A transfer that cannot be bounced is refused before it starts: the start write never
    reaches the device (its event is flagged dropped), and a DMA event says why. The guest's own
    bus master off: the start goes on, blocked."""
    root, d = edu_tree(t)
    res0 = os.path.join(d, "resource0")
    # the map says 2048 bytes at most: shorter than any bounce buffer
    q = t.qemu([proxy(root, ",dma=bounce,dma-map=" + edu_map(t, max_length=2048))])
    ring = HeldRing(q.shm_path("/machine/peripheral/edu0"))
    bdf = q.qtest.find_device(0x1234, 0x11E8)[0]
    q.qtest.map_bar(bdf, 0, BAR)

    def attempt(src, dst, cnt, cmd):
        first = len(events(ring))
        start(q, src, dst, cnt, cmd)
        ev = events(ring, first)
        check(len(ev) == 5 and ev[3]["dir"] == "w" and ev[3]["off"] == CMD and
              ev[4]["dir"] == "dma", "events: %r" % ev)
        return ev[3], ev[4]

    # the guest's bus master is off: the start reaches the device, which cannot do it
    wr, dma = attempt(RAM_A, 0x40000, 4096, RUN)
    check(wr["flags"] == [] and dma["what"] == "blocked" and dma["why"] == "guest-master-off" and
          read_bytes(res0, CMD, 8) == RUN and read_bytes(res0, SRC, 8) == RAM_A,
          "blocked: %r %r" % (wr, dma))
    device_done(d, RUN)
    q.qtest.cfg_write(bdf, 0x04, 2, q.qtest.cfg_read(bdf, 0x04, 2) | 0x4)
    for src, dst, cnt, cmd, why in [
            (RAM_A, 0x40000, 2049, RUN, "length"),                  # past max_length
            (RAM_A, 0x40000, 1 << 22, RUN, "length"),               # past the buffer too
            (0x40000, 0x8000000, 2048, RUN | FROM_DEVICE, "address"),   # past the 64 MiB of RAM
            (0xFED00000, 0x40000, 16, RUN, "address"),              # the HPET's registers
            (0x3FFFC00, 0x40000, 2048, RUN, "address"),             # runs past the end of RAM
            (0xFFFFFFFFFFFFFC00, 0x40000, 2048, RUN, "address")]:       # wraps around
        wr, dma = attempt(src, dst, cnt, cmd)
        check(wr["flags"] == ["dropped"] and dma["what"] == "refused" and dma["why"] == why and
              dma["orig"] == cnt and dma["off"] == (dst if cmd & FROM_DEVICE else src),
              "refused (%s): %r %r" % (why, wr, dma))
        check(read_bytes(res0, CMD, 8) == 0, "a refused start reached the device: 0x%x"
              % read_bytes(res0, CMD, 8))
    # one in flight: a second start while the device still runs the first
    start(q, RAM_A, 0x40000, 64, RUN)
    check(events(ring)[-2]["what"] == "start", "not started: %r" % events(ring)[-2:])
    wr, dma = attempt(RAM_A, 0x40000, 64, RUN)
    check(wr["flags"] == ["dropped"] and dma["why"] == "busy", "busy: %r %r" % (wr, dma))
    ring.close()


def test_dma_refuses_a_direction_the_map_does_not_give(t):
    """A direction field that holds neither of the map's two values leaves the proxy unable to
    tell which address is in memory: with dma=bounce the start is refused (why=direction), never
    sent with the guest's addresses while the host's bus master is on."""
    root, d = edu_tree(t)
    with open(os.path.join(TOP, "maps", "edu.json")) as f:
        m = json.load(f)
    m["dma"]["address_bits"] = 64
    cmd = [r for r in m["registers"] if r["name"] == "DMA_CMD"][0]
    cmd["fields"].append({"name": "WAY", "bits": "4:3"})
    m["dma"]["engines"][0]["direction"] = {"field": "DMA_CMD.WAY", "to_device": 0,
                                           "from_device": 1}
    path = t.tmp("edu-way.json")
    with open(path, "w") as f:
        json.dump(m, f)
    q = t.qemu([proxy(root, ",dma=bounce,dma-map=" + path)])
    ring = HeldRing(q.shm_path("/machine/peripheral/edu0"))
    bdf = q.qtest.find_device(0x1234, 0x11E8)[0]
    q.qtest.map_bar(bdf, 0, BAR)
    q.qtest.cfg_write(bdf, 0x04, 2, q.qtest.cfg_read(bdf, 0x04, 2) | 0x4)
    before = read_bytes(os.path.join(d, "resource0"), CMD, 8)
    start(q, RAM_A, RAM_B, 64, RUN | 2 << 3)
    ev = events(ring)
    check(ev[-2]["flags"] == ["dropped"] and ev[-1]["what"] == "refused" and
          ev[-1]["why"] == "direction" and
          read_bytes(os.path.join(d, "resource0"), CMD, 8) == before,
          "an unknown direction: %r" % ev[-2:])
    start(q, RAM_A, 0x40000, 64, RUN | 0 << 3)
    check(events(ring)[-2]["what"] == "start", "a known one: %r" % events(ring)[-2:])
    ring.close()


def test_dma_width_and_dma_off(t):
    """A bounce buffer beyond the device's DMA address width (here 12 bits: no buffer can lie
    below 4 KiB) is said at start and refuses every transfer. With dma= unset and a dma-map, the
    host's bus master stays off whatever the guest does, and a start is flagged blocked."""
    root, d = edu_tree(t)
    q = t.qemu([proxy(root, ",dma=bounce,dma-map=" + edu_map(t, address_bits=12))])
    check("no bounce buffer for DMA engine dma lies within the device's 12-bit DMA address width"
          in q.output(), "no warning: %r" % q.output())
    ring = HeldRing(q.shm_path("/machine/peripheral/edu0"))
    bdf = q.qtest.find_device(0x1234, 0x11E8)[0]
    q.qtest.map_bar(bdf, 0, BAR)
    q.qtest.cfg_write(bdf, 0x04, 2, q.qtest.cfg_read(bdf, 0x04, 2) | 0x4)
    start(q, RAM_A, 0x40000, 16, RUN)
    ev = events(ring)
    check(ev[-2]["flags"] == ["dropped"] and ev[-1]["why"] == "width", "width: %r" % ev[-2:])
    q.kill()
    ring.close()

    root, d = edu_tree(t, "sys2")
    res0 = os.path.join(d, "resource0")
    q = t.qemu([proxy(root, ",dma-map=" + edu_map(t))])
    ring = HeldRing(q.shm_path("/machine/peripheral/edu0"))
    bdf = q.qtest.find_device(0x1234, 0x11E8)[0]
    q.qtest.map_bar(bdf, 0, BAR)
    q.qtest.cfg_write(bdf, 0x04, 2, q.qtest.cfg_read(bdf, 0x04, 2) | 0x4)
    check(host_command(d) == 0x0002, "dma= unset: the host's command register is 0x%04x"
          % host_command(d))
    start(q, RAM_A, 0x40000, 4096, RUN)
    ev = events(ring)
    check(ev[-2]["flags"] == [] and ev[-1]["what"] == "blocked" and ev[-1]["why"] == "dma-off" and
          ev[-1]["value"] == 0 and read_bytes(res0, CMD, 8) == RUN and
          read_bytes(res0, SRC, 8) == RAM_A, "dma= unset: %r" % ev[-2:])
    check("the guest started a transfer of DMA engine dma, but with dma=off the host device's bus "
          "master stays off: the device cannot make it (dma=bounce bounces it)" in q.output(),
          q.output())
    ring.close()


def test_dma_events_recorded_and_dumped(t):
    """`regdbg record` keeps the DMA events and `regdbg dump` shows each bounce (guest address,
    buffer, length, direction, copy time) and each refusal with its reason, in text, JSON and
    CSV; the address the proxy wrote is flagged dma-addr with the guest's as orig."""
    from harness import Recorder, regdbg
    root, d = edu_tree(t)
    q = t.qemu([proxy(root, ",dma=bounce,dma-map=" + edu_map(t))])
    bdf = q.qtest.find_device(0x1234, 0x11E8)[0]
    q.qtest.map_bar(bdf, 0, BAR)
    q.qtest.cfg_write(bdf, 0x04, 2, q.qtest.cfg_read(bdf, 0x04, 2) | 0x4)
    trace = t.tmp("dma.trace")
    rec = Recorder("--qmp", q.qmp_path, "-o", trace, "--count", "12")
    rec.wait_attached(q.shm_path("/machine/peripheral/edu0"))
    memwrite(q, RAM_A, PATTERN)
    start(q, RAM_A, 0x40000, 4096, RUN)                 # 4 writes, the swap, the bounce
    buf = read_bytes(os.path.join(d, "resource0"), SRC, 8)
    device_done(d, RUN)
    start(q, RAM_A, 0x40000, 4097, RUN)                 # 4 writes (the last dropped), the
                                                        # first done, refused
    status, out, err = rec.finish()
    check(status == 0, err)
    r = regdbg("dump", trace)
    check(r.returncode == 0, r.stderr)
    check(re.match(r"# dma=bounce: bounce buffers of (4096 bytes \(one page: no hugepage\)|"
                   r"2097152 bytes \(a hugetlbfs page\)), the device's DMA addresses below "
                   r"2\^64\n", r.stdout), "dump's first line: %r" % r.stdout[:200])
    lines = [line for line in r.stdout.splitlines() if not line.startswith("#")]
    check(len(lines) == 12, "dump:\n" + r.stdout)
    check(re.fullmatch(r"W 8 \S+ - edu0 bar0\+0x0080 DMA_SRC <- 0x%016x dma-addr "
                       r"orig=0x0000000000100000" % buf, lines[3]), "the swap: %r" % lines[3])
    check(re.fullmatch(r"D \S+ - edu0 dma0 start to-device guest=0x100000 len=4096 "
                       r"buffer=0x%x copy_ns=\d+" % buf, lines[4]), "the bounce: %r" % lines[4])
    check(re.fullmatch(r"D \S+ - edu0 dma0 done to-device guest=0x100000 len=4096 "
                       r"buffer=0x%x" % buf, lines[9]), "the first done: %r" % lines[9])
    check(re.fullmatch(r"W 8 \S+ - edu0 bar0\+0x0098 DMA_CMD <- 0x0000000000000001 dropped  "
                       r"RUN=1 DIRECTION=to_device IRQ=0", lines[10]), "held: %r" % lines[10])
    check(re.fullmatch(r"D \S+ - edu0 dma0 refused to-device guest=0x100000 len=4097 "
                       r"buffer=0x%x why=length: longer than the bounce buffer or the engine's "
                       r"max_length" % buf, lines[11]), "the refusal: %r" % lines[11])
    r = regdbg("dump", trace, "--format", "json")
    ev = [json.loads(line) for line in r.stdout.splitlines()]
    check(ev[4]["dir"] == "dma" and ev[4]["what"] == "start" and ev[4]["direction"] ==
          "to-device" and ev[4]["guest"] == RAM_A and ev[4]["len"] == 4096 and
          ev[4]["buffer"] == buf and ev[4]["copy_ns"] > 0 and "why" not in ev[4] and
          ev[4]["engine"] == 0, "JSON: %r" % ev[4])
    check(ev[11]["what"] == "refused" and ev[11]["why"] == "length" and
          ev[3]["flags"] == ["dma-addr"] and ev[3]["orig"] == RAM_A, "JSON: %r %r"
          % (ev[3], ev[11]))
    r = regdbg("dump", trace, "--format", "csv")
    rows = r.stdout.splitlines()
    check(rows[5].split(",")[7:9] == ["dma", str(buf)] and
          ',start to-device guest=0x100000 len=4096 buffer=0x%x copy_ns=' % buf in rows[5],
          "CSV: %r" % rows[5])


def test_dma_events_in_the_stream(t):
    """The debugger's stream shows each DMA event on a line of its own, the engine named by the
    device's map (the shipped edu map: "dma"): the bounce with the guest's address, the length,
    the buffer and the copy's time, and a refusal with its reason."""
    from harness import REGDBG
    from tui import Term
    root, d = edu_tree(t)
    q = t.qemu([proxy(root, ",dma=bounce,dma-map=" + edu_map(t))])
    shm = q.shm_path("/machine/peripheral/edu0")
    term = Term(t, "dma", [REGDBG, "attach", q.qmp_path], cols=150)
    pid = term.regdbg_pid()
    wait_for(lambda: RingHeader(shm).consumer_pid == pid, 10, "regdbg to attach")
    bdf = q.qtest.find_device(0x1234, 0x11E8)[0]
    q.qtest.map_bar(bdf, 0, BAR)
    q.qtest.cfg_write(bdf, 0x04, 2, q.qtest.cfg_read(bdf, 0x04, 2) | 0x4)
    memwrite(q, RAM_A, PATTERN)
    start(q, RAM_A, 0x40000, 4096, RUN)
    device_done(d, RUN)
    start(q, RAM_A, 0x40000, 4097, RUN)
    term.wait(lambda ls: any("why=length" in line for line in ls), 10, "the refusal in the stream")
    lines = term.lines()
    dma = [line for line in lines if " D  dma " in line]
    check(len(dma) == 3 and
          re.search(r" - +edu0 +D  dma +.* start to-device guest=0x100000 len=4096 "
                    r"buffer=0x[0-9a-f]+ copy_ns=\d+$", dma[0]) and
          re.search(r" done to-device guest=0x100000 len=4096 buffer=0x[0-9a-f]+$", dma[1]) and
          re.search(r" refused to-device guest=0x100000 len=4097 buffer=0x[0-9a-f]+ why=length: "
                    r"longer than the bounce", dma[2]), "the stream:\n%s" % "\n".join(lines))
    times = [float(line.split()[0]) for line in lines if re.match(r" +\d+\.\d{6} ", line)]
    check(times == sorted(times), "the stream's times go back:\n%s" % "\n".join(lines))
    swap = [line for line in lines if "DMA_SRC" in line and "0x00100000" not in line]
    check(swap, "the swapped address in the stream:\n%s" % "\n".join(lines))
    term.keys("q")
    term.check_clean_exit(20)
