"""host-irq=uio on sysfs-like trees of regular files (never a device of this machine): what the
proxy refuses, and what `regdbg qemu-args` prints for a device bound to uio_pci_generic with an
MSI capability. The interrupts themselves need a real device and its real uio device:
tests/integration/test_hwbed.py has them."""

import os
import shlex
import shutil
import struct

from harness import TOP, Skip, check, qemu_fails, regdbg

BASE = ("regdbg-proxy,vendor-id=0x8086,device-id=0x0f41,bar0-size=4096,backend=hw,"
        "host=0000:00:18.1,sysfs-path=")
ADDR = "0000:00:18.1"
BIND = ("bind it: modprobe uio_pci_generic; echo uio_pci_generic > /sys/bus/pci/devices/%s/"
        "driver_override; echo %s > /sys/bus/pci/drivers_probe" % (ADDR, ADDR))


def tree(t, driver=None, msi=False):
    """A copy of the fixture tree; its BayTrail I2C (0000:00:18.1) bound to driver, with an MSI
    capability at 0x50 if msi"""
    root = t.tmp("sysfs-%s-%d" % (driver, msi))
    shutil.copytree(os.path.join(TOP, "tests", "fixtures", "sysfs"), root, symlinks=True)
    dev = os.path.join(root, "devices", ADDR)
    if driver:
        os.symlink("../../../../bus/pci/drivers/" + driver, os.path.join(dev, "driver"))
    if msi:
        with open(os.path.join(dev, "config"), "r+b") as f:
            f.seek(6)
            status = struct.unpack("<H", f.read(2))[0]
            f.seek(6)
            f.write(struct.pack("<H", status | 0x10))      # capabilities list
            f.seek(0x34)
            f.write(bytes([0x50]))
            f.seek(0x50)
            f.write(bytes([0x05, 0x00, 0x80, 0x00]))        # MSI, last, 64-bit
    return root, dev


def refused(t, dev):
    status, out = qemu_fails(t.tmp, [dev])
    check(status == 1, "QEMU started (%d): %s" % (status, out))
    return out


def test_host_irq_refusals(t):
    """host-irq=uio wants backend=hw and the device bound to uio_pci_generic: bound to no driver
    or to another one, it is refused with the commands that bind it; bound, its uio device must
    be there and open. Without host-irq=uio, uio_pci_generic is a driver like any other."""
    out = refused(t, "regdbg-proxy,host-irq=uio")
    check("host-irq=uio: only backend=hw has a host device whose interrupt could reach the guest"
          in out, out)
    out = refused(t, "regdbg-proxy,host-irq=msi")
    check("Parameter 'host-irq' does not accept value 'msi'" in out, out)
    root, _ = tree(t)
    out = refused(t, BASE + root + ",host-irq=uio")
    check(out.rstrip().endswith("host=0000:00:18.1: host-irq=uio needs the host device %s bound "
                                "to uio_pci_generic, and no driver holds it; %s" % (ADDR, BIND)),
          out)
    root, _ = tree(t, "i2c_designware")
    out = refused(t, BASE + root + ",host-irq=uio,force=on")
    check(out.rstrip().endswith(
        "host=0000:00:18.1: host-irq=uio needs the host device %s bound to uio_pci_generic, but "
        "the driver i2c_designware holds it; unbind it (echo %s > /sys/bus/pci/drivers/"
        "i2c_designware/unbind), then %s" % (ADDR, ADDR, BIND)), out)
    root, dev = tree(t, "uio_pci_generic")
    out = refused(t, BASE + root)
    check(out.rstrip().endswith(
        "host=0000:00:18.1: the host device %s is bound to the driver uio_pci_generic; unbind it "
        "first (echo %s > /sys/bus/pci/drivers/uio_pci_generic/unbind) or set force=on; or give "
        "its interrupt to the guest with host-irq=uio" % (ADDR, ADDR)), out)
    out = refused(t, BASE + root + ",host-irq=uio")
    check("host=0000:00:18.1: host-irq=uio: %s/uio: the host device has no uio device" % dev in
          out and out.rstrip().endswith("is it bound to uio_pci_generic?"), out)
    if os.path.exists("/dev/uio4242"):
        raise Skip("/dev/uio4242 exists on this machine: a uio device of its own, not opened")
    os.makedirs(os.path.join(dev, "uio", "uio4242"))
    out = refused(t, BASE + root + ",host-irq=uio")
    check("host=0000:00:18.1: host-irq=uio: /dev/uio4242: QEMU must be able to read the host "
          "device's uio device (run it as root, or give its user /dev/uio4242): No such file or "
          "directory" in out, out)
    # a refusal after the backend took the device puts it back: enable as found
    with open(os.path.join(dev, "enable")) as f:
        check(f.read().strip() == "0", "enable after the refusals")


def test_qemu_args_of_a_device_bound_to_uio_pci_generic(t):
    """qemu-args adds host-irq=uio for a device bound to uio_pci_generic (its note says what it
    gives, instead of asking to unbind it) and msi=on for a device with an MSI capability; a
    device bound to another driver gets neither, and the note to unbind it."""
    root, _ = tree(t, "uio_pci_generic", msi=True)
    r = regdbg("qemu-args", "8086:0f41", "--sysfs", root)
    words = shlex.split(r.stdout)
    check(r.returncode == 0 and len(words) == 2 and
          words[1].endswith(",backend=hw,host=%s,host-irq=uio,msi=on,sysfs-path=%s"
                            % (ADDR, root)), "qemu-args: %d %r %r" % (r.returncode, r.stdout,
                                                                     r.stderr))
    check(r.stderr == "regdbg qemu-args: note: %s is bound to uio_pci_generic: host-irq=uio "
          "gives its interrupt to the guest\n" % ADDR, r.stderr)
    root, _ = tree(t, "i2c_designware")
    r = regdbg("qemu-args", "8086:0f41", "--sysfs", root)
    check(r.returncode == 0 and "host-irq" not in r.stdout and "msi=" not in r.stdout and
          "note: %s is bound to i2c_designware; backend=hw needs it unbound" % ADDR in r.stderr,
          "qemu-args: %r %r" % (r.stdout, r.stderr))
