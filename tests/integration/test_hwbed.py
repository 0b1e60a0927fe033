"""The hw backend on a real PCI device: the hardware test bed (tests/hwbed). A Linux guest (Debian's
kernel, busybox) runs under TCG in this project's QEMU with QEMU's edu device (1234:11e8), a real
device to that kernel; its /init (tests/hwbed/init) runs regdbg and this project's QEMU inside it,
with edu behind regdbg-proxy,backend=hw, and prints what happened on the serial console. One boot
serves every test here (about 25 s); each test checks one part of its output. Never a device of
this machine: the outer VM's edu is the only device the backend maps."""

import os
import re

from harness import TOP, TestFailure, check
from hwbed import BOOT_TIMEOUT, boot

EDU_MAP = os.path.join(TOP, "maps", "edu.json")   # qemu-args names it; the initramfs has it there
EDU_ID = 0x010000ED


_bed = []


def the_bed(t):
    """The one boot, made by whichever test comes first; a failed boot fails each test."""
    if not _bed:
        try:
            _bed.append(boot(t.tmp))
        except TestFailure as e:
            _bed.append(e)
    if isinstance(_bed[0], TestFailure):
        raise _bed[0]
    return _bed[0]


def device_block(lines, addr):
    """The lines of `regdbg scan`'s block for addr"""
    text = "\n".join(lines)
    for b in text.split("\n\n"):
        if b.startswith(addr + " "):
            return b.splitlines()
    raise TestFailure("scan shows no %s:\n%s" % (addr, text))


def test_hwbed_scan_and_qemu_args_find_edu_in_real_sysfs(t):
    bed = the_bed(t)
    addr = bed.fact("addr")
    check(bed.fact("scan_status") == "0" and bed.fact("qemu_args_status") == "0",
          "scan %s, qemu-args %s" % (bed.fact("scan_status"), bed.fact("qemu_args_status")))
    block = device_block(bed.block("scan"), addr)
    check(block[0].startswith(addr + " 1234:11e8 "), "scan: %r" % block)
    bar0 = [line for line in block if line.startswith("  BAR")]
    check(len(bar0) == 1 and re.fullmatch(r"  BAR0: mem32 at 0x[0-9a-f]+, size 0x100000 \(1 MiB\)",
                                          bar0[0]), "scan's BARs: %r" % bar0)
    check(block[-1] == "  no driver", "scan: %r" % block)
    sub = re.search(r"subsystem: ([0-9a-f]{4}):([0-9a-f]{4})", "\n".join(block))
    cls = re.search(r"class: (0x[0-9a-f]{6})", "\n".join(block))
    rev = re.search(r"revision: (0x[0-9a-f]{2})", "\n".join(block))
    want = ("-device regdbg-proxy,id=edu0,vendor-id=0x1234,device-id=0x11e8,"
            "subsystem-vendor-id=0x%s,subsystem-id=0x%s,class-code=%s,revision=%s,"
            "bar0-size=0x100000,backend=hw,host=%s,msi=on,dma-map=%s" % (
                sub.group(1), sub.group(2), cls.group(1), rev.group(1), addr, EDU_MAP))
    check(bed.block("qemu-args") == [want], "qemu-args printed %r, expected %r"
          % (bed.block("qemu-args"), want))
    check(bed.block("qemu-args-err") == [
        "regdbg qemu-args: note: the map %s describes the device's DMA; its transfers cannot "
        "happen (the host's bus master stays off) and are flagged blocked; add dma=bounce to "
        "bounce them" % EDU_MAP], "qemu-args said %r" % bed.block("qemu-args-err"))


def test_hwbed_firmware_checks_edu_through_the_proxy(t):
    """The inner firmware (mode=edu) reads edu's identity, its liveness register returns the
    complement of what it wrote, its factorial register computes 5!, 10! and 12!."""
    bed = the_bed(t)
    serial = [line.replace("regdbg-guest: ", "", 1) for line in bed.block("serial")]
    want = ["edu identity 0x010000ed ok", "edu liveness 0xedcba987 ok",
            "edu liveness 0xffffffff ok", "edu liveness 0x5a5a5a5a ok",
            "edu factorial 5 0x00000078 ok", "edu factorial 10 0x00375f00 ok",
            "edu factorial 12 0x1c8cfc00 ok", "edu identity again 0x010000ed ok",
            "edu done failures=0"]
    check([line for line in serial if line.startswith("edu ") and "decoding" not in line] == want,
          "the firmware said:\n%s\nQEMU said:\n%s" % ("\n".join(serial),
                                                      "\n".join(bed.block("qemu-log"))))
    # isa-debug-exit: the firmware's code 0 is QEMU's status 1
    check(bed.fact("qemu_status") == "1", "inner QEMU exit status %s" % bed.fact("qemu_status"))


def test_hwbed_record_traces_what_the_firmware_did(t):
    """`regdbg record` inside the bed recorded every access the firmware made through the proxy,
    in order, and nothing while the firmware had its decoding off."""
    bed = the_bed(t)
    record = bed.block("record")
    check(bed.fact("record_status") == "0" and len(record) == 1 and
          re.match(r"regdbg record: \d+ events, 0 dropped, .* \(QEMU exited\)$", record[0]),
          "record said %r (status %s)" % (record, bed.fact("record_status")))
    got = []
    for line in bed.block("dump"):
        # direction, width, time, vCPU, device, BAR+offset, the register (edu's map), value,
        # then the PC (and the CPU mode, where it changed) and the fields
        m = re.fullmatch(r"([RW]) 4 \S+ cpu0 edu0 bar0\+0x([0-9a-f]{4}) [A-Z_]+ (?:<-|->) "
                         r"0x([0-9a-f]{8})(?: pc=0x[0-9a-f]+(?: mode=prot32)?)?(?:  .*)?", line)
        if m:
            got.append((m.group(1), int(m.group(2), 16), int(m.group(3), 16)))
        elif re.fullmatch(r"# bar0 (at 0x[0-9a-f]+|unmapped) \(PCI [0-9a-f]{2}:[0-9a-f]{2}\.\d\)",
                          line):
            continue    # where the guest had BAR0 (trace format 3): mapped, or off a while
        elif line == "# dma=off: the host's bus master stays off; DMA starts are flagged blocked":
            continue    # qemu-args gave the proxy edu's map, whose DMA engine this run leaves
        else:
            check(line.startswith("# end of recording: %d events, 0 dropped" % len(got)),
                  "dump line %r" % line)
    # What mode=edu does (tests/guest/edu.c); a poll of the status register may read busy first
    want = [("R", 0x00, EDU_ID)]
    for v in (0x12345678, 0x00000000, 0xA5A5A5A5):
        want += [("W", 0x04, v), ("R", 0x04, ~v & 0xFFFFFFFF)]
    for n, fact in ((5, 120), (10, 3628800), (12, 479001600)):
        want += [("W", 0x08, n), ("R", 0x20, 0), ("R", 0x08, fact)]
    want += [("R", 0x00, EDU_ID)]
    polls = [a for a in got if a[:2] == ("R", 0x20) and a[2] & 1]
    got_collapsed = [a for a in got if not (a[:2] == ("R", 0x20) and a[2] & 1)]
    check(got_collapsed == want, "the trace:\n%s\nexpected (busy polls aside):\n%s"
          % ("\n".join("%s 0x%02x 0x%08x" % a for a in got),
             "\n".join("%s 0x%02x 0x%08x" % a for a in want)))
    summary = re.match(r"regdbg record: (\d+) events", record[0])
    check(int(summary.group(1)) == len(want) + len(polls), "record counted %s events, the dump "
          "has %d" % (summary.group(1), len(got)))


def test_hwbed_backend_enables_the_device_and_puts_it_back(t):
    """Found disabled with memory decoding off: while the inner QEMU runs, enable is 1, memory
    decoding is on and bus master off, even while the firmware has its own decoding off and its
    bus master and INTx disable on; afterwards both are as found. Found enabled by somebody else:
    decoding on for the run (the firmware reads edu's identity), enable left at 1."""
    bed = the_bed(t)
    check(bed.fact("enable_found") == "0", "the bed's edu starts enabled: %s"
          % bed.fact("enable_found"))
    before = bed.num("cmd_before")
    check(before & 0x6 == 0, "/init did not turn the host's decoding off: 0x%04x" % before)
    check("window" not in bed.facts, "/init read the host's state after the firmware had turned "
          "its decoding on again: the firmware's delay= is too short for this machine")
    guest = [line for line in bed.block("serial") if "edu decoding off: command" in line]
    check(guest and int(guest[0].split()[-1], 16) & 0x0406 == 0x0404,
          "the firmware's command register while its decoding is off: %r" % guest)
    during = bed.num("cmd_during")
    check(bed.fact("enable_during") == "1" and during == (before | 0x2) & ~0x4,
          "while the inner QEMU ran: enable %s, command 0x%04x (found 0x%04x: expected memory "
          "decoding on, bus master off, the rest as found)" % (bed.fact("enable_during"), during,
                                                               before))
    check(bed.fact("enable_after") == "0" and bed.num("cmd_after") == before,
          "after: enable %s, command 0x%04x; found 0, 0x%04x" % (
              bed.fact("enable_after"), bed.num("cmd_after"), before))
    # found enabled (by /init) with decoding off
    before2 = bed.num("cmd_before2")
    check(bed.fact("enable_before2") == "1" and before2 & 0x2 == 0,
          "second run found enable %s, command 0x%04x" % (bed.fact("enable_before2"), before2))
    check("regdbg-guest: script r 0x0 = 0x%08x" % EDU_ID in bed.block("serial2") and
          bed.fact("qemu2_status") == "1", "second run: %r %r, status %s" % (
              bed.block("serial2"), bed.block("qemu2-log"), bed.fact("qemu2_status")))
    check(bed.fact("enable_after2") == "1" and bed.num("cmd_after2") == before2,
          "after the second run: enable %s, command 0x%04x; found 1, 0x%04x" % (
              bed.fact("enable_after2"), bed.num("cmd_after2"), before2))


def test_hwbed_refuses_a_layout_that_differs(t):
    bed = the_bed(t)
    addr = bed.fact("addr")
    out = bed.block("layout")
    check(bed.fact("layout_status") == "1" and len(out) == 1 and out[0].endswith(
        ": bar0-size=0x1000 but BAR 0 of the host device %s is 0x100000 bytes" % addr),
        "status %s: %r" % (bed.fact("layout_status"), out))
    check(bed.fact("enable_after_layout") == "0" and
          bed.num("cmd_after_layout") == bed.num("cmd_after"),
          "a refused start changed the device: enable %s, command %s"
          % (bed.fact("enable_after_layout"), bed.fact("cmd_after_layout")))


def test_hwbed_refuses_a_device_bound_to_a_driver(t):
    """edu bound to uio_pci_generic (new_id): scan names the driver, QEMU refuses the device and
    says how to unbind it; done as it says, the device is free (the second run used it)."""
    bed = the_bed(t)
    addr = bed.fact("addr")
    check(bed.fact("driver") == "uio_pci_generic", "driver %r" % bed.fact("driver"))
    check(device_block(bed.block("scan-bound"), addr)[-1] == "  driver: uio_pci_generic",
          "scan: %r" % device_block(bed.block("scan-bound"), addr))
    out = bed.block("bound")
    check(bed.fact("bound_status") == "1" and len(out) == 1 and out[0].endswith(
        ": host=%s: the host device %s is bound to the driver uio_pci_generic; unbind it first "
        "(echo %s > /sys/bus/pci/drivers/uio_pci_generic/unbind) or set force=on; or give its "
        "interrupt to the guest with host-irq=uio" % (addr, addr, addr)),
        "status %s: %r" % (bed.fact("bound_status"), out))
    check(bed.fact("driver_after_unbind") == "", "still bound after %r: %r" % (
        bed.fact("unbind"), bed.fact("driver_after_unbind")))



# --- DMA (tests/hwbed/init's dma_run; the README's "DMA") ----------------------------------------

DUMP_ACCESS = re.compile(r"([RW]) ([48]) \S+ cpu0 edu0 bar0\+0x([0-9a-f]{4}) (\S+) (<-|->) "
                         r"0x([0-9a-f]+)( [a-z,-]+)?(?: orig=0x([0-9a-f]+))?"
                         r"(?: pc=0x[0-9a-f]+(?: mode=prot32)?)?(?:  (.*))?")
DUMP_DMA = re.compile(r"D \S+ cpu0 edu0 dma0 (start|done|refused|blocked) (to-device|from-device) "
                      r"guest=0x([0-9a-f]+) len=(\d+)(?: buffer=0x([0-9a-f]+))?"
                      r"(?: copy_ns=(\d+))?(?: why=([a-z-]+): .*)?")


def dma_events(bed, run):
    """The dump of a DMA run (the polls that found the engine busy left out by /init) as tuples:
    ("R"/"W", size, offset, register, value, flags, orig, fields) for an access, ("D", what,
    direction, guest, len, buffer, copy_ns, why) for a DMA event; and the # lines apart."""
    evs, notes = [], []
    for line in bed.block(run + "-dump"):
        if line.startswith("#"):
            notes.append(line)
            continue
        m = DUMP_DMA.fullmatch(line)
        if m:
            evs.append(("D", m.group(1), m.group(2), int(m.group(3), 16), int(m.group(4)),
                        int(m.group(5), 16) if m.group(5) else None,
                        int(m.group(6)) if m.group(6) else 0, m.group(7)))
            continue
        m = DUMP_ACCESS.fullmatch(line)
        check(m, "%s: dump line %r" % (run, line))
        evs.append((m.group(1), int(m.group(2)), int(m.group(3), 16), m.group(4),
                    int(m.group(6), 16), (m.group(7) or "").strip(),
                    int(m.group(8), 16) if m.group(8) else None, m.group(9) or ""))
    return evs, notes


def firmware_said(bed, run):
    """The firmware's edu lines, its two buffers' addresses (tests/guest/edu.c's ram_src and
    ram_dst, where its build put them) as SRC and DST"""
    said = [line.replace("regdbg-guest: ", "", 1) for line in bed.block(run + "-serial")
            if line.startswith("regdbg-guest: edu ")]
    return [re.sub(r"(to-device 4096 bytes from )0x[0-9a-f]+", r"\1SRC",
                   re.sub(r"(from-device 4096 bytes to )0x[0-9a-f]+(: the pattern)", r"\1DST\2",
                          line)) for line in said]


def firmware_buffers(bed, run):
    """The addresses of the firmware's two buffers, from what it printed"""
    text = "\n".join(bed.block(run + "-serial"))
    src = re.search(r"to-device 4096 bytes from (0x[0-9a-f]+) done", text)
    dst = re.search(r"from-device 4096 bytes to (0x[0-9a-f]+): the pattern", text)
    check(src and dst, "%s: the firmware named no buffer:\n%s" % (run, text))
    return int(src.group(1), 16), int(dst.group(1), 16)


def check_round_trip(run, evs, buf=None):
    """One transfer toward edu and one back, bounced (tests/guest/edu.c's dma_round_trip): the
    guest's address, edu's buffer and the length written; the proxy's buffer put in place of the
    guest's address, the copy in, the start; the read that shows RUN clear, the completion; the
    same from edu, copied out at the completion. Returns the events after them and the buffer."""
    src = evs[0][4]          # the first transfer goes toward the device: its guest address
    for to_dev in (True, False):
        check(len(evs) >= 8, "%s: too few events left: %r" % (run, evs))
        w_src, w_dst, w_cnt, swap, start, w_cmd, r_cmd, done = evs[:8]
        guest = w_src[4] if to_dev else w_dst[4]
        check([e[:4] for e in (w_src, w_dst, w_cnt)] ==
              [("W", 4, 0x80, "DMA_SRC+0"), ("W", 4, 0x88, "DMA_DST+0"),
               ("W", 4, 0x90, "DMA_CNT+0")] and w_cnt[4] == 4096 and
              (w_dst[4] if to_dev else w_src[4]) == 0x40000,
              "%s: the programming: %r" % (run, evs[:3]))
        check(swap[:4] == ("W", 8, 0x80 if to_dev else 0x88, "DMA_SRC" if to_dev else "DMA_DST")
              and swap[5] == "dma-addr" and swap[6] == guest and (buf is None or swap[4] == buf),
              "%s: the buffer's address in place of the guest's 0x%x: %r" % (run, guest, swap))
        buf = swap[4]
        check(start[:6] == ("D", "start", "to-device" if to_dev else "from-device", guest, 4096,
                            buf) and (start[6] > 0) == to_dev and start[7] is None,
              "%s: the start: %r" % (run, start))
        check(w_cmd[:5] == ("W", 4, 0x98, "DMA_CMD+0", 1 if to_dev else 3) and w_cmd[5] == "",
              "%s: the start write: %r" % (run, w_cmd))
        check(r_cmd[:5] == ("R", 4, 0x98, "DMA_CMD+0", 0 if to_dev else 2),
              "%s: the read that shows the end: %r" % (run, r_cmd))
        check(done[:6] == ("D", "done", "to-device" if to_dev else "from-device", guest, 4096,
                           buf) and (done[6] > 0) == (not to_dev) and done[7] is None,
              "%s: the completion: %r" % (run, done))
        evs = evs[8:]
    return evs, buf, src


def test_hwbed_dma_bounced_both_ways_by_polling(t):
    """dma=bounce on the real edu, by polling: the firmware's pattern goes to edu's buffer and
    back into another buffer of its memory, twice; in the trace, each transfer is bounced through
    the proxy's buffer (a 2 MiB hugetlbfs page below edu's 28-bit DMA limit), whose address the
    device is given in place of the guest's; the host device is put back afterwards."""
    bed = the_bed(t)
    check(bed.fact("hugepages") == "1", "the bed's guest has %s hugepages" % bed.fact("hugepages"))
    said = firmware_said(bed, "dma_poll")
    want = ["edu identity 0x010000ed ok", "edu dma poll: bus master on, command 0x0107"]
    want += ["edu dma to-device 4096 bytes from SRC done",
             "edu dma from-device 4096 bytes to DST: the pattern ok"] * 2
    check(said == want + ["edu done failures=0"] and bed.fact("dma_poll_status") == "1",
          "the firmware said:\n%s\nQEMU said:\n%s" % ("\n".join(said),
                                                      "\n".join(bed.block("dma_poll-log"))))
    evs, notes = dma_events(bed, "dma_poll")
    check(notes[0] == "# dma=bounce: bounce buffers of 2097152 bytes (a hugetlbfs page), the "
          "device's DMA addresses below 2^28", "dump: %r" % notes)
    check(evs[0][:4] == ("R", 4, 0x00, "ID"), "first: %r" % (evs[0],))
    rest, buf, src = check_round_trip("dma_poll", evs[1:])
    rest, _, _ = check_round_trip("dma_poll", rest, buf)
    check(rest == [], "after the round trips: %r" % rest)
    check(src == firmware_buffers(bed, "dma_poll")[0], "the trace's source 0x%x is not the "
          "firmware's buffer" % src)
    check(buf % (2 << 20) == 0 and buf < 1 << 28, "the buffer at 0x%x" % buf)
    check(int(bed.fact("dma_poll_busy_polls")) > 0, "the firmware never found edu busy")
    check(bed.fact("enable_after_dma") == bed.fact("enable_before_dma") and
          bed.fact("cmd_after_dma") == bed.fact("cmd_before_dma"),
          "the host device after the DMA runs: enable %s command %s; before: %s %s"
          % (bed.fact("enable_after_dma"), bed.fact("cmd_after_dma"),
             bed.fact("enable_before_dma"), bed.fact("cmd_before_dma")))


def test_hwbed_dma_refusals(t):
    """Transfers that cannot be bounced are refused before they start: a length past edu's 4 KiB
    buffer (the map's max_length), memory past the inner guest's 16 MiB of RAM, the local APIC's
    registers; the start write never reaches edu (flagged dropped, RUN never set), the firmware's
    memory is untouched, each refusal says why, and the engine works after them."""
    bed = the_bed(t)
    said = firmware_said(bed, "dma_refuse")
    want = ["edu identity 0x010000ed ok", "edu dma refuse: bus master on, command 0x0107",
            "edu dma length 4097: not started", "edu dma from-device outside RAM: not started",
            "edu dma to-device from the LAPIC: not started",
            "edu dma to-device 4096 bytes from SRC done",
            "edu dma from-device 4096 bytes to DST: the pattern ok", "edu done failures=0"]
    check(said == want, "the firmware said:\n%s\nQEMU said:\n%s" % (
        "\n".join(said), "\n".join(bed.block("dma_refuse-log"))))
    evs, _ = dma_events(bed, "dma_refuse")
    evs = evs[1:]
    src, _ = firmware_buffers(bed, "dma_refuse")
    for guest, length, direction, why, cmd in ((src, 4097, "to-device", "length", 1),
                                               (0x2000000, 4096, "from-device", "address", 3),
                                               (0xFEE00000, 16, "to-device", "address", 1)):
        w_cnt, w_cmd, refused, r_cmd = evs[2:6]
        check(w_cnt[4] == length and w_cmd[:5] == ("W", 4, 0x98, "DMA_CMD+0", cmd) and
              w_cmd[5] == "dropped", "held back: %r" % ((w_cnt, w_cmd),))
        check(refused[:5] == ("D", "refused", direction, guest, length) and refused[7] == why,
              "the refusal: %r" % (refused,))
        check(r_cmd[:3] == ("R", 4, 0x98) and not r_cmd[4] & 1, "edu ran it: %r" % (r_cmd,))
        evs = evs[6:]
    rest, _, _ = check_round_trip("dma_refuse", evs)
    check(rest == [], "after: %r" % rest)


def test_hwbed_dma_without_hugepages(t):
    """With no hugepage free, the proxy bounces through one pinned 4 KiB page: enough for edu."""
    bed = the_bed(t)
    check(bed.fact("hugepages_small") == "0", "hugepages %s" % bed.fact("hugepages_small"))
    said = firmware_said(bed, "dma_small")
    check(said and said[-1] == "edu done failures=0" and said.count(
        "edu dma from-device 4096 bytes to DST: the pattern ok") == 2,
        "the firmware said:\n%s\nQEMU said:\n%s" % ("\n".join(said),
                                                    "\n".join(bed.block("dma_small-log"))))
    evs, notes = dma_events(bed, "dma_small")
    check(notes[0] == "# dma=bounce: bounce buffers of 4096 bytes (one page: no hugepage), the "
          "device's DMA addresses below 2^28", "dump: %r" % notes)
    rest, buf, _ = check_round_trip("dma_small", evs[1:])
    rest, _, _ = check_round_trip("dma_small", rest, buf)
    check(rest == [] and buf % 4096 == 0 and buf < 1 << 28, "buffer 0x%x, after: %r"
          % (buf, rest))


def test_hwbed_dma_unset_leaves_the_outer_guests_memory_alone(t):
    """The canary: with dma= unset, a transfer from edu aimed at a page of the outer guest
    (hwbed-canary, its physical address given to the firmware) does not reach it: the host's bus
    master stays off. edu says it is done; the proxy let the start write through and flagged it
    blocked, in the trace and on QEMU's stderr."""
    bed = the_bed(t)
    canary = int(bed.fact("canary"), 16)
    check(bed.block("canary") == ["canary 0x%x" % canary, "canary changed=0 first=-1"] and
          bed.fact("canary_status") == "0", "the canary: %r" % bed.block("canary"))
    said = firmware_said(bed, "dma_blocked")
    check(said[2:] == ["edu dma from-device 4096 bytes to 0x%x: the device says done" % canary,
                       "edu done failures=0"], "the firmware said: %r\nQEMU said: %r"
          % (said, bed.block("dma_blocked-log")))
    evs, notes = dma_events(bed, "dma_blocked")
    check(notes[0] == "# dma=off: the host's bus master stays off; DMA starts are flagged "
          "blocked", "dump: %r" % notes)
    w_cmd, blocked, r_cmd = evs[4:7]
    check(w_cmd[:5] == ("W", 4, 0x98, "DMA_CMD+0", 3) and w_cmd[5] == "" and
          blocked == ("D", "blocked", "from-device", canary, 4096, None, 0, "dma-off") and
          r_cmd[:5] == ("R", 4, 0x98, "DMA_CMD+0", 2) and len(evs) == 7,
          "the trace: %r" % evs)
    check(any("the guest started a transfer of DMA engine dma, but with dma=off the host "
              "device's bus master stays off: the device cannot make it (dma=bounce bounces it)"
              in line for line in bed.block("dma_blocked-log")), "QEMU said %r"
          % bed.block("dma_blocked-log"))


# --- the host device's interrupt (host-irq=uio, /init's step 4b) ------------------------------

IRQ_WANT = ["eduirq single: handled, status 0x0 ok",
            "eduirq repeated: 8 of 8 handled, status 0x0 ok",
            "eduirq pending: both bits handled, one run each, status 0x0 ok",
            "eduirq quiet: runs, spurious 0x%x ok"]


def firmware_lines(bed, block):
    return [line.replace("regdbg-guest: ", "", 1) for line in bed.block(block)]


def test_hwbed_host_irq_needs_uio_pci_generic(t):
    """host-irq=uio with edu bound to no driver is refused, with the commands that bind it to
    uio_pci_generic; /init runs them (the modprobe aside: its modules are loaded already) and the
    device is bound. qemu-args then adds host-irq=uio (and msi=on: edu has an MSI capability)."""
    bed = the_bed(t)
    addr = bed.fact("addr")
    out = bed.block("irq-unbound")
    check(bed.fact("irq_unbound_status") == "1" and len(out) == 1 and out[0].endswith(
        ",host-irq=uio: host=%s: host-irq=uio needs the host device %s bound to uio_pci_generic, "
        "and no driver holds it; bind it: modprobe uio_pci_generic; echo uio_pci_generic > "
        "/sys/bus/pci/devices/%s/driver_override; echo %s > /sys/bus/pci/drivers_probe"
        % (addr, addr, addr, addr)), "status %s: %r" % (bed.fact("irq_unbound_status"), out))
    check(bed.fact("irq_driver") == "uio_pci_generic", "after the refusal's commands, the "
          "driver is %r" % bed.fact("irq_driver"))
    args = bed.block("irq-qemu-args")
    check(bed.fact("irq_qemu_args_status") == "0" and len(args) == 1 and
          args[0].endswith(",backend=hw,host=%s,host-irq=uio,msi=on,dma-map=%s" % (addr, EDU_MAP)),
          "qemu-args of the bound device: %r" % args)
    check(bed.block("irq-qemu-args-err")[:1] == ["regdbg qemu-args: note: %s is bound to "
                                                 "uio_pci_generic: host-irq=uio gives its "
                                                 "interrupt to the guest" % addr],
          "qemu-args said %r" % bed.block("irq-qemu-args-err"))
    check(bed.fact("driver_after_irq") == "", "unbound again at the end: %r"
          % bed.fact("driver_after_irq"))


def check_irq_run(bed, name, spurious_max):
    serial = firmware_lines(bed, name + "-serial")
    got = [line for line in serial if line.startswith("eduirq ") and " ok" in line[-3:]]
    done = [line for line in serial if line.startswith("eduirq done ")]
    quiet = [line for line in got if line.startswith("eduirq quiet")]
    check(len(quiet) == 1 and got[:3] == IRQ_WANT[:3] and len(done) == 1 and
          done[0].startswith("eduirq done failures=0 runs=11 spurious="),
          "the firmware said:\n%s\nQEMU said:\n%s" % ("\n".join(serial),
                                                      "\n".join(bed.block(name + "-log"))))
    spurious = int(re.search(r"spurious=(\d+)", done[0]).group(1))
    check(spurious <= spurious_max, "%d spurious interrupts (at most %d): %s"
          % (spurious, spurious_max, done[0]))
    check(bed.fact(name + "_status") == "1", "inner QEMU exit status %s"
          % bed.fact(name + "_status"))


def test_hwbed_host_irq_intx_reaches_the_firmware(t):
    """edu's interrupt, through uio_pci_generic and the proxy (host-irq=uio), as INTx to the
    inner firmware's PIC: one, eight in a row, and a request of two status bits whose handler
    acknowledges one per run, so that the interrupt must come again for the second (it is still
    asserted after the first acknowledgment: not lost); then no more. Each status read that
    ended an interrupt unmasked the host, and the line was lowered before the firmware could
    take it twice: no spurious run."""
    check_irq_run(the_bed(t), "irq_intx", 0)


def test_hwbed_host_irq_msi_reaches_the_firmware(t):
    """The same with msi=on and the firmware enabling the proxy's MSI capability: each host
    interrupt becomes a message. The host's INTx is a level, and a message has none to lower:
    the handler's status read, which leaves edu asserting, keeps the host masked (unmasked
    then, the level brought one more message, found empty: 11 in 11 runs before), its
    acknowledgment (a write) unmasks it, and the second cause of the two-bit request still
    comes as a message of its own. No spurious run."""
    check_irq_run(the_bed(t), "irq_msi", 0)


IRQ_EVENT = re.compile(r"I - (\S+) - edu0 (INTA|MSI0) (\S+) by=(\S+)$")
# an access, its register named by edu's map (qemu-args gives the proxy dma-map=) or not
ACCESS = re.compile(r"([RW]) 4 (\S+) cpu0 edu0 bar0\+0x([0-9a-f]{4})(?: \S+ (?:<-|->))? "
                    r"0x([0-9a-f]+)(?: .*)?$")


def trace_events(lines):
    """The dump's interrupt events and accesses as (time, kind, a, b): ("irq", what, by) and
    ("R"|"W", offset, value), in time order (the host's events come from the proxy's thread, and
    an access's own event is published after it reached the device: their ring order may differ
    from the order in time by a few microseconds)."""
    events = []
    for line in lines:
        m = IRQ_EVENT.match(line)
        if m:
            events.append((float(m.group(1)), "irq", m.group(3), m.group(4), m.group(2)))
            continue
        m = ACCESS.match(line)
        if m:
            events.append((float(m.group(2)), m.group(1), int(m.group(3), 16),
                           int(m.group(4), 16), None))
        elif not line.startswith("#"):
            raise TestFailure("dump line %r" % line)
    return sorted(events, key=lambda e: e[0])


def events_after(evs, i):
    """The interrupt events right after evs[i], up to the next access."""
    after = []
    for x in evs[i + 1:]:
        if x[1] != "irq":
            break
        after.append(x[2])
    return after


def check_irq_trace(bed, name, line, up, down, ended_by_ack=False):
    dump = bed.block(name + "-dump")
    check(bed.fact(name + "_record_status") == "0" and bed.fact(name + "_dump_status") == "0",
          "record %s, dump %s: %r" % (bed.fact(name + "_record_status"),
                                      bed.fact(name + "_dump_status"), bed.block(name + "-record")))
    evs = trace_events(dump)
    irqs = [e for e in evs if e[1] == "irq"]
    text = "\n".join(dump)
    check(irqs and all(e[3] in ("host", "host(assert)", "host(deassert)") and e[4] == line
                       for e in irqs), "interrupt events not of the host or not on %s:\n%s"
          % (line, text))
    masked = sum(e[2] == "host-masked" for e in irqs)
    unmasked = sum(e[2] == "host-unmasked" for e in irqs)
    check(masked == unmasked and masked >= 11, "host-masked %d times, host-unmasked %d times "
          "(expected as often, at least once per interrupt):\n%s" % (masked, unmasked, text))
    # the handler's status reads that found bits: the line was up for the host. INTx: the read
    # ended the interrupt: the line went down and the host was unmasked, before the next access.
    # MSI: the read left edu asserting, and nothing happened; the acknowledgment that follows
    # (a write) ended it
    handled = 0
    for i, e in enumerate(evs):
        if e[1] != "R" or e[2] != 0x24 or not e[3]:
            continue
        handled += 1
        before = [x for x in evs[:i] if x[1] == "irq" and x[2] in (up, down)]
        check(before and before[-1][2] == up and before[-1][3] == "host(assert)",
              "status read at %.9f (0x%x): the host's line was not %s before it:\n%s"
              % (e[0], e[3], up, text))
        end = i
        if ended_by_ack:
            check(events_after(evs, i) == [], "status read at %.9f: then %r, expected nothing "
                  "(the device still asserts):\n%s" % (e[0], events_after(evs, i), text))
            end = next((k for k in range(i + 1, len(evs)) if evs[k][1] in ("R", "W")), None)
            check(end is not None and evs[end][1:3] == ("W", 0x64),
                  "status read at %.9f: the next access is not the acknowledgment:\n%s"
                  % (e[0], text))
        check(events_after(evs, end)[:2] == [down, "host-unmasked"],
              "%s at %.9f: then %r, expected %s and host-unmasked:\n%s"
              % ("acknowledgment" if ended_by_ack else "status read", evs[end][0],
                 events_after(evs, end), down, text))
    check(handled == 11, "%d status reads found bits, expected 11:\n%s" % (handled, text))
    # every raise of the host follows its masking
    level = 0
    for e in irqs:
        if e[2] == "host-masked":
            level += 1
        elif e[2] == "host-unmasked":
            level -= 1
        elif e[2] == up:
            check(level == 1, "%s at %.9f while the host was %s:\n%s" % (up, e[0], "unmasked"
                                                                          if level == 0 else
                                                                          "masked twice", text))
    if up == "raised":
        ups = [e[2] for e in irqs if e[2] in ("raised", "lowered")]
        check(ups and ups[-1] == "lowered", "the line is left high:\n%s" % text)


def test_hwbed_host_irq_events_in_the_trace(t):
    """The recordings of both runs (regdbg record inside the bed, regdbg dump): every interrupt
    event is the host's; each masking on the host is undone; each status read that found bits
    came while the line was up (INTx raised, or an MSI sent); with INTx it ended the interrupt
    at once (lowered, then host-unmasked), with MSI the acknowledgment after it did (unchanged,
    then host-unmasked: the read left edu asserting); a line is raised only while the host is
    masked; the line ends low."""
    bed = the_bed(t)
    check_irq_trace(bed, "irq_intx", "INTA", "raised", "lowered")
    check_irq_trace(bed, "irq_msi", "MSI0", "msi", "unchanged", ended_by_ack=True)


DMA_IRQ_D = re.compile(r"D (\S+) \S+ edu0 dma0 (start|done) (to-device|from-device) "
                       r"guest=0x([0-9a-f]+) len=(\d+) buffer=0x([0-9a-f]+)(?: copy_ns=(\d+))?")


def check_dma_irq_run(bed, name, up):
    """One dma=irq run (mode=edu dma=irq, host-irq=uio, dma=bounce): the firmware's round trips,
    each transfer ended by edu's interrupt alone (the firmware never reads DMA_CMD); in the trace
    each transfer's done event (the copy out, from the device) comes after its start and before
    the guest's interrupt for it (`up`, raised by the host)."""
    said = firmware_said(bed, name)
    head = ["edu identity 0x010000ed ok"]
    trip = ["edu dma irq to-device 4096 bytes: interrupt, status 0x100 acknowledged",
            "edu dma irq from-device 4096 bytes: interrupt, status 0x100 acknowledged",
            "edu dma irq from-device 4096 bytes to DST: the pattern ok"]
    check(len(said) > 2 and said[:1] == head and
          re.fullmatch(r"edu dma irq: bus master on, command 0x[0-9a-f]{4}", said[1]) and
          said[2:] == trip * 2 + ["edu done failures=0"] and
          bed.fact(name + "_status") == "1",
          "%s: the firmware said:\n%s\nQEMU said:\n%s"
          % (name, "\n".join(bed.block(name + "-serial")), "\n".join(bed.block(name + "-log"))))
    check(bed.fact(name + "_record_status") == "0" and bed.fact(name + "_dump_status") == "0",
          "%s: record %s, dump %s" % (name, bed.fact(name + "_record_status"),
                                      bed.fact(name + "_dump_status")))
    dump = bed.block(name + "-dump")
    text = "\n".join(dump)
    # in ring order: the done event and the interrupt come from the same thread, in that order
    seq = []
    for line in dump:
        m = DMA_IRQ_D.fullmatch(line)
        if m:
            seq.append((m.group(2), m.group(3), int(m.group(4), 16), int(m.group(5)),
                        int(m.group(7) or 0)))
            continue
        m = IRQ_EVENT.match(line)
        if m and m.group(3) == up and m.group(4) == "host(assert)":
            seq.append(("irq",))
        check(not line.startswith("D ") or m, "%s: DMA event %r" % (name, line))
    starts = [i for i, e in enumerate(seq) if e[0] == "start"]
    check([seq[i][1] for i in starts] == ["to-device", "from-device"] * 2,
          "%s: the starts:\n%s" % (name, text))
    for k, i in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(seq)
        after = seq[i + 1:end]
        check(len(after) >= 2 and after[0][0] == "done" and after[0][1:4] == seq[i][1:4] and
              after[1] == ("irq",) and (after[0][4] > 0) == (seq[i][1] == "from-device"),
              "%s: transfer %d (%s): after its start %r, expected its done (copied out from the "
              "device) and then the guest's interrupt:\n%s" % (name, k, seq[i][1], after, text))


def test_hwbed_dma_completed_by_the_interrupt(t):
    """dma=bounce with host-irq=uio: the firmware's pattern to edu and back, each transfer started
    with edu's command bit 2 (interrupt when done) and ended by the interrupt alone, INTx and MSI;
    the handler acknowledges edu's DMA bit (0x100 at 0x64) and the data came back before the
    guest saw the interrupt: the proxy took the host's interrupt as the completion, copied the
    buffer out and said so (the done event) before raising the guest's line."""
    bed = the_bed(t)
    check_dma_irq_run(bed, "dma_irq_intx", "raised")
    check_dma_irq_run(bed, "dma_irq_msi", "msi")
    before = bed.num("cmd_irq_before")
    check(bed.fact("enable_dma_irq_after") == "1" and bed.num("cmd_dma_irq_after") == before,
          "after the dma=irq runs: enable %s, command 0x%04x (before 0x%04x)" % (
              bed.fact("enable_dma_irq_after"), bed.num("cmd_dma_irq_after"), before))


def test_hwbed_host_irq_leaves_the_host_device_as_found(t):
    """Bound to uio_pci_generic, the device is enabled by its driver; the proxy keeps decoding on
    and bus master off while it runs, and leaves the command register as it found it: Interrupt
    Disable clear, whatever the interrupts masked meanwhile."""
    bed = the_bed(t)
    before = bed.num("cmd_irq_before")
    check(bed.fact("enable_irq_before") == "1" and before & 0x400 == 0,
          "bound to uio_pci_generic: enable %s, command 0x%04x" % (
              bed.fact("enable_irq_before"), before))
    for when in ("irq_after_intx", "irq_after"):
        check(bed.fact("enable_" + when) == "1" and bed.num("cmd_" + when) == before,
              "%s: enable %s, command 0x%04x (before 0x%04x)" % (
                  when, bed.fact("enable_" + when), bed.num("cmd_" + when), before))


for _name, _fn in list(globals().items()):
    if _name.startswith("test_"):
        _fn.timeout = BOOT_TIMEOUT + 60
