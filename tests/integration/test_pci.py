"""Host PCI discovery on the fixtures (tests/fixtures/sysfs, a sysfs-like tree of regular files,
and tests/fixtures/lspci-dump.txt, the same devices as `lspci -x` prints them; never a device of
this machine): `regdbg scan` shows ids, names, BARs and drivers; `regdbg qemu-args` prints the
exact regdbg-proxy option for each device, refuses ambiguous, unknown and size-less ones, writes
-readconfig files; and the option it prints, backend stripped, gives the guest a config space
with the cloned identity and BAR layout."""

import os
import shlex

from harness import TOP, check, regdbg

SYSFS = os.path.join(TOP, "tests", "fixtures", "sysfs")
DUMP = os.path.join(TOP, "tests", "fixtures", "lspci-dump.txt")

I2C_NAME = "Atom Processor Z36xxx/Z37xxx Series LPIO2 I2C Controller #1"
RTL_NAME = "RTL8111/8168/8411 PCI Express Gigabit Ethernet Controller"

# What `regdbg scan --sysfs` prints for each fixture device.
SCAN_SYSFS = {
    "0000:00:18.1": """\
0000:00:18.1 8086:0f41 Intel Corporation %s
  subsystem: 8086:7270 Intel Corporation
  class: 0x0c8000 Serial bus controller
  revision: 0x0e
  BAR0: mem32 at 0x90a1c000, size 0x1000 (4 KiB)
  no driver""" % I2C_NAME,
    "0000:02:00.0": """\
0000:02:00.0 10ec:8168 Realtek Semiconductor Co., Ltd. %s
  subsystem: 1043:8554 ASUSTeK Computer Inc. H81M-C Motherboard
  class: 0x020000 Ethernet controller
  revision: 0x0c
  BAR0: io at 0xe000, size 0x100 (256 bytes)
  BAR2: mem64 at 0xf7c00000, size 0x1000 (4 KiB)
  BAR4: mem64 prefetchable at 0xf2100000, size 0x4000 (16 KiB)
  no driver""" % RTL_NAME,
    "0000:03:00.0": """\
0000:03:00.0 10ec:8168 Realtek Semiconductor Co., Ltd. %s
  subsystem: 10ec:8168 Realtek Semiconductor Co., Ltd. RTL8111/8168 PCI Express Gigabit \
Ethernet controller
  class: 0x020000 Ethernet controller
  revision: 0x06
  BAR0: io at 0xd000, size 0x100 (256 bytes)
  BAR2: mem64 at 0xf7b00000, size 0x1000 (4 KiB)
  BAR4: mem64 prefetchable at 0xf2000000, size 0x4000 (16 KiB)
  driver: r8169""" % RTL_NAME,
    "0000:04:00.0": """\
0000:04:00.0 8086:10d3 Intel Corporation 82574L Gigabit Network Connection
  subsystem: 8086:a01f Intel Corporation Gigabit CT Desktop Adapter
  class: 0x020000 Ethernet controller
  revision: 0x00
  BAR0: mem32 at 0xf7a00000, size 0x20000 (128 KiB)
  BAR2: io at 0xc000, size 0x20 (32 bytes)
  BAR3: mem32 at 0xf7a20000, size 0x4000 (16 KiB)
  driver: e1000e""",
}

IDENT = {
    "0000:00:18.1": "vendor-id=0x8086,device-id=0x0f41,subsystem-vendor-id=0x8086,"
                    "subsystem-id=0x7270,class-code=0x0c8000,revision=0x0e",
    "0000:02:00.0": "vendor-id=0x10ec,device-id=0x8168,subsystem-vendor-id=0x1043,"
                    "subsystem-id=0x8554,class-code=0x020000,revision=0x0c",
    "0000:03:00.0": "vendor-id=0x10ec,device-id=0x8168,subsystem-vendor-id=0x10ec,"
                    "subsystem-id=0x8168,class-code=0x020000,revision=0x06",
    "0000:04:00.0": "vendor-id=0x8086,device-id=0x10d3,subsystem-vendor-id=0x8086,"
                    "subsystem-id=0xa01f,class-code=0x020000,revision=0x00",
}
RTL_BARS = ("bar0-size=0x100,bar0-type=io,bar2-size=0x1000,bar2-type=mem64,bar4-size=0x4000,"
            "bar4-type=mem64,bar4-prefetch=on")
BARS = {
    "0000:00:18.1": "bar0-size=0x1000",
    "0000:02:00.0": RTL_BARS,
    "0000:03:00.0": RTL_BARS,
    "0000:04:00.0": "bar0-size=0x20000,bar2-size=0x20,bar2-type=io,bar3-size=0x4000",
}
# How qemu-args names each device in these tests
SPEC = {"0000:00:18.1": "8086:0f41", "0000:02:00.0": "02:00.0", "0000:03:00.0": "0000:03:00.0",
        "0000:04:00.0": "8086:10d3"}
DRIVER = {"0000:03:00.0": "r8169", "0000:04:00.0": "e1000e"}

# What the guest must see: (vendor, device, subvendor, subdevice, class, revision) and the BARs
# as {slot: (size, "mem32" | "mem64" | "io", prefetchable)}; other slots absent, except the
# upper half of a 64-bit BAR.
GUEST = {
    "0000:00:18.1": ((0x8086, 0x0F41, 0x8086, 0x7270, 0x0C8000, 0x0E),
                     {0: (0x1000, "mem32", False)}),
    "0000:02:00.0": ((0x10EC, 0x8168, 0x1043, 0x8554, 0x020000, 0x0C),
                     {0: (0x100, "io", False), 2: (0x1000, "mem64", False),
                      4: (0x4000, "mem64", True)}),
    "0000:03:00.0": ((0x10EC, 0x8168, 0x10EC, 0x8168, 0x020000, 0x06),
                     {0: (0x100, "io", False), 2: (0x1000, "mem64", False),
                      4: (0x4000, "mem64", True)}),
    "0000:04:00.0": ((0x8086, 0x10D3, 0x8086, 0xA01F, 0x020000, 0x00),
                     {0: (0x20000, "mem32", False), 2: (0x20, "io", False),
                      3: (0x4000, "mem32", False)}),
}

HW_KEYS = ("backend", "host", "sysfs-path")


def expected_option(addr, sysfs=SYSFS):
    return "regdbg-proxy,%s,%s,backend=hw,host=%s,sysfs-path=%s" % (IDENT[addr], BARS[addr], addr,
                                                                     sysfs)


def blocks(out):
    """scan's output as {bus address: block}"""
    return {b.split(" ", 1)[0]: b.strip("\n") for b in out.strip("\n").split("\n\n")}


def qemu_args(*args):
    """The word after -device in qemu-args' output."""
    r = regdbg("qemu-args", *args)
    check(r.returncode == 0, "qemu-args %s failed (%d): %s" % (" ".join(args), r.returncode,
                                                               r.stderr))
    words = shlex.split(r.stdout)
    check(len(words) == 2 and words[0] == "-device", "qemu-args printed %r" % r.stdout)
    return words[1], r.stderr


def strip_backend(option):
    """The option with backend=hw and its settings taken out: backend none."""
    check(",," not in option, "escaped comma in %r" % option)
    return ",".join(p for p in option.split(",") if p.split("=", 1)[0] not in HW_KEYS)


def test_scan_sysfs_shows_ids_names_bars_drivers(t):
    r = regdbg("scan", "--sysfs", SYSFS)
    check(r.returncode == 0, "scan failed: " + r.stderr)
    check(r.stderr == "", "scan warned: " + r.stderr)
    got = blocks(r.stdout)
    check(list(got) == sorted(SCAN_SYSFS), "devices, in order: %r" % list(got))
    for addr, want in SCAN_SYSFS.items():
        check(got.get(addr) == want, "scan block of %s:\n%s\nexpected\n%s" % (addr, got.get(addr),
                                                                               want))


def test_scan_dump_has_no_sizes_nor_drivers(t):
    r = regdbg("scan", "--dump", DUMP)
    check(r.returncode == 0, "scan --dump failed: " + r.stderr)
    got = blocks(r.stdout)
    check(list(got) == sorted(SCAN_SYSFS), "devices, in order: %r" % list(got))
    for addr, sysfs_block in SCAN_SYSFS.items():
        want = []
        for line in sysfs_block.splitlines():
            if line.startswith("  BAR"):
                line = line.split(", size")[0] + ", size unknown"
            elif line in ("  no driver", "  driver: r8169", "  driver: e1000e"):
                line = "  driver: unknown (a dump does not tell)"
            want.append(line)
        check(got.get(addr) == "\n".join(want), "dump block of %s:\n%s\nexpected\n%s"
              % (addr, got.get(addr), "\n".join(want)))


def test_scan_errors(t):
    missing = t.tmp("no-such-dir")
    r = regdbg("scan", "--sysfs", missing)
    check(r.returncode == 1 and r.stdout == "", "missing folder: %d %r" % (r.returncode, r.stdout))
    check("regdbg scan: cannot open %s/devices: No such file or directory" % missing in r.stderr,
          "missing folder: " + r.stderr)
    os.makedirs(t.tmp("junk/devices/readme"))
    r = regdbg("scan", "--sysfs", t.tmp("junk"))
    check(r.returncode == 1 and "devices/readme: not a PCI device" in r.stderr,
          "junk folder: %d %s" % (r.returncode, r.stderr))
    with open(t.tmp("bad-dump.txt"), "w") as f:
        f.write("00:18.1 Serial bus controller\n00: 86 80 41 0f 02 00 zz\n")
    r = regdbg("scan", "--dump", t.tmp("bad-dump.txt"))
    check(r.returncode == 1 and "bad-dump.txt: dump: Malformed line" in r.stderr,
          "corrupt dump: %d %s" % (r.returncode, r.stderr))
    r = regdbg("scan", "--sysfs", SYSFS, "--dump", DUMP)
    check(r.returncode == 2 and "at most one of --sysfs DIR and --dump FILE" in r.stderr,
          "both sources: %d %s" % (r.returncode, r.stderr))
    r = regdbg("scan", "--help")
    check(r.returncode == 0 and "example" in r.stdout, "scan --help")


def test_qemu_args_for_each_device(t):
    for addr, spec in SPEC.items():
        option, err = qemu_args(spec, "--sysfs", SYSFS)
        check(option == expected_option(addr), "qemu-args %s:\n%s\nexpected\n%s"
              % (spec, option, expected_option(addr)))
        if addr in DRIVER:
            check("%s is bound to %s" % (addr, DRIVER[addr]) in err, "no unbind note: " + err)
        else:
            check(err == "", "stderr: " + err)
    # a relative --sysfs becomes absolute; --id goes first
    r = regdbg("qemu-args", "00:18.1", "--id", "i2c0", "--sysfs",
               os.path.relpath(SYSFS, os.getcwd()))
    check(r.returncode == 0 and r.stdout == "-device " + expected_option("0000:00:18.1").replace(
        "regdbg-proxy,", "regdbg-proxy,id=i2c0,") + "\n", "relative --sysfs, --id: " + r.stdout)


def test_qemu_args_sysfs_path_with_comma_and_space(t):
    odd = t.tmp("a b,c")
    os.makedirs(odd)
    os.symlink(os.path.join(SYSFS, "devices"), os.path.join(odd, "devices"))
    r = regdbg("qemu-args", "8086:0f41", "--sysfs", odd)
    check(r.returncode == 0, "qemu-args failed: " + r.stderr)
    check(r.stdout == "-device '%s'\n" % expected_option("0000:00:18.1", odd.replace(",", ",,")),
          "quoting and escaping: " + r.stdout)


def test_qemu_args_errors(t):
    cases = [
        (["10ec:8168", "--sysfs", SYSFS], 1,
         "%s: 2 devices are 10ec:8168: 0000:02:00.0, 0000:03:00.0; give the bus address of one "
         "instead" % SYSFS),
        (["8086:0f42", "--sysfs", SYSFS], 1, "%s: no device 8086:0f42" % SYSFS),
        (["0000:00:18.2", "--sysfs", SYSFS], 1, "no device at 0000:00:18.2"),
        (["8086:0f41", "--sysfs", t.tmp("nowhere")], 1, "nowhere: No such file or directory"),
        (["8086:0f41", "--sysfs", os.path.dirname(SYSFS)], 1,
         "cannot open %s/devices" % os.path.dirname(SYSFS)),
        (["8086:0f41", "--dump", DUMP], 1, "a dump does not record BAR sizes, which the proxy "
                                           "needs; run regdbg qemu-args"),
        (["10ec:8168", "--dump", DUMP], 1, "2 devices are 10ec:8168"),
        (["00:18", "--sysfs", SYSFS], 2, "'00:18' is neither vendor:device"),
        # an empty field is not 0
        ([":0f41", "--sysfs", SYSFS], 2, "':0f41' is neither vendor:device"),
        (["8086:", "--sysfs", SYSFS], 2, "'8086:' is neither vendor:device"),
        (["00:.1", "--sysfs", SYSFS], 2, "'00:.1' is neither vendor:device"),
        ([":18.1", "--sysfs", SYSFS], 2, "':18.1' is neither vendor:device"),
        (["--sysfs", SYSFS], 2, "DEVICE (vendor:device or a bus address) is required"),
        (["8086:0f41", "8086:10d3", "--sysfs", SYSFS], 2, "unexpected argument"),
        (["8086:0f41", "--sysfs", SYSFS, "--dump", DUMP], 2, "at most one of"),
        (["8086:0f41", "--sysfs", SYSFS, "--id", "9lives"], 2, "--id: a letter"),
    ]
    for args, status, message in cases:
        r = regdbg("qemu-args", *args)
        check(r.returncode == status and r.stdout == "",
              "qemu-args %s: status %d (expected %d), stdout %r" % (" ".join(args), r.returncode,
                                                                    status, r.stdout))
        check(message in r.stderr, "qemu-args %s: %r lacks %r" % (" ".join(args), r.stderr,
                                                                   message))


def check_guest_view(q, addr, bdf):
    (vendor, device, subvendor, subdevice, cls, rev), bars = GUEST[addr]
    qt = q.qtest
    check(qt.cfg_read(bdf, 0x00) == (device << 16) | vendor, "%s: ids 0x%08x"
          % (addr, qt.cfg_read(bdf, 0x00)))
    check(qt.cfg_read(bdf, 0x2C) == (subdevice << 16) | subvendor, "%s: subsystem 0x%08x"
          % (addr, qt.cfg_read(bdf, 0x2C)))
    check(qt.cfg_read(bdf, 0x08) == (cls << 8) | rev, "%s: class/revision 0x%08x"
          % (addr, qt.cfg_read(bdf, 0x08)))
    upper_halves = {slot + 1 for slot, (_, kind, _) in bars.items() if kind == "mem64"}
    for slot in range(6):
        if slot in upper_halves:
            continue
        size, old = qt.bar_size(bdf, slot)
        if slot not in bars:
            check(size == 0, "%s: BAR%d should be absent (size 0x%x)" % (addr, slot, size))
            continue
        want_size, kind, prefetch = bars[slot]
        got_kind = "io" if old & 1 else "mem64" if old & 0x6 == 0x4 else "mem32"
        check((size, got_kind) == (want_size, kind), "%s: BAR%d is 0x%x %s, expected 0x%x %s"
              % (addr, slot, size, got_kind, want_size, kind))
        check(kind == "io" or bool(old & 0x8) == prefetch, "%s: BAR%d prefetchable: %s"
              % (addr, slot, bool(old & 0x8)))


def find_clone(q, addr):
    (vendor, device, subvendor, subdevice, _, _), _ = GUEST[addr]
    found = [bdf for bdf in q.qtest.find_device(vendor, device)
             if q.qtest.cfg_read(bdf, 0x2C) == (subdevice << 16) | subvendor]
    check(len(found) == 1, "%s: clone not found once in the guest (%r)" % (addr, found))
    return found[0]


def test_printed_option_starts_qemu_with_cloned_config_space(t):
    options = {addr: strip_backend(qemu_args(spec, "--sysfs", SYSFS)[0])
               for addr, spec in SPEC.items()}
    q = t.qemu(list(options.values()))
    for addr in SPEC:
        check_guest_view(q, addr, find_clone(q, addr))


def test_readconfig_file_starts_qemu(t):
    cfg = t.tmp("nic.cfg")
    r = regdbg("qemu-args", "02:00.0", "--sysfs", SYSFS, "--readconfig", cfg, "--id", "nic0")
    check(r.returncode == 0, "qemu-args --readconfig failed: " + r.stderr)
    check(r.stdout == 'regdbg qemu-args: wrote [device "nic0"] cloning 0000:02:00.0 (10ec:8168) '
          'to %s; start QEMU with -readconfig %s\n' % (cfg, cfg), "note: " + r.stdout)
    with open(cfg) as f:
        text = f.read()
    section = [line for line in text.splitlines() if not line.startswith("#")]
    want = ['[device "nic0"]', '  driver = "regdbg-proxy"']
    want += ['  %s = "%s"' % tuple(kv.split("=", 1))
             for kv in expected_option("0000:02:00.0").split(",")[1:]]
    check(section == want, "readconfig file:\n%s\nexpected\n%s" % ("\n".join(section),
                                                                    "\n".join(want)))
    # QEMU reads it; without the hw settings (backend none) the guest sees the clone
    stripped = t.tmp("nic-none.cfg")
    with open(stripped, "w") as f:
        f.write("".join(line + "\n" for line in text.splitlines()
                        if line.split("=")[0].strip() not in HW_KEYS))
    q = t.qemu([], extra=["-readconfig", stripped])
    check_guest_view(q, "0000:02:00.0", find_clone(q, "0000:02:00.0"))
    check(q.qmp.cmd("qom-get", path="/machine/peripheral/nic0", property="vendor-id") == 0x10EC,
          "the section's name is not the device's id")
    # the default id
    r = regdbg("qemu-args", "8086:0f41", "--sysfs", SYSFS, "--readconfig", t.tmp("i2c.cfg"))
    check(r.returncode == 0 and '[device "regdbg0"]' in open(t.tmp("i2c.cfg")).read(),
          "default id: " + r.stderr)
