/*
 * Host PCI discovery through libpci (its linux-sysfs and dump access methods), for `regdbg scan`
 * and `regdbg qemu-args`.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pci/pci.h>

#include "pci_scan.h"

#define FILL_FLAGS (PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_CLASS_EXT | PCI_FILL_BASES | \
                    PCI_FILL_SIZES | PCI_FILL_IO_FLAGS | PCI_FILL_SUBSYS | PCI_FILL_DRIVER | \
                    PCI_FILL_CAPS)

/*
 * libpci reports a fatal problem (an unreadable file, a malformed dump) by calling acc->error,
 * which must not return and receives no context pointer. The only way back to the pci_scan that
 * is running is a longjmp through these two globals, which libpci forces on us; they make
 * pci_scan non-reentrant.
 */
static jmp_buf libpci_fail;
static char libpci_msg[512];

static void __attribute__((noreturn, format(printf, 1, 2))) on_libpci_error(char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(libpci_msg, sizeof(libpci_msg), fmt, ap);
    va_end(ap);
    longjmp(libpci_fail, 1);
}

static void __attribute__((format(printf, 1, 2))) on_libpci_warning(char *fmt, ...)
{
    va_list ap;

    fputs("regdbg: libpci: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void __attribute__((format(printf, 1, 2))) on_libpci_debug(char *fmt, ...)
{
    (void)fmt;
}

/* src (NULL: "") into dst[len], cut if need be */
static void copy_str(char *dst, size_t len, const char *src)
{
    size_t n = src ? strnlen(src, len - 1) : 0;

    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

/*
 * libpci's sysfs method takes the tree's shape on trust: on a folder name that is not a bus
 * address, or a `resource` file it cannot parse, it calls error() with a directory or a file still
 * open. Check both first, for a plain message and nothing leaked.
 */
static int check_resource_file(const char *devices, const char *name, char *err, size_t errlen)
{
    char path[4096], line[256];
    FILE *f;
    int ret = 0;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s/resource", devices, name) >= sizeof(path)) {
        snprintf(err, errlen, "%s/%s: path too long", devices, name);
        return -1;
    }
    f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    for (int i = 1; ret == 0 && fgets(line, sizeof(line), f); i++) {
        unsigned long long start, end, flags;

        if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3) {
            snprintf(err, errlen, "%s, line %d: expected \"START END FLAGS\" in hex", path, i);
            ret = -1;
        }
    }
    fclose(f);
    return ret;
}

static int check_sysfs_tree(const char *sysfs_dir, char *err, size_t errlen)
{
    char devices[4096];
    struct dirent *e;
    DIR *dir;
    int ret = 0;

    if ((size_t)snprintf(devices, sizeof(devices), "%s/devices", sysfs_dir) >= sizeof(devices)) {
        snprintf(err, errlen, "%s: path too long", sysfs_dir);
        return -1;
    }
    dir = opendir(devices);
    if (!dir) {
        snprintf(err, errlen, "cannot open %s: %s (give the folder that holds devices/, like %s)",
                 devices, strerror(errno), PCI_SCAN_DEFAULT_SYSFS);
        return -1;
    }
    while (ret == 0 && (e = readdir(dir))) {
        unsigned dom, bus, dev, fn;
        int end = 0;

        if (e->d_name[0] == '.') {
            continue;
        }
        if (sscanf(e->d_name, "%x:%x:%x.%x%n", &dom, &bus, &dev, &fn, &end) != 4 ||
            e->d_name[end]) {
            snprintf(err, errlen, "%s/%s: not a PCI device (expected a name like 0000:00:18.1)",
                     devices, e->d_name);
            ret = -1;
        } else {
            ret = check_resource_file(devices, e->d_name, err, errlen);
        }
    }
    closedir(dir);
    return ret;
}

static void describe_bar(struct pci_bar_desc *b, const struct pci_dev *d, int i, bool sysfs)
{
    pciaddr_t base = d->base_addr[i];
    pciaddr_t flags = d->known_fields & PCI_FILL_IO_FLAGS ? d->flags[i] : 0;

    memset(b, 0, sizeof(*b));
    b->size_known = sysfs;
    /* sysfs knows which BARs exist by their size; a dump only by a non-zero register */
    b->present = sysfs ? d->size[i] != 0 : base != 0;
    if (!b->present) {
        return;
    }
    b->size = sysfs ? d->size[i] : 0;
    if (flags & (PCI_IORESOURCE_IO | PCI_IORESOURCE_MEM)) {
        /* the kernel's view of the resource */
        b->io = flags & PCI_IORESOURCE_IO;
        b->mem64 = !b->io && (flags & PCI_IORESOURCE_MEM_64);
        b->prefetch = !b->io && (flags & PCI_IORESOURCE_PREFETCH);
    } else {
        /* the type bits of the BAR register */
        b->io = (base & PCI_BASE_ADDRESS_SPACE) == PCI_BASE_ADDRESS_SPACE_IO;
        b->mem64 = !b->io &&
                   (base & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64;
        b->prefetch = !b->io && (base & PCI_BASE_ADDRESS_MEM_PREFETCH);
    }
    b->addr = base & (b->io ? PCI_ADDR_IO_MASK : PCI_ADDR_MEM_MASK);
}

/* names from pci.ids only (not udev's hwdb, which may differ); NULL when it has none */
#define LOOKUP (PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB)

static void describe_names(struct pci_dev_desc *out, struct pci_access *acc)
{
    char buf[256];
    const char *subvendor;

    copy_str(out->vendor_name, sizeof(out->vendor_name),
             pci_lookup_name(acc, buf, sizeof(buf), PCI_LOOKUP_VENDOR | LOOKUP, out->vendor));
    copy_str(out->device_name, sizeof(out->device_name),
             pci_lookup_name(acc, buf, sizeof(buf), PCI_LOOKUP_DEVICE | LOOKUP, out->vendor,
                             out->device));
    copy_str(out->class_name, sizeof(out->class_name),
             pci_lookup_name(acc, buf, sizeof(buf), PCI_LOOKUP_CLASS | LOOKUP,
                             out->class_code >> 8));
    subvendor = pci_lookup_name(acc, buf, sizeof(buf), PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_VENDOR |
                                LOOKUP, out->subvendor);
    copy_str(out->subsys_name, sizeof(out->subsys_name), subvendor);
    if (subvendor) {
        const char *subdev = pci_lookup_name(acc, buf, sizeof(buf),
                                             PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_DEVICE | LOOKUP,
                                             out->vendor, out->device, out->subvendor,
                                             out->subdevice);
        size_t len = strlen(out->subsys_name);

        if (subdev) {
            snprintf(out->subsys_name + len, sizeof(out->subsys_name) - len, " %s", subdev);
        }
    }
}

/*
 * The driver named by the device's `driver` link. libpci resolves the link, so it misses one that
 * dangles, as in hand-made trees; the hw backend reads the link itself, and so does this.
 */
static void read_driver_link(struct pci_dev_desc *out, const char *sysfs_dir)
{
    char path[4096], target[4096];
    ssize_t len;

    if ((size_t)snprintf(path, sizeof(path), "%s/devices/%s/driver", sysfs_dir, out->addr) >=
        sizeof(path)) {
        return;
    }
    len = readlink(path, target, sizeof(target) - 1);
    if (len > 0) {
        const char *base;

        target[len] = '\0';
        base = strrchr(target, '/');
        copy_str(out->driver, sizeof(out->driver), base ? base + 1 : target);
    }
}

/* sysfs_dir: NULL for a dump */
static void describe(struct pci_dev_desc *out, struct pci_dev *d, struct pci_access *acc,
                     const char *sysfs_dir)
{
    bool sysfs = sysfs_dir != NULL;

    memset(out, 0, sizeof(*out));
    snprintf(out->addr, sizeof(out->addr), "%04x:%02x:%02x.%d", (unsigned)d->domain, d->bus,
             d->dev, d->func);
    out->vendor = d->vendor_id;
    out->device = d->device_id;
    out->subvendor = d->subsys_vendor_id;
    out->subdevice = d->subsys_id;
    out->class_code = (uint32_t)d->device_class << 8 | d->prog_if;
    out->revision = d->rev_id;
    out->driver_known = sysfs;
    copy_str(out->driver, sizeof(out->driver), pci_get_string_property(d, PCI_FILL_DRIVER));
    if (sysfs && !out->driver[0]) {
        read_driver_link(out, sysfs_dir);
    }
    for (int i = 0; i < PCI_SCAN_NUM_BARS; i++) {
        describe_bar(&out->bar[i], d, i, sysfs);
    }
    /* read from config space: as much of it as the reader may see (root: all of it) */
    out->msi = pci_find_cap(d, PCI_CAP_ID_MSI, PCI_CAP_NORMAL) != NULL;
    describe_names(out, acc);
}

static int by_address(const void *a, const void *b)
{
    const char *x = ((const struct pci_dev_desc *)a)->addr;
    const char *y = ((const struct pci_dev_desc *)b)->addr;
    size_t lx = strlen(x), ly = strlen(y);

    /* a longer name has a wider domain number */
    return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

/* One pci_scan: what the steps that run under libpci_guard share. */
struct scan {
    struct pci_access *acc;
    const char *source;         /* the sysfs folder or the dump file */
    bool dump;
    struct pci_dev_desc *devs;
    int n;
    char *err;
    size_t errlen;
};

/*
 * Runs step(sc); -1 if libpci failed in it, with its message in sc->err. setjmp is confined to
 * this function, whose locals never change, so nothing is clobbered by the longjmp.
 */
static int libpci_guard(int (*step)(struct scan *), struct scan *sc)
{
    if (setjmp(libpci_fail)) {
        snprintf(sc->err, sc->errlen, "%s: %s", sc->source, libpci_msg);
        return -1;
    }
    return step(sc);
}

/* Read the devices and what is to be known about them; count them. */
static int read_devices(struct scan *sc)
{
    pci_init(sc->acc);
    pci_scan_bus(sc->acc);
    for (struct pci_dev *d = sc->acc->devices; d; d = d->next) {
        u8 header[64];

        /* where a dump has no bytes libpci reads 0xff: insist on the whole header */
        if (sc->dump && !pci_read_block(d, 0, header, sizeof(header))) {
            snprintf(sc->err, sc->errlen, "%s: %04x:%02x:%02x.%d: the dump lacks part of its "
                     "64-byte config header", sc->source, (unsigned)d->domain, d->bus, d->dev,
                     d->func);
            return -1;
        }
        pci_fill_info(d, FILL_FLAGS);
        sc->n++;
    }
    if (sc->n == 0) {
        snprintf(sc->err, sc->errlen, "%s: no PCI device found%s", sc->source,
                 sc->dump ? " (expected the output of `lspci -x`)" : "");
        return -1;
    }
    return 0;
}

/* Fill sc->devs (sc->n entries), names included. */
static int describe_devices(struct scan *sc)
{
    int i = 0;

    sc->acc->id_lookup_mode = 0;        /* no cache of names looked up over the network */
    for (struct pci_dev *d = sc->acc->devices; d && i < sc->n; d = d->next) {
        describe(&sc->devs[i++], d, sc->acc, sc->dump ? NULL : sc->source);
    }
    return 0;
}

int pci_scan(const char *sysfs_dir, const char *dump_file, struct pci_dev_desc **out, int *n,
             char *err, size_t errlen)
{
    struct scan sc = {
        .source = dump_file ? dump_file : sysfs_dir ? sysfs_dir : PCI_SCAN_DEFAULT_SYSFS,
        .dump = dump_file != NULL, .err = err, .errlen = errlen,
    };

    *out = NULL;
    *n = 0;
    if (!sc.dump && check_sysfs_tree(sc.source, err, errlen) < 0) {
        return -1;
    }
    sc.acc = pci_alloc();
    sc.acc->error = on_libpci_error;
    sc.acc->warning = on_libpci_warning;
    sc.acc->debug = on_libpci_debug;
    sc.acc->method = sc.dump ? PCI_ACCESS_DUMP : PCI_ACCESS_SYS_BUS_PCI;
    pci_set_param(sc.acc, sc.dump ? "dump.name" : "sysfs.path", (char *)sc.source);
    if (libpci_guard(read_devices, &sc) == 0) {
        sc.devs = calloc((size_t)sc.n, sizeof(*sc.devs));
        if (!sc.devs) {
            snprintf(err, errlen, "out of memory");
        } else if (libpci_guard(describe_devices, &sc) < 0) {
            free(sc.devs);
            sc.devs = NULL;
        }
    }
    pci_cleanup(sc.acc);
    if (!sc.devs) {
        return -1;
    }
    qsort(sc.devs, (size_t)sc.n, sizeof(*sc.devs), by_address);
    *out = sc.devs;
    *n = sc.n;
    return 0;
}

/* 1..maxdigits hex digits at *s followed by sep ('\0': the end); advances *s past sep. */
static bool hex_field(const char **s, int maxdigits, char sep, unsigned *out)
{
    unsigned v = 0;
    int i = 0;

    for (; i < maxdigits && isxdigit((unsigned char)(*s)[i]); i++) {
        char c = (char)tolower((unsigned char)(*s)[i]);

        v = v * 16 + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    if (i == 0 || (*s)[i] != sep) {
        return false;
    }
    *s += i + (sep != '\0');
    *out = v;
    return true;
}

/* spec as a bus address in the form of pci_dev_desc.addr; false if it is not one */
static bool parse_bus_address(const char *spec, char *addr, size_t len)
{
    const char *s = spec;
    unsigned dom = 0, bus, dev, fn;

    if (strchr(spec, ':') != strrchr(spec, ':') && !hex_field(&s, 8, ':', &dom)) {
        return false;
    }
    if (!hex_field(&s, 2, ':', &bus) || !hex_field(&s, 2, '.', &dev) ||
        !hex_field(&s, 1, '\0', &fn) || dev > 0x1f || fn > 7) {
        return false;
    }
    snprintf(addr, len, "%04x:%02x:%02x.%u", dom, bus, dev, fn);
    return true;
}

int pci_scan_select(const struct pci_dev_desc *devs, int n, const char *spec, char *err,
                    size_t errlen)
{
    char addr[sizeof(devs->addr)];
    const char *s = spec;
    unsigned vendor = 0, device = 0;
    bool by_addr = strchr(spec, '.') != NULL;
    int found = -1, matches = 0;
    size_t len;

    if (by_addr ? !parse_bus_address(spec, addr, sizeof(addr))
                : strlen(spec) != 9 || !hex_field(&s, 4, ':', &vendor) ||
                  !hex_field(&s, 4, '\0', &device)) {
        snprintf(err, errlen, "'%s' is neither vendor:device (8086:0f41) nor a bus address "
                 "(0000:00:18.1 or 00:18.1)", spec);
        return -2;
    }
    for (int i = 0; i < n; i++) {
        if (by_addr ? !strcmp(devs[i].addr, addr)
                    : devs[i].vendor == vendor && devs[i].device == device) {
            found = found < 0 ? i : found;
            matches++;
        }
    }
    if (matches == 1) {
        return found;
    }
    if (matches == 0) {
        if (by_addr) {
            snprintf(err, errlen, "no device at %s", addr);
        } else {
            snprintf(err, errlen, "no device %04x:%04x", vendor, device);
        }
        return -1;
    }
    len = (size_t)snprintf(err, errlen, "%d devices are %04x:%04x:", matches, vendor, device);
    for (int i = found; i < n && len < errlen; i++) {
        if (devs[i].vendor == vendor && devs[i].device == device) {
            len += (size_t)snprintf(err + len, errlen - len, "%s %s", i == found ? "" : ",",
                                    devs[i].addr);
        }
    }
    if (len < errlen) {
        snprintf(err + len, errlen - len, "; give the bus address of one instead");
    }
    return -1;
}
