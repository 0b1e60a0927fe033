"""Unplugging the proxy while the guest runs (QMP device_del, then the guest's ACPI eject on
-machine pc, played here by qtest's `outl 0xae08` as a guest OS's hotplug driver would write it):
an access parked in the debugger, or waiting for ring space with the BQL dropped, must end before
the device is taken apart, and QEMU goes on. Before, the parked vCPU woke into an unmapped ring
and QEMU died of SIGSEGV."""

import os
import re
import signal
import subprocess
import time

from harness import (GUEST, REGDBG, SAN_ENV, HeldRing, Qmp, Qtest, RingHeader, check, regdbg,
                     wait_for)

SLOT = 5
PROXY = ("regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,bar0-size=4096,bus=pci.0,"
         "addr=%#x" % SLOT)
ACPI_PCI_EJECT = 0xAE08     # PIIX4 ACPI PCI hotplug: write a slot's bit to eject it


def guest_vm(t, props, append):
    """A paused TCG guest on -machine pc with the proxy in slot SLOT, and a qtest socket to
    play the guest OS's eject. No isa-debug-exit: the guest halts when done, and QEMU stays,
    to be asked how it is."""
    qtest = t.tmp("eject-qtest.sock")
    serial = t.tmp("serial.log")
    q = t.qemu([PROXY + props], qtest=False, machine="pc", paused=True,
               extra=["-qtest", "unix:%s,server=on,wait=off" % qtest, "-kernel", GUEST,
                      "-append", "dev=8086:0f41 " + append, "-serial", "file:" + serial])
    return q, qtest, serial


def unplug(t, q, qtest_path):
    """device_del, then the guest's eject; returns once QEMU said DEVICE_DELETED."""
    q.qmp.cmd("device_del", id="i2c0")
    eject = Qtest(wait_for(lambda: Qmp._try_connect(qtest_path), 10, "the qtest socket"))
    t.owned.append(type("Close", (), {"kill": lambda self: eject.sock.close()})())
    # QEMU answers the eject once the device is gone: at once, not when a park times out
    eject.sock.settimeout(10)
    try:
        eject.out(ACPI_PCI_EJECT, 4, 1 << SLOT)
    except OSError as e:
        check(False, "the eject did not end within 10 s (%s): an access still held the device"
              % e)

    def deleted():
        check(q.proc.poll() is None, "QEMU died unplugging the proxy (status %s):\n%s"
              % (q.proc.poll(), q.output()[-2000:]))
        try:
            q.qmp.cmd("query-status")   # reads the events that came meanwhile
        except OSError:
            q.proc.wait(10)
            check(False, "QEMU died unplugging the proxy (status %s):\n%s"
                  % (q.proc.poll(), q.output()[-2000:]))
        return any(e.get("event") == "DEVICE_DELETED" for e in q.qmp.events)
    wait_for(deleted, 20, "DEVICE_DELETED")


def test_unplug_while_an_access_is_parked(t):
    """A breakpoint parks the guest's read in `regdbg batch`; the device is unplugged under it.
    The parked access resumes unmodified (the device is still whole until it has), QEMU lives
    on, the guest finishes, the ring's name is gone, and the batch's next answer is told that
    the access is no longer parked."""
    # a park outlives a silent debugger by park-timeout: a minute here, so that only the unplug
    # can end it within the eject's 10 s
    q, qtest, serial = guest_vm(t, ",park-timeout=60000", "mode=script ops=w10=0x5,r40,w14=0x7")
    shm = q.shm_path("/machine/peripheral/i2c0")
    batch = subprocess.Popen([REGDBG, "batch", "--qmp", q.qmp_path, "-"], text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=dict(os.environ, **SAN_ENV))
    t.owned.append(type("Kill", (), {"kill": lambda self: batch.kill()})())
    batch.stdin.write("break r bar0+0x40\nwait 30\nprint\n")
    batch.stdin.flush()
    wait_for(lambda: RingHeader(shm).consumer_pid == batch.pid or batch.poll() is not None, 20,
             "regdbg batch to attach")
    q.qmp.cmd("cont")
    parked = batch.stdout.readline()
    check('"off":64' in parked and '"dir":"r"' in parked,
          "batch printed %r; stderr %s" % (parked, batch.stderr.read() if batch.poll() else ""))
    unplug(t, q, qtest)
    wait_for(lambda: "script done" in open(serial).read(), 30, "the guest to finish")
    check("script r 0x40 = 0x00000000" in open(serial).read(),
          "the parked read did not resume unmodified:\n" + open(serial).read())
    check(q.qmp.cmd("query-status")["status"] == "running" and q.proc.poll() is None,
          "QEMU is not running")
    check(not os.path.exists(shm), "the ring's name %s outlived the device" % shm)
    out, err = batch.communicate("continue\n", timeout=30)
    check(batch.returncode == 1 and "that access is no longer parked" in err,
          "batch: %d %r %r" % (batch.returncode, out, err))


def test_unplug_while_the_ring_is_full(t):
    """A lossless ring of 16 whose consumer has stopped (SIGSTOP): the guest's access waits for a
    slot with the BQL dropped (consumer-timeout is a minute). Unplugged meanwhile, the waiting
    access gives up at once and QEMU lives on; the guest's later writes go nowhere and it ends
    in seconds, not a minute."""
    count = 200
    q, qtest, serial = guest_vm(t, ",ring-entries=16,consumer-timeout=60000",
                                "mode=hammer cpus=1 count=%d" % count)
    shm = q.shm_path("/machine/peripheral/i2c0")
    ring = HeldRing(shm)
    t.owned.append(type("Close", (), {"kill": lambda self: ring.close()})())
    rec = t.recorder("--qmp", q.qmp_path, "-o", t.tmp("full.trace"))
    rec.wait_attached(shm)
    os.kill(rec.proc.pid, signal.SIGSTOP)
    try:
        q.qmp.cmd("cont")
        wait_for(lambda: RingHeader(ring).waits == 1, 30, "the guest to wait for a slot")
        t0 = time.monotonic()
        unplug(t, q, qtest)
        wait_for(lambda: "hammer done" in open(serial).read(), 20,
                 "the guest to finish (it took a minute: the waiting access did not give up)")
        check(time.monotonic() - t0 < 20 and q.proc.poll() is None,
              "QEMU %s, %.0f s after the unplug" % (q.proc.poll(), time.monotonic() - t0))
        h = RingHeader(ring)
        check(h.head == 16 and h.waits == 1, "head %d waits %d" % (h.head, h.waits))
    finally:
        os.kill(rec.proc.pid, signal.SIGCONT)


test_unplug_while_an_access_is_parked.timeout = 120
test_unplug_while_the_ring_is_full.timeout = 120


def test_recording_ends_when_its_device_is_unplugged(t):
    """`regdbg record --qmp` of a device that is unplugged stops by itself (QMP's
    DEVICE_DELETED for its path), with what the ring held, while QEMU runs on: its summary says
    (device unplugged), and dump reads the trace to its end record."""
    q, qtest, serial = guest_vm(t, "", "mode=script ops=w10=0x5,r40,w14=0x7")
    shm = q.shm_path("/machine/peripheral/i2c0")
    trace = t.tmp("unplugged.trace")
    rec = t.recorder("--qmp", q.qmp_path, "-o", trace)
    rec.wait_attached(shm)
    q.qmp.cmd("cont")
    wait_for(lambda: "script done" in open(serial).read(), 30, "the guest to finish")
    wait_for(lambda: RingHeader(shm).tail == 3, 10, "the recorder to drain the three accesses")
    unplug(t, q, qtest)
    status, out, err = rec.finish(timeout=20)
    check(status == 0 and err == "" and
          re.fullmatch(r"regdbg record: 3 events, 0 dropped, \S+ s(, \d+ events/s)? -> \S+ "
                       r"\(device unplugged\)\n", out), "record: %d %r %r" % (status, out, err))
    check(q.proc.poll() is None, "QEMU ended with the device")
    r = regdbg("dump", trace)
    check(r.returncode == 0 and r.stderr == "" and
          [ln.split()[0] for ln in r.stdout.splitlines() if not ln.startswith("#")] ==
          ["W", "R", "W"], "dump: %d %r %r" % (r.returncode, r.stdout, r.stderr))


test_recording_ends_when_its_device_is_unplugged.timeout = 120


def test_tui_says_its_device_was_unplugged(t):
    """The TUI attached to a VM whose proxy is unplugged says so on its message line and in
    its devices screen, goes on running, and quits cleanly."""
    from tui import Term
    q, qtest, serial = guest_vm(t, "", "mode=script ops=w10=0x5,r40,w14=0x7")
    shm = q.shm_path("/machine/peripheral/i2c0")
    term = Term(t, "unplug", [REGDBG, "attach", q.qmp_path], cols=120, rows=40)
    wait_for(lambda: RingHeader(shm).consumer_pid != 0, 20, "the TUI to attach")
    q.qmp.cmd("cont")
    wait_for(lambda: "script done" in open(serial).read(), 30, "the guest to finish")
    unplug(t, q, qtest)
    term.wait_text("device i2c0 was unplugged: its stream ends here", 10)
    term.keys("3")
    term.wait_text("unplugged (device_del): 3 events drained from its ring", 10)
    check(q.proc.poll() is None, "QEMU ended with the device")
    term.keys("q")
    term.check_clean_exit(10)


test_tui_says_its_device_was_unplugged.timeout = 120
