"""Sysfs-like trees of regular files for the hw backend's tests (tests/integration/test_hw.py,
test_dma.py): a device folder shaped like /sys/bus/pci/devices/ADDR (vendor, device, enable,
config, resource, resourceN, a driver link). Regular files do not act like sysfs: writing one
changes nothing else."""

import os
import struct

def make_device(root, addr, vendor, device, bars, driver=None, command=0x0002, enable=None):
    """A device folder like /sys/bus/pci/devices/ADDR: bars is a list of (start, size, flags);
    config holds the ids and the command register, enable says 1 when a driver is bound."""
    d = os.path.join(root, "devices", addr)
    os.makedirs(d)
    if enable is None:
        enable = 1 if driver else 0
    for name, value in [("vendor", "0x%04x" % vendor), ("device", "0x%04x" % device),
                        ("enable", "%d" % enable)]:
        with open(os.path.join(d, name), "w") as f:
            f.write(value + "\n")
    with open(os.path.join(d, "config"), "wb") as f:
        f.write(struct.pack("<HHH", vendor, device, command) + bytes(250))
    lines = []
    for i in range(13):
        start, size, flags = bars[i] if i < len(bars) and bars[i] else (0, 0, 0)
        end = start + size - 1 if size else 0
        lines.append("0x%016x 0x%016x 0x%016x" % (start, end, flags))
        if size and i < 6:
            with open(os.path.join(d, "resource%d" % i), "wb") as f:
                f.write(bytes((k * 13 + i) & 0xFF for k in range(size)))
    with open(os.path.join(d, "resource"), "w") as f:
        f.write("\n".join(lines) + "\n")
    if driver:
        os.symlink("../../../../bus/pci/drivers/" + driver, os.path.join(d, "driver"))
    return d


MEM = 0x00040200          # IORESOURCE_MEM | IORESOURCE_SIZEALIGN
IO = 0x00040101
MEM64_PF = 0x00142204     # MEM | MEM_64 | PREFETCH


def read_bytes(path, off, n):
    with open(path, "rb") as f:
        f.seek(off)
        return int.from_bytes(f.read(n), "little")
