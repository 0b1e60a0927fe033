"""Bad input gets a clear error: every bad device property stops QEMU with one line naming it, and
regdbg record/dump refuse foreign, truncated or missing things with a message and the right exit
status, without crashing (the ASan+UBSan build is the one under test)."""

import os
import re
import shutil
import signal
import subprocess

from harness import (QEMU, TOP, Recorder, RingHeader, check, dump_json, parse_record_summary,
                     qemu_fails, regdbg)

BASE = "regdbg-proxy,id=p0,bar0-size=4096"

def bad_properties(tmp):
    return [
        (BASE.replace("4096", "3000"), "bar0-size=3000 (0xbb8): not a power of two"),
        # enum-valued properties: QEMU refuses the value itself (-device regdbg-proxy,help lists
        # the choices)
        (BASE + ",backend=bogus", "Parameter 'backend' does not accept value 'bogus'"),
        (BASE + ",bar0-type=mem16", "Parameter 'bar0-type' does not accept value 'mem16'"),
        (BASE + ",backend=hw,host-access=mmap", "Parameter 'host-access' does not accept value "
                                                "'mmap'"),
        (BASE + ",bar0-type=mem64,bar1-size=4096", "bar1-size: slot 1 holds the upper half of "
                                                   "64-bit BAR 0"),
        (BASE + ",bar5-size=4096,bar5-type=mem64", "bar5-type=mem64: a 64-bit BAR needs two slots"),
        (BASE + ",bar1-size=512,bar1-type=io", "bar1-size=0x200: an I/O BAR is 4 to 256 bytes"),
        (BASE + ",bar1-size=8", "bar1-size=0x8: a memory BAR is at least 16 bytes"),
        (BASE + ",bar1-size=32,bar1-type=io,bar1-prefetch=on", "bar1-prefetch=on: an I/O BAR"),
        (BASE + ",ring-entries=1000", "ring-entries=1000: expected a power of two"),
        (BASE + ",ring-entries=1", "ring-entries=1: expected a power of two"),
        (BASE + ",ring-mode=sometimes", "Parameter 'ring-mode' does not accept value "
                                        "'sometimes'"),
        (BASE + ",class-code=0x1000000", "class-code=0x1000000: a class code has 24 bits"),
        (BASE + ",consumer-timeout=0", "consumer-timeout=0"),
        (BASE + ",backend=file", "bar0-file: backend=file needs a file for every BAR"),
        (BASE + ",backend=file,bar0-file=/nonexistent-dir/x", "bar0-file=/nonexistent-dir/x: No "
                                                              "such file or directory"),
        (BASE + ",bar0-file=" + tmp("x"), "bar0-file=%s: only backend=file uses BAR files"
         % tmp("x")),
        (BASE + ",backend=file,bar0-file=%s,bar2-file=%s" % (tmp("x"), tmp("y")),
         "bar2-file=%s: BAR 2 is absent" % tmp("y")),
        (BASE + ",shm=/nonexistent-dir/ring", "shm=/nonexistent-dir/ring: cannot create the ring"),
    ]


def test_bad_properties_stop_qemu_with_one_clear_line(t):
    failures = []
    for dev, message in bad_properties(t.tmp):
        status, out = qemu_fails(t.tmp, [dev])
        lines = [line for line in out.splitlines() if line.strip()]
        if status == 0 or len(lines) != 1 or message not in lines[0] or "-device" not in lines[0]:
            failures.append("%s -> status %d, output %r (expected %r)" % (dev, status, out,
                                                                          message))
    check(not failures, "\n".join(failures))


def test_unreadable_and_short_bar_files(t):
    short = t.tmp("short.bin")
    with open(short, "wb") as f:
        f.write(b"\0" * 100)
    status, out = qemu_fails(t.tmp, [BASE + ",backend=file,bar0-file=" + short])
    check(status != 0 and "the file has 100 bytes, fewer than the 0x1000 bytes of BAR 0" in out, out)
    locked = t.tmp("locked.bin")
    with open(locked, "wb") as f:
        f.write(b"\0" * 4096)
    os.chmod(locked, 0)
    if os.geteuid() == 0:
        # root reads anything; a directory is unreadable as a BAR for everybody
        locked = t.tmp("a-directory")
        os.mkdir(locked)
    status, out = qemu_fails(t.tmp, [BASE + ",backend=file,bar0-file=" + locked])
    check(status != 0 and "bar0-file=" + locked in out, out)


def test_existing_foreign_shm_file_is_not_clobbered(t):
    path = t.tmp("precious")
    with open(path, "w") as f:
        f.write("do not delete me\n")
    status, out = qemu_fails(t.tmp, [BASE + ",shm=" + path])
    check(status != 0 and "the file exists and is not a ring left by a dead QEMU" in out, out)
    with open(path) as f:
        check(f.read() == "do not delete me\n", "the foreign file was changed")


def test_record_rejects_foreign_and_truncated_rings(t):
    foreign = t.tmp("foreign")
    with open(foreign, "wb") as f:
        f.write(os.urandom(8192))
    r = regdbg("record", "--shm", foreign, "-o", t.tmp("a.trace"))
    check(r.returncode == 1 and "is not a regdbg ring (bad magic)" in r.stderr, r.stderr)

    tiny = t.tmp("tiny")
    with open(tiny, "wb") as f:
        f.write(b"RDBG")
    r = regdbg("record", "--shm", tiny, "-o", t.tmp("a.trace"))
    check(r.returncode == 1 and "shorter than a ring header" in r.stderr, r.stderr)

    q = t.qemu([BASE + ",ring-entries=1024"])
    real = q.shm_path("/machine/peripheral/p0")
    truncated = t.tmp("truncated")
    with open(real, "rb") as f:
        data = f.read(4096 + 64 * 100)
    with open(truncated, "wb") as f:
        f.write(data)
    r = regdbg("record", "--shm", truncated, "-o", t.tmp("a.trace"))
    check(r.returncode == 1 and "is truncated: the file has 10496 bytes, its header needs %d"
          % RingHeader(real).shm_size in r.stderr, r.stderr)

    newer = t.tmp("newer")
    shutil.copy(real, newer)
    with open(newer, "r+b") as f:
        f.seek(8)
        f.write((99).to_bytes(4, "little"))
    r = regdbg("record", "--shm", newer, "-o", t.tmp("a.trace"))
    check(r.returncode == 1 and "uses ring ABI version 99; this regdbg speaks version %d"
          % RingHeader(real).abi_version in r.stderr, r.stderr)

    for bar0 in [(7, 4096), (1, 3000), (0, 4096)]:
        odd = t.tmp("odd-bar")
        shutil.copy(real, odd)
        with open(odd, "r+b") as f:
            f.seek(128)
            f.write(bar0[1].to_bytes(8, "little") + bytes([bar0[0]]))
        r = regdbg("record", "--shm", odd, "-o", t.tmp("a.trace"))
        check(r.returncode == 1 and r.stderr == "regdbg record: %s is corrupt: BAR 0 has type %d "
              "and size %d (a present BAR has type 1-3 and a power-of-two size)\n"
              % (odd, bar0[0], bar0[1]), r.stderr)

    for entries in [1000, 1, 1 << 25]:       # not a power of two; below and above the range
        odd = t.tmp("odd-entries")
        shutil.copy(real, odd)
        with open(odd, "r+b") as f:
            f.seek(20)
            f.write(entries.to_bytes(4, "little"))
        r = regdbg("record", "--shm", odd, "-o", t.tmp("a.trace"))
        check(r.returncode == 1 and r.stderr == "regdbg record: %s is corrupt: ring-entries %d "
              "is not a power of two in range\n" % (odd, entries), r.stderr)

    r = regdbg("record", "--shm", t.tmp("missing"), "-o", t.tmp("a.trace"))
    check(r.returncode == 1 and "No such file or directory" in r.stderr, r.stderr)


def test_record_qmp_without_proxy(t):
    q = t.qemu(["edu"])
    r = regdbg("record", "--qmp", q.qmp_path, "-o", t.tmp("a.trace"))
    check(r.returncode == 1 and "no regdbg-proxy device in the VM" in r.stderr, r.stderr)
    check(not os.path.exists(t.tmp("a.trace")), "an empty trace was left behind")


def test_record_chooses_among_several_proxies(t):
    # p1 has its own device id, so that the test finds each one's BAR in config space
    q = t.qemu([BASE, "regdbg-proxy,id=p1,device-id=0x00fe,bar0-size=4096"])
    r = regdbg("record", "--qmp", q.qmp_path, "-o", t.tmp("a.trace"))
    check(r.returncode == 1 and "2 regdbg-proxy devices (p0, p1); choose one with --device"
          in r.stderr, r.stderr)
    r = regdbg("record", "--qmp", q.qmp_path, "--device", "p9", "-o", t.tmp("a.trace"))
    check(r.returncode == 1 and "no regdbg-proxy with id 'p9'" in r.stderr and "p0, p1"
          in r.stderr, r.stderr)
    # --device p1 records p1's accesses, and only those; p0's ring is left alone
    p0_bar, p1_bar = 0xE0000000, 0xE0010000
    q.qtest.map_bar(q.qtest.find_device(0x1B36, 0x00FF)[0], 0, p0_bar)
    q.qtest.map_bar(q.qtest.find_device(0x1B36, 0x00FE)[0], 0, p1_bar)
    shm0 = q.shm_path("/machine/peripheral/p0")
    shm1 = q.shm_path("/machine/peripheral/p1")
    trace = t.tmp("p1.trace")
    rec = Recorder("--qmp", q.qmp_path, "--device", "p1", "-o", trace, "--count", "3")
    t.owned.append(rec)
    rec.wait_attached(shm1)
    for i in range(3):
        q.qtest.write(p0_bar + 0x20 + 4 * i, 4, 0xA0 + i)
        q.qtest.write(p1_bar + 0x10 + 4 * i, 4, 0xB0 + i)
    status, out, err = rec.finish(timeout=20)
    check(status == 0 and err == "", "record --device p1: %d %s" % (status, err))
    summary = parse_record_summary(out)
    check((summary["events"], summary["dropped"], summary["file"]) == (3, 0, trace), out)
    events = dump_json(trace)
    check([(e["dev"], e["dir"], e["bar"], e["off"], e["value"]) for e in events] ==
          [("p1", "w", 0, 0x10 + 4 * i, 0xB0 + i) for i in range(3)],
          "record --device p1 recorded %r" % events)
    h0 = RingHeader(shm0)
    check((h0.head, h0.tail, h0.consumer_pid) == (3, 0, 0),
          "p0's ring: head %d tail %d consumer %d" % (h0.head, h0.tail, h0.consumer_pid))


def test_record_dead_qemu(t):
    q = t.qemu([BASE])
    q.proc.send_signal(signal.SIGKILL)
    q.proc.wait()
    r = regdbg("record", "--qmp", q.qmp_path, "-o", t.tmp("a.trace"))
    check(r.returncode == 1 and q.qmp_path in r.stderr, r.stderr)
    r = regdbg("record", "--qmp", t.tmp("never-existed.sock"), "-o", t.tmp("a.trace"))
    check(r.returncode == 1 and "never-existed.sock" in r.stderr, r.stderr)


def test_record_not_a_qmp_socket(t):
    import socket
    import threading
    path = t.tmp("liar.sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(1)

    def serve():
        conn, _ = srv.accept()
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
        conn.recv(100)
        conn.close()
    th = threading.Thread(target=serve, daemon=True)
    th.start()
    r = regdbg("record", "--qmp", path, "-o", t.tmp("a.trace"), timeout=30)
    check(r.returncode == 1 and "greeting" in r.stderr.lower(), r.stderr)
    srv.close()


def _getopt_names(path, after):
    """The long option names of the first getopt table (struct option NAME[] = {...}) that
    begins at or after the text `after` (a function's head, or the table's name) in a file."""
    with open(os.path.join(TOP, path)) as f:
        src = f.read()
    start = src.rindex("\n", 0, src.index(after))
    m = re.search(r"struct option \w+\[\] = \{(.*?)\n\s*\};", src[start:], re.S)
    check(m, "no getopt table after %r in %s" % (after, path))
    return set(re.findall(r'\{ "([a-z-]+)",', m.group(1)))


# command: (first line of --help, options on its usage lines, options described one a line (but
# for those with a short form, -o, --output), the getopt table they must cover: file, text it
# follows, options of the table the command refuses or its usage lines give in short: -o FILE)
HELPS = {
    "batch": ("usage: regdbg batch --qmp SOCKET [--device ID] [--map FILE]... [--record F] "
              "[--keep]", {"qmp", "device", "map", "record", "keep", "symbols"},
              {"device", "map", "record", "keep", "symbols"},
              ("debugger/cli/batch.c", "int cmd_batch(", set())),
    "launch": ("usage: regdbg launch [--kvm|--tcg] [--map FILE]... [--rules FILE] "
               "[--scrollback N]", {"kvm", "tcg", "map", "rules", "scrollback", "gdb",
                                    "symbols"},
               {"kvm", "tcg", "map", "rules", "scrollback", "gdb", "symbols"},
               ("debugger/cli/interactive.c", "common_opts[]", set())),
    "attach": ("usage: regdbg attach SOCKET [--map FILE]... [--rules FILE] [--scrollback N]",
               {"map", "rules", "scrollback", "symbols"}, {"symbols"},
               ("debugger/cli/interactive.c", "common_opts[]", {"kvm", "tcg", "gdb"})),
    "record": ("usage: regdbg record (--qmp SOCKET [--device ID] [--start] | --shm PATH) -o FILE",
               {"qmp", "device", "start", "shm", "count", "duration", "rules", "symbols"},
               {"qmp", "device", "start", "shm", "count", "duration", "rules", "symbols"},
               ("debugger/cli/record.c", "int cmd_record(", {"output"})),
    "dump": ("usage: regdbg dump FILE [--format text|json|csv] [--follow] [--map FILE]...",
             {"format", "follow", "map", "symbols"}, {"format", "map", "symbols"},
             ("debugger/cli/dump.c", "int cmd_dump(", set())),
    "export": ("usage: regdbg export TRACE --format mmiotrace [-o FILE] [--bar N=ADDRESS]...",
               {"format", "bar"}, {"format", "bar"},
               ("debugger/cli/export.c", "int cmd_export(", {"output"})),
    "import": ("usage: regdbg import mmiotrace FILE -o TRACE [--device VVVV:DDDD|BB:DD.F]",
               {"device"}, {"device"}, ("debugger/cli/import.c", "int cmd_import(", {"output"})),
    "map": ("usage: regdbg map import HEADER.h [--prefix TEXT] [--strip TEXT] [--id VVVV:DDDD]...",
            {"prefix", "strip", "id", "name"}, {"prefix", "strip", "id", "name"},
            ("debugger/cli/map.c", "int cmd_map(", {"output"})),
    "qemu-args": ("usage: regdbg qemu-args DEVICE [--sysfs DIR | --dump FILE] "
                  "[--readconfig FILE] [--id ID]", {"sysfs", "dump", "readconfig", "id"},
                  {"sysfs", "dump", "readconfig", "id"},
                  ("debugger/cli/scan.c", "int cmd_qemu_args(", set())),
}


def test_help_of_batch_launch_attach_and_qemu_args(t):
    """`regdbg CMD --help` and `regdbg help CMD` print the same text on stdout, exit 0: its
    exact first line, on the usage lines exactly the options of the command's getopt table
    (less those it refuses), and the options described one a line."""
    for cmd, (first, usage_opts, described, (path, after, refused)) in HELPS.items():
        r = regdbg(cmd, "--help")
        check(r.returncode == 0 and r.stderr == "", "%s --help: %d %s" % (cmd, r.returncode,
                                                                         r.stderr))
        lines = r.stdout.splitlines()
        check(lines[0] == first, "%s --help begins %r, not %r" % (cmd, lines[0], first))
        usage = lines[:lines.index("")]
        got = set(re.findall(r"--([a-z-]+)", " ".join(usage)))
        check(got == usage_opts, "%s --help: the usage lines name %s, not %s"
              % (cmd, sorted(got), sorted(usage_opts)))
        table = _getopt_names(path, after) - {"help"} - refused
        check(table == usage_opts, "%s takes %s (%s), its help lists %s" % (
            cmd, sorted(table), path, sorted(usage_opts)))
        got = {m for ln in lines for m in re.findall(r"^  --([a-z-]+)", ln)}
        got |= {m for ln in lines for m in re.findall(r"^  --[a-z-]+, --([a-z-]+)", ln)}
        check(got == described, "%s --help describes %s, not %s" % (cmd, sorted(got),
                                                                     sorted(described)))
        check(r.stdout.endswith("\n") and "\t" not in r.stdout and
              max(len(ln) for ln in lines) <= 100, "%s --help: layout" % cmd)
        again = regdbg("help", cmd)
        check((again.returncode, again.stdout, again.stderr) == (0, r.stdout, ""),
              "regdbg help %s differs from %s --help" % (cmd, cmd))
    # the options refused are refused as such, with a pointer to the help
    r = regdbg("attach", "--kvm", "sock")
    check((r.returncode, r.stderr) == (2, "regdbg attach: --kvm is for launch; try 'regdbg "
                                          "attach --help'\n"), r.stderr)


def test_usage_errors_and_help(t):
    for args, needle in [
        ([], "usage: regdbg COMMAND"),
        (["frobnicate"], 'unknown command "frobnicate"'),
        (["record"], "-o FILE is required"),
        (["record", "-o", "x"], "give exactly one of --qmp SOCKET and --shm PATH"),
        (["record", "-o", "x", "--shm", "y", "--count", "-3"], "--count needs a positive"),
        (["record", "-o", "x", "--shm", "y", "--duration", "soon"], "--duration needs"),
        (["record", "--bogus"], "unknown option"),
        (["dump"], "give exactly one trace FILE"),
        (["dump", "a", "--format", "xml"], "--format xml: expected text, json or csv"),
    ]:
        r = regdbg(*args)
        check(r.returncode == 2 and needle in r.stderr, "%r -> %d %r" % (args, r.returncode,
                                                                        r.stderr))
    r = regdbg("--help")
    check(r.returncode == 0 and "record" in r.stdout and "dump" in r.stdout and "example"
          in r.stdout, r.stdout)
    for cmd in ["record", "dump"]:
        r = regdbg(cmd, "--help")
        check(r.returncode == 0 and r.stdout.startswith("usage: regdbg " + cmd) and "example"
              in r.stdout, r.stdout)


def test_dump_damaged_files(t):
    q = t.qemu([BASE])
    # A real recording of 5 events to damage.
    from harness import Recorder
    trace = t.tmp("good.trace")
    q.qtest.map_bar(q.qtest.find_device(0x1B36, 0x00FF)[0], 0, 0xE0000000)
    rec = Recorder("--qmp", q.qmp_path, "-o", trace, "--count", "5")
    rec.wait_attached(q.shm_path("/machine/peripheral/p0"))
    for i in range(5):
        q.qtest.write(0xE0000000 + 4 * i, 4, i)
    status, out, err = rec.finish()
    check(status == 0, err)
    with open(trace, "rb") as f:
        data = f.read()
    cut = t.tmp("cut.trace")
    check(data[256] == 0x06, "the recording begins with where BAR0 is: kind 0x%02x" % data[256])
    with open(cut, "wb") as f:
        # the BAR's place, a full record, two short ones, a piece
        f.write(data[:256 + 32 + 64 + 2 * 32 + 10])
    r = regdbg("dump", cut)
    check(r.returncode == 1 and len(r.stdout.splitlines()) == 4 and "truncated" in r.stderr,
          "truncated: %d %r %r" % (r.returncode, r.stdout, r.stderr))
    r = regdbg("dump", cut, "--format", "json")
    check(r.returncode == 1 and len(r.stdout.splitlines()) == 3, r.stderr)
    r = regdbg("dump", QEMU)
    check(r.returncode == 1 and "not a regdbg trace file" in r.stderr, r.stderr)
    r = regdbg("dump", t.tmp("nothing-here"))
    check(r.returncode == 1 and "No such file" in r.stderr, r.stderr)
    # A recording that was killed has no end record: still readable, with a note.
    unfinished = t.tmp("unfinished.trace")
    with open(unfinished, "wb") as f:
        f.write(data[:256 + 32 + 64 + 4 * 32])
    r = regdbg("dump", unfinished)
    check(r.returncode == 0 and len(r.stdout.splitlines()) == 6 and "no end record"
          in r.stderr, r.stderr)


def test_dump_follow_ends_with_the_recording(t):
    q = t.qemu([BASE])
    from harness import Recorder, SAN_ENV, REGDBG, wait_for
    q.qtest.map_bar(q.qtest.find_device(0x1B36, 0x00FF)[0], 0, 0xE0000000)
    trace = t.tmp("follow.trace")
    rec = Recorder("--qmp", q.qmp_path, "-o", trace, "--count", "100000")
    rec.wait_attached(q.shm_path("/machine/peripheral/p0"))
    follower = subprocess.Popen([REGDBG, "dump", "--follow", "--format", "json", trace],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=dict(os.environ, **SAN_ENV))
    t.owned.append(type("K", (), {"kill": lambda self: follower.kill()})())
    for i in range(300):
        q.qtest.write(0xE0000000, 4, i)
    wait_for(lambda: os.path.getsize(trace) > 256, 10, "the recording to reach the file")
    status, out, err = rec.finish(sig=signal.SIGINT)
    check(status == 0 and "300 events" in out, out + err)
    try:
        fout, ferr = follower.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        raise AssertionError("dump --follow did not stop at the end of the recording")
    lines = fout.decode().splitlines()
    check(follower.returncode == 0 and len(lines) == 300, "follow printed %d lines: %s"
          % (len(lines), ferr.decode()))


def test_usage_errors_are_one_line(t):
    """A bad option, a missing value or a misspelt command: one line on stderr that names it (and
    at most a hint on the same line), exit status 2; QEMU's arguments given to launch before
    "--" are recognised as such."""
    for args, line in [
        (["launch", "-machine", "q35", "-m", "64"],
         'regdbg launch: QEMU\'s arguments follow "--": regdbg launch [OPTIONS] -- -machine q35 ...'),
        (["launch", "--tcg", "-kernel", "fw.elf", "--", "-m", "64"],
         'regdbg launch: QEMU\'s arguments follow "--": regdbg launch [OPTIONS] -- -kernel fw.elf ...'),
        (["launch", "--map"], "regdbg launch: option --map needs a value; try 'regdbg launch --help'"),
        (["launch", "--kvm=yes", "--", "-m", "64"],
         "regdbg launch: option --kvm takes no value; try 'regdbg launch --help'"),
        (["attach", "--bogus", "sock"],
         "regdbg attach: unknown option '--bogus'; try 'regdbg attach --help'"),
        (["attach", "-x", "sock"], "regdbg attach: unknown option '-x'; try 'regdbg attach --help'"),
        (["attach", "--tcg", "sock"], "regdbg attach: --tcg is for launch; try 'regdbg attach --help'"),
        (["attach"], "regdbg attach: give the QMP SOCKET; try 'regdbg attach --help'"),
        (["launch", "--tcg"], "regdbg launch: give QEMU's arguments after --; try 'regdbg launch "
         "--help'"),
        (["record", "--bogus"], "regdbg record: unknown option '--bogus'; try 'regdbg record --help'"),
        (["record", "-o"], "regdbg record: option -o needs a value; try 'regdbg record --help'"),
        (["record", "--qmp"], "regdbg record: option --qmp needs a value; try 'regdbg record --help'"),
        (["record"], "regdbg record: -o FILE is required; try 'regdbg record --help'"),
        (["dump", "-q", "x"], "regdbg dump: unknown option '-q'; try 'regdbg dump --help'"),
        (["dump"], "regdbg dump: give exactly one trace FILE; try 'regdbg dump --help'"),
        (["batch", "--nope", "x"], "regdbg batch: unknown option '--nope'; try 'regdbg batch --help'"),
        (["batch", "x"], "regdbg batch: give --qmp SOCKET and one SCRIPT; try 'regdbg batch --help'"),
        (["scan", "--dump"], "regdbg scan: option --dump needs a value; try 'regdbg scan --help'"),
        (["scan", "extra"], "regdbg scan: unexpected argument 'extra'; try 'regdbg scan --help'"),
        (["qemu-args", "--bogus", "8086:0f41"],
         "regdbg qemu-args: unknown option '--bogus'; try 'regdbg qemu-args --help'"),
        (["recrod", "-o", "x"], 'regdbg: unknown command "recrod"; did you mean "record"?'),
        (["lanch"], 'regdbg: unknown command "lanch"; did you mean "launch"?'),
        (["help", "dmup"], 'regdbg: unknown command "dmup"; did you mean "dump"?'),
        (["frobnicate"], 'regdbg: unknown command "frobnicate"; \'regdbg --help\' lists the '
         "commands"),
        (["--bogus"], "regdbg: unknown option '--bogus'; try 'regdbg --help'"),
    ]:
        r = regdbg(*args)
        check(r.returncode == 2 and r.stderr == line + "\n" and r.stdout == "",
              "regdbg %s -> %d\nstderr %r\nwanted %r" % (" ".join(args), r.returncode, r.stderr,
                                                         line + "\n"))


def test_version(t):
    """regdbg --version (and regdbg version): the version, defined once in debugger/version.h,
    with the shared-memory ABI and trace format versions the program speaks."""
    def define(path, name):
        with open(os.path.join(TOP, path)) as f:
            m = re.search(r"#define %s\s+(\S+)" % name, f.read())
        check(m, "%s does not define %s" % (path, name))
        return m.group(1).strip('"').rstrip("u")
    want = "regdbg %s (shared-memory ABI %s, trace format %s)\n" % (
        define("debugger/version.h", "REGDBG_VERSION"),
        define("include/regdbg/abi.h", "REGDBG_ABI_VERSION"),
        define("debugger/trace_file.h", "REGDBG_TRACE_VERSION"))
    for args in (["--version"], ["version"]):
        r = regdbg(*args)
        check(r.returncode == 0 and r.stdout == want and r.stderr == "",
              "regdbg %s -> %d %r %r (wanted %r)" % (" ".join(args), r.returncode, r.stdout,
                                                     r.stderr, want))
    r = regdbg("--help")
    check("regdbg --version" in r.stdout, "--help does not mention --version")


def test_device_help_lists_the_choices_of_enum_properties(t):
    r = subprocess.run([QEMU, "-device", "regdbg-proxy,help"], capture_output=True, text=True,
                       timeout=30)
    out = r.stdout
    for line in ["backend=<RegdbgBackend> - where accesses go (none/file/hw) (default: none)",
                 "bar3-type=<RegdbgBarType> - BAR type (mem32/mem64/io) (default: mem32)",
                 "ring-mode=<RegdbgRingMode> - full ring: the guest waits, or events drop "
                 "(lossless/lossy) (default: lossless)",
                 "host-access=<RegdbgHostAccess> - backend=hw: BARs through sysfs or /dev/mem "
                 "(sysfs/devmem) (default: sysfs)"]:
        check("  " + line + "\n" in out, "missing from -device regdbg-proxy,help: %s\n%s"
              % (line, out))
