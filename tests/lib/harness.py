"""Test harness for regdbg's integration tests: starts the real QEMU (built by `make`) with real QMP
and qtest sockets, drives PCI config space and BARs over the qtest protocol, runs the regdbg binary
and reads the shared-memory ring header. No part of QEMU, QMP or the ring is mocked."""

import json
import mmap
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("REGDBG_BUILD", os.path.join(TOP, "build"))
QEMU = os.path.join(BUILD, "bin", "qemu-system-x86_64")
# The suite runs the ASan+UBSan build of regdbg unless told otherwise.
REGDBG = os.environ.get("REGDBG_BIN", os.path.join(BUILD, "asan", "regdbg"))
GUEST = os.path.join(BUILD, "guest", "regdbg-guest.elf")

SAN_ENV = {
    "ASAN_OPTIONS": "abort_on_error=0:exitcode=86:detect_leaks=1",
    "UBSAN_OPTIONS": "halt_on_error=1:exitcode=87:print_stacktrace=1",
}


class TestFailure(Exception):
    pass


class Skip(Exception):
    """Raised (with the reason) by a test that cannot run on this machine; tests/run.py counts
    it as skipped, never as passed. Only KVM-dependent tests skip, and only when
    kvm_usable() is false: see require_kvm()."""
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.01)
    raise TestFailure("timed out after %.1f s waiting for %s" % (timeout, what))


def kvm_usable():
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    try:
        r = subprocess.run([QEMU, "-machine", "none,accel=kvm", "-nodefaults", "-display", "none",
                            "-S", "-qmp", "stdio"], input=b'{"execute":"qmp_capabilities"}\n'
                           b'{"execute":"quit"}\n', capture_output=True, timeout=20)
        return r.returncode == 0 and b"failed to initialize" not in r.stderr
    except (OSError, subprocess.TimeoutExpired):
        return False


def require_kvm():
    """Skip the calling test unless /dev/kvm is really usable (a KVM VM starts)."""
    if not kvm_usable():
        raise Skip("/dev/kvm is not usable here (%s)" % (
            "no read/write access" if not os.access("/dev/kvm", os.R_OK | os.W_OK)
            else "QEMU cannot start a KVM VM"))


class TempDir:
    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="regdbg-test-")

    def __call__(self, name):
        return os.path.join(self.path, name)

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


class Qmp:
    """A minimal QMP client for the tests' own checks (query-status, qom-get, cont)."""

    def __init__(self, path, timeout=10):
        self.sock = wait_for(lambda: self._try_connect(path), timeout, "QMP socket " + path)
        self.sock.settimeout(timeout)
        self.file = self.sock.makefile("rwb")
        self.events = []
        greeting = json.loads(self.file.readline())
        check("QMP" in greeting, "not a QMP greeting: %r" % greeting)
        self.cmd("qmp_capabilities")

    @staticmethod
    def _try_connect(path):
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            return None

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.file.write(json.dumps(msg).encode() + b"\n")
        self.file.flush()
        while True:
            line = self.file.readline()
            if not line:
                raise TestFailure("QMP connection closed during " + name)
            reply = json.loads(line)
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply:
                raise TestFailure("QMP %s failed: %s" % (name, reply["error"]["desc"]))
            return reply["return"]

    def close(self):
        try:
            self.file.close()
            self.sock.close()
        except OSError:
            pass


class Qtest:
    """The qtest protocol: exact-width reads and writes of memory and I/O ports, and the
    interrupt lines QEMU reports asynchronously once intercepted (`IRQ raise N` / `IRQ lower N`,
    at any moment, also between a command and its answer): they are kept, in order, in irqs as
    ("raise" | "lower", N)."""

    def __init__(self, sock):
        self.sock = sock
        self.sock.settimeout(None)
        self.buf = b""
        self.irqs = []

    def _line(self, timeout):
        """The next line QEMU sent, or None when none came within timeout seconds (None: wait
        as long as it takes)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                return None
            if not data:
                raise TestFailure("the qtest connection was closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode(errors="replace").strip()

    def _take_irq(self, line):
        parts = line.split()
        if len(parts) == 3 and parts[0] == "IRQ" and parts[1] in ("raise", "lower"):
            self.irqs.append((parts[1], int(parts[2])))
            return True
        return False

    def cmd(self, line):
        self.sock.sendall((line + "\n").encode())
        while True:
            reply = self._line(None)
            if self._take_irq(reply):
                continue
            if not reply.startswith("OK"):
                raise TestFailure("qtest %r answered %r" % (line, reply))
            parts = reply.split()
            return int(parts[1], 16) if len(parts) > 1 else None

    def intercept_irqs(self, qom_path="ioapic"):
        """Have QEMU report the inputs of the device at qom_path (the IOAPIC's: GSIs)."""
        self.cmd("irq_intercept_in " + qom_path)

    def poll_irqs(self, timeout=0.0):
        """Take the interrupt lines QEMU has sent, waiting up to timeout seconds for a first
        one; returns those that came in this call."""
        before = len(self.irqs)
        deadline = time.monotonic() + timeout
        while True:
            line = self._line(max(0.0, deadline - time.monotonic()) if len(self.irqs) == before
                              else 0.0)
            if line is None:
                return self.irqs[before:]
            if not self._take_irq(line):
                raise TestFailure("qtest sent %r without being asked" % line)

    def wait_irqs(self, n, timeout=5.0):
        """Wait until irqs holds at least n entries; returns irqs."""
        deadline = time.monotonic() + timeout
        while len(self.irqs) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TestFailure("waited %.1f s for %d interrupt lines from qtest; got %r"
                                  % (timeout, n, self.irqs))
            self.poll_irqs(left)
        return self.irqs

    WIDTH = {1: "b", 2: "w", 4: "l", 8: "q"}

    def write(self, addr, size, value):
        self.cmd("write%s 0x%x 0x%x" % (self.WIDTH[size], addr, value))

    def read(self, addr, size):
        return self.cmd("read%s 0x%x" % (self.WIDTH[size], addr))

    def out(self, port, size, value):
        self.cmd("out%s 0x%x 0x%x" % ({1: "b", 2: "w", 4: "l"}[size], port, value))

    def inp(self, port, size):
        return self.cmd("in%s 0x%x" % ({1: "b", 2: "w", 4: "l"}[size], port))

    # PCI configuration mechanism #1
    def cfg_read(self, bdf, reg, size=4):
        self.out(0xCF8, 4, 0x80000000 | (bdf << 8) | (reg & 0xFC))
        return self.inp(0xCFC + (reg & 3), size)

    def cfg_write(self, bdf, reg, size, value):
        self.out(0xCF8, 4, 0x80000000 | (bdf << 8) | (reg & 0xFC))
        self.out(0xCFC + (reg & 3), size, value)

    def find_cap(self, bdf, cap_id):
        """The config-space offset of the capability cap_id (0x05: MSI), or 0."""
        if not self.cfg_read(bdf, 0x06, 2) & 0x10:
            return 0
        at, seen = self.cfg_read(bdf, 0x34, 1) & 0xFC, 0
        while at and seen < 48:
            if self.cfg_read(bdf, at, 1) == cap_id:
                return at
            at, seen = self.cfg_read(bdf, at + 1, 1) & 0xFC, seen + 1
        return 0

    def enable_msi(self, bdf, addr, data):
        """Aim the device's MSI (64-bit address capability, one vector) at addr, guest memory the
        test can read back (libqos does the same): the message is a write of data there. MSI
        enabled, bus mastering left as it is."""
        cap = self.find_cap(bdf, 0x05)
        check(cap, "the device offers no MSI capability")
        self.cfg_write(bdf, cap + 4, 4, addr & 0xFFFFFFFF)
        self.cfg_write(bdf, cap + 8, 4, addr >> 32)
        self.cfg_write(bdf, cap + 12, 2, data)
        self.cfg_write(bdf, cap + 2, 2, self.cfg_read(bdf, cap + 2, 2) | 1)
        return cap

    def find_device(self, vendor, device):
        found = []
        for slot in range(32):
            bdf = slot << 3
            if self.cfg_read(bdf, 0) == (device << 16) | vendor:
                found.append(bdf)
        return found

    def bar_size(self, bdf, bar):
        reg = 0x10 + 4 * bar
        old = self.cfg_read(bdf, reg)
        self.cfg_write(bdf, reg, 4, 0xFFFFFFFF)
        probe = self.cfg_read(bdf, reg)
        self.cfg_write(bdf, reg, 4, old)
        if probe == 0:
            return 0, old
        if old & 1:
            mask = probe & ~0x3 & 0xFFFF
            return ((~mask) & 0xFFFF) + 1, old
        if (old & 0x6) == 0x4:
            hi_reg = reg + 4
            old_hi = self.cfg_read(bdf, hi_reg)
            self.cfg_write(bdf, hi_reg, 4, 0xFFFFFFFF)
            probe_hi = self.cfg_read(bdf, hi_reg)
            self.cfg_write(bdf, hi_reg, 4, old_hi)
            mask = (probe_hi << 32) | (probe & ~0xF)
            return ((~mask) & 0xFFFFFFFFFFFFFFFF) + 1, old
        mask = probe & ~0xF
        return ((~mask) & 0xFFFFFFFF) + 1, old

    def map_bar(self, bdf, bar, addr):
        reg = 0x10 + 4 * bar
        self.cfg_write(bdf, reg, 4, addr & 0xFFFFFFFF)
        if (self.cfg_read(bdf, reg) & 0x7) == 0x4:
            self.cfg_write(bdf, reg + 4, 4, addr >> 32)
        cmd = self.cfg_read(bdf, 0x04, 2)
        self.cfg_write(bdf, 0x04, 2, cmd | 0x3)


class Qemu:
    """One QEMU process. qtest=True gives a qtest connection (no vCPU runs); otherwise a guest."""

    def __init__(self, tmp, devices, qtest=True, extra=(), machine="q35", accel=None,
                 name="vm", paused=False, binary=None):
        self.tmp = tmp
        self.qmp_path = tmp(name + "-qmp.sock")        # for regdbg
        self.qmp2_path = tmp(name + "-qmp-test.sock")  # for the test's own checks
        self.qtest_path = tmp(name + "-qtest.sock")
        self.log_path = tmp(name + "-qemu.log")
        args = [binary or QEMU, "-machine", machine, "-nodefaults", "-display", "none", "-m", "64",
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path,
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp2_path]
        if qtest:
            args += ["-accel", "qtest", "-qtest", "unix:%s,server=on,wait=off" % self.qtest_path]
        else:
            args += ["-accel", accel or "tcg"]
        if paused:
            args.append("-S")
        for dev in devices:
            args += ["-device", dev]
        args += list(extra)
        self.args = args
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        self.qmp = None
        self.qtest = None
        try:
            self.qmp = Qmp(self.qmp2_path)
            if qtest:
                sock = wait_for(lambda: Qmp._try_connect(self.qtest_path), 10, "qtest socket")
                self.qtest = Qtest(sock)
        except Exception:
            output = self.output()
            self.kill()
            raise TestFailure("QEMU did not start: %s\n%s" % (" ".join(args), output))

    def output(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def shm_path(self, qom_path):
        return self.qmp.cmd("qom-get", path=qom_path, property="shm")

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure("QEMU did not exit within %d s; output:\n%s" % (timeout,
                                                                              self.output()))

    def kill(self):
        if self.qmp:
            self.qmp.close()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def qemu_fails(tmp, devices, extra=()):
    """Start QEMU expecting it to refuse; returns (exit status, output)."""
    args = [QEMU, "-machine", "q35", "-nodefaults", "-display", "none", "-accel", "qtest",
            "-qtest", "unix:%s,server=on,wait=off" % tmp("fail-qtest.sock")]
    for dev in devices:
        args += ["-device", dev]
    args += list(extra)
    r = subprocess.run(args, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


def regdbg(*args, timeout=60, check_sanitizers=True):
    """Run regdbg to completion; returns CompletedProcess with text output."""
    env = dict(os.environ, **SAN_ENV)
    r = subprocess.run([REGDBG] + list(args), capture_output=True, timeout=timeout, env=env,
                       stdin=subprocess.DEVNULL)
    r.stdout = r.stdout.decode(errors="replace")
    r.stderr = r.stderr.decode(errors="replace")
    if check_sanitizers:
        check(r.returncode not in (86, 87) and "Sanitizer" not in r.stderr,
              "sanitizer report from regdbg %s:\n%s" % (" ".join(args), r.stderr))
    return r


class Recorder:
    """`regdbg record` running in the background."""

    def __init__(self, *args):
        env = dict(os.environ, **SAN_ENV)
        self.args = args
        self.proc = subprocess.Popen([REGDBG, "record"] + list(args), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, stdin=subprocess.DEVNULL)

    def wait_attached(self, shm_path, timeout=10):
        def attached():
            if self.proc.poll() is not None:
                raise TestFailure("regdbg record exited early (%d): %s" % (
                    self.proc.returncode, self.proc.stderr.read().decode(errors="replace")))
            return RingHeader(shm_path).consumer_pid == self.proc.pid
        wait_for(attached, timeout, "regdbg record to attach to " + shm_path)

    def finish(self, timeout=60, sig=None):
        if sig is not None:
            self.proc.send_signal(sig)
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise TestFailure("regdbg record did not finish in %d s: %s" % (
                timeout, err.decode(errors="replace")))
        out, err = out.decode(errors="replace"), err.decode(errors="replace")
        check(self.proc.returncode not in (86, 87) and "Sanitizer" not in err,
              "sanitizer report from regdbg record:\n" + err)
        return self.proc.returncode, out, err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


class HeldRing:
    """A ring held open, so that its header can still be read after QEMU has exited."""

    def __init__(self, path):
        self.path = path
        self.fd = os.open(path, os.O_RDONLY)

    def close(self):
        os.close(self.fd)


class RingHeader:
    """Read-only view of a ring's header (include/regdbg/abi.h). path is the ring's path, or a
    HeldRing: the ring is a memfd that is gone with QEMU unless somebody holds it open."""

    def __init__(self, path):
        if isinstance(path, HeldRing):
            data = os.pread(path.fd, 4096, 0)
        else:
            with open(path, "rb") as f:
                data = f.read(4096)
        (self.magic, self.abi_version, self.header_size, self.event_size, self.ring_entries,
         self.events_offset, self.shm_size, self.ring_mode, self.qemu_pid) = struct.unpack_from(
            "<QIIIIQQII", data, 0)
        self.dev_id = data[48:112].split(b"\0")[0].decode()
        (self.vendor_id, self.device_id, self.subsystem_vendor_id, self.subsystem_id,
         self.class_code, self.revision, self.backend) = struct.unpack_from("<HHHHIBB", data, 112)
        self.bars = [struct.unpack_from("<QBB", data, 128 + 16 * i) for i in range(6)]
        self.head, self.dropped, self.waits, self.stalled_tail = struct.unpack_from(
            "<QQQQ", data, 256)
        self.tail, self.consumer_pid = struct.unpack_from("<QI", data, 320)
        self.abi_version = struct.unpack_from("<I", data, 8)[0]
        self.parks, self.park_timeouts = struct.unpack_from("<QQ", data, 520)
        self.rules_offset = struct.unpack_from("<Q", data, 384)[0]
        self.dma_mode, self.dma_address_bits = struct.unpack_from("<BB", data, 233)
        self.step_left, self.heartbeat_ns = struct.unpack_from("<I4xQ", data, 448)


RULE_SIZE, MAX_RULES, RULE_TEXT_LEN = 288, 64, 192


def rule_table(path):
    """The device's rule table (include/regdbg/rules.h) as {slot: (text, enabled, kind)}, read
    from shared memory (path: the ring's path or a HeldRing): a slot is in use when its text is
    not empty."""
    h = RingHeader(path)
    text_at = h.rules_offset + MAX_RULES * RULE_SIZE + 6 * 1024 * 8 + 64 * 72
    held = path if isinstance(path, HeldRing) else HeldRing(path)
    try:
        rules = os.pread(held.fd, MAX_RULES * RULE_SIZE, h.rules_offset)
        texts = os.pread(held.fd, MAX_RULES * RULE_TEXT_LEN, text_at)
    finally:
        if held is not path:
            held.close()
    out = {}
    for n in range(MAX_RULES):
        text = texts[n * RULE_TEXT_LEN:(n + 1) * RULE_TEXT_LEN].split(b"\0")[0].decode()
        if text:
            enabled, kind = struct.unpack_from("<BB", rules, n * RULE_SIZE + 4)
            out[n] = (text, enabled, kind)
    return out


EVENT_FLAGS = ["edited", "injected", "dropped", "parked", "timed-out", "not-parked-no-vcpu",
               "not-parked-no-debugger", "pc", "pc-after", "msi", "blocked", "dma-addr",
               "from-device"]
# Interrupt events (include/regdbg/abi.h, REGDBG_DIR_IRQ): value, orig_value and irq_source.
IRQ_WHAT = [None, "raised", "lowered", "msi", "unchanged", "host-masked", "host-unmasked"]
IRQ_ACTION = [None, "assert", "deassert", "pulse"]
IRQ_SOURCE = [None, "debugger", "rule", "host", "device"]
CPU_MODES = ["unknown", "real", "vm86", "prot16", "prot32", "compat16", "compat32", "long64"]
DMA_WHAT = [None, "start", "done", "refused", "blocked"]
DMA_WHY = [None, "length", "address", "width", "busy", "no-buffer", "dma-off",
           "guest-master-off", "direction"]


def ring_event(path, pos):
    """The event at ring position pos as the device published it (include/regdbg/abi.h), or None
    when that position is not published."""
    h = RingHeader(path)
    held = path if isinstance(path, HeldRing) else HeldRing(path)
    try:
        raw = os.pread(held.fd, 64, h.events_offset + (pos % h.ring_entries) * 64)
    finally:
        if held is not path:
            held.close()
    (seq, t_ns, off, value, orig, pc, cpu, flags, rule, bar, size,
     direction, mode, source, what, why) = struct.unpack("<QQQQQQiHHBBBBBBBx", raw)
    if seq != pos:
        return None
    ev = {"seq": seq, "t_ns": t_ns, "off": off, "value": value, "orig": orig, "cpu": cpu,
          "flags": [n for i, n in enumerate(EVENT_FLAGS) if flags & (1 << i)], "rule": rule,
          "bar": bar, "size": size,
          "dir": {0: "r", 1: "w", 2: "irq", 3: "dma"}.get(direction, direction),
          "pc": pc if flags & (1 << 7) else None,
          "mode": CPU_MODES[mode] if mode < len(CPU_MODES) else mode, "source": source}
    if direction == 2:
        ev["irq"] = IRQ_WHAT[value] if value < len(IRQ_WHAT) else value
        ev["action"] = IRQ_ACTION[orig] if orig < len(IRQ_ACTION) else orig
        ev["source"] = IRQ_SOURCE[source] if source < len(IRQ_SOURCE) else source
    if direction == 3:
        # a DMA event: offset the guest's address, value the buffer's, orig the length
        ev.update(what=DMA_WHAT[what] if what < len(DMA_WHAT) else what,
                  why=DMA_WHY[why] if why < len(DMA_WHY) else why, copy_ns=pc,
                  engine=size, pc=None)
    return ev


def dump_json(trace):
    r = regdbg("dump", trace, "--format", "json")
    check(r.returncode == 0, "regdbg dump failed: " + r.stderr)
    return [json.loads(line) for line in r.stdout.splitlines()]


def accesses(events):
    """(dir, bar, off, size, value) of each event, for comparing sequences."""
    return [(e["dir"], e["bar"], e["off"], e["size"], e["value"]) for e in events]


SUMMARY_RE = re.compile(r"regdbg record: (\d+) events, (\d+) dropped, (\d+\.\d{3}) s"
                        r"(?:, (\d+) events/s)? -> (.+?)"
                        r"(?: \((QEMU exited)?(?:; )?(?:(\d+) earlier accesses skipped)?\))?")


def parse_record_summary(out):
    """The one line `regdbg record` prints (README: "Recording and reading traces"), as a dict:
    events, dropped, secs, rate (None when not printed), file, qemu_exited, skipped."""
    lines = out.splitlines()
    check(len(lines) == 1, "regdbg record printed %d lines, not one: %r" % (len(lines), out))
    m = SUMMARY_RE.fullmatch(lines[0])
    check(m, "summary line has not the README's shape: %r" % lines[0])
    summary = {"events": int(m.group(1)), "dropped": int(m.group(2)),
               "secs": float(m.group(3)), "rate": int(m.group(4)) if m.group(4) else None,
               "file": m.group(5), "qemu_exited": bool(m.group(6)),
               "skipped": int(m.group(7) or 0)}
    # The rate is there when the span means something, and then it is events / seconds.
    check((summary["rate"] is None) == (summary["secs"] < 0.1),
          "rate printed for a span of %.3f s: %r" % (summary["secs"], lines[0]))
    if summary["rate"] is not None:
        exact = summary["events"] / summary["secs"]
        check(abs(summary["rate"] - exact) <= exact * 0.006 + 1,
              "rate %d is not %d events / %.3f s: %r" % (summary["rate"], summary["events"],
                                                         summary["secs"], lines[0]))
    return summary


__all__ = [name for name in dir() if not name.startswith("_")] + ["signal"]
