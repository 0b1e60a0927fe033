"""The hw backend on sysfs-like trees of regular files (never a device of this machine): accesses
reach resourceN with the guest's exact width and offset, I/O BARs go through their resource file,
host-access=devmem maps the BAR's address in a /dev/mem stand-in, a device with a driver bound is
refused unless force=on, and a BAR layout that differs is reported. The backend handles the
device like its owner: it writes 1 to `enable` if nobody had enabled it, turns on the decoding
its BARs need and turns bus master off in the host's command register (`config`), keeps the
guest's command register apart, and puts back what it found when QEMU exits. (Regular files do
not act like sysfs: writing `enable` changes nothing else here; tests/integration/test_hwbed.py
does the same on a real device.)"""

import os

from harness import check, qemu_fails
from sysfs_tree import IO, MEM, MEM64_PF, make_device, read_bytes

BAR = 0xE0000000


def baytrail_tree(t):
    root = t.tmp("sys-bus-pci")
    make_device(root, "0000:00:18.1", 0x8086, 0x0F41, [(0x91A1F000, 0x1000, MEM)])
    return root


def test_hw_accesses_reach_resource_files_exactly(t):
    root = baytrail_tree(t)
    res0 = os.path.join(root, "devices", "0000:00:18.1", "resource0")
    before = open(res0, "rb").read()
    q = t.qemu(["regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,bar0-size=4096,"
                "backend=hw,host=00:18.1,sysfs-path=" + root])
    bdf = q.qtest.find_device(0x8086, 0x0F41)[0]
    q.qtest.map_bar(bdf, 0, BAR)
    for size, off in [(1, 0x3), (2, 0x6), (4, 0x10), (8, 0x18), (4, 0x22)]:
        got = q.qtest.read(BAR + off, size)
        check(got == int.from_bytes(before[off:off + size], "little"),
              "read%d at 0x%x: 0x%x" % (size, off, got))
    writes = [(1, 0x101, 0xAB), (2, 0x202, 0xBEEF), (4, 0x304, 0xDEADBEEF),
              (8, 0x408, 0x0102030405060708), (4, 0x512, 0x11223344)]
    for size, off, val in writes:
        q.qtest.write(BAR + off, size, val)
    after = bytearray(open(res0, "rb").read())
    expect = bytearray(before)
    for size, off, val in writes:
        expect[off:off + size] = val.to_bytes(size, "little")
    check(after == expect, "resource0 differs at %r" % [i for i in range(len(after))
                                                       if after[i] != expect[i]][:8])


def test_hw_by_vendor_device_and_io_bar(t):
    root = t.tmp("sys")
    d = make_device(root, "0000:02:00.0", 0x10EC, 0x8168,
                    [(0xE000, 0x100, IO), None, (0xF7D00000, 0x1000, 0x00140204), None,
                     (0xF0000000, 0x4000, MEM64_PF)])
    q = t.qemu(["regdbg-proxy,id=nic,vendor-id=0x10ec,device-id=0x8168,bar0-size=256,"
                "bar0-type=io,bar2-size=4096,bar2-type=mem64,bar4-size=16384,bar4-type=mem64,"
                "bar4-prefetch=on,backend=hw,host=10ec:8168,sysfs-path=" + root])
    bdf = q.qtest.find_device(0x10EC, 0x8168)[0]
    q.qtest.map_bar(bdf, 0, 0xC000)
    q.qtest.map_bar(bdf, 4, 0xE0100000)
    io = os.path.join(d, "resource0")
    expect = read_bytes(io, 0x10, 4)
    check(q.qtest.inp(0xC000 + 0x10, 4) == expect, "I/O read through resource0")
    q.qtest.out(0xC000 + 0x38, 2, 0x55AA)
    check(read_bytes(io, 0x38, 2) == 0x55AA, "I/O write through resource0")
    q.qtest.write(0xE0100000 + 0x3FF8, 8, 0xCAFEBABE12345678)
    check(read_bytes(os.path.join(d, "resource4"), 0x3FF8, 8) == 0xCAFEBABE12345678,
          "64-bit prefetchable BAR write")


def test_hw_devmem(t):
    root = baytrail_tree(t)
    mem = t.tmp("mem")
    with open(mem, "wb") as f:     # a sparse stand-in for /dev/mem up to the BAR
        f.truncate(0x91A1F000 + 0x1000)
        f.seek(0x91A1F000 + 0x40)
        f.write(b"\x78\x56\x34\x12")
    q = t.qemu(["regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,bar0-size=4096,"
                "backend=hw,host=0000:00:18.1,host-access=devmem,devmem-path=%s,sysfs-path=%s"
                % (mem, root)])
    bdf = q.qtest.find_device(0x8086, 0x0F41)[0]
    q.qtest.map_bar(bdf, 0, BAR)
    check(q.qtest.read(BAR + 0x40, 4) == 0x12345678, "devmem read at the BAR's address")
    q.qtest.write(BAR + 0x44, 4, 0xA5A5A5A5)
    check(read_bytes(mem, 0x91A1F000 + 0x44, 4) == 0xA5A5A5A5, "devmem write")


def test_hw_refusals(t):
    root = t.tmp("sys")
    make_device(root, "0000:00:18.1", 0x8086, 0x0F41, [(0x91A1F000, 0x1000, MEM)])
    make_device(root, "0000:00:18.2", 0x8086, 0x0F41, [(0x91A1E000, 0x1000, MEM)])
    make_device(root, "0000:03:00.0", 0x10EC, 0x8168, [(0xE000, 0x100, IO)], driver="r8169")
    base = "regdbg-proxy,vendor-id=0x8086,device-id=0x0f41,bar0-size=4096,backend=hw,sysfs-path="
    cases = [
        (base + root + ",host=8086:0f41",
         "host=8086:0f41: 2 devices match (0000:00:18.1, 0000:00:18.2); give the bus address"),
        (base + root + ",host=1234:5678", "host=1234:5678: no such PCI device in"),
        (base + root + ",host=00:1f.0", "host=00:1f.0: no PCI device 0000:00:1f.0 in"),
        (base + root + ",host=0000:00:18.1,bar0-size=8192".replace(",bar0-size=4096", ""),
         "bar0-size=0x2000 but BAR 0 of the host device 0000:00:18.1 is 0x1000 bytes"),
        (base + root + ",host=0000:00:18.1,bar0-type=io,bar0-size=256".replace(
            ",bar0-size=4096", ""), "bar0-size=0x100 but BAR 0 of the host device"),
        (base + root + ",host=0000:00:18.1,bar2-size=4096",
         "bar2-size=0x1000 but BAR 2 of the host device 0000:00:18.1 is 0x0 bytes"),
        (base + root + ",host=0000:03:00.0", "host=0000:03:00.0: the host device 0000:03:00.0 "
         "is bound to the driver r8169; unbind it first (echo 0000:03:00.0 > "
         "/sys/bus/pci/drivers/r8169/unbind) or set force=on"),
        (base + root + ",host=0000:00:18.1,host-access=mmio", "Parameter 'host-access' does not "
         "accept value 'mmio'"),
        (base.replace(",sysfs-path=", "") + ",host=8086:0f41,sysfs-path=" + t.tmp("none"),
         "no devices/ folder there"),
        (base.replace(",sysfs-path=", ""), "host: backend=hw needs host="),
    ]
    bad = []
    for dev, message in cases:
        status, out = qemu_fails(t.tmp, [dev])
        if status == 0 or message not in out:
            bad.append("%s\n  -> %d %r\n  expected %r" % (dev, status, out, message))
    check(not bad, "\n".join(bad))
    # force=on takes the bound device anyway
    q = t.qemu(["regdbg-proxy,id=nic,vendor-id=0x10ec,device-id=0x8168,bar0-size=256,"
                "bar0-type=io,backend=hw,host=0000:03:00.0,force=on,sysfs-path=" + root])
    check(q.proc.poll() is None, "force=on")


def test_qemu_args_output_drives_the_hw_backend(t):
    """regdbg qemu-args on (a copy of) the fixture tree prints options that start QEMU with the
    hw backend: the guest sees the cloned identity and its writes land in the resource file."""
    import shlex
    import shutil
    from harness import TOP, regdbg
    root = t.tmp("sysfs")
    shutil.copytree(os.path.join(TOP, "tests", "fixtures", "sysfs"), root, symlinks=True)
    r = regdbg("qemu-args", "10ec:8168", "--sysfs", root)
    check(r.returncode == 1 and "0000:02:00.0" in r.stderr and "0000:03:00.0" in r.stderr,
          "two RTL8111s: %r" % r.stderr)
    r = regdbg("qemu-args", "0000:02:00.0", "--sysfs", root)
    check(r.returncode == 0, r.stderr)
    words = shlex.split(r.stdout)
    check(words[0] == "-device" and "backend=hw" in words[1], r.stdout)
    q = t.qemu([words[1] + ",id=nic"])
    bdf = q.qtest.find_device(0x10EC, 0x8168)[0]
    check(q.qtest.cfg_read(bdf, 0x2C) == (0x8554 << 16) | 0x1043, "subsystem ids")
    check(q.qtest.bar_size(bdf, 4)[0] == 0x4000, "BAR4 size")
    q.qtest.map_bar(bdf, 2, 0xE0200000)
    q.qtest.write(0xE0200000 + 0x20, 4, 0x600DF00D)
    check(read_bytes(os.path.join(root, "devices", "0000:02:00.0", "resource2"), 0x20, 4) ==
          0x600DF00D, "the write did not reach resource2")


def host_state(d):
    """(enable as written there, the command register in config) of a device folder"""
    with open(os.path.join(d, "enable")) as f:
        enable = f.read()
    return enable, read_bytes(os.path.join(d, "config"), 4, 2)


def quit_qemu(q):
    """QEMU exits as it does when the guest or the user ends it (not killed): QMP quit"""
    q.qmp.cmd("quit")
    check(q.wait(20) == 0, "QEMU exit status %r: %s" % (q.proc.returncode, q.output()))


def test_hw_enables_the_device_and_puts_it_back(t):
    """Found disabled, with decoding off and bus master and INTx disable on: the backend writes 1
    to enable, turns memory decoding on and bus master off and leaves INTx disable alone; the
    guest's own command register never reaches the host; at exit enable is 0 again and the
    command register is as found."""
    root = t.tmp("sys")
    d = make_device(root, "0000:00:18.1", 0x8086, 0x0F41, [(0x91A1F000, 0x1000, MEM)],
                    command=0x0404)
    q = t.qemu(["regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,bar0-size=4096,"
                "backend=hw,host=00:18.1,sysfs-path=" + root])
    check(host_state(d) == ("1\n", 0x0402), "while QEMU runs: %r" % (host_state(d),))
    bdf = q.qtest.find_device(0x8086, 0x0F41)[0]
    q.qtest.map_bar(bdf, 0, BAR)
    check(q.qtest.cfg_read(bdf, 0x04, 2) & 0x3 == 0x3, "the guest's decoding")
    for guest_cmd in (0x0404, 0x0000, 0x0007):      # the guest's bus master, INTx disable, off
        q.qtest.cfg_write(bdf, 0x04, 2, guest_cmd)
        check(q.qtest.cfg_read(bdf, 0x04, 2) == guest_cmd, "the guest's own command register")
        check(host_state(d) == ("1\n", 0x0402), "the guest wrote 0x%04x to its command register "
              "and the host's changed: %r" % (guest_cmd, host_state(d)))
    check(q.qtest.read(BAR + 0x10, 4) == read_bytes(os.path.join(d, "resource0"), 0x10, 4),
          "a read through the BAR")
    quit_qemu(q)
    check(host_state(d) == ("0\n", 0x0404), "after QEMU: %r" % (host_state(d),))


def test_hw_device_enabled_by_others_stays_enabled(t):
    """Found enabled (enable 1) with its I/O decoding off: the backend turns on the I/O and memory
    decoding its BARs need, and at exit puts back the command register but leaves enable at 1."""
    root = t.tmp("sys")
    d = make_device(root, "0000:02:00.0", 0x10EC, 0x8168,
                    [(0xE000, 0x100, IO), None, (0xF7D00000, 0x1000, 0x00140204)],
                    command=0x0000, enable=1)
    q = t.qemu(["regdbg-proxy,id=nic,vendor-id=0x10ec,device-id=0x8168,bar0-size=256,"
                "bar0-type=io,bar2-size=4096,bar2-type=mem64,backend=hw,host=10ec:8168,"
                "sysfs-path=" + root])
    check(host_state(d) == ("1\n", 0x0003), "while QEMU runs: %r" % (host_state(d),))
    quit_qemu(q)
    check(host_state(d) == ("1\n", 0x0000), "after QEMU: %r" % (host_state(d),))


def test_hw_leaves_a_driver_bound_device_and_refused_ones_alone(t):
    """A device a driver holds (force=on) is the driver's: enable and the command register are
    left as they are, during and after. A refused start changes nothing: a layout that differs
    is refused first, a BAR that cannot be mapped after enabling, which is put back. A device
    folder without enable is refused, naming the file."""
    root = t.tmp("sys")
    bound = make_device(root, "0000:03:00.0", 0x10EC, 0x8168, [(0xE000, 0x100, IO)],
                        driver="r8169", command=0x0405)
    free = make_device(root, "0000:00:18.1", 0x8086, 0x0F41, [(0x91A1F000, 0x1000, MEM)],
                       command=0x0000)
    q = t.qemu(["regdbg-proxy,id=nic,vendor-id=0x10ec,device-id=0x8168,bar0-size=256,"
                "bar0-type=io,backend=hw,host=0000:03:00.0,force=on,sysfs-path=" + root])
    check(host_state(bound) == ("1\n", 0x0405), "force=on: %r" % (host_state(bound),))
    quit_qemu(q)
    check(host_state(bound) == ("1\n", 0x0405), "force=on, after: %r" % (host_state(bound),))
    status, out = qemu_fails(t.tmp, ["regdbg-proxy,vendor-id=0x8086,device-id=0x0f41,"
                                     "bar0-size=8192,backend=hw,host=00:18.1,sysfs-path=" + root])
    check(status == 1 and "bar0-size=0x2000 but BAR 0" in out, out)
    check(host_state(free) == ("0\n", 0x0000), "after a refusal: %r" % (host_state(free),))
    # refused after it enabled the device (resource0 is not a file it can map): put back
    res0 = os.path.join(free, "resource0")
    os.unlink(res0)
    os.mkfifo(res0)
    status, out = qemu_fails(t.tmp, ["regdbg-proxy,vendor-id=0x8086,device-id=0x0f41,"
                                     "bar0-size=4096,backend=hw,host=00:18.1,sysfs-path=" + root])
    check(status == 1 and "resource0: not a regular file" in out, out)
    check(host_state(free) == ("0\n", 0x0000), "after a refusal at the mapping: %r"
          % (host_state(free),))
    os.unlink(os.path.join(free, "enable"))
    status, out = qemu_fails(t.tmp, ["regdbg-proxy,vendor-id=0x8086,device-id=0x0f41,"
                                     "bar0-size=4096,backend=hw,host=00:18.1,sysfs-path=" + root])
    check(status == 1 and "host=00:18.1: %s/enable: cannot tell whether the host device is "
          "enabled (No such file or directory)" % free in out, out)
