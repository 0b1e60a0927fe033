"""Nothing outside QEMU can crash or hang it: another process truncating the ring or a BAR file,
a BAR file on a filesystem that runs out of space, malformed or blocking sysfs-like input, a
second user taking the ring's name first, and a fake consumer that moves the tail without freeing
slots. QEMU must survive each (its QMP still answering), or refuse at start with one clear line."""

import os
import subprocess
import threading
import time

from harness import QEMU, HeldRing, RingHeader, check, qemu_fails

BAR = 0xE0000000
I2C = "regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,bar0-size=16384"


def proxy(t, dev, extra=()):
    q = t.qemu([dev], extra=list(extra))
    bdf = q.qtest.find_device(0x8086, 0x0F41)[0]
    q.qtest.map_bar(bdf, 0, BAR)
    return q


def alive(q):
    check(q.proc.poll() is None, "QEMU died (status %s):\n%s" % (q.proc.returncode, q.output()))
    check(q.qmp.cmd("query-status")["status"] == "running", "QMP does not answer")


def test_the_ring_cannot_be_shrunk_or_grown(t):
    q = proxy(t, I2C)
    path = q.shm_path("/machine/peripheral/i2c0")
    check(path == "/proc/%d/fd/%s" % (q.proc.pid, path.rsplit("/", 1)[1]),
          "the ring is not QEMU's own memfd: %s" % path)
    h = RingHeader(path)
    for size in (0, h.events_offset + 64, h.shm_size + 4096):
        try:
            os.truncate(path, size)
            check(False, "truncating the ring to %d bytes succeeded" % size)
        except PermissionError:
            pass
    with open(path, "r+b") as f:
        try:
            f.truncate(4096)
            check(False, "ftruncate of the ring succeeded")
        except PermissionError:
            pass
    for i in range(8):
        q.qtest.write(BAR + 4 * i, 4, i)
    alive(q)
    check(RingHeader(path).head == 8 and os.stat(path).st_size == h.shm_size,
          "the ring after the attempts: head %d" % RingHeader(path).head)


def test_no_ring_name_for_another_user_to_take(t):
    """The default ring has no name in a shared folder: nothing to create first. shm=PATH is a
    link to the memfd; a name that exists and is not our own dead link is refused, never used."""
    before = set(os.listdir("/dev/shm"))
    q = proxy(t, I2C)
    check(not [n for n in set(os.listdir("/dev/shm")) - before if n.startswith("regdbg")],
          "a ring appeared in /dev/shm")
    check(oct(os.stat(q.shm_path("/machine/peripheral/i2c0")).st_mode & 0o777) == "0o600",
          "ring mode")
    q.kill()

    link = t.tmp("named-ring")
    q = t.qemu([I2C + ",shm=" + link], name="named")
    check(os.readlink(link).startswith("/proc/%d/fd/" % q.proc.pid), os.readlink(link))
    check(RingHeader(link).qemu_pid == q.proc.pid, "the link does not lead to the ring")
    try:
        os.truncate(link, 0)
        check(False, "truncating through shm=PATH succeeded")
    except PermissionError:
        pass
    q.qmp.cmd("quit")
    q.wait(20)
    check(not os.path.lexists(link), "shm=PATH left behind after quit")

    # another user's name at the path: refused with one line, left alone
    squat = t.tmp("squatted")
    os.symlink("/proc/1/fd/0", squat)
    status, out = qemu_fails(t.tmp, [I2C + ",shm=" + squat])
    check(status != 0 and "shm=%s: the file exists and is not a ring left by a dead QEMU" % squat
          in out, out)
    check(os.readlink(squat) == "/proc/1/fd/0", "the squatter's link was changed")


def test_stale_link_of_a_killed_qemu_is_replaced(t):
    link = t.tmp("ring")
    q = t.qemu([I2C + ",shm=" + link], name="first")
    q.proc.kill()
    q.proc.wait()
    check(os.path.lexists(link), "a SIGKILLed QEMU cannot remove its link")
    q2 = t.qemu([I2C + ",shm=" + link], name="second")
    check(RingHeader(link).qemu_pid == q2.proc.pid, "ring not recreated")


def test_file_backend_bar_truncated_under_qemu(t):
    path = t.tmp("bar0.bin")
    with open(path, "wb") as f:
        f.write(bytes(range(256)) * 64)
    q = proxy(t, I2C + ",backend=file,bar0-file=" + path, ["-d", "guest_errors"])
    q.qtest.write(BAR + 0x10, 4, 0x11223344)
    os.truncate(path, 8192)                  # cut: pages 2 and 3 are gone
    check(q.qtest.read(BAR + 0x10, 4) == 0x11223344, "page 0 is still the file")
    check(q.qtest.read(BAR + 0x3000, 4) == 0, "past the cut the BAR reads 0")
    q.qtest.write(BAR + 0x2004, 4, 0xDEAD)   # lost: nothing may grow the file again
    alive(q)
    check(os.path.getsize(path) == 8192, "the BAR grew the file again")
    os.truncate(path, 0)                     # an editor saving the file in place
    check(q.qtest.read(BAR + 0x10, 4) == 0, "after truncation to 0")
    q.qtest.write(BAR + 0x10, 8, 0x0102030405060708)
    alive(q)
    log = q.output()
    check(log.count("regdbg-proxy: BAR0: bar0-file=%s was truncated while in use; past its new "
                    "end the BAR reads 0 and writes are lost" % path) == 1, log)


def test_hw_resource_file_truncated_under_qemu(t):
    root = t.tmp("sys")
    dev = os.path.join(root, "devices", "0000:00:18.1")
    os.makedirs(dev)
    for name, value in [("vendor", "0x8086"), ("device", "0x0f41"), ("enable", "0")]:
        with open(os.path.join(dev, name), "w") as f:
            f.write(value + "\n")
    with open(os.path.join(dev, "config"), "wb") as f:
        f.write(bytes.fromhex("8680410f") + bytes(252))
    with open(os.path.join(dev, "resource"), "w") as f:
        f.write("0x0000000091a1c000 0x0000000091a1ffff 0x0000000000040200\n" +
                "0x0000000000000000 0x0000000000000000 0x0000000000000000\n" * 12)
    res0 = os.path.join(dev, "resource0")
    with open(res0, "wb") as f:
        f.write(b"\x5a" * 16384)
    q = proxy(t, I2C + ",backend=hw,host=00:18.1,sysfs-path=" + root, ["-d", "guest_errors"])
    check(q.qtest.read(BAR + 0x100, 4) == 0x5A5A5A5A, "resource0 before")
    os.truncate(res0, 0)
    check(q.qtest.read(BAR + 0x100, 4) == 0, "resource0 truncated")
    q.qtest.write(BAR + 0x104, 4, 1)
    alive(q)
    check("resource0 was truncated while in use" in q.output(), q.output())


def test_bar_file_space_is_reserved_at_start(t):
    """A sparse 1 MiB BAR file on a 64 KiB tmpfs: refused at start, not killed at the 17th page
    the guest writes."""
    mnt = t.tmp("small-tmpfs")
    os.mkdir(mnt)
    bar = os.path.join(mnt, "bar0.bin")
    dev = ("regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,bar0-size=1M,backend=file,"
           "bar0-file=" + bar)
    args = [QEMU, "-machine", "q35", "-nodefaults", "-display", "none", "-accel", "qtest",
            "-qtest", "unix:%s,server=on,wait=off" % t.tmp("q.sock"), "-device", dev]
    unshare = ["unshare", "--mount"] + ([] if os.geteuid() == 0 else ["--map-root-user"])
    script = ('mount -t tmpfs -o size=64k regdbg-test "$1" && shift && "$@"; s=$?; '
              'ls "$0"; exit $s')
    r = subprocess.run(unshare + ["sh", "-c", script, mnt, mnt] + args, capture_output=True,
                       timeout=30, stdin=subprocess.DEVNULL)
    out = (r.stdout + r.stderr).decode(errors="replace")
    check(r.returncode == 1 and "bar0-file=%s: cannot reserve the 0x100000 bytes of BAR 0 on its "
          "filesystem: No space left on device" % bar in out, out)
    check("bar0.bin" not in r.stdout.decode(), "the file QEMU created was left behind: " + out)


def sysfs_device(root, resource_lines):
    dev = os.path.join(root, "devices", "0000:00:18.1")
    os.makedirs(dev)
    for name, value in [("vendor", "0x8086"), ("device", "0x0f41"), ("enable", "0")]:
        with open(os.path.join(dev, name), "w") as f:
            f.write(value + "\n")
    with open(os.path.join(dev, "config"), "wb") as f:
        f.write(bytes.fromhex("8680410f") + bytes(252))
    if resource_lines is not None:
        with open(os.path.join(dev, "resource"), "w") as f:
            f.write("".join(line + "\n" for line in resource_lines))
    with open(os.path.join(dev, "resource0"), "wb") as f:
        f.write(b"\0" * 16384)
    return dev


HW = I2C + ",backend=hw,host=00:18.1,sysfs-path="
BAR0_LINE = "0x0000000091a1c000 0x0000000091a1ffff 0x0000000000040200"
EMPTY_LINE = "0x0000000000000000 0x0000000000000000 0x0000000000000000"


def test_malformed_sysfs_resource_tables_are_refused(t):
    cases = [
        ([BAR0_LINE, EMPTY_LINE, EMPTY_LINE], "resource: 3 lines; a PCI device's resource table "
                                              "has a line for each of its 6 BARs"),
        ([], "resource: 0 lines; a PCI device's resource table"),
        ([BAR0_LINE, "0x0 0x0"] + [EMPTY_LINE] * 11, "resource: line 2 is \"0x0 0x0\", not "
                                                     "\"START END FLAGS\" in hexadecimal"),
        ([BAR0_LINE, "zz 0x0 0x0"] + [EMPTY_LINE] * 11, "resource: line 2 is \"zz 0x0 0x0\""),
        (["0x2000 0x1000 0x200"] + [EMPTY_LINE] * 12, "resource: line 1 ends (0x1000) before it "
                                                      "starts (0x2000)"),
    ]
    for i, (lines, message) in enumerate(cases):
        root = t.tmp("sys%d" % i)
        sysfs_device(root, lines)
        status, out = qemu_fails(t.tmp, [HW + root])
        check(status == 1 and message in out and len(out.strip().splitlines()) == 1,
              "case %d: status %d: %s" % (i, status, out))


def test_fifos_in_a_sysfs_tree_never_block_setup(t):
    """A FIFO has no writer: reading it would block device setup forever."""
    root = t.tmp("sys-fifo")
    dev = sysfs_device(root, None)
    os.mkfifo(os.path.join(dev, "resource"))
    status, out = qemu_fails(t.tmp, [HW + root])
    check(status == 1 and "resource: cannot read the host device's BARs (not a regular file)"
          in out, out)

    root = t.tmp("sys-fifo2")
    dev = sysfs_device(root, [BAR0_LINE] + [EMPTY_LINE] * 12)
    os.unlink(os.path.join(dev, "resource0"))
    os.mkfifo(os.path.join(dev, "resource0"))
    status, out = qemu_fails(t.tmp, [HW + root])
    check(status == 1 and "resource0: not a regular file" in out, out)

    # a FIFO as another device's vendor file, while looking the device up by id
    root = t.tmp("sys-fifo3")
    sysfs_device(root, [BAR0_LINE] + [EMPTY_LINE] * 12)
    other = os.path.join(root, "devices", "0000:00:19.0")
    os.makedirs(other)
    os.mkfifo(os.path.join(other, "vendor"))
    q = t.qemu([I2C + ",backend=hw,host=8086:0f41,sysfs-path=" + root])
    alive(q)


def test_fake_consumer_cannot_hold_the_guest(t):
    """Another process posing as the consumer moves the tail back and forth without freeing a
    slot. One access waits at most consumer-timeout; after that, accesses drop without waiting
    until the ring has really drained (before, every access waited as long as the tail moved)."""
    q = proxy(t, I2C + ",ring-entries=4,consumer-timeout=300")
    ring = HeldRing(q.shm_path("/machine/peripheral/i2c0"))
    fd = os.open(ring.path, os.O_RDWR)
    stop = threading.Event()
    os.pwrite(fd, os.getpid().to_bytes(4, "little"), 328)          # consumer_pid

    def nudge():
        tails = [0, (1 << 64) - 2]       # both leave the ring full: no slot is freed
        i = 0
        while not stop.is_set():
            os.pwrite(fd, tails[i % 2].to_bytes(8, "little"), 320)  # tail
            i += 1
            time.sleep(0.01)
    th = threading.Thread(target=nudge, daemon=True)
    th.start()
    try:
        for i in range(4 + 20):
            q.qtest.write(BAR + 0x10, 4, i)
    finally:
        stop.set()
        th.join()
        os.close(fd)
    h = RingHeader(ring)
    check(h.head == 4 and h.dropped == 20 and h.waits == 1,
          "head %d dropped %d waits %d" % (h.head, h.dropped, h.waits))
    alive(q)
    ring.close()


test_fake_consumer_cannot_hold_the_guest.timeout = 60
