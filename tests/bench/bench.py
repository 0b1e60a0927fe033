#!/usr/bin/python3
"""regdbg benchmarks (`make bench`). Every figure is a ratio against a baseline measured in the
same run, because absolute times on these machines are not stable.

1. Guest-side cost of a 32-bit MMIO read and write (rdtsc in the test guest, bench mode):
   regdbg-proxy (backend none, ring on, `regdbg record` draining to a file) against QEMU's own
   `edu` device in the same QEMU build, and against `edu` with `-trace memory_region_ops_*`
   logging to a file. Under TCG, and under KVM when /dev/kvm works.
2. The ring alone: producer threads, one consumer writing a trace file, events/s, drops.
3. The TUI under load: the guest makes millions of accesses per second while keys are typed into
   `regdbg attach` in tmux; time from key to screen update, frame pacing, how far the display
   lags behind the ring, and events shown against events produced.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))

import harness  # noqa: E402

LAUNCHES = 3
GUEST_ARGS = "mode=bench iters=20000 runs=7 off=0x4"
PROXY = "regdbg-proxy,id=p0,vendor-id=0x8086,device-id=0x0f41,bar0-size=4096"


def guest_run(tmp, accel, device, guest_dev, extra=(), record=False, rules=None):
    """One QEMU launch of the bench guest; returns (read_cycles, write_cycles)."""
    qmp = os.path.join(tmp, "bench-qmp.sock")        # regdbg's
    qmp_ctl = os.path.join(tmp, "bench-qmp-ctl.sock")  # ours, to resume the VM
    args = [harness.QEMU, "-machine", "q35", "-accel", accel, "-nodefaults", "-display", "none",
            "-m", "64", "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-device", device, "-kernel", harness.GUEST, "-append",
            "dev=%s %s" % (guest_dev, GUEST_ARGS),
            "-qmp", "unix:%s,server=on,wait=off" % qmp,
            "-qmp", "unix:%s,server=on,wait=off" % qmp_ctl]
    args += list(extra)
    if record:
        args.append("-S")  # start only once the recorder drains the ring
    q = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    rec = None
    try:
        if record:
            ctl = harness.Qmp(qmp_ctl)
            rec = subprocess.Popen([os.path.join(harness.BUILD, "bin", "regdbg"), "record",
                                    "--qmp", qmp, "-o", os.path.join(tmp, "bench.trace")] +
                                   (["--rules", rules] if rules else []),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            shm = ctl.cmd("qom-get", path="/machine/peripheral/p0", property="shm")
            harness.wait_for(lambda: harness.RingHeader(shm).consumer_pid == rec.pid, 20,
                             "the recorder to attach")
            ctl.cmd("cont")
            ctl.close()
        out, _ = q.communicate(timeout=600)
    finally:
        if q.poll() is None:
            q.kill()
    out = out.decode(errors="replace")
    if rec:
        rout, rerr = rec.communicate(timeout=60)
        summary = rout.decode().strip()
        m = re.search(r"(\d+) events, (\d+) dropped", summary)
        if not m or int(m.group(2)) != 0:
            raise SystemExit("recorder lost events or failed: %s %s" % (summary, rerr.decode()))
    m = re.search(r"bench median read_cycles=(\d+) write_cycles=(\d+)", out)
    if not m:
        raise SystemExit("bench guest failed (%s):\n%s" % (" ".join(args), out[-2000:]))
    return int(m.group(1)), int(m.group(2))


def median_of_launches(fn):
    reads, writes = [], []
    for _ in range(LAUNCHES):
        r, w = fn()
        reads.append(r)
        writes.append(w)
    return statistics.median(reads), statistics.median(writes)


def bench_guest(accel, tmp):
    print("## guest MMIO cost under %s (cycles per 32-bit access, median of %d launches x 7 runs)"
          % (accel.upper(), LAUNCHES))
    edu = median_of_launches(lambda: guest_run(tmp, accel, "edu", "1234:11e8"))
    log = os.path.join(tmp, "memtrace.log")
    edu_trace = median_of_launches(lambda: guest_run(
        tmp, accel, "edu", "1234:11e8", extra=["-trace", "memory_region_ops_*", "-D", log]))
    proxy = median_of_launches(lambda: guest_run(tmp, accel, PROXY, "8086:0f41", record=True))
    print("%-44s %10s %10s" % ("", "read", "write"))
    print("%-44s %10d %10d" % ("edu", edu[0], edu[1]))
    print("%-44s %10d %10d" % ("edu + -trace memory_region_ops_* to a file", *edu_trace))
    print("%-44s %10d %10d" % ("regdbg-proxy + regdbg record to a file", *proxy))
    target = 1.05 if accel == "kvm" else 1.5
    rr, rw = proxy[0] / edu[0], proxy[1] / edu[1]
    print("ratio proxy/edu:        read %.3f  write %.3f  (target <= %.2f: %s)"
          % (rr, rw, target, "met" if max(rr, rw) <= target else "NOT met"))
    tr, tw = proxy[0] / edu_trace[0], proxy[1] / edu_trace[1]
    print("ratio proxy/edu+trace:  read %.3f  write %.3f  (target < 1: %s)"
          % (tr, tw, "met" if max(tr, tw) < 1 else "NOT met"))
    print()


def bench_ring(build, tmp):
    binary = os.path.join(build, "bench", "ring_bench")
    print("## ring alone: producer threads -> ring (64Ki entries) -> regdbg's consumer -> trace "
          "(median of 5, M events/s)")
    for target, label in [("/dev/null", "trace to /dev/null"),
                          (os.path.join(tmp, "ring.trace"), "trace to a file")]:
        for producers in (1, 2):
            rates, drops = [], 0
            for _ in range(5):
                out = subprocess.run([binary, str(producers), str(20000000 // producers),
                                      "65536", "lossless", target], capture_output=True,
                                     check=True).stdout.decode()
                m = re.search(r"dropped=(\d+) .*mevents_per_s=([\d.]+)", out)
                drops += int(m.group(1))
                rates.append(float(m.group(2)))
                if target != "/dev/null":
                    os.unlink(target)
            print("%-20s producers=%d  %6.2f M/s  (runs: %s)  lost: %d  target >= 20: %s"
                  % (label, producers, statistics.median(rates),
                     " ".join("%.1f" % r for r in rates), drops,
                     "met" if statistics.median(rates) >= 20 and drops == 0 else "NOT met"))
    print()


def bench_tui(tmp, accel="tcg"):
    """Keys typed into the TUI while the guest hammers the BAR (bench mode, reads and writes)."""
    qmp = os.path.join(tmp, "tui-qmp.sock")
    stats = os.path.join(tmp, "tui-stats.txt")
    serial = os.path.join(tmp, "tui-serial.log")
    q = subprocess.Popen([harness.QEMU, "-machine", "q35", "-accel", accel, "-nodefaults",
                          "-display", "none", "-m", "64", "-serial", "file:" + serial,
                          "-device", PROXY, "-kernel", harness.GUEST, "-append",
                          "dev=8086:0f41 mode=bench iters=2000000 runs=101 off=0x10",
                          "-qmp", "unix:%s,server=on,wait=off" % qmp],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tmux = ["tmux", "-L", "regdbg-bench"]
    try:
        harness.wait_for(lambda: os.path.exists(qmp), 10, "QMP socket")
        subprocess.run(tmux + ["kill-server"], stderr=subprocess.DEVNULL)
        subprocess.run(tmux + ["new-session", "-d", "-x", "120", "-y", "40",
                               "env REGDBG_TUI_STATS=%s %s attach %s" % (
                                   stats, os.path.join(harness.BUILD, "bin", "regdbg"), qmp)],
                       check=True)
        harness.wait_for(lambda: " regdbg" in subprocess.run(
            tmux + ["capture-pane", "-p"], capture_output=True, text=True).stdout, 10, "the TUI")
        time.sleep(1.0)
        t0 = time.monotonic()
        keys = ["2", "1", "3", "1", "Space", "Up", "Up", "End", "?", "Escape"] * 4
        for k in keys:
            subprocess.run(tmux + ["send-keys", k], check=True)
            time.sleep(0.15)
        subprocess.run(tmux + ["send-keys", "q"], check=True)
        harness.wait_for(lambda: os.path.exists(stats), 10, "the TUI's statistics")
        elapsed = time.monotonic() - t0 + 1.0
    finally:
        subprocess.run(tmux + ["kill-server"], stderr=subprocess.DEVNULL)
        q.kill()
        q.wait()
    lat, produced, dropped, info = [], 0, 0, {}
    with open(stats) as f:
        for line in f:
            parts = line.split()
            if parts[0] == "key_latency_ns":
                lat.append(int(parts[1]) / 1e6)
            elif parts[0] == "device":
                produced, dropped = int(parts[3]), int(parts[5])
            else:
                info[parts[0]] = int(parts[1])
    print("## TUI under load (%s guest, bench mode: reads and writes as fast as it can)"
          % accel.upper())
    print("events drained and shown: %d of %d produced, %d dropped; about %.1f M/s "
          "(target >= 1 M/s: %s)" % (info["events"], produced, dropped,
                                      info["events"] / elapsed / 1e6,
                                      "met" if info["events"] / elapsed >= 1e6 else "NOT met"))
    print("key to screen update: median %.2f ms, max %.2f ms over %d keys (target <= 50: %s)"
          % (statistics.median(lat), max(lat), len(lat), "met" if max(lat) <= 50 else "NOT met"))
    print("frames: %d, longest gap between frames %.1f ms"
          % (info["frames"], info["max_frame_gap_ns"] / 1e6))
    print("display lag: at most %d events published but not yet drained when a frame was drawn"
          % info["max_fill_at_draw"])
    print()


def bench_rules(tmp):
    """Cost of rules that do not match, and the latencies of a breakpoint."""
    print("## rules (TCG guest, bench mode at BAR0+0x4, regdbg record draining; cycles/access)")
    other = os.path.join(tmp, "other.rules")
    with open(other, "w") as f:
        for k in range(64):
            f.write("edit w bar0+0x%x set 0x1\n" % (0x800 + 4 * k))
    same = os.path.join(tmp, "same.rules")
    with open(same, "w") as f:
        for k in range(32):
            f.write("edit w bar0+0x4 set 0x1 if value == 0x%x\n" % (0xdead0000 + k))
            f.write("inject r bar0+0x4 = 0x1 if value == 0x%x\n" % (0xbeef0000 + k))
    base = median_of_launches(lambda: guest_run(tmp, "tcg", PROXY, "8086:0f41", record=True))
    r_other = median_of_launches(lambda: guest_run(tmp, "tcg", PROXY, "8086:0f41", record=True,
                                                   rules=other))
    r_same = median_of_launches(lambda: guest_run(tmp, "tcg", PROXY, "8086:0f41", record=True,
                                                  rules=same))
    print("%-52s %8s %8s" % ("", "read", "write"))
    print("%-52s %8d %8d" % ("no rules", *base))
    print("%-52s %8d %8d" % ("64 rules on other registers", *r_other))
    print("%-52s %8d %8d" % ("64 rules on this register, conditions false", *r_same))
    for label, r in [("other registers", r_other), ("same register", r_same)]:
        worst = max(r[0] / base[0], r[1] / base[1])
        print("ratio with 64 rules (%s): read %.3f write %.3f (target <= 1.05: %s)"
              % (label, r[0] / base[0], r[1] / base[1], "met" if worst <= 1.05 else "NOT met"))
    bench_park_latency(tmp)
    print()


def bench_park_latency(tmp):
    """Breakpoint to TUI (tmux), and continue to guest running again (regdbg batch)."""
    qmp = os.path.join(tmp, "park-qmp.sock")
    stats = os.path.join(tmp, "park-stats.txt")
    rules = os.path.join(tmp, "park.rules")
    with open(rules, "w") as f:
        f.write("break w IC_DATA_CMD\n")
    q = subprocess.Popen([harness.QEMU, "-machine", "q35", "-accel", "tcg", "-nodefaults",
                          "-display", "none", "-m", "64", "-device", PROXY, "-kernel",
                          harness.GUEST, "-append", "mode=i2c loops=0 delay=5",
                          "-qmp", "unix:%s,server=on,wait=off" % qmp],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tmux = ["tmux", "-L", "regdbg-bench-park"]
    try:
        harness.wait_for(lambda: os.path.exists(qmp), 10, "QMP socket")
        subprocess.run(tmux + ["new-session", "-d", "-x", "120", "-y", "40",
                               "env REGDBG_TUI_STATS=%s %s attach %s --rules %s" % (
                                   stats, os.path.join(harness.BUILD, "bin", "regdbg"), qmp,
                                   rules)], check=True)
        harness.wait_for(lambda: "PARKED" in subprocess.run(
            tmux + ["capture-pane", "-p"], capture_output=True, text=True).stdout, 20,
            "the first park")
        for _ in range(30):
            time.sleep(0.1)
            subprocess.run(tmux + ["send-keys", "c"], check=True)
        subprocess.run(tmux + ["send-keys", ":delete", "Enter"], check=True)
        time.sleep(0.2)
        subprocess.run(tmux + ["send-keys", "c", "q"], check=True)
        harness.wait_for(lambda: os.path.exists(stats), 10, "the TUI's statistics")
    finally:
        subprocess.run(tmux + ["kill-server"], stderr=subprocess.DEVNULL)
        q.kill()
        q.wait()
    shown = []
    with open(stats) as f:
        for line in f:
            if line.startswith("park_shown_ns"):
                shown.append(int(line.split()[1]) / 1e6)
    print("breakpoint hit -> TUI shows it: median %.2f ms, max %.2f ms over %d parks "
          "(target <= 20: %s)" % (statistics.median(shown), max(shown), len(shown),
                                   "met" if max(shown) <= 20 else "NOT met"))

    # continue -> guest running: the guest's next access (device time) minus the answer's time
    qmp = os.path.join(tmp, "resume-qmp.sock")
    qmp_ctl = os.path.join(tmp, "resume-ctl.sock")
    bstats = os.path.join(tmp, "resume-stats.txt")
    trace = os.path.join(tmp, "resume.trace")
    q = subprocess.Popen([harness.QEMU, "-machine", "q35", "-accel", "tcg", "-nodefaults",
                          "-display", "none", "-m", "64", "-device", PROXY, "-kernel",
                          harness.GUEST, "-append",
                          "dev=8086:0f41 mode=hammer cpus=1 count=2000000",
                          "-qmp", "unix:%s,server=on,wait=off" % qmp,
                          "-qmp", "unix:%s,server=on,wait=off" % qmp_ctl, "-S"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ctl = harness.Qmp(qmp_ctl)
        script = "break w bar0+0x100 if (value & 0x3ffff) == 0x20000\n"
        script += "".join("wait 20\ncontinue\n" for _ in range(7)) + "delete\n"
        batch = subprocess.Popen([os.path.join(harness.BUILD, "bin", "regdbg"), "batch",
                                  "--qmp", qmp, "--record", trace, "-"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=dict(os.environ, REGDBG_BATCH_STATS=bstats))
        shm = ctl.cmd("qom-get", path="/machine/peripheral/p0", property="shm")
        harness.wait_for(lambda: harness.RingHeader(shm).consumer_pid == batch.pid, 10,
                         "regdbg batch")
        ctl.cmd("cont")
        out, err = batch.communicate(script, timeout=120)
        ctl.close()
    finally:
        q.kill()
        q.wait()
    answered = [int(line.split()[2]) for line in open(bstats) if line.startswith("answered")]
    events = subprocess.run([os.path.join(harness.BUILD, "bin", "regdbg"), "dump", trace,
                             "--format", "json"], capture_output=True, text=True).stdout
    events = [json.loads(line) for line in events.splitlines()]
    resume = []
    for i, e in enumerate(events[:-1]):
        if "parked" in e["flags"] and len(resume) < len(answered):
            resume.append((events[i + 1]["t_ns"] - answered[len(resume)]) / 1e6)
    print("continue -> guest's next access: median %.3f ms, max %.3f ms over %d parks "
          "(target <= 1: %s)" % (statistics.median(resume), max(resume), len(resume),
                                  "met" if max(resume) <= 1 else "NOT met"))


def bench_hw(tmp):
    """The hw backend on a sysfs-like tree against the file backend on a plain file."""
    root = os.path.join(tmp, "sys")
    dev = os.path.join(root, "devices", "0000:00:18.1")
    os.makedirs(dev, exist_ok=True)
    with open(os.path.join(dev, "vendor"), "w") as f:
        f.write("0x8086\n")
    with open(os.path.join(dev, "device"), "w") as f:
        f.write("0x0f41\n")
    with open(os.path.join(dev, "resource"), "w") as f:
        f.write("0x0000000091a1f000 0x0000000091a1ffff 0x0000000000040200\n" +
                "0x0000000000000000 0x0000000000000000 0x0000000000000000\n" * 12)
    for path in (os.path.join(dev, "resource0"), os.path.join(tmp, "bar0.bin")):
        with open(path, "wb") as f:
            f.write(bytes(4096))
    file_dev = PROXY + ",backend=file,bar0-file=" + os.path.join(tmp, "bar0.bin")
    hw_dev = PROXY + ",backend=hw,host=0000:00:18.1,sysfs-path=" + root
    print("## hw backend on a mapped resource file vs the file backend (TCG, cycles/access)")
    f = median_of_launches(lambda: guest_run(tmp, "tcg", file_dev, "8086:0f41", record=True))
    h = median_of_launches(lambda: guest_run(tmp, "tcg", hw_dev, "8086:0f41", record=True))
    print("%-30s %8s %8s" % ("", "read", "write"))
    print("%-30s %8d %8d" % ("file backend", *f))
    print("%-30s %8d %8d" % ("hw backend (sysfs resource0)", *h))
    print("ratio hw/file: read %.3f write %.3f" % (h[0] / f[0], h[1] / f[1]))
    print()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--only", choices=["guest", "ring", "tui", "rules", "hw"])
    opts = ap.parse_args()
    os.environ.setdefault("REGDBG_BUILD", os.path.abspath(opts.build))
    tmp = tempfile.mkdtemp(prefix="regdbg-bench-")
    if opts.only in (None, "ring"):
        bench_ring(opts.build, tmp)
    if opts.only in (None, "tui"):
        bench_tui(tmp)
    if opts.only in (None, "rules"):
        bench_rules(tmp)
    if opts.only in (None, "hw"):
        bench_hw(tmp)
    if opts.only in (None, "guest"):
        bench_guest("tcg", tmp)
        if harness.kvm_usable():
            bench_guest("kvm", tmp)
        else:
            print("## KVM: /dev/kvm is not usable here; KVM ratios not measured\n")
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
