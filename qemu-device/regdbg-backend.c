/*
 * regdbg-proxy backends: where an access goes after the rules.
 *
 *   none  reads return default-read, writes are dropped
 *   file  each BAR is a shared mapping of a file (barN-file)
 *   hw    the real device on the host: its memory BARs are shared mappings
 *         of its sysfs resourceN files (a sysfs resource file is exactly such
 *         a file, so file and hw share regdbg_backend_map() and the
 *         exact-width accessors), or of /dev/mem with host-access=devmem; its
 *         I/O BARs go through the resourceN files with pread/pwrite. It
 *         handles the device as its owner would: enables it (sysfs enable)
 *         and turns on the decoding its BARs need, keeps the host's bus
 *         master off (with dma=bounce, regdbg-dma.c, it follows the guest's
 *         Bus Master Enable), and puts both back as found when QEMU exits.
 *         The guest's command register is otherwise the proxy's own
 *         (emulated) one and never reaches the host, as with vfio-pci. A
 *         device bound to a driver is refused (force=on: used as the
 *         driver's); with host-irq=uio it must be bound to uio_pci_generic,
 *         the backend's own way to its interrupt (regdbg-hostirq.c).
 *
 * Copyright (c) 2026 The regdbg authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/mman.h>
#include "qapi/error.h"
#include "qemu/bswap.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "hw/pci/pci_regs.h"
#include "hw/misc/regdbg/trace-hw_misc_regdbg.h"
#include "regdbg-proxy.h"

/*
 * The exact-width accessors. Each guest access must reach the file or device
 * mapping as exactly one access of the guest's width: a register may have
 * side effects on read or write, so the access must not be split, merged,
 * repeated or dropped. The pointers are volatile for that reason only: the
 * compiler then emits one load or store of the given width.
 * Guest and host are little-endian x86.
 */
static uint64_t regdbg_backend_load(const void *p, unsigned size)
{
    switch (size) {
    case 1:
        return *(const volatile uint8_t *)p;    /* one access, see above */
    case 2:
        return *(const volatile uint16_t *)p;   /* one access, see above */
    case 4:
        return *(const volatile uint32_t *)p;   /* one access, see above */
    default:
        return *(const volatile uint64_t *)p;   /* one access, see above */
    }
}

static void regdbg_backend_store(void *p, uint64_t val, unsigned size)
{
    switch (size) {
    case 1:
        *(volatile uint8_t *)p = val;           /* one access, see above */
        break;
    case 2:
        *(volatile uint16_t *)p = val;          /* one access, see above */
        break;
    case 4:
        *(volatile uint32_t *)p = val;          /* one access, see above */
        break;
    default:
        *(volatile uint64_t *)p = val;          /* one access, see above */
        break;
    }
}

/* none */

static bool regdbg_backend_none_realize(RegdbgProxyState *s, Error **errp)
{
    for (unsigned i = 0; i < REGDBG_NUM_BARS; i++) {
        if (s->bar_file[i]) {
            error_setg(errp, "bar%u-file=%s: only backend=file uses BAR files",
                       i, s->bar_file[i]);
            return false;
        }
    }
    return true;
}

static void regdbg_backend_none_unrealize(RegdbgProxyState *s)
{
}

static uint64_t regdbg_backend_none_read(RegdbgProxyState *s,
                                         RegdbgProxyBar *bar, hwaddr addr,
                                         unsigned size)
{
    return size == 8 ? s->default_read
                     : s->default_read & MAKE_64BIT_MASK(0, size * 8);
}

static void regdbg_backend_none_write(RegdbgProxyState *s, RegdbgProxyBar *bar,
                                      hwaddr addr, uint64_t val, unsigned size)
{
}

/* file */

/*
 * Reserve the blocks behind [offset, offset + len) of a regular file, so that
 * a sparse BAR file on a filesystem that later runs out of space does not
 * fail a guest write (with SIGBUS) long after start. sysfs files cannot be
 * reserved and need not be; ordinary files may be, by writing if the
 * filesystem has no fallocate (emulate).
 */
static int regdbg_backend_reserve(int fd, uint64_t offset, uint64_t len,
                                  bool emulate)
{
    if (fallocate(fd, 0, offset, len) == 0) {
        return 0;
    }
    if (errno != EOPNOTSUPP && errno != ENOSYS) {
        return -errno;
    }
    return emulate ? -posix_fallocate(fd, offset, len) : 0;
}

/*
 * Map size bytes of path at offset (any alignment) into bar->map. what names
 * the file in errors, e.g. "bar0-file=PATH". create: the file backend's own
 * file, created at the BAR's size if missing; otherwise a sysfs resourceN
 * file (a regular file), or /dev/mem when devmem is set. Nothing here blocks
 * on a file that never answers: a FIFO is refused, never read.
 */
static bool regdbg_backend_map(RegdbgProxyBar *bar, const char *path,
                               uint64_t offset, bool create, bool devmem,
                               const char *what, Error **errp)
{
    uint64_t page = qemu_real_host_page_size();
    uint64_t base = offset & ~(page - 1);
    bool created = false;
    struct stat st;
    Error *err = NULL;
    int fd, r;

    fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_CREAT | O_EXCL,
                  0600);
        created = fd >= 0;
    }
    if (fd < 0) {
        error_setg_errno(errp, errno, "%s", what);
        return false;
    }
    if (fstat(fd, &st) < 0) {
        error_setg_errno(errp, errno, "%s", what);
        goto fail;
    }
    if (!S_ISREG(st.st_mode) && !(devmem && S_ISCHR(st.st_mode))) {
        error_setg(errp, "%s: not a regular file%s", what,
                   devmem ? " or a memory device" : "");
        goto fail;
    }
    if (created && ftruncate(fd, bar->size) == 0) {
        st.st_size = bar->size;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < offset + bar->size) {
        error_setg(errp, "%s: the file has %" PRIu64 " bytes, fewer than "
                   "the 0x%" PRIx64 " bytes of BAR %u%s", what,
                   (uint64_t)st.st_size, bar->size, bar->index,
                   offset ? " at its address" : "");
        goto fail;
    }
    if (S_ISREG(st.st_mode)) {
        r = regdbg_backend_reserve(fd, offset, bar->size, create);
        if (r < 0) {
            error_setg_errno(errp, -r, "%s: cannot reserve the 0x%" PRIx64
                             " bytes of BAR %u on its filesystem", what,
                             bar->size, bar->index);
            goto fail;
        }
    }
    if (!regdbg_guard_map(&bar->guard, fd, base, offset - base + bar->size,
                          &err)) {
        error_propagate_prepend(errp, err, "%s: ", what);
        goto fail;
    }
    close(fd);
    bar->map = (uint8_t *)bar->guard.base + (offset - base);
    bar->map_what = g_strdup(what);
    trace_regdbg_backend_file_map(bar->index, path, bar->size);
    return true;

fail:
    close(fd);
    if (created) {
        unlink(path);
    }
    return false;
}

/*
 * A guarded mapping whose file was truncated under QEMU: the guest now gets
 * zeros past the file's end and its writes there are lost. Say so, once.
 */
static void regdbg_backend_check_truncated(RegdbgProxyBar *bar)
{
    if (unlikely(qatomic_read(&bar->guard.truncated)) &&
        !bar->guard.reported) {
        bar->guard.reported = true;
        trace_regdbg_backend_truncated(bar->index);
        qemu_log_mask(LOG_GUEST_ERROR,
                      "regdbg-proxy: BAR%u: %s was truncated while in use; "
                      "past its new end the BAR reads 0 and writes are lost\n",
                      bar->index, bar->map_what);
    }
}

static uint64_t regdbg_backend_map_read(RegdbgProxyBar *bar, hwaddr addr,
                                        unsigned size)
{
    uint64_t val;

    regdbg_guard_thread_init();
    val = regdbg_backend_load((const uint8_t *)bar->map + addr, size);
    regdbg_backend_check_truncated(bar);
    return val;
}

static void regdbg_backend_map_write(RegdbgProxyBar *bar, hwaddr addr,
                                     uint64_t val, unsigned size)
{
    regdbg_guard_thread_init();
    regdbg_backend_store((uint8_t *)bar->map + addr, val, size);
    regdbg_backend_check_truncated(bar);
}

static void regdbg_backend_file_unrealize(RegdbgProxyState *s)
{
    for (unsigned i = 0; i < REGDBG_NUM_BARS; i++) {
        RegdbgProxyBar *bar = &s->bars[i];

        regdbg_guard_unmap(&bar->guard);
        bar->map = NULL;
        g_free(bar->map_what);
        bar->map_what = NULL;
        if (bar->io_fd > 0) {
            close(bar->io_fd);
        }
        bar->io_fd = -1;
    }
}

static bool regdbg_backend_file_realize(RegdbgProxyState *s, Error **errp)
{
    /* Check every property before opening or creating any file. */
    for (unsigned i = 0; i < REGDBG_NUM_BARS; i++) {
        if (s->bars[i].type == REGDBG_BAR_ABSENT && s->bar_file[i]) {
            error_setg(errp, "bar%u-file=%s: BAR %u is absent (bar%u-size=0)",
                       i, s->bar_file[i], i, i);
            return false;
        }
        if (s->bars[i].type != REGDBG_BAR_ABSENT && !s->bar_file[i]) {
            error_setg(errp,
                       "bar%u-file: backend=file needs a file for every BAR",
                       i);
            return false;
        }
    }
    for (unsigned i = 0; i < REGDBG_NUM_BARS; i++) {
        g_autofree char *what = g_strdup_printf("bar%u-file=%s", i,
                                                s->bar_file[i]);

        s->bars[i].io_fd = -1;
        if (s->bars[i].type != REGDBG_BAR_ABSENT &&
            !regdbg_backend_map(&s->bars[i], s->bar_file[i], 0, true, false,
                                what, errp)) {
            regdbg_backend_file_unrealize(s);
            return false;
        }
    }
    return true;
}

static uint64_t regdbg_backend_file_read(RegdbgProxyState *s,
                                         RegdbgProxyBar *bar, hwaddr addr,
                                         unsigned size)
{
    return regdbg_backend_map_read(bar, addr, size);
}

static void regdbg_backend_file_write(RegdbgProxyState *s, RegdbgProxyBar *bar,
                                      hwaddr addr, uint64_t val, unsigned size)
{
    regdbg_backend_map_write(bar, addr, val, size);
}

/* hw: the real device on the host, through sysfs (or /dev/mem) */

#define REGDBG_IORESOURCE_IO        0x00000100
#define REGDBG_IORESOURCE_MEM       0x00000200
#define REGDBG_IORESOURCE_PREFETCH  0x00002000
#define REGDBG_IORESOURCE_MEM_64    0x00100000

typedef struct RegdbgHostBar {
    uint64_t start, size, flags;
} RegdbgHostBar;

#define REGDBG_HW_ATTR_MAX 65536

/*
 * The text of a small sysfs attribute, stripped, or NULL with errno set. It
 * is opened without blocking and read only if it is a regular file, so that
 * a FIFO in a sysfs-like tree cannot hang device setup.
 */
static char *regdbg_hw_read_line(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *text = g_malloc(REGDBG_HW_ATTR_MAX);
    size_t len = 0;
    struct stat st;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0) {
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return NULL;
    }
    while (len < REGDBG_HW_ATTR_MAX - 1) {
        ssize_t n = read(fd, text + len, REGDBG_HW_ATTR_MAX - 1 - len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int e = errno;

            close(fd);
            errno = e;
            return NULL;
        }
        if (n == 0) {
            break;
        }
        len += n;
    }
    close(fd);
    text[len] = '\0';
    g_strstrip(text);
    return g_steal_pointer(&text);
}

/*
 * The host device's command register, as the backend owns it. The bits it
 * manages: I/O and memory decoding (on, as the BARs need them) and bus
 * master (off: the guest's DMA addresses mean nothing on the host). INTx
 * disable and the rest stay as they are.
 */
#define REGDBG_HW_CMD_MANAGED \
    (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)

/* Reads or writes the 16-bit command register through dir/config */
static bool regdbg_hw_command(const char *dir, uint16_t *val, bool write,
                              Error **errp)
{
    g_autofree char *path = g_build_filename(dir, "config", NULL);
    uint8_t le[2];
    struct stat st;
    ssize_t n;
    int fd = open(path, (write ? O_WRONLY : O_RDONLY) | O_NONBLOCK |
                  O_CLOEXEC);

    if (fd < 0) {
        error_setg_errno(errp, errno, "%s: cannot %s the host device's "
                         "command register", path, write ? "write" : "read");
        return false;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        error_setg(errp, "%s: not a regular file", path);
        close(fd);
        return false;
    }
    if (write) {
        stw_le_p(le, *val);
        n = pwrite(fd, le, 2, PCI_COMMAND);
    } else {
        n = pread(fd, le, 2, PCI_COMMAND);
    }
    if (n != 2) {
        error_setg_errno(errp, n < 0 ? errno : EIO, "%s: cannot %s the host "
                         "device's command register", path,
                         write ? "write" : "read");
        close(fd);
        return false;
    }
    close(fd);
    if (!write) {
        *val = lduw_le_p(le);
    }
    return true;
}

/* Writes text to the sysfs attribute dir/name, as `echo text > name` does */
static bool regdbg_hw_write_attr(const char *dir, const char *name,
                                 const char *text, Error **errp)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    size_t len = strlen(text);
    struct stat st;
    int fd = open(path, O_WRONLY | O_TRUNC | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0) {
        error_setg_errno(errp, errno, "%s", path);
        return false;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        error_setg(errp, "%s: not a regular file", path);
        close(fd);
        return false;
    }
    if (write(fd, text, len) != (ssize_t)len) {
        error_setg_errno(errp, errno, "%s", path);
        close(fd);
        return false;
    }
    close(fd);
    return true;
}

/*
 * Take the host device as its owner would: enable it (sysfs enable counts
 * the device's users; 0: nobody enabled it), turn on the decoding that its
 * BARs need and turn off bus master. What was found is kept in s for
 * regdbg_backend_hw_release(). A device that a driver holds (force=on) is
 * the driver's: left as it is; uio_pci_generic for host-irq=uio is not such
 * a driver.
 */
static bool regdbg_hw_take(RegdbgProxyState *s, const char *dir,
                           const char *dev, Error **errp)
{
    g_autofree char *enable = regdbg_hw_read_line(dir, "enable");
    uint16_t need = 0, found, cmd, want;
    unsigned long users;

    if (!enable || qemu_strtoul(enable, NULL, 10, &users) < 0) {
        error_setg(errp, "host=%s: %s/enable: cannot tell whether the host "
                   "device is enabled (%s)", s->host, dir,
                   enable ? "not a number" : errno == EINVAL ?
                   "not a regular file" : g_strerror(errno));
        return false;
    }
    for (unsigned i = 0; i < REGDBG_NUM_BARS; i++) {
        if (s->bars[i].type == REGDBG_BAR_IO) {
            need |= PCI_COMMAND_IO;
        } else if (s->bars[i].type != REGDBG_BAR_ABSENT) {
            need |= PCI_COMMAND_MEMORY;
        }
    }
    if (!regdbg_hw_command(dir, &found, false, errp)) {
        return false;
    }
    if (users == 0) {
        if (!regdbg_hw_write_attr(dir, "enable", "1\n", errp)) {
            error_prepend(errp, "host=%s: cannot enable the host device %s: ",
                          s->host, dev);
            return false;
        }
        s->host_enabled = true;
    }
    s->host_dir = g_strdup(dir);
    s->host_cmd_found = found;
    /* enabling may have turned decoding on: decide on what is there now */
    if (!regdbg_hw_command(dir, &cmd, false, errp)) {
        return false;
    }
    want = (cmd | need) & ~PCI_COMMAND_MASTER;
    if (want != cmd && !regdbg_hw_command(dir, &want, true, errp)) {
        return false;
    }
    trace_regdbg_backend_hw_take(dev, users, found, want);
    return true;
}

/*
 * Put the host device back as regdbg_hw_take() found it: sysfs enable back
 * to 0 if we set it (the kernel then turns bus master off), then the
 * managed bits of the command register as found. Errors cannot stop
 * anything any more: they are logged.
 */
static void regdbg_backend_hw_release(RegdbgProxyState *s)
{
    Error *err = NULL;
    uint16_t cmd, want;

    if (!s->host_dir) {
        return;
    }
    if (s->host_enabled &&
        !regdbg_hw_write_attr(s->host_dir, "enable", "0\n", &err)) {
        error_prepend(&err, "regdbg-proxy: host=%s: cannot disable the host "
                      "device again: ", s->host);
        error_report_err(err);
        err = NULL;
    }
    if (regdbg_hw_command(s->host_dir, &cmd, false, &err)) {
        want = (cmd & ~REGDBG_HW_CMD_MANAGED) |
               (s->host_cmd_found & REGDBG_HW_CMD_MANAGED);
        if (want != cmd) {
            regdbg_hw_command(s->host_dir, &want, true, &err);
        }
        trace_regdbg_backend_hw_release(s->host_dir, s->host_enabled, want);
    }
    if (err) {
        error_prepend(&err, "regdbg-proxy: host=%s: cannot put the host "
                      "device's command register back: ", s->host);
        error_report_err(err);
    }
    s->host_enabled = false;
    g_free(s->host_dir);
    s->host_dir = NULL;
}

bool regdbg_backend_hw_master(RegdbgProxyState *s, bool on, Error **errp)
{
    uint16_t cmd, want;

    if (!s->host_dir) {
        return false;           /* a driver's device (force=on): not ours */
    }
    if (!regdbg_hw_command(s->host_dir, &cmd, false, errp)) {
        return false;
    }
    want = on ? cmd | PCI_COMMAND_MASTER : cmd & ~PCI_COMMAND_MASTER;
    if (want != cmd && !regdbg_hw_command(s->host_dir, &want, true, errp)) {
        return false;
    }
    trace_regdbg_backend_hw_master(s->host_dir, on, want);
    return true;
}

/* The device folder for host=, or NULL with an error naming the choices */
static char *regdbg_hw_find(RegdbgProxyState *s, const char *sysfs,
                            Error **errp)
{
    g_autofree char *devices = g_build_filename(sysfs, "devices", NULL);
    unsigned vendor, device;
    char junk;
    GDir *dir;
    const char *name;
    GString *found = g_string_new(NULL);
    char *match = NULL;
    int n = 0;

    if (strchr(s->host, '.')) {
        /* a bus address, with or without the domain */
        g_autofree char *addr = strlen(s->host) <= 7 ?
            g_strdup_printf("0000:%s", s->host) : g_strdup(s->host);
        char *path = g_build_filename(devices, addr, NULL);

        g_string_free(found, true);
        if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
            error_setg(errp, "host=%s: no PCI device %s in %s", s->host, addr,
                       devices);
            g_free(path);
            return NULL;
        }
        return path;
    }
    if (sscanf(s->host, "%x:%x%c", &vendor, &device, &junk) != 2 ||
        vendor > 0xffff || device > 0xffff) {
        error_setg(errp, "host=%s: expected a bus address (0000:00:18.1) or "
                   "vendor:device (8086:0f41)", s->host);
        g_string_free(found, true);
        return NULL;
    }
    dir = g_dir_open(devices, 0, NULL);
    if (!dir) {
        error_setg(errp, "sysfs-path=%s: no devices/ folder there", sysfs);
        g_string_free(found, true);
        return NULL;
    }
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(devices, name, NULL);
        g_autofree char *v = regdbg_hw_read_line(path, "vendor");
        g_autofree char *d = regdbg_hw_read_line(path, "device");
        unsigned long vv, dd;

        if (v && d && !qemu_strtoul(v, NULL, 16, &vv) &&
            !qemu_strtoul(d, NULL, 16, &dd) && vv == vendor && dd == device) {
            g_string_append_printf(found, "%s%s", n ? ", " : "", name);
            if (!match) {
                match = g_strdup(path);
            }
            n++;
        }
    }
    g_dir_close(dir);
    if (n != 1) {
        if (n == 0) {
            error_setg(errp, "host=%s: no such PCI device in %s", s->host,
                       devices);
        } else {
            error_setg(errp, "host=%s: %d devices match (%s); give the bus "
                       "address instead", s->host, n, found->str);
        }
        g_free(match);
        match = NULL;
    }
    g_string_free(found, true);
    return match;
}

/*
 * The host device's BARs, from its sysfs "resource" file: one line
 * "START END FLAGS" (hexadecimal) per resource, the six BARs first.
 */
static bool regdbg_hw_host_bars(const char *dir, RegdbgHostBar *hb,
                                Error **errp)
{
    g_autofree char *text = regdbg_hw_read_line(dir, "resource");
    g_auto(GStrv) lines = NULL;

    if (!text) {
        error_setg(errp, "%s/resource: cannot read the host device's BARs%s",
                   dir, errno == EINVAL ? " (not a regular file)" : "");
        return false;
    }
    lines = g_strsplit(text, "\n", 0);
    for (unsigned i = 0; i < REGDBG_NUM_BARS; i++) {
        uint64_t v[3];
        const char *p;

        if (!lines[i]) {
            error_setg(errp, "%s/resource: %u lines; a PCI device's resource "
                       "table has a line for each of its %u BARs", dir, i,
                       REGDBG_NUM_BARS);
            return false;
        }
        p = lines[i];
        for (unsigned k = 0; k < 3; k++) {
            const char *end;

            while (*p == ' ' || *p == '\t') {
                p++;
            }
            if (qemu_strtou64(p, &end, 16, &v[k]) < 0 ||
                (*end && *end != ' ' && *end != '\t')) {
                error_setg(errp, "%s/resource: line %u is \"%s\", not "
                           "\"START END FLAGS\" in hexadecimal", dir, i + 1,
                           lines[i]);
                return false;
            }
            p = end;
        }
        if (v[1] < v[0] && (v[0] || v[1])) {
            error_setg(errp, "%s/resource: line %u ends (0x%" PRIx64 ") "
                       "before it starts (0x%" PRIx64 ")", dir, i + 1, v[1],
                       v[0]);
            return false;
        }
        hb[i].start = v[0];
        hb[i].size = v[1] > v[0] ? v[1] - v[0] + 1 : 0;
        hb[i].flags = v[2];
    }
    return true;
}

static const char *regdbg_hw_type_name(const RegdbgHostBar *hb)
{
    if (!hb->size) {
        return "absent";
    }
    if (hb->flags & REGDBG_IORESOURCE_IO) {
        return "io";
    }
    return hb->flags & REGDBG_IORESOURCE_MEM_64 ? "mem64" : "mem32";
}

static bool regdbg_hw_check_layout(RegdbgProxyState *s, const char *dev,
                                   const RegdbgHostBar *hb, Error **errp)
{
    static const char *const names[] = { "absent", "mem32", "mem64", "io" };

    for (unsigned i = 0; i < REGDBG_NUM_BARS; i++) {
        const RegdbgProxyBar *bar = &s->bars[i];
        const char *host_type = regdbg_hw_type_name(&hb[i]);
        uint64_t size = bar->type == REGDBG_BAR_ABSENT ? 0 : bar->size;

        if (i > 0 && s->bars[i - 1].type == REGDBG_BAR_MEM64 &&
            s->bars[i - 1].size) {
            continue;   /* the upper half of a 64-bit BAR */
        }
        if (size != hb[i].size) {
            error_setg(errp, "bar%u-size=0x%" PRIx64 " but BAR %u of the host "
                       "device %s is 0x%" PRIx64 " bytes", i, size, i, dev,
                       hb[i].size);
            return false;
        }
        if (size && strcmp(names[bar->type], host_type) != 0) {
            error_setg(errp, "bar%u-type=%s but BAR %u of the host device %s "
                       "is %s", i, names[bar->type], i, dev, host_type);
            return false;
        }
        if (size && bar->type != REGDBG_BAR_IO &&
            s->bar_prefetch[i] !=
            !!(hb[i].flags & REGDBG_IORESOURCE_PREFETCH)) {
            error_setg(errp, "bar%u-prefetch=%s but BAR %u of the host device "
                       "%s is %sprefetchable", i,
                       s->bar_prefetch[i] ? "on" : "off", i, dev,
                       s->bar_prefetch[i] ? "not " : "");
            return false;
        }
    }
    return true;
}

/*
 * A device that a host driver holds is refused (force=on takes it anyway, as
 * the driver's). With host-irq=uio, uio_pci_generic is not a foreign driver
 * but the backend's own way to the device's interrupt: the device must be
 * bound to it, and to nothing else.
 */
static bool regdbg_hw_check_driver(RegdbgProxyState *s, const char *dev,
                                   const char *driver, Error **errp)
{
    g_autofree char *drv = driver ? g_path_get_basename(driver) : NULL;
    const char *uio = "uio_pci_generic";

    if (s->host_irq == REGDBG_HOST_IRQ_UIO) {
        if (drv && !strcmp(drv, uio)) {
            return true;
        }
        if (drv) {
            error_setg(errp, "host=%s: host-irq=uio needs the host device %s "
                       "bound to %s, but the driver %s holds it; unbind it "
                       "(echo %s > /sys/bus/pci/drivers/%s/unbind), then bind "
                       "it: modprobe %s; echo %s > /sys/bus/pci/devices/%s/"
                       "driver_override; echo %s > /sys/bus/pci/drivers_probe",
                       s->host, dev, uio, drv, dev, drv, uio, uio, dev, dev);
        } else {
            error_setg(errp, "host=%s: host-irq=uio needs the host device %s "
                       "bound to %s, and no driver holds it; bind it: "
                       "modprobe %s; echo %s > /sys/bus/pci/devices/%s/"
                       "driver_override; echo %s > /sys/bus/pci/drivers_probe",
                       s->host, dev, uio, uio, uio, dev, dev);
        }
        return false;
    }
    if (drv && !s->force) {
        error_setg(errp, "host=%s: the host device %s is bound to the driver "
                   "%s; unbind it first (echo %s > /sys/bus/pci/drivers/%s/"
                   "unbind) or set force=on%s", s->host, dev, drv, dev, drv,
                   strcmp(drv, uio) ? "" :
                   "; or give its interrupt to the guest with host-irq=uio");
        return false;
    }
    return true;
}

static void regdbg_backend_hw_unrealize(RegdbgProxyState *s)
{
    regdbg_backend_hw_release(s);
    regdbg_backend_file_unrealize(s);
}

static bool regdbg_backend_hw_realize(RegdbgProxyState *s, Error **errp)
{
    const char *sysfs = s->sysfs_path ? s->sysfs_path : "/sys/bus/pci";
    bool devmem = s->host_access == REGDBG_HOST_ACCESS_DEVMEM;
    g_autofree char *dir = NULL;
    g_autofree char *driver = NULL;
    g_autofree char *link = NULL;
    const char *dev;
    RegdbgHostBar hb[REGDBG_NUM_BARS];

    for (unsigned i = 0; i < REGDBG_NUM_BARS; i++) {
        s->bars[i].io_fd = -1;
        if (s->bar_file[i]) {
            error_setg(errp, "bar%u-file=%s: only backend=file uses BAR files",
                       i, s->bar_file[i]);
            return false;
        }
    }
    if (!s->host) {
        error_setg(errp, "host: backend=hw needs host=BUS_ADDRESS or "
                   "host=VENDOR:DEVICE");
        return false;
    }
    dir = regdbg_hw_find(s, sysfs, errp);
    if (!dir) {
        return false;
    }
    dev = strrchr(dir, '/') + 1;
    link = g_build_filename(dir, "driver", NULL);
    driver = g_file_read_link(link, NULL);
    if (!regdbg_hw_check_driver(s, dev, driver, errp)) {
        return false;
    }
    if (!regdbg_hw_host_bars(dir, hb, errp) ||
        !regdbg_hw_check_layout(s, dev, hb, errp)) {
        return false;
    }
    /* bound to uio_pci_generic for host-irq=uio: the device is ours */
    if ((!driver || s->host_irq == REGDBG_HOST_IRQ_UIO) &&
        !regdbg_hw_take(s, dir, dev, errp)) {
        regdbg_backend_hw_release(s);
        return false;
    }
    for (unsigned i = 0; i < REGDBG_NUM_BARS; i++) {
        RegdbgProxyBar *bar = &s->bars[i];
        g_autofree char *res = NULL;
        g_autofree char *what = NULL;
        struct stat st;
        bool ok;

        if (bar->type == REGDBG_BAR_ABSENT) {
            continue;
        }
        res = g_strdup_printf("%s/resource%u", dir, i);
        if (bar->type == REGDBG_BAR_IO) {
            if (devmem) {
                error_setg(errp, "host-access=devmem cannot reach I/O BAR %u; "
                           "use host-access=sysfs", i);
                regdbg_backend_hw_unrealize(s);
                return false;
            }
            bar->io_fd = open(res, O_RDWR | O_NONBLOCK | O_CLOEXEC);
            if (bar->io_fd < 0) {
                error_setg_errno(errp, errno, "host=%s: %s", s->host, res);
                regdbg_backend_hw_unrealize(s);
                return false;
            }
            if (fstat(bar->io_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                error_setg(errp, "host=%s: %s: not a regular file", s->host,
                           res);
                regdbg_backend_hw_unrealize(s);
                return false;
            }
            continue;
        }
        if (devmem) {
            const char *mem = s->devmem_path ? s->devmem_path : "/dev/mem";

            what = g_strdup_printf("host-access=devmem: %s at 0x%" PRIx64,
                                   mem, hb[i].start);
            ok = regdbg_backend_map(bar, mem, hb[i].start, false, true, what,
                                    errp);
        } else {
            what = g_strdup_printf("host=%s: %s", s->host, res);
            ok = regdbg_backend_map(bar, res, 0, false, false, what, errp);
        }
        if (!ok) {
            regdbg_backend_hw_unrealize(s);
            return false;
        }
    }
    return true;
}

/*
 * An I/O BAR of the host goes through its sysfs resource file: one pread or
 * pwrite of exactly the guest's width (the kernel turns it into in/out).
 */
static uint64_t regdbg_backend_hw_read(RegdbgProxyState *s,
                                       RegdbgProxyBar *bar, hwaddr addr,
                                       unsigned size)
{
    uint64_t val = 0;

    if (bar->io_fd < 0) {
        return regdbg_backend_map_read(bar, addr, size);
    }
    if (pread(bar->io_fd, &val, size, addr) != (ssize_t)size) {
        qemu_log_mask(LOG_UNIMP, "regdbg-proxy: BAR%u I/O read at 0x%"
                      HWADDR_PRIx " failed on the host\n", bar->index, addr);
        return ~0ULL >> (64 - 8 * size);
    }
    return le64_to_cpu(val);
}

static void regdbg_backend_hw_write(RegdbgProxyState *s, RegdbgProxyBar *bar,
                                    hwaddr addr, uint64_t val, unsigned size)
{
    uint64_t le = cpu_to_le64(val);

    if (bar->io_fd < 0) {
        regdbg_backend_map_write(bar, addr, val, size);
        return;
    }
    if (pwrite(bar->io_fd, &le, size, addr) != (ssize_t)size) {
        qemu_log_mask(LOG_UNIMP, "regdbg-proxy: BAR%u I/O write at 0x%"
                      HWADDR_PRIx " failed on the host\n", bar->index, addr);
    }
}

static const RegdbgBackendOps regdbg_backends[] = {
    {
        .name = "none",
        .kind = REGDBG_BACKEND_NONE,
        .realize = regdbg_backend_none_realize,
        .unrealize = regdbg_backend_none_unrealize,
        .read = regdbg_backend_none_read,
        .write = regdbg_backend_none_write,
    },
    {
        .name = "file",
        .kind = REGDBG_BACKEND_FILE,
        .realize = regdbg_backend_file_realize,
        .unrealize = regdbg_backend_file_unrealize,
        .read = regdbg_backend_file_read,
        .write = regdbg_backend_file_write,
    },
    {
        .name = "hw",
        .kind = REGDBG_BACKEND_HW,
        .realize = regdbg_backend_hw_realize,
        .unrealize = regdbg_backend_hw_unrealize,
        .release = regdbg_backend_hw_release,
        .read = regdbg_backend_hw_read,
        .write = regdbg_backend_hw_write,
    },
};

/* kind: the backend property's value (enum regdbg_backend_kind) */
const RegdbgBackendOps *regdbg_backend_find(int kind)
{
    for (size_t i = 0; i < ARRAY_SIZE(regdbg_backends); i++) {
        if (regdbg_backends[i].kind == kind) {
            return &regdbg_backends[i];
        }
    }
    g_assert_not_reached();     /* the property admits only these */
}
