/*
 * `regdbg scan` lists the host's PCI devices with what cloning one takes (ids, class, BAR layout,
 * bound driver); `regdbg qemu-args` turns one of them into the regdbg-proxy option that clones it,
 * as a -device argument or a -readconfig section.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pci_scan.h"
#include "session.h"

const char scan_usage[] =
    "usage: regdbg scan [--sysfs DIR | --dump FILE]\n"
    "\n"
    "List the host's PCI devices, one block each: bus address, vendor:device and subsystem ids\n"
    "with their names from pci.ids, class, revision, every BAR (address, size, mem32, mem64 or\n"
    "io, prefetchable) and the driver bound to it. Only config space and sysfs attributes are\n"
    "read, never a BAR.\n"
    "\n"
    "  --sysfs DIR   the folder that holds devices/ (default /sys/bus/pci)\n"
    "  --dump FILE   the output of `lspci -x` on another machine; it tells neither the BAR\n"
    "                sizes nor the drivers\n"
    "\n"
    "examples:\n"
    "  regdbg scan\n"
    "  regdbg scan --dump board-lspci.txt\n";

const char qemu_args_usage[] =
    "usage: regdbg qemu-args DEVICE [--sysfs DIR | --dump FILE] [--readconfig FILE] [--id ID]\n"
    "\n"
    "Print the QEMU option that makes a regdbg-proxy a clone of a host PCI device: the same\n"
    "vendor, device and subsystem ids, class, revision and BAR layout, backed by the device\n"
    "itself (backend=hw). DEVICE is vendor:device (8086:0f41), which must match exactly one\n"
    "device, or a bus address (0000:00:18.1 or 00:18.1). Unbind the host's driver from the\n"
    "device before starting QEMU. When the device's shipped register map describes its DMA\n"
    "engines, the option names that map (dma-map=): the proxy then flags each transfer the\n"
    "guest starts, which cannot happen as the host's bus master stays off; add dma=bounce to\n"
    "make the transfers through bounce buffers (README: DMA).\n"
    "\n"
    "  --sysfs DIR        the folder that holds devices/ (default /sys/bus/pci); passed on as\n"
    "                     sysfs-path=\n"
    "  --dump FILE        find DEVICE in an `lspci -x` dump; refused, as a dump lacks the BAR\n"
    "                     sizes that the proxy needs\n"
    "  --readconfig FILE  write a [device] section for QEMU's -readconfig FILE instead\n"
    "  --id ID            the proxy's id (default: none; regdbg0 in a --readconfig file)\n"
    "\n"
    "A device bound to uio_pci_generic gets host-irq=uio: its interrupt reaches the guest\n"
    "(README: the host device's interrupt). A device with an MSI capability gets msi=on: the\n"
    "proxy offers the guest MSI too (root sees the capabilities; others see 64 bytes).\n"
    "\n"
    "examples:\n"
    "  qemu-system-x86_64 -M q35 ... $(regdbg qemu-args 8086:0f41)\n"
    "  regdbg qemu-args 00:18.1 --readconfig i2c.cfg\n"
    "  qemu-system-x86_64 -M q35 -readconfig i2c.cfg ...\n";

#define DEFAULT_CONFIG_ID "regdbg0"
#define UIO_DRIVER "uio_pci_generic"    /* the proxy's host-irq=uio takes a device bound to it */
#define MAX_OPTS 32
#define MAX_CONFIG_VALUE 1000           /* QEMU reads config lines of up to 1023 bytes */

static int usage_error(const char *cmd, const char *msg)
{
    return cli_usage_error(cmd, "%s", msg);
}

/* --sysfs DIR | --dump FILE, shared by both commands; the rest is the caller's */
struct source {
    const char *sysfs, *dump;
};

static const char *source_name(const struct source *src)
{
    return src->dump ? src->dump : src->sysfs ? src->sysfs : PCI_SCAN_DEFAULT_SYSFS;
}

static void human_size(uint64_t size, char *buf, size_t len)
{
    static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
    unsigned u = 0;

    while (u + 1 < sizeof(units) / sizeof(units[0]) && size >= 1024 && size % 1024 == 0) {
        size /= 1024;
        u++;
    }
    snprintf(buf, len, "%" PRIu64 " %s", size, units[u]);
}

static const char *bar_type(const struct pci_bar_desc *b)
{
    return b->io ? "io" : b->mem64 ? "mem64" : "mem32";
}

static void print_device(const struct pci_dev_desc *d)
{
    bool any_bar = false;

    printf("%s %04x:%04x %s%s%s\n", d->addr, d->vendor, d->device,
           d->vendor_name[0] ? d->vendor_name : "unknown vendor",
           d->device_name[0] ? " " : ", ", d->device_name[0] ? d->device_name : "unknown device");
    printf("  subsystem: %04x:%04x %s\n", d->subvendor, d->subdevice,
           d->subsys_name[0] ? d->subsys_name : "unknown");
    printf("  class: 0x%06x %s\n", d->class_code, d->class_name[0] ? d->class_name : "unknown");
    printf("  revision: 0x%02x\n", d->revision);
    for (int i = 0; i < PCI_SCAN_NUM_BARS; i++) {
        const struct pci_bar_desc *b = &d->bar[i];
        char size[32];

        if (!b->present) {
            continue;
        }
        any_bar = true;
        human_size(b->size, size, sizeof(size));
        printf("  BAR%d: %s%s at 0x%" PRIx64, i, bar_type(b), b->prefetch ? " prefetchable" : "",
               b->addr);
        if (b->size_known) {
            printf(", size 0x%" PRIx64 " (%s)\n", b->size, size);
        } else {
            printf(", size unknown\n");
        }
    }
    if (!any_bar) {
        printf("  no BARs\n");
    }
    if (!d->driver_known) {
        printf("  driver: unknown (a dump does not tell)\n");
    } else if (d->driver[0]) {
        printf("  driver: %s\n", d->driver);
    } else {
        printf("  no driver\n");
    }
}

int cmd_scan(int argc, char **argv)
{
    static const struct option opts[] = {
        { "sysfs", required_argument, NULL, 's' },
        { "dump", required_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    struct source src = { 0 };
    struct pci_dev_desc *devs;
    char err[1024];
    int opt, n;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (opt) {
        case 's': src.sysfs = optarg; break;
        case 'd': src.dump = optarg; break;
        case 'h': fputs(scan_usage, stdout); return 0;
        default: return cli_bad_option("scan", argc, argv, opts, "+h");
        }
    }
    if (optind < argc) {
        return cli_usage_error("scan", "unexpected argument '%s'", argv[optind]);
    }
    if (src.sysfs && src.dump) {
        return usage_error("scan", "give at most one of --sysfs DIR and --dump FILE");
    }
    if (pci_scan(src.sysfs, src.dump, &devs, &n, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg scan: %s\n", err);
        return EXIT_RUNTIME;
    }
    for (int i = 0; i < n; i++) {
        if (i) {
            putchar('\n');
        }
        print_device(&devs[i]);
    }
    free(devs);
    return 0;
}

/* The proxy's properties, in the order they are printed. */
struct proxy_opts {
    int n;
    struct {
        char key[24];
        char val[24];
        const char *long_val;   /* instead of val: a path */
    } kv[MAX_OPTS];
};

static void __attribute__((format(printf, 3, 4)))
add_opt(struct proxy_opts *o, const char *key, const char *fmt, ...)
{
    va_list ap;

    snprintf(o->kv[o->n].key, sizeof(o->kv[o->n].key), "%s", key);
    va_start(ap, fmt);
    vsnprintf(o->kv[o->n].val, sizeof(o->kv[o->n].val), fmt, ap);
    va_end(ap);
    o->kv[o->n].long_val = NULL;
    o->n++;
}

static const char *opt_val(const struct proxy_opts *o, int i)
{
    return o->kv[i].long_val ? o->kv[i].long_val : o->kv[i].val;
}

static void clone_options(struct proxy_opts *o, const struct pci_dev_desc *d,
                          const char *sysfs_path)
{
    char key[24];

    o->n = 0;
    add_opt(o, "vendor-id", "0x%04x", d->vendor);
    add_opt(o, "device-id", "0x%04x", d->device);
    add_opt(o, "subsystem-vendor-id", "0x%04x", d->subvendor);
    add_opt(o, "subsystem-id", "0x%04x", d->subdevice);
    add_opt(o, "class-code", "0x%06x", d->class_code);
    add_opt(o, "revision", "0x%02x", d->revision);
    /* a 64-bit BAR's upper half is not present: its slot is left out */
    for (int i = 0; i < PCI_SCAN_NUM_BARS; i++) {
        const struct pci_bar_desc *b = &d->bar[i];

        if (!b->present) {
            continue;
        }
        snprintf(key, sizeof(key), "bar%d-size", i);
        add_opt(o, key, "0x%" PRIx64, b->size);
        if (b->io || b->mem64) {
            snprintf(key, sizeof(key), "bar%d-type", i);
            add_opt(o, key, "%s", bar_type(b));
        }
        if (b->prefetch) {
            snprintf(key, sizeof(key), "bar%d-prefetch", i);
            add_opt(o, key, "on");
        }
    }
    add_opt(o, "backend", "hw");
    add_opt(o, "host", "%s", d->addr);
    /* bound to uio_pci_generic: the device's interrupt reaches the guest through it */
    if (d->driver_known && !strcmp(d->driver, UIO_DRIVER)) {
        add_opt(o, "host-irq", "uio");
    }
    /* the guest's driver may want MSI as the device offers it (the host's INTx drives it) */
    if (d->msi) {
        add_opt(o, "msi", "on");
    }
    if (sysfs_path) {
        add_opt(o, "sysfs-path", "%s", "");
        o->kv[o->n - 1].long_val = sysfs_path;
    }
}

/* s as one shell word: as it is when that is safe, else in single quotes */
static void print_shell_word(const char *s)
{
    if (s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                    ",.=:/_+-@%")] == '\0') {
        fputs(s, stdout);
        return;
    }
    putchar('\'');
    for (; *s; s++) {
        if (*s == '\'') {
            fputs("'\\''", stdout);
        } else {
            putchar(*s);
        }
    }
    putchar('\'');
}

/* -device regdbg-proxy,...: commas inside a value are doubled, as QEMU's option parser wants */
static int print_device_option(const struct proxy_opts *o, const char *id)
{
    char *word = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&word, &len);

    if (!f) {
        fprintf(stderr, "regdbg qemu-args: %s\n", strerror(errno));
        return EXIT_RUNTIME;
    }
    fputs("regdbg-proxy", f);
    if (id) {
        fprintf(f, ",id=%s", id);
    }
    for (int i = 0; i < o->n; i++) {
        fprintf(f, ",%s=", o->kv[i].key);
        for (const char *p = opt_val(o, i); *p; p++) {
            if (*p == ',') {
                fputc(',', f);
            }
            fputc(*p, f);
        }
    }
    fclose(f);
    fputs("-device ", stdout);
    print_shell_word(word);
    putchar('\n');
    free(word);
    return 0;
}

static int write_readconfig(const struct proxy_opts *o, const struct pci_dev_desc *d,
                            const char *id, const char *path)
{
    FILE *f;

    for (int i = 0; i < o->n; i++) {
        const char *v = opt_val(o, i);

        if (strlen(v) > MAX_CONFIG_VALUE || strpbrk(v, "\"\n")) {
            fprintf(stderr, "regdbg qemu-args: %s=%s cannot go into a -readconfig file (a '\"', "
                    "a newline or over %d bytes)\n", o->kv[i].key, v, MAX_CONFIG_VALUE);
            return EXIT_RUNTIME;
        }
    }
    f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "regdbg qemu-args: cannot write %s: %s\n", path, strerror(errno));
        return EXIT_RUNTIME;
    }
    /* QEMU reads lines of up to 1023 bytes, comments included */
    fprintf(f, "# written by regdbg qemu-args: a regdbg-proxy cloning %s %04x:%04x\n"
            "# %.200s %.200s\n"
            "# use: qemu-system-x86_64 -readconfig THIS_FILE ...\n"
            "[device \"%s\"]\n"
            "  driver = \"regdbg-proxy\"\n", d->addr, d->vendor, d->device, d->vendor_name,
            d->device_name, id);
    for (int i = 0; i < o->n; i++) {
        fprintf(f, "  %s = \"%s\"\n", o->kv[i].key, opt_val(o, i));
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "regdbg qemu-args: cannot write %s: %s\n", path, strerror(errno));
        return EXIT_RUNTIME;
    }
    printf("regdbg qemu-args: wrote [device \"%s\"] cloning %s (%04x:%04x) to %s; start QEMU "
           "with -readconfig %s\n", id, d->addr, d->vendor, d->device, path, path);
    return 0;
}

/* QEMU's rule for ids: a letter, then letters, digits, '-', '.' or '_' */
static bool id_wellformed(const char *id)
{
    if (!isalpha((unsigned char)id[0])) {
        return false;
    }
    for (id++; *id; id++) {
        if (!isalnum((unsigned char)*id) && !strchr("-._", *id)) {
            return false;
        }
    }
    return true;
}

int cmd_qemu_args(int argc, char **argv)
{
    static const struct option opts[] = {
        { "sysfs", required_argument, NULL, 's' },
        { "dump", required_argument, NULL, 'd' },
        { "readconfig", required_argument, NULL, 'r' },
        { "id", required_argument, NULL, 'i' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    struct source src = { 0 };
    const char *spec, *config = NULL, *id = NULL;
    struct pci_dev_desc *devs, *d;
    struct proxy_opts popts;
    struct session maps;
    const struct regmap *map;
    bool maps_ok;
    char sysfs_abs[PATH_MAX];
    char err[1024];
    int opt, n, which, status;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 's': src.sysfs = optarg; break;
        case 'd': src.dump = optarg; break;
        case 'r': config = optarg; break;
        case 'i': id = optarg; break;
        case 'h': fputs(qemu_args_usage, stdout); return 0;
        default: return cli_bad_option("qemu-args", argc, argv, opts, "h");
        }
    }
    if (optind >= argc) {
        return usage_error("qemu-args", "DEVICE (vendor:device or a bus address) is required");
    }
    if (optind + 1 < argc) {
        return cli_usage_error("qemu-args", "unexpected argument '%s'", argv[optind + 1]);
    }
    spec = argv[optind];
    if (src.sysfs && src.dump) {
        return usage_error("qemu-args", "give at most one of --sysfs DIR and --dump FILE");
    }
    if (id && !id_wellformed(id)) {
        return usage_error("qemu-args", "--id: a letter, then letters, digits, '-', '.' or '_'");
    }
    /* the syntax of DEVICE first: a typo is a usage error whatever the devices */
    if (pci_scan_select(NULL, 0, spec, err, sizeof(err)) == -2) {
        return usage_error("qemu-args", err);
    }
    if (src.sysfs && !realpath(src.sysfs, sysfs_abs)) {
        fprintf(stderr, "regdbg qemu-args: %s: %s\n", src.sysfs, strerror(errno));
        return EXIT_RUNTIME;
    }
    if (pci_scan(src.sysfs, src.dump, &devs, &n, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg qemu-args: %s\n", err);
        return EXIT_RUNTIME;
    }
    which = pci_scan_select(devs, n, spec, err, sizeof(err));
    if (which < 0) {
        fprintf(stderr, "regdbg qemu-args: %s: %s\n", source_name(&src), err);
        free(devs);
        return EXIT_RUNTIME;
    }
    d = &devs[which];
    if (src.dump) {
        fprintf(stderr, "regdbg qemu-args: %s: found %s, but a dump does not record BAR sizes, "
                "which the proxy needs; run regdbg qemu-args (with --sysfs if need be) on the "
                "machine that has the device\n", src.dump, d->addr);
        free(devs);
        return EXIT_RUNTIME;
    }
    clone_options(&popts, d, src.sysfs ? sysfs_abs : NULL);
    maps_ok = session_init(&maps, 1, err, sizeof(err)) == 0 &&
              session_load_default_maps(&maps, NULL, 0, err, sizeof(err)) == 0;
    map = maps_ok ? session_map_for(&maps, d->vendor, d->device) : NULL;
    if (map && map->dma) {
        add_opt(&popts, "dma-map", "%s", "");
        popts.kv[popts.n - 1].long_val = map->path;
    }
    if (config) {
        status = write_readconfig(&popts, d, id ? id : DEFAULT_CONFIG_ID, config);
    } else {
        status = print_device_option(&popts, id);
    }
    if (status == 0 && d->driver[0] && strcmp(d->driver, UIO_DRIVER)) {
        fprintf(stderr, "regdbg qemu-args: note: %s is bound to %s; backend=hw needs it unbound "
                "(echo %s > /sys/bus/pci/drivers/%s/unbind)\n", d->addr, d->driver, d->addr,
                d->driver);
    } else if (status == 0 && d->driver[0]) {
        fprintf(stderr, "regdbg qemu-args: note: %s is bound to %s: host-irq=uio gives its "
                "interrupt to the guest\n", d->addr, d->driver);
    }
    if (status == 0 && map && map->dma) {
        fprintf(stderr, "regdbg qemu-args: note: the map %s describes the device's DMA; its "
                "transfers cannot happen (the host's bus master stays off) and are flagged "
                "blocked; add dma=bounce to bounce them\n", map->path);
    }
    session_free(&maps);
    free(devs);
    return status;
}
