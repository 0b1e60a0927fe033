/*
 * regdbg-proxy backends: where an access goes after the rules.
 *
 *   none  reads return default-read, writes are dropped
 *   file  each BAR is a shared mapping of a file (barN-file); a sysfs
 *         resourceN file is exactly such a file, so the hw backend will
 *         share regdbg_backend_map_file() and the exact-width accessors
 *
 * Copyright (c) 2026 The regdbg authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/mman.h>
#include "qapi/error.h"
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

static bool regdbg_backend_map_file(RegdbgProxyBar *bar, const char *path,
                                    bool create, Error **errp)
{
    struct stat st;
    int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);

    if (fd < 0) {
        error_setg_errno(errp, errno, "bar%u-file=%s", bar->index, path);
        return false;
    }
    if (fstat(fd, &st) < 0) {
        error_setg_errno(errp, errno, "bar%u-file=%s", bar->index, path);
        close(fd);
        return false;
    }
    if (create && S_ISREG(st.st_mode) && st.st_size == 0 &&
        ftruncate(fd, bar->size) == 0) {
        st.st_size = bar->size;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < bar->size) {
        error_setg(errp, "bar%u-file=%s: the file has %" PRIu64
                   " bytes, fewer than bar%u-size (0x%" PRIx64 ")",
                   bar->index, path, (uint64_t)st.st_size,
                   bar->index, bar->size);
        close(fd);
        return false;
    }
    bar->map = mmap(NULL, bar->size, PROT_READ | PROT_WRITE, MAP_SHARED,
                    fd, 0);
    close(fd);
    if (bar->map == MAP_FAILED) {
        bar->map = NULL;
        error_setg_errno(errp, errno, "bar%u-file=%s: cannot map it",
                         bar->index, path);
        return false;
    }
    bar->map_size = bar->size;
    trace_regdbg_backend_file_map(bar->index, path, bar->size);
    return true;
}

static void regdbg_backend_file_unrealize(RegdbgProxyState *s)
{
    for (unsigned i = 0; i < REGDBG_NUM_BARS; i++) {
        if (s->bars[i].map) {
            munmap(s->bars[i].map, s->bars[i].map_size);
            s->bars[i].map = NULL;
        }
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
        if (s->bars[i].type != REGDBG_BAR_ABSENT &&
            !regdbg_backend_map_file(&s->bars[i], s->bar_file[i], true, errp)) {
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
    return regdbg_backend_load((const uint8_t *)bar->map + addr, size);
}

static void regdbg_backend_file_write(RegdbgProxyState *s, RegdbgProxyBar *bar,
                                      hwaddr addr, uint64_t val, unsigned size)
{
    regdbg_backend_store((uint8_t *)bar->map + addr, val, size);
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
};

const RegdbgBackendOps *regdbg_backend_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(regdbg_backends); i++) {
        if (!strcmp(regdbg_backends[i].name, name)) {
            return &regdbg_backends[i];
        }
    }
    return NULL;
}
