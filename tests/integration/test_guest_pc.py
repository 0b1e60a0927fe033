"""The guest PC and CPU mode the proxy records with every access (include/regdbg/abi.h: guest_pc,
cpu_mode), checked against the test guest's own ELF: mode=pcmodes (tests/guest/README.md) makes
each access from an instruction at a global label, in 32-bit protected, 16-bit protected (CS base
not zero), real (CS 0xffff) and 64-bit long mode, plus one store from a C function that the DWARF
line table must map to its source line. Under TCG the PC is the access instruction's own address;
under KVM a write's is the next instruction's (flag pc-after), a read's its own."""

import os
import re
import subprocess

from harness import GUEST, HeldRing, RingHeader, check, require_kvm, ring_event, wait_for

DEFAULT_READ = 0x5A5AA5A5
PROXY = ("regdbg-proxy,id=p0,vendor-id=0x8086,device-id=0x0f41,bar0-size=4096,default-read=%#x"
         % DEFAULT_READ)
EXIT_DEV = "isa-debug-exit,iobase=0xf4,iosize=0x04"
C_FUNC, C_MARK = "pcmodes_c_write_con", "pcmodes: the C access"

# The accesses of mode=pcmodes in order: (label of the access instruction, or None for the store
# in C_FUNC; dir; offset; value written, or None for a read; CPU mode).
EXPECTED = [
    ("pc_prot32_write", "w", 0x10, 0x32, "prot32"),
    ("pc_prot32_read", "r", 0x40, None, "prot32"),
    (None, "w", 0x00, 0xC0, "prot32"),
    ("pc_prot16_write", "w", 0x14, 0x16, "prot16"),
    ("pc_prot16_read", "r", 0x44, None, "prot16"),
    ("pc_real_write", "w", 0x1C, 0x11, "real"),
    ("pc_real_read", "r", 0x4C, None, "real"),
    ("pc_long64_write", "w", 0x18, 0x64, "long64"),
    ("pc_long64_read", "r", 0x48, None, "long64"),
]

# How objdump must decode the code of each mode to get its instruction lengths right.
OBJDUMP_MACHINE = {"prot32": "i386", "prot16": "i8086", "real": "i8086",
                   "long64": "i386:x86-64"}


def tool(*args):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "%s failed: %s" % (" ".join(args), r.stderr))
    return r.stdout


def symbols():
    """{name: (address, size)} of the guest's symbols, from nm."""
    syms = {}
    for line in tool("nm", "-S", GUEST).splitlines():
        f = line.split()
        if len(f) == 4:
            syms[f[3]] = (int(f[0], 16), int(f[1], 16))
        elif len(f) == 3:
            syms[f[2]] = (int(f[0], 16), 0)
    return syms


def instructions(start, stop, mode):
    """[(address, length)] of the instructions in [start, stop), decoded as code of that mode."""
    out = tool("objdump", "-d", "--insn-width=16", "-m", OBJDUMP_MACHINE[mode],
               "--start-address=%#x" % start, "--stop-address=%#x" % stop, GUEST)
    return [(int(m.group(1), 16), len(m.group(2).split()))
            for m in re.finditer(r"^ *([0-9a-f]+):\t((?:[0-9a-f]{2} )+)", out, re.M)]


def source_line(addr):
    """The source line that the guest's DWARF line table gives for addr."""
    where = tool("addr2line", "-e", GUEST, "%#x" % addr).strip()
    path, _, line = where.rpartition(":")
    check(line.isdigit(), "addr2line knows no line of %#x: %r" % (addr, where))
    with open(path) as f:
        return f.read().splitlines()[int(line) - 1]


def run_pcmodes(t, accel):
    """Boots mode=pcmodes paused, holds its ring, and returns (serial output, the ring's events)."""
    serial = t.tmp("serial.log")
    q = t.qemu([PROXY], qtest=False, accel=accel, paused=True,
               extra=["-kernel", GUEST, "-append", "mode=pcmodes", "-device", EXIT_DEV,
                      "-serial", "file:" + serial])
    ring = HeldRing(q.shm_path("/machine/peripheral/p0"))   # the events outlive QEMU
    t.owned.append(type("Close", (), {"kill": lambda self: ring.close()})())
    q.qmp.cmd("cont")
    status = q.wait(60)
    with open(serial) as f:
        out = f.read()
    check(status == 1 and "regdbg-guest: pcmodes done" in out,
          "guest exit status %d (expected 1 = success):\n%s\nQEMU:\n%s" % (status, out, q.output()))
    events = []
    while len(events) <= len(EXPECTED):
        e = ring_event(ring, len(events))
        if not e:
            break
        events.append(e)
    return out, events


def check_pc_modes(t, accel):
    syms = symbols()
    out, events = run_pcmodes(t, accel)
    m = re.search(r"pcmodes real code at 0x([0-9a-f]+) \(cs=0x([0-9a-f]+) ip=0x([0-9a-f]+)\)", out)
    check(m, "no real-mode address in the serial output:\n" + out)
    real, cs, ip = (int(x, 16) for x in m.groups())
    check(real == syms["pc_real_write"][0] == (cs << 4) + ip and ip < real,
          "real-mode code at %#x = %#x:%#x, linked at %#x"
          % (real, cs, ip, syms["pc_real_write"][0]))
    check(len(events) == len(EXPECTED), "the ring has %d accesses, expected %d: %r"
          % (len(events), len(EXPECTED), events))
    for n, (e, (label, d, off, value, mode)) in enumerate(zip(events, EXPECTED)):
        what = "access %d (%s, %s)" % (n, label or "the store in " + C_FUNC, accel)
        check((e["dir"], e["off"], e["size"], e["bar"], e["cpu"]) == (d, off, 4, 0, 0),
              "%s: %r" % (what, e))
        check(e["value"] == (DEFAULT_READ if value is None else value), "%s: value %#x"
              % (what, e["value"]))
        check(e["mode"] == mode, "%s: mode %r, expected %r" % (what, e["mode"], mode))
        after = accel == "kvm" and d == "w"
        check("pc" in e["flags"] and ("pc-after" in e["flags"]) == after,
              "%s: flags %r" % (what, e["flags"]))
        if label:
            insn, length = instructions(syms[label][0], syms[label][0] + 16, mode)[0]
            expect = insn + length if after else insn
            check(e["pc"] == expect, "%s: pc %#x, expected %#x (label %#x, %d-byte instruction)"
                  % (what, e["pc"], expect, insn, length))
        else:
            # the instruction of C_FUNC that starts at the pc (ends there, with pc-after)
            fn, size = syms[C_FUNC]
            at = [a for a, length in instructions(fn, fn + size, mode)
                  if (a + length if after else a) == e["pc"]]
            check(len(at) == 1, "%s: pc %#x is no instruction boundary of %s (%#x..%#x)"
                  % (what, e["pc"], C_FUNC, fn, fn + size))
            line = source_line(at[0])
            check(C_MARK in line, "%s: pc %#x is at source line %r, not the one marked %r"
                  % (what, e["pc"], line, C_MARK))


def test_guest_pc_modes(t):
    check_pc_modes(t, "tcg")


def test_guest_pc_modes_kvm(t):
    require_kvm()       # skipped, and counted as such, where /dev/kvm is unusable
    check_pc_modes(t, "kvm")


def test_qtest_accesses_carry_no_pc(t):
    """An access no vCPU made (qtest writes and reads from QEMU's main loop) carries no PC:
    no pc flag, mode unknown, guest_pc 0, cpu -1; never a PC of 0 passed off as known."""
    q = t.qemu([PROXY])
    shm = HeldRing(q.shm_path("/machine/peripheral/p0"))
    bdf = q.qtest.find_device(0x8086, 0x0F41)[0]
    q.qtest.map_bar(bdf, 0, 0xE0000000)
    q.qtest.write(0xE0000010, 4, 0x1234)
    q.qtest.read(0xE0000040, 4)
    for pos in (0, 1):
        ev = ring_event(shm, pos)
        check(ev and ev["cpu"] == -1 and ev["pc"] is None and ev["mode"] == "unknown" and
              "pc" not in ev["flags"], "a qtest access: %r" % ev)
    shm.close()


def check_port_pcs(t, accel):
    """An I/O BAR (script mode: outl/inl): each access's PC is its in/out instruction (under TCG
    found through the port helper's return address; under KVM a write's is the next one)."""
    ops = [("w", 0x10, 0x5), ("r", 0x40, None), ("w", 0x14, 0x7)]
    serial = t.tmp("serial.log")
    q = t.qemu([PROXY + ",bar0-type=io,bar0-size=256"], qtest=False, accel=accel, paused=True,
               extra=["-kernel", GUEST, "-append", "mode=script ops=w10=0x5,r40,w14=0x7",
                      "-device", EXIT_DEV, "-serial", "file:" + serial])
    ring = HeldRing(q.shm_path("/machine/peripheral/p0"))
    t.owned.append(type("Close", (), {"kill": lambda self: ring.close()})())
    q.qmp.cmd("cont")
    check(q.wait(60) == 1, "the guest failed:\n" + open(serial).read())
    insns = {}
    for m in re.finditer(r"^ *([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*(\S+)\s*(\S*)",
                         tool("objdump", "-d", "--insn-width=16", GUEST), re.M):
        insns[int(m.group(1), 16)] = (len(m.group(2).split()), m.group(3), m.group(4))
    after = {a + n: a for a, (n, _, _) in insns.items()}
    for pos, (d, off, value) in enumerate(ops):
        e = ring_event(ring, pos)
        check(e and (e["dir"], e["off"]) == (d, off) and "pc" in e["flags"],
              "port access %d: %r" % (pos, e))
        pc = e["pc"]
        if "pc-after" in e["flags"]:
            check(accel == "kvm" and d == "w" and pc in after, "pc-after %r" % e)
            pc = after[pc]
        check(pc in insns and insns[pc][1] == ("out" if d == "w" else "in"),
              "port access %d (%s): pc %#x is %r, not an %s" % (pos, accel, e["pc"],
                                                              insns.get(pc), d))


def test_port_access_pcs_tcg(t):
    check_port_pcs(t, "tcg")


def test_port_access_pcs_kvm(t):
    require_kvm()
    check_port_pcs(t, "kvm")


def test_pcs_survive_flushes_of_the_translation_cache(t):
    """mode=copies under a 1 MiB translation cache: the same store copied to 8000 places and run
    from each fills QEMU's cache several times, so the host code of later copies lands where the
    flushed code of earlier ones was. Every write must still carry its own copy's PC (the device
    caches the unwind data of host addresses: only until a flush)."""
    import struct
    count = 8000
    serial = t.tmp("serial.log")
    # no exit device: the guest halts at its end and QEMU stays up to be asked about its cache
    q = t.qemu([PROXY], qtest=False, accel="tcg,tb-size=1", paused=True,
               extra=["-kernel", GUEST, "-append", "mode=copies count=%d" % count,
                      "-serial", "file:" + serial])
    ring = HeldRing(q.shm_path("/machine/peripheral/p0"))
    t.owned.append(type("Close", (), {"kill": lambda self: ring.close()})())
    q.qmp.cmd("cont")
    wait_for(lambda: "copies done" in open(serial).read(), 120, "the guest's copies")
    out = open(serial).read()
    m = re.search(r"copies at 0x([0-9a-f]+) stride (\d+) store at \+(\d+)", out)
    check(m, "no copies line:\n" + out)
    base, stride, store = int(m.group(1), 16), int(m.group(2)), int(m.group(3))
    jit = q.qmp.cmd("human-monitor-command", **{"command-line": "info jit"})
    flushes = re.search(r"TB flush count\s+(\d+)", jit)
    check(flushes and int(flushes.group(1)) >= 2, "the translation cache was not flushed twice:\n"
          + jit)
    h = RingHeader(ring)
    check(h.head == count, "%d events, expected %d" % (h.head, count))
    raw = os.pread(ring.fd, count * 64, h.events_offset)
    wrong = []
    for i, ev in enumerate(struct.iter_unpack("<QQQQQQiHHBBBB4x", raw)):
        value, pc, flags = ev[3], ev[5], ev[7]
        if value != i or not flags & (1 << 7) or pc != base + stride * i + store:
            wrong.append((i, value, hex(pc), flags))
    check(not wrong, "%d of %d writes with another copy's PC, e.g. %r" % (len(wrong), count,
                                                                         wrong[:5]))


def test_pcs_survive_gdb_breakpoint_flushes(t):
    """A gdb breakpoint hit flushes QEMU's translation cache; the guest's loop then translates the
    next copy of its store exactly where the last copy's code was, with no other access between:
    the device's cache of unwind data must not give the new copy the old one's PC."""
    import socket
    import struct
    count = 40
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    serial = t.tmp("serial.log")
    q = t.qemu([PROXY], qtest=False, accel="tcg", paused=True,
               extra=["-kernel", GUEST, "-append", "mode=copies count=%d" % count,
                      "-device", EXIT_DEV, "-serial", "file:" + serial,
                      "-gdb", "tcp::%d" % port])
    ring = HeldRing(q.shm_path("/machine/peripheral/p0"))
    t.owned.append(type("Close", (), {"kill": lambda self: ring.close()})())
    script = t.tmp("gdb.cmd")
    with open(script, "w") as f:
        f.write("target remote :%d\nbreak *%#x\ncommands\nsilent\ncontinue\nend\ncontinue\n"
                % (port, symbols()["copies_mark"][0]))
    g = subprocess.Popen(["gdb", "-nx", "-batch", "-x", script], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    t.owned.append(type("Kill", (), {"kill": lambda self: g.kill()})())
    status = q.wait(120)
    out = open(serial).read()
    gout = g.communicate(timeout=30)[0]
    check(status == 1 and "copies done" in out, "the guest (%d):\n%s\ngdb:\n%s" % (status, out,
                                                                                 gout))
    m = re.search(r"copies at 0x([0-9a-f]+) stride (\d+) store at \+(\d+)", out)
    base, stride, store = int(m.group(1), 16), int(m.group(2)), int(m.group(3))
    h = RingHeader(ring)
    check(h.head == count, "%d events, expected %d" % (h.head, count))
    raw = os.pread(ring.fd, count * 64, h.events_offset)
    wrong = [(i, ev[3], hex(ev[5])) for i, ev in
             enumerate(struct.iter_unpack("<QQQQQQiHHBBBB4x", raw))
             if ev[3] != i or ev[5] != base + stride * i + store]
    check(not wrong, "%d of %d writes with another copy's PC, e.g. %r" % (len(wrong), count,
                                                                         wrong[:5]))
