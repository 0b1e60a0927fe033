/*
 * Host PCI discovery through libpci: the identity, names (pci.ids), BAR layout and bound driver of
 * every device of a sysfs tree (/sys/bus/pci or a copy of it) or of an `lspci -x` dump. It only
 * reads config space and sysfs attributes, never a BAR.
 */
#ifndef REGDBG_PCI_SCAN_H
#define REGDBG_PCI_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCI_SCAN_NUM_BARS 6
#define PCI_SCAN_DEFAULT_SYSFS "/sys/bus/pci"

struct pci_bar_desc {
    uint64_t addr;              /* bus address, without the type bits */
    uint64_t size;              /* 0 unless size_known */
    bool present;               /* false also for the upper half of a 64-bit BAR */
    bool io, mem64, prefetch;
    bool size_known;            /* sysfs knows the sizes; a dump does not */
};

struct pci_dev_desc {
    char addr[16];              /* "0000:00:18.1" */
    uint16_t vendor, device, subvendor, subdevice;
    uint32_t class_code;        /* 24-bit: class, subclass, programming interface */
    uint8_t revision;
    char vendor_name[128];      /* from pci.ids; "" when unknown */
    char device_name[128];
    char subsys_name[128];      /* subsystem vendor, then subsystem device when known */
    char class_name[128];
    char driver[64];            /* the driver bound to it; "" for none or unknown */
    bool driver_known;          /* false for a dump, which cannot tell */
    bool msi;                   /* it has an MSI capability (in the config space it shows) */
    struct pci_bar_desc bar[PCI_SCAN_NUM_BARS];
};

/*
 * Every PCI device of sysfs_dir (the folder holding devices/, like libpci's sysfs.path; NULL:
 * /sys/bus/pci) or, if dump_file is not NULL, of that `lspci -x` dump. On success *out is a
 * malloc'ed array of *n devices sorted by bus address (free() it) and 0 is returned; -1 with a
 * message in err otherwise, also when there is no device at all. Not reentrant: libpci's error
 * callback needs a global (see pci_scan.c).
 */
int pci_scan(const char *sysfs_dir, const char *dump_file, struct pci_dev_desc **out, int *n,
             char *err, size_t errlen);

/*
 * The index of the one device that spec names: "VVVV:DDDD" (vendor:device, hex) or a bus address
 * "[DDDD:]BB:DD.F". -1 with a message in err when none or several match (the message lists
 * them), -2 when spec is neither form (with n = 0 this only checks spec).
 */
int pci_scan_select(const struct pci_dev_desc *devs, int n, const char *spec, char *err,
                    size_t errlen);

#endif /* REGDBG_PCI_SCAN_H */
