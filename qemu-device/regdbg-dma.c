/*
 * regdbg-proxy DMA (dma=, dma-map=): the DMA engines that the "dma" section
 * of a register map describes (docs/register-maps.md), and what the proxy
 * does when the guest programs one of them behind backend=hw.
 *
 * A real device behind the proxy has no IOMMU between it and the host: the
 * guest-physical addresses the guest writes into its DMA registers would be
 * taken as host-physical ones. So the host's bus master stays off
 * (regdbg-backend.c), and
 *
 *   dma=off     (the default) a start write the map describes reaches the
 *               device, which cannot make the transfer; the proxy says so
 *               with a DMA event (REGDBG_DMA_BLOCKED, include/regdbg/abi.h);
 *   dma=bounce  the guest's Bus Master Enable reaches the host, and each
 *               transfer goes through a bounce buffer the proxy owns: pinned
 *               (mlock; a 2 MiB hugetlbfs page, else one 4 KiB page),
 *               physically contiguous, its host-physical address read from
 *               /proc/self/pagemap at every start and checked against the
 *               device's DMA address width. Before the start write reaches
 *               the device, the proxy writes the buffer's address into the
 *               engine's memory address register in place of the guest's
 *               (and, toward the device, copies the guest's memory into the
 *               buffer); when it sees the completion the map names, it copies
 *               the buffer into the guest's memory (from the device) before
 *               the guest sees it. A transfer it cannot bounce is refused: the
 *               start write is held back. Reads of a swapped address register
 *               return the guest's address.
 *
 * The shadow of every described register (what the guest's writes made of
 * it) is kept here; the accesses that touch none cost one range check.
 *
 * Copyright (c) 2026 The regdbg authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/mman.h>
#include <linux/mman.h>
#include "qapi/error.h"
#include "qemu/ctype.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "qemu/madvise.h"
#include "qemu/rcu.h"
#include "qemu/units.h"
#include "qobject/qdict.h"
#include "qobject/qjson.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "qobject/qstring.h"
#include "exec/memory.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_device.h"
#include "hw/misc/regdbg/trace-hw_misc_regdbg.h"
#include "regdbg-proxy.h"

#define REGDBG_DMA_MAX_ENGINES 4
#define REGDBG_DMA_HUGE_SIZE (2 * MiB)
/* Buffers tried for one that lies within the DMA address width */
#define REGDBG_DMA_ALLOC_TRIES 8
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
#endif

/* The registers of an engine that the proxy watches */
enum {
    REGDBG_DMA_SRC_LO,
    REGDBG_DMA_SRC_HI,
    REGDBG_DMA_DST_LO,
    REGDBG_DMA_DST_HI,
    REGDBG_DMA_LEN,
    REGDBG_DMA_START_REG,
    REGDBG_DMA_DIR_REG,
    REGDBG_DMA_DONE_REG,
    REGDBG_DMA_NREGS,
};

typedef struct RegdbgDmaReg {
    bool present;
    bool swapped;               /* the device holds the buffer's address */
    uint8_t bar;
    uint8_t width;              /* bytes */
    uint64_t offset;
    uint64_t shadow;            /* what the guest's writes since reset made */
} RegdbgDmaReg;

typedef struct RegdbgDmaField {
    uint8_t lsb;
    uint8_t nbits;
} RegdbgDmaField;

typedef struct RegdbgDmaEngine {
    char *name;
    RegdbgDmaReg reg[REGDBG_DMA_NREGS];
    bool start_field;           /* start: a field written nonzero, else any */
    RegdbgDmaField start;
    int fixed_dir;              /* -1: the dir field; 0 to, 1 from device */
    RegdbgDmaField dir;
    uint64_t dir_to_dev, dir_from_dev;
    bool done_field;            /* completion: a field's value on a read */
    RegdbgDmaField done;
    uint64_t done_value;
    bool done_irq;              /* completion: the device's interrupt */
    uint64_t max_length;        /* 0: no limit but the buffer's */
    /* dma=bounce: the bounce buffer */
    void *buf;
    uint64_t buf_size;
    uint64_t buf_pa;
    bool buf_huge;
    /* the transfer in flight */
    bool busy;
    bool busy_from_dev;
    uint64_t busy_addr;
    uint64_t busy_len;
} RegdbgDmaEngine;

struct RegdbgDma {
    unsigned address_bits;
    unsigned n;
    RegdbgDmaEngine eng[REGDBG_DMA_MAX_ENGINES];
    uint64_t lo[REGDBG_NUM_BARS];   /* the watched bytes of each BAR: */
    uint64_t hi[REGDBG_NUM_BARS];   /* [lo, hi), empty when lo >= hi */
    int pagemap_fd;
    bool warned_off;
};

static uint64_t regdbg_dma_field_get(RegdbgDmaField f, uint64_t v)
{
    return (v >> f.lsb) & MAKE_64BIT_MASK(0, f.nbits);
}

/* --- the map's "dma" section ---------------------------------------------- */

/* A register of the map, as the dma section names it */
typedef struct RegdbgMapReg {
    const char *name;
    QDict *dict;
    uint8_t bar;
    uint8_t width;
    uint64_t offset;
} RegdbgMapReg;

typedef struct RegdbgMapParse {
    RegdbgProxyState *s;
    const char *path;
    const char *engine;         /* "engine NAME: ", or "" */
    RegdbgMapReg *regs;
    size_t n_regs;
} RegdbgMapParse;

/* A number as register maps write them: an integer, "0x1f" or "31" */
static bool regdbg_map_num(QObject *o, uint64_t *v)
{
    QNum *qn = qobject_to(QNum, o);
    QString *qs = qobject_to(QString, o);
    const char *str, *end;

    if (qn) {
        int64_t i;

        /* as JSON parsers (the debugger's jansson) read them: below 2^63 */
        if (!qnum_get_try_int(qn, &i) || i < 0) {
            return false;
        }
        *v = i;
        return true;
    }
    if (!qs) {
        return false;
    }
    str = qstring_get_str(qs);
    if (!str[0] || str[0] == '-' || str[0] == '+' || qemu_isspace(str[0])) {
        return false;
    }
    if (str[0] == '0' && (str[1] == 'x' || str[1] == 'X')) {
        if (!str[2] || !qemu_isxdigit(str[2]) ||
            qemu_strtou64(str + 2, &end, 16, v) < 0) {
            return false;
        }
    } else if (!qemu_isdigit(str[0]) || qemu_strtou64(str, &end, 10, v) < 0) {
        return false;
    }
    return !*end;
}

static bool regdbg_map_get_num(RegdbgMapParse *p, QDict *d, const char *key,
                               const char *where, bool required,
                               uint64_t *v, Error **errp)
{
    QObject *o = qdict_get(d, key);

    if (!o) {
        if (required) {
            error_setg(errp, "dma-map=%s: %s has no '%s'", p->path, where,
                       key);
        }
        return !required;
    }
    if (!regdbg_map_num(o, v)) {
        error_setg(errp, "dma-map=%s: '%s' in %s is not a number (an "
                   "integer below 2^63, \"0x1f\" or \"31\")", p->path, key,
                   where);
        return false;
    }
    return true;
}

/* The keys of each object of the section, as docs/register-maps.md has them */
static const char *const regdbg_map_dma_keys[] = {
    "address_bits", "engines", "description", NULL
};
static const char *const regdbg_map_engine_keys[] = {
    "name", "description", "source", "destination", "length", "start",
    "direction", "completion", "max_length", NULL
};
static const char *const regdbg_map_addr_keys[] = { "low", "high", NULL };
static const char *const regdbg_map_dir_keys[] = {
    "field", "to_device", "from_device", NULL
};
static const char *const regdbg_map_done_keys[] = { "field", "value", NULL };

/*
 * d has only keys of the list, and its "description", if any, is a string;
 * where names d after the engine's prefix ("" for the engine itself)
 */
static bool regdbg_map_keys(RegdbgMapParse *p, QDict *d, const char *where,
                            const char *const *keys, Error **errp)
{
    const QDictEntry *e;
    QObject *desc = qdict_get(d, "description");

    for (e = qdict_first(d); e; e = qdict_next(d, e)) {
        const char *key = qdict_entry_key(e);
        size_t i;

        for (i = 0; keys[i] && strcmp(keys[i], key); i++) {
            continue;
        }
        if (!keys[i]) {
            error_setg(errp, "dma-map=%s: %s%s%sunknown key '%s'", p->path,
                       p->engine, where, *where ? ": " : "", key);
            return false;
        }
    }
    if (desc && !qobject_to(QString, desc)) {
        error_setg(errp, "dma-map=%s: %s%s%s'description' must be a string",
                   p->path, p->engine, where, *where ? ": " : "");
        return false;
    }
    return true;
}

static bool regdbg_map_load_regs(RegdbgMapParse *p, QDict *top, Error **errp)
{
    QList *list = qdict_get_qlist(top, "registers");
    const QListEntry *e;
    size_t i = 0;

    if (!list) {
        error_setg(errp, "dma-map=%s: the map has no \"registers\" array",
                   p->path);
        return false;
    }
    p->n_regs = qlist_size(list);
    p->regs = g_new0(RegdbgMapReg, p->n_regs);
    QLIST_FOREACH_ENTRY(list, e) {
        QDict *d = qobject_to(QDict, qlist_entry_obj(e));
        RegdbgMapReg *r = &p->regs[i++];
        uint64_t bar = 0, width = 32;

        if (!d || !qdict_get_try_str(d, "name")) {
            error_setg(errp, "dma-map=%s: register %zu is not an object with "
                       "a \"name\"", p->path, i);
            return false;
        }
        r->name = qdict_get_try_str(d, "name");
        r->dict = d;
        if (!regdbg_map_get_num(p, d, "bar", r->name, false, &bar, errp) ||
            !regdbg_map_get_num(p, d, "offset", r->name, true, &r->offset,
                                errp) ||
            !regdbg_map_get_num(p, d, "width", r->name, false, &width,
                                errp)) {
            return false;
        }
        if (bar >= REGDBG_NUM_BARS ||
            (width != 8 && width != 16 && width != 32 && width != 64)) {
            error_setg(errp, "dma-map=%s: register %s: bar %" PRIu64 ", width "
                       "%" PRIu64 ": expected a BAR 0..5 and a width of 8, "
                       "16, 32 or 64 bits", p->path, r->name, bar, width);
            return false;
        }
        r->bar = bar;
        r->width = width / 8;
    }
    return true;
}

static RegdbgMapReg *regdbg_map_find(RegdbgMapParse *p, const char *name,
                                     size_t len)
{
    for (size_t i = 0; i < p->n_regs; i++) {
        if (strlen(p->regs[i].name) == len &&
            !strncmp(p->regs[i].name, name, len)) {
            return &p->regs[i];
        }
    }
    return NULL;
}

/* A register the engine watches: it must lie inside a BAR the proxy has */
static bool regdbg_map_use_reg(RegdbgMapParse *p, RegdbgMapReg *r,
                               RegdbgDmaReg *out, const char *what,
                               Error **errp)
{
    const RegdbgProxyBar *bar = &p->s->bars[r->bar];

    if (bar->type == REGDBG_BAR_ABSENT || r->offset >= bar->size ||
        bar->size - r->offset < r->width) {
        error_setg(errp, "dma-map=%s: %s%s: register %s (BAR %u + 0x%" PRIx64
                   ", %u bytes) is not inside a BAR of this device", p->path,
                   p->engine, what, r->name, r->bar, r->offset, r->width);
        return false;
    }
    if (bar->type == REGDBG_BAR_IO && r->width > 4) {
        error_setg(errp, "dma-map=%s: %s%s: register %s is %u bytes wide in "
                   "I/O BAR %u (port accesses are 1, 2 or 4 bytes)", p->path,
                   p->engine, what, r->name, r->width, r->bar);
        return false;
    }
    out->present = true;
    out->bar = r->bar;
    out->width = r->width;
    out->offset = r->offset;
    return true;
}

/* "REG" (field NULL) or "REG.FIELD": a register, and a field of it */
static bool regdbg_map_ref(RegdbgMapParse *p, QObject *o, const char *what,
                           bool want_field, RegdbgDmaReg *reg,
                           RegdbgDmaField *field, bool *has_field,
                           Error **errp)
{
    QString *qs = qobject_to(QString, o);
    const char *ref = qs ? qstring_get_str(qs) : NULL;
    const char *dot = ref ? strchr(ref, '.') : NULL;
    RegdbgMapReg *r;
    QList *fields;
    const QListEntry *e;

    if (!ref) {
        error_setg(errp, "dma-map=%s: %s%s must be a string naming a "
                   "register%s", p->path, p->engine, what,
                   want_field ? " (\"REG\" or \"REG.FIELD\")" : "");
        return false;
    }
    if (dot && !want_field) {
        error_setg(errp, "dma-map=%s: %s%s: \"%s\": expected a register, not a "
                   "field", p->path, p->engine, what, ref);
        return false;
    }
    if (!dot && want_field && !has_field) {
        error_setg(errp, "dma-map=%s: %s%s: \"%s\": expected a field "
                   "(\"REG.FIELD\"), not a register", p->path, p->engine, what,
                   ref);
        return false;
    }
    r = regdbg_map_find(p, ref, dot ? (size_t)(dot - ref) : strlen(ref));
    if (!r) {
        error_setg(errp, "dma-map=%s: %s%s: the map has no register "
                   "\"%.*s\"", p->path, p->engine, what,
                   dot ? (int)(dot - ref) : (int)strlen(ref), ref);
        return false;
    }
    if (!regdbg_map_use_reg(p, r, reg, what, errp)) {
        return false;
    }
    if (has_field) {
        *has_field = dot != NULL;
    }
    if (!dot) {
        return true;
    }
    fields = qdict_get_qlist(r->dict, "fields");
    if (fields) {
        QLIST_FOREACH_ENTRY(fields, e) {
            QDict *f = qobject_to(QDict, qlist_entry_obj(e));
            const char *name = f ? qdict_get_try_str(f, "name") : NULL;
            const char *bits = f ? qdict_get_try_str(f, "bits") : NULL;
            unsigned msb, lsb;
            char junk;

            if (!name || strcmp(name, dot + 1)) {
                continue;
            }
            if (!bits) {
                break;
            }
            if (sscanf(bits, "%u:%u%c", &msb, &lsb, &junk) != 2) {
                if (sscanf(bits, "%u%c", &msb, &junk) != 1) {
                    break;
                }
                lsb = msb;
            }
            if (msb < lsb || msb >= r->width * 8u) {
                break;
            }
            field->lsb = lsb;
            field->nbits = msb - lsb + 1;
            return true;
        }
    }
    error_setg(errp, "dma-map=%s: %s%s: register %s has no field \"%s\" with "
               "bits inside it", p->path, p->engine, what, r->name, dot + 1);
    return false;
}

/* The access of the register that o ("REG" or "REG.FIELD", found) names */
static const char *regdbg_map_access(RegdbgMapParse *p, QObject *o)
{
    const char *ref = qstring_get_str(qobject_to(QString, o));
    const char *dot = strchr(ref, '.');
    RegdbgMapReg *r = regdbg_map_find(p, ref,
                                      dot ? (size_t)(dot - ref) : strlen(ref));
    const char *access = r ? qdict_get_try_str(r->dict, "access") : NULL;

    return access ? access : "rw";
}

static bool regdbg_map_fits(RegdbgMapParse *p, RegdbgDmaField f, uint64_t v,
                            const char *what, Error **errp)
{
    if (f.nbits < 64 && v >> f.nbits) {
        error_setg(errp, "dma-map=%s: %s%s: %" PRIu64 " does not fit its "
                   "field's %u bits", p->path, p->engine, what, v, f.nbits);
        return false;
    }
    return true;
}

/* An address: "REG", or { "low": "REG", "high": "REG" } */
static bool regdbg_map_address(RegdbgMapParse *p, QObject *o,
                               const char *what, RegdbgDmaReg *lo,
                               RegdbgDmaReg *hi, Error **errp)
{
    QDict *d = qobject_to(QDict, o);

    if (!d) {
        return regdbg_map_ref(p, o, what, false, lo, NULL, NULL, errp);
    }
    if (!regdbg_map_keys(p, d, what, regdbg_map_addr_keys, errp)) {
        return false;
    }
    if (!qdict_get(d, "low") || !qdict_get(d, "high") ||
        !regdbg_map_ref(p, qdict_get(d, "low"), what, false, lo, NULL, NULL,
                        errp) ||
        !regdbg_map_ref(p, qdict_get(d, "high"), what, false, hi, NULL, NULL,
                        errp)) {
        if (errp && !*errp) {
            error_setg(errp, "dma-map=%s: %s%s: expected a register or "
                       "{ \"low\": REG, \"high\": REG }", p->path, p->engine,
                       what);
        }
        return false;
    }
    if (!strcmp(qdict_get_try_str(d, "low"), qdict_get_try_str(d, "high"))) {
        error_setg(errp, "dma-map=%s: %s%s: low and high are the same "
                   "register", p->path, p->engine, what);
        return false;
    }
    if (lo->width + hi->width > 8) {
        error_setg(errp, "dma-map=%s: %s%s: low and high together are wider "
                   "than 64 bits", p->path, p->engine, what);
        return false;
    }
    return true;
}

static bool regdbg_map_direction(RegdbgMapParse *p, RegdbgDmaEngine *eng,
                                 QObject *o, const char *where, Error **errp)
{
    QString *qs = qobject_to(QString, o);
    QDict *d = qobject_to(QDict, o);

    if (qs && !strcmp(qstring_get_str(qs), "to_device")) {
        eng->fixed_dir = 0;
        return true;
    }
    if (qs && !strcmp(qstring_get_str(qs), "from_device")) {
        eng->fixed_dir = 1;
        return true;
    }
    if (!d || !qdict_get(d, "field")) {
        error_setg(errp, "dma-map=%s: %s: 'direction' must be \"to_device\", "
                   "\"from_device\" or { \"field\": \"REG.FIELD\", "
                   "\"to_device\": N, \"from_device\": N }", p->path, where);
        return false;
    }
    eng->fixed_dir = -1;
    if (!regdbg_map_keys(p, d, "direction", regdbg_map_dir_keys, errp)) {
        return false;
    }
    if (!regdbg_map_ref(p, qdict_get(d, "field"), "direction", true,
                        &eng->reg[REGDBG_DMA_DIR_REG], &eng->dir, NULL,
                        errp) ||
        !regdbg_map_get_num(p, d, "to_device", "direction", true,
                            &eng->dir_to_dev, errp) ||
        !regdbg_map_get_num(p, d, "from_device", "direction", true,
                            &eng->dir_from_dev, errp) ||
        !regdbg_map_fits(p, eng->dir, eng->dir_to_dev, "direction: to_device",
                         errp) ||
        !regdbg_map_fits(p, eng->dir, eng->dir_from_dev,
                         "direction: from_device", errp)) {
        return false;
    }
    if (eng->dir_to_dev == eng->dir_from_dev) {
        error_setg(errp, "dma-map=%s: %s: 'direction' gives both directions "
                   "the value %" PRIu64, p->path, where, eng->dir_to_dev);
        return false;
    }
    return true;
}

static bool regdbg_map_condition(RegdbgMapParse *p, RegdbgDmaEngine *eng,
                                 QObject *o, const char *where, Error **errp)
{
    QString *qs = qobject_to(QString, o);
    QDict *d = qobject_to(QDict, o);

    if (qs && !strcmp(qstring_get_str(qs), "interrupt")) {
        if (eng->done_irq) {
            error_setg(errp, "dma-map=%s: %s: 'completion' names "
                       "\"interrupt\" twice", p->path, where);
            return false;
        }
        eng->done_irq = true;
        return true;
    }
    if (!d || !qdict_get(d, "field") || eng->done_field) {
        error_setg(errp, "dma-map=%s: %s: a completion is \"interrupt\" or "
                   "one { \"field\": \"REG.FIELD\", \"value\": N }", p->path,
                   where);
        return false;
    }
    eng->done_field = true;
    if (!regdbg_map_keys(p, d, "completion", regdbg_map_done_keys, errp) ||
        !regdbg_map_ref(p, qdict_get(d, "field"), "completion", true,
                        &eng->reg[REGDBG_DMA_DONE_REG], &eng->done, NULL,
                        errp) ||
        !regdbg_map_get_num(p, d, "value", "completion", true,
                            &eng->done_value, errp) ||
        !regdbg_map_fits(p, eng->done, eng->done_value, "completion: value",
                         errp)) {
        return false;
    }
    if (!strcmp(regdbg_map_access(p, qdict_get(d, "field")), "wo")) {
        error_setg(errp, "dma-map=%s: %s: completion: register %s is "
                   "write-only: a read cannot show the completion", p->path,
                   where, qstring_get_str(qobject_to(QString,
                                                     qdict_get(d, "field"))));
        return false;
    }
    return true;
}

static bool regdbg_map_engine(RegdbgMapParse *p, RegdbgDmaEngine *eng,
                              QDict *d, unsigned index, Error **errp)
{
    const char *name = qdict_get_try_str(d, "name");
    g_autofree char *where = g_strdup_printf("engine %s", name ? name : "?");
    g_autofree char *prefix = g_strdup_printf("%s: ", where);
    QObject *done = qdict_get(d, "completion");
    QList *done_list = qobject_to(QList, done);
    bool to_dev, from_dev, bad_name;

    if (!name) {
        error_setg(errp, "dma-map=%s: DMA engine %u has no \"name\"", p->path,
                   index);
        return false;
    }
    eng->name = g_strdup(name);
    p->engine = prefix;
    /* a name as the stream prints it: not empty, no spaces, no '=' */
    bad_name = !*name;
    for (const char *c = name; *c; c++) {
        bad_name |= (unsigned char)*c <= ' ' || *c == 0x7f || *c == '=';
    }
    if (bad_name) {
        error_setg(errp, "dma-map=%s: DMA engine %u: the name \"%s\" is "
                   "empty or has a space, a control character or '='",
                   p->path, index, name);
        return false;
    }
    if (!regdbg_map_keys(p, d, "", regdbg_map_engine_keys, errp)) {
        return false;
    }
    if (!qdict_get(d, "length") || !qdict_get(d, "start") ||
        !qdict_get(d, "direction") || !done) {
        error_setg(errp, "dma-map=%s: %s needs 'length', 'start', "
                   "'direction' and 'completion'", p->path, where);
        return false;
    }
    if (!regdbg_map_direction(p, eng, qdict_get(d, "direction"), where,
                              errp)) {
        return false;
    }
    to_dev = eng->fixed_dir != 1;
    from_dev = eng->fixed_dir != 0;
    if ((to_dev && !qdict_get(d, "source")) ||
        (from_dev && !qdict_get(d, "destination"))) {
        error_setg(errp, "dma-map=%s: %s: a transfer %s the device needs the "
                   "register of its memory address ('%s')", p->path, where,
                   to_dev && !qdict_get(d, "source") ? "toward" : "from",
                   to_dev && !qdict_get(d, "source") ? "source" :
                   "destination");
        return false;
    }
    if ((qdict_get(d, "source") &&
         !regdbg_map_address(p, qdict_get(d, "source"), "source",
                             &eng->reg[REGDBG_DMA_SRC_LO],
                             &eng->reg[REGDBG_DMA_SRC_HI], errp)) ||
        (qdict_get(d, "destination") &&
         !regdbg_map_address(p, qdict_get(d, "destination"), "destination",
                             &eng->reg[REGDBG_DMA_DST_LO],
                             &eng->reg[REGDBG_DMA_DST_HI], errp)) ||
        !regdbg_map_ref(p, qdict_get(d, "length"), "length", false,
                        &eng->reg[REGDBG_DMA_LEN], NULL, NULL, errp) ||
        !regdbg_map_ref(p, qdict_get(d, "start"), "start", true,
                        &eng->reg[REGDBG_DMA_START_REG], &eng->start,
                        &eng->start_field, errp) ||
        !regdbg_map_get_num(p, d, "max_length", where, false,
                            &eng->max_length, errp)) {
        return false;
    }
    if (!strcmp(regdbg_map_access(p, qdict_get(d, "start")), "ro")) {
        error_setg(errp, "dma-map=%s: %s: start: register %s is read-only: no "
                   "write can start a transfer", p->path, where,
                   qstring_get_str(qobject_to(QString, qdict_get(d, "start"))));
        return false;
    }
    /* 0 is the proxy's own "no limit", not a length the map may give */
    if (qdict_get(d, "max_length") && !eng->max_length) {
        error_setg(errp, "dma-map=%s: %s: 'max_length' must be at least 1",
                   p->path, where);
        return false;
    }
    if (done_list && !qlist_size(done_list)) {
        error_setg(errp, "dma-map=%s: %s: 'completion' must not be empty",
                   p->path, where);
        return false;
    }
    if (done_list) {
        const QListEntry *e;

        QLIST_FOREACH_ENTRY(done_list, e) {
            if (!regdbg_map_condition(p, eng, qlist_entry_obj(e), where,
                                      errp)) {
                return false;
            }
        }
    } else if (!regdbg_map_condition(p, eng, done, where, errp)) {
        return false;
    }
    if (!eng->done_field && p->s->host_irq == REGDBG_HOST_IRQ_OFF) {
        /*
         * Without host-irq=uio the device's interrupt does not pass through
         * the proxy: a transfer from the device would never be copied back.
         */
        error_setg(errp, "dma-map=%s: %s: completion by the device's "
                   "interrupt alone needs host-irq=uio (without it the proxy "
                   "does not see the host device's interrupt, and would "
                   "never copy a transfer back); set host-irq=uio, or add a "
                   "completion by a status field", p->path, where);
        return false;
    }
    return true;
}

static bool regdbg_map_parse(RegdbgProxyState *s, RegdbgDma *dma,
                             Error **errp)
{
    RegdbgMapParse p = { .s = s, .path = s->dma_map, .engine = "" };
    g_autofree char *text = NULL;
    g_autoptr(GError) gerr = NULL;
    QObject *top_obj;
    QDict *top, *sec;
    QList *engines;
    const QListEntry *e;
    uint64_t bits;
    bool ok = false;

    if (!g_file_get_contents(s->dma_map, &text, NULL, &gerr)) {
        error_setg(errp, "dma-map=%s: %s", s->dma_map, gerr->message);
        return false;
    }
    top_obj = qobject_from_json(text, errp);
    if (!top_obj) {
        error_prepend(errp, "dma-map=%s: not JSON: ", s->dma_map);
        return false;
    }
    top = qobject_to(QDict, top_obj);
    sec = top ? qdict_get_qdict(top, "dma") : NULL;
    if (!sec) {
        error_setg(errp, "dma-map=%s: the map has no \"dma\" section "
                   "describing the device's DMA engines "
                   "(docs/register-maps.md)", s->dma_map);
        goto out;
    }
    if (!regdbg_map_load_regs(&p, top, errp) ||
        !regdbg_map_keys(&p, sec, "dma", regdbg_map_dma_keys, errp) ||
        !regdbg_map_get_num(&p, sec, "address_bits", "dma", true, &bits,
                            errp)) {
        goto out;
    }
    if (bits < 12 || bits > 64) {
        error_setg(errp, "dma-map=%s: dma: address_bits=%" PRIu64 ": "
                   "expected 12 to 64", s->dma_map, bits);
        goto out;
    }
    dma->address_bits = bits;
    engines = qdict_get_qlist(sec, "engines");
    if (!engines || !qlist_size(engines) ||
        qlist_size(engines) > REGDBG_DMA_MAX_ENGINES) {
        error_setg(errp, "dma-map=%s: dma: 'engines' must be an array of 1 "
                   "to %u engines", s->dma_map, REGDBG_DMA_MAX_ENGINES);
        goto out;
    }
    QLIST_FOREACH_ENTRY(engines, e) {
        QDict *d = qobject_to(QDict, qlist_entry_obj(e));

        if (!d) {
            error_setg(errp, "dma-map=%s: DMA engine %u is not an object",
                       s->dma_map, dma->n);
            goto out;
        }
        for (unsigned j = 0; j < dma->n; j++) {
            if (!g_strcmp0(dma->eng[j].name, qdict_get_try_str(d, "name"))) {
                error_setg(errp, "dma-map=%s: two DMA engines are named %s",
                           s->dma_map, dma->eng[j].name);
                goto out;
            }
        }
        if (!regdbg_map_engine(&p, &dma->eng[dma->n], d, dma->n, errp)) {
            dma->n++;           /* its name is freed with the others */
            goto out;
        }
        dma->n++;
    }
    ok = true;
out:
    g_free(p.regs);
    qobject_unref(top_obj);
    return ok;
}

/* --- bounce buffers ------------------------------------------------------- */

/* The host-physical address of va, from /proc/self/pagemap; 0: unknown */
static uint64_t regdbg_dma_phys(RegdbgDma *dma, const void *va, int *err)
{
    uint64_t page = qemu_real_host_page_size();
    uint64_t entry;
    uintptr_t v = (uintptr_t)va;

    if (pread(dma->pagemap_fd, &entry, 8, (v / page) * 8) != 8) {
        *err = errno ? errno : EIO;
        return 0;
    }
    /* bit 63: present; bits 0-54: the frame (0 without CAP_SYS_ADMIN) */
    if (!(entry & (1ULL << 63)) || !(entry & MAKE_64BIT_MASK(0, 55))) {
        *err = (entry & (1ULL << 63)) ? EPERM : ENOENT;
        return 0;
    }
    return (entry & MAKE_64BIT_MASK(0, 55)) * page + v % page;
}

static void regdbg_dma_free_buf(void *buf, uint64_t size)
{
    if (buf) {
        munlock(buf, size);
        munmap(buf, size);
    }
}

/*
 * One buffer: a 2 MiB hugetlbfs page when the host has one free, else one
 * page; pinned (mlock: never swapped), kept from fork()ed children, touched,
 * and its physical address read.
 */
static bool regdbg_dma_alloc_one(RegdbgDma *dma, RegdbgDmaEngine *eng,
                                 Error **errp)
{
    uint64_t size = REGDBG_DMA_HUGE_SIZE;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB |
                   MAP_POPULATE, -1, 0);
    int err = 0;

    eng->buf_huge = p != MAP_FAILED;
    if (p == MAP_FAILED) {
        size = qemu_real_host_page_size();
        p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (p == MAP_FAILED) {
            error_setg_errno(errp, errno, "dma=bounce: cannot allocate a "
                             "bounce buffer");
            return false;
        }
    }
    if (mlock(p, size) < 0) {
        error_setg_errno(errp, errno, "dma=bounce: cannot pin the %" PRIu64
                         "-byte bounce buffer in memory (mlock; raise "
                         "ulimit -l)", size);
        munmap(p, size);
        return false;
    }
    qemu_madvise(p, size, QEMU_MADV_DONTFORK);
    memset(p, 0, size);
    eng->buf = p;
    eng->buf_size = size;
    eng->buf_pa = regdbg_dma_phys(dma, p, &err);
    if (!eng->buf_pa) {
        error_setg(errp, "dma=bounce: cannot read the physical address of "
                   "the bounce buffer from /proc/self/pagemap: %s",
                   err == EPERM ? "only a process with CAP_SYS_ADMIN (root) "
                   "is given physical addresses" : g_strerror(err));
        regdbg_dma_free_buf(p, size);
        eng->buf = NULL;
        return false;
    }
    return true;
}

/* Whether [pa, pa + len) lies below 2^bits */
static bool regdbg_dma_within(uint64_t pa, uint64_t len, unsigned bits)
{
    uint64_t last = pa + MAX(len, 1) - 1;

    return last >= pa && (bits >= 64 || last < (1ULL << bits));
}

/*
 * A buffer for eng within the DMA address width: up to
 * REGDBG_DMA_ALLOC_TRIES allocations, the misses held until one fits. None
 * that fits: the last is kept, and transfers that reach past the width are
 * refused (REGDBG_DMA_WHY_WIDTH).
 */
static bool regdbg_dma_alloc(RegdbgProxyState *s, RegdbgDma *dma,
                             RegdbgDmaEngine *eng, Error **errp)
{
    struct { void *buf; uint64_t size; } miss[REGDBG_DMA_ALLOC_TRIES];
    unsigned n = 0;

    for (;;) {
        if (!regdbg_dma_alloc_one(dma, eng, errp)) {
            break;
        }
        if (regdbg_dma_within(eng->buf_pa, eng->buf_size, dma->address_bits) ||
            n == REGDBG_DMA_ALLOC_TRIES) {
            break;
        }
        miss[n].buf = eng->buf;
        miss[n++].size = eng->buf_size;
        eng->buf = NULL;
    }
    while (n--) {
        regdbg_dma_free_buf(miss[n].buf, miss[n].size);
    }
    if (!eng->buf) {
        return false;
    }
    if (!regdbg_dma_within(eng->buf_pa, eng->buf_size, dma->address_bits)) {
        warn_report("regdbg-proxy %s: dma=bounce: no bounce buffer for DMA "
                    "engine %s lies within the device's %u-bit DMA address "
                    "width (the last was at 0x%" PRIx64 "): its transfers "
                    "will be refused", DEVICE(s)->id ? DEVICE(s)->id : "",
                    eng->name, dma->address_bits, eng->buf_pa);
    }
    trace_regdbg_dma_buffer(eng->name, eng->buf_pa, eng->buf_size,
                            eng->buf_huge);
    return true;
}

/* --- setup ---------------------------------------------------------------- */

void regdbg_dma_unrealize(RegdbgProxyState *s)
{
    RegdbgDma *dma = s->dma;

    if (!dma) {
        return;
    }
    for (unsigned i = 0; i < REGDBG_DMA_MAX_ENGINES; i++) {
        regdbg_dma_free_buf(dma->eng[i].buf, dma->eng[i].buf_size);
        g_free(dma->eng[i].name);
    }
    if (dma->pagemap_fd >= 0) {
        close(dma->pagemap_fd);
    }
    g_free(dma);
    s->dma = NULL;
}

bool regdbg_dma_realize(RegdbgProxyState *s, Error **errp)
{
    RegdbgDma *dma;

    if (s->dma_mode == REGDBG_DMA_MODE_BOUNCE &&
        s->backend->kind != REGDBG_BACKEND_HW) {
        error_setg(errp, "dma=bounce: only backend=hw has a device that does "
                   "DMA");
        return false;
    }
    if (!s->dma_map) {
        if (s->dma_mode == REGDBG_DMA_MODE_BOUNCE) {
            error_setg(errp, "dma=bounce needs dma-map=FILE: a register map "
                       "whose \"dma\" section describes the device's DMA "
                       "engines (docs/register-maps.md)");
            return false;
        }
        return true;
    }
    if (s->backend->kind != REGDBG_BACKEND_HW) {
        error_setg(errp, "dma-map=%s: only backend=hw has a device that does "
                   "DMA", s->dma_map);
        return false;
    }
    dma = s->dma = g_new0(RegdbgDma, 1);
    dma->pagemap_fd = -1;
    if (!regdbg_map_parse(s, dma, errp)) {
        regdbg_dma_unrealize(s);
        return false;
    }
    for (unsigned b = 0; b < REGDBG_NUM_BARS; b++) {
        dma->lo[b] = UINT64_MAX;
    }
    for (unsigned i = 0; i < dma->n; i++) {
        for (unsigned k = 0; k < REGDBG_DMA_NREGS; k++) {
            const RegdbgDmaReg *r = &dma->eng[i].reg[k];

            if (r->present) {
                dma->lo[r->bar] = MIN(dma->lo[r->bar], r->offset);
                dma->hi[r->bar] = MAX(dma->hi[r->bar], r->offset + r->width);
            }
        }
    }
    if (s->dma_mode != REGDBG_DMA_MODE_BOUNCE) {
        return true;
    }
    dma->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (dma->pagemap_fd < 0) {
        error_setg_errno(errp, errno, "dma=bounce: cannot open "
                         "/proc/self/pagemap to find the bounce buffers' "
                         "physical addresses");
        regdbg_dma_unrealize(s);
        return false;
    }
    for (unsigned i = 0; i < dma->n; i++) {
        if (!regdbg_dma_alloc(s, dma, &dma->eng[i], errp)) {
            regdbg_dma_unrealize(s);
            return false;
        }
    }
    return true;
}

void regdbg_dma_fill_header(RegdbgProxyState *s, struct regdbg_shm_header *h)
{
    RegdbgDma *dma = s->dma;

    h->dma_mode = s->dma_mode;
    h->dma_address_bits = dma ? dma->address_bits : 0;
    h->dma_buffer_size = 0;
    for (unsigned i = 0; dma && i < dma->n; i++) {
        if (dma->eng[i].buf && (!h->dma_buffer_size ||
                                dma->eng[i].buf_size < h->dma_buffer_size)) {
            h->dma_buffer_size = dma->eng[i].buf_size;
        }
    }
}

/* A reset forgets the guest's values and the transfers in flight */
void regdbg_dma_reset(RegdbgProxyState *s)
{
    RegdbgDma *dma = s->dma;

    for (unsigned i = 0; dma && i < dma->n; i++) {
        RegdbgDmaEngine *eng = &dma->eng[i];

        eng->busy = false;
        for (unsigned k = 0; k < REGDBG_DMA_NREGS; k++) {
            eng->reg[k].shadow = 0;
            eng->reg[k].swapped = false;
        }
    }
}

/* --- accesses ------------------------------------------------------------- */

static bool regdbg_dma_overlaps(const RegdbgDmaReg *r, unsigned bar,
                                hwaddr addr, unsigned size)
{
    return r->present && r->bar == bar && addr < r->offset + r->width &&
           r->offset < addr + size;
}

/*
 * The bytes of an access of size bytes at addr, with value v, that fall in
 * register r, as a register value; *known gets the mask of those bytes.
 */
static uint64_t regdbg_dma_bytes(const RegdbgDmaReg *r, hwaddr addr,
                                 unsigned size, uint64_t v, uint64_t *known)
{
    uint64_t out = 0;

    *known = 0;
    for (unsigned j = 0; j < size; j++) {
        uint64_t at = addr + j;

        if (at >= r->offset && at < r->offset + r->width) {
            unsigned k = at - r->offset;

            out |= ((v >> (8 * j)) & 0xff) << (8 * k);
            *known |= 0xffULL << (8 * k);
        }
    }
    return out;
}

static bool regdbg_dma_field_known(RegdbgDmaField f, uint64_t known)
{
    uint64_t m = MAKE_64BIT_MASK(f.lsb, f.nbits);

    return (known & m) == m;
}

/* The value of an address (a register, or low and high) */
static uint64_t regdbg_dma_addr(const RegdbgDmaReg *lo, const RegdbgDmaReg *hi)
{
    uint64_t v = lo->shadow;

    if (hi->present) {
        v |= hi->shadow << (8 * lo->width);
    }
    return v;
}

/* A DMA event (include/regdbg/abi.h), stamped now, into *ev */
static void regdbg_dma_fill(RegdbgProxyState *s, RegdbgDmaEngine *eng,
                            const RegdbgAccess *cause, RegdbgAccess *ev,
                            uint8_t what, uint8_t why, bool from_dev,
                            uint64_t addr, uint64_t len, uint64_t buf,
                            uint64_t ns)
{
    *ev = (RegdbgAccess) {
        .t_ns = regdbg_access_clock_ns(),
        .addr = addr,
        .value = buf,
        .orig = len,
        .guest_pc = ns,
        .cpu = cause->cpu,
        .flags = from_dev ? REGDBG_EV_DMA_FROM_DEVICE : 0,
        .rule = REGDBG_RULE_NONE,
        .bar = eng->reg[REGDBG_DMA_START_REG].bar,
        .size = eng - s->dma->eng,
        .dir = REGDBG_DIR_DMA,
        .cpu_mode = REGDBG_MODE_UNKNOWN,
        .dma_what = what,
        .dma_why = why,
    };
}

/* A write the proxy makes itself: the buffer's address, or the guest's back */
static void regdbg_dma_put(RegdbgProxyState *s, const RegdbgAccess *cause,
                           RegdbgDmaReg *r, uint64_t val, bool swapped)
{
    RegdbgProxyBar *bar = &s->bars[r->bar];
    uint64_t mask = MAKE_64BIT_MASK(0, 8 * r->width);
    RegdbgAccess ev = {
        .addr = r->offset,
        .value = val & mask,
        .orig = r->shadow & mask,
        .cpu = cause->cpu,
        .flags = REGDBG_EV_DMA_ADDR,
        .rule = REGDBG_RULE_NONE,
        .bar = r->bar,
        .size = r->width,
        .dir = REGDBG_DIR_WRITE,
        .cpu_mode = REGDBG_MODE_UNKNOWN,
    };

    trace_regdbg_proxy_write(r->bar, r->offset, r->width, ev.value);
    s->backend->write(s, bar, r->offset, ev.value, r->width);
    ev.t_ns = regdbg_access_clock_ns();
    regdbg_proxy_publish(s, &ev);
    r->swapped = swapped;
}

static const char *regdbg_dma_why_text(unsigned why)
{
    static const char *const text[] = {
        [REGDBG_DMA_WHY_LENGTH] = "longer than the bounce buffer or the "
                                  "engine's max_length",
        [REGDBG_DMA_WHY_ADDRESS] = "not all of it is the guest's RAM",
        [REGDBG_DMA_WHY_WIDTH] = "the bounce buffer lies beyond the device's "
                                 "DMA address width",
        [REGDBG_DMA_WHY_BUSY] = "the engine's previous transfer was not seen "
                                "to complete",
        [REGDBG_DMA_WHY_NO_BUFFER] = "the bounce buffer's physical address "
                                     "cannot be read",
        [REGDBG_DMA_WHY_DMA_OFF] = "dma=off keeps the host's bus master off",
        [REGDBG_DMA_WHY_GUEST_MASTER_OFF] = "the guest's Bus Master Enable is "
                                            "off",
        [REGDBG_DMA_WHY_DIRECTION] = "the direction field holds neither value "
                                     "the map gives",
    };

    return why < ARRAY_SIZE(text) && text[why] ? text[why] : "?";
}

/*
 * Whether [addr, addr + len) is all the guest's RAM as the proxy's bus
 * master sees it (writable RAM when the device writes into it): never a
 * device's registers, whose accesses would have side effects.
 */
static bool regdbg_dma_guest_ram(RegdbgProxyState *s, uint64_t addr,
                                 uint64_t len, bool write)
{
    AddressSpace *as = pci_get_address_space(PCI_DEVICE(s));

    if (len && addr + len - 1 < addr) {
        return false;
    }
    RCU_READ_LOCK_GUARD();
    while (len) {
        hwaddr xlat, l = len;
        MemoryRegion *mr = address_space_translate(as, addr, &xlat, &l, write,
                                                   MEMTXATTRS_UNSPECIFIED);

        if (!memory_region_is_ram(mr) || memory_region_is_ram_device(mr) ||
            (write && mr->readonly) || !l) {
            return false;
        }
        addr += l;
        len -= l;
    }
    return true;
}

/*
 * The engine's transfer in flight is complete: copy it out (from the
 * device), and say so in *ev
 */
static void regdbg_dma_complete(RegdbgProxyState *s, RegdbgDmaEngine *eng,
                                const RegdbgAccess *cause, RegdbgAccess *ev)
{
    uint64_t ns = 0;
    uint8_t why = REGDBG_DMA_WHY_NONE;

    eng->busy = false;
    if (eng->busy_from_dev) {
        if (regdbg_dma_guest_ram(s, eng->busy_addr, eng->busy_len, true)) {
            uint64_t t0 = regdbg_clock_ns();

            pci_dma_write(PCI_DEVICE(s), eng->busy_addr, eng->buf,
                          eng->busy_len);
            ns = regdbg_clock_ns() - t0;
        } else {
            why = REGDBG_DMA_WHY_ADDRESS;
            qemu_log_mask(LOG_GUEST_ERROR, "regdbg-proxy: DMA engine %s: the "
                          "%" PRIu64 " bytes at 0x%" PRIx64 " are no longer "
                          "the guest's RAM: the transfer from the device is "
                          "lost\n", eng->name, eng->busy_len, eng->busy_addr);
        }
    }
    trace_regdbg_dma_done(eng->name, eng->busy_from_dev, eng->busy_addr,
                          eng->busy_len, ns);
    regdbg_dma_fill(s, eng, cause, ev, REGDBG_DMA_DONE, why,
                    eng->busy_from_dev, eng->busy_addr, eng->busy_len,
                    eng->buf_pa, ns);
}

/*
 * A new start while a transfer is in flight whose completion the guest did
 * not look at (it waited for the interrupt, or simply long enough): read the
 * completion field from the device, as the guest would have.
 */
static bool regdbg_dma_check_done(RegdbgProxyState *s, RegdbgDmaEngine *eng,
                                  const RegdbgAccess *cause)
{
    RegdbgDmaReg *r = &eng->reg[REGDBG_DMA_DONE_REG];
    uint64_t v = s->backend->read(s, &s->bars[r->bar], r->offset, r->width);
    RegdbgAccess ev;

    if (regdbg_dma_field_get(eng->done, v) != eng->done_value) {
        return false;
    }
    regdbg_dma_complete(s, eng, cause, &ev);
    regdbg_proxy_publish(s, &ev);
    return true;
}

/* dma=bounce: why a transfer cannot be bounced, or 0 */
static unsigned regdbg_dma_check(RegdbgProxyState *s, RegdbgDmaEngine *eng,
                                 const RegdbgAccess *a, bool from_dev,
                                 uint64_t addr, uint64_t len,
                                 const RegdbgDmaReg *lo,
                                 const RegdbgDmaReg *hi)
{
    unsigned reg_bits = 8 * (lo->width + (hi->present ? hi->width : 0));
    int err = 0;
    uint64_t pa;

    /* interrupt alone: only the host's interrupt ends it (host-irq=uio) */
    if (eng->busy &&
        (!eng->done_field || !regdbg_dma_check_done(s, eng, a))) {
        return REGDBG_DMA_WHY_BUSY;
    }
    if (len > eng->buf_size || (eng->max_length && len > eng->max_length)) {
        return REGDBG_DMA_WHY_LENGTH;
    }
    if (!regdbg_dma_guest_ram(s, addr, len, from_dev)) {
        return REGDBG_DMA_WHY_ADDRESS;
    }
    /* hugetlbfs pages stay where they are, but check: it is one pread */
    pa = regdbg_dma_phys(s->dma, eng->buf, &err);
    if (!pa) {
        return REGDBG_DMA_WHY_NO_BUFFER;
    }
    eng->buf_pa = pa;
    if (!regdbg_dma_within(pa, len, MIN(s->dma->address_bits, reg_bits))) {
        return REGDBG_DMA_WHY_WIDTH;
    }
    return REGDBG_DMA_WHY_NONE;
}

/*
 * The guest writes the start of eng. dma=bounce: check, copy toward the
 * device, put the buffer's address in place of the guest's, or refuse (the
 * write is held back). dma=off: the write goes on; say it cannot work.
 */
static void regdbg_dma_start(RegdbgProxyState *s, RegdbgDmaEngine *eng,
                             RegdbgAccess *a, RegdbgAccess *post)
{
    bool from_dev = eng->fixed_dir >= 0 ? eng->fixed_dir :
        regdbg_dma_field_get(eng->dir, eng->reg[REGDBG_DMA_DIR_REG].shadow) ==
        eng->dir_from_dev;
    RegdbgDmaReg *lo = &eng->reg[from_dev ? REGDBG_DMA_DST_LO :
                                 REGDBG_DMA_SRC_LO];
    RegdbgDmaReg *hi = lo + 1;
    RegdbgDmaReg *other = &eng->reg[from_dev ? REGDBG_DMA_SRC_LO :
                                    REGDBG_DMA_DST_LO];
    uint64_t addr = regdbg_dma_addr(lo, hi);
    uint64_t len = eng->reg[REGDBG_DMA_LEN].shadow;
    uint16_t cmd = pci_get_word(PCI_DEVICE(s)->config + PCI_COMMAND);
    RegdbgAccess ev;
    bool dir_known = eng->fixed_dir >= 0 || from_dev ||
        regdbg_dma_field_get(eng->dir, eng->reg[REGDBG_DMA_DIR_REG].shadow) ==
        eng->dir_to_dev;
    unsigned why;
    uint64_t ns = 0;

    if (s->dma_mode != REGDBG_DMA_MODE_BOUNCE ||
        !(cmd & PCI_COMMAND_MASTER)) {
        why = s->dma_mode != REGDBG_DMA_MODE_BOUNCE ?
              REGDBG_DMA_WHY_DMA_OFF : REGDBG_DMA_WHY_GUEST_MASTER_OFF;
        regdbg_dma_fill(s, eng, a, post, REGDBG_DMA_BLOCKED, why, from_dev,
                        addr, len, 0, 0);
        trace_regdbg_dma_blocked(eng->name, from_dev, addr, len,
                                 regdbg_dma_why_text(why));
        if (s->dma_mode != REGDBG_DMA_MODE_BOUNCE && !s->dma->warned_off) {
            s->dma->warned_off = true;
            warn_report("regdbg-proxy %s: the guest started a transfer of DMA "
                        "engine %s, but with dma=off the host device's bus "
                        "master stays off: the device cannot make it "
                        "(dma=bounce bounces it)",
                        DEVICE(s)->id ? DEVICE(s)->id : "", eng->name);
        }
        return;
    }
    /* neither direction the map names: no telling which address is memory */
    why = dir_known ? regdbg_dma_check(s, eng, a, from_dev, addr, len, lo, hi)
                    : REGDBG_DMA_WHY_DIRECTION;
    if (why) {
        /* after the completion the check may have published: ring order */
        a->t_ns = regdbg_access_clock_ns();
        regdbg_dma_fill(s, eng, a, post, REGDBG_DMA_REFUSED, why, from_dev,
                        addr, len, why == REGDBG_DMA_WHY_NO_BUFFER ? 0 :
                        eng->buf_pa, 0);
        a->skip_backend = true;
        a->flags |= REGDBG_EV_DROPPED;
        trace_regdbg_dma_refused(eng->name, from_dev, addr, len,
                                 regdbg_dma_why_text(why));
        qemu_log_mask(LOG_GUEST_ERROR, "regdbg-proxy: DMA engine %s: the "
                      "transfer of %" PRIu64 " bytes %s 0x%" PRIx64 " is "
                      "refused (%s); the start write does not reach the "
                      "device\n", eng->name, len, from_dev ? "to" : "from",
                      addr, regdbg_dma_why_text(why));
        return;
    }
    if (!from_dev) {
        uint64_t t0 = regdbg_clock_ns();

        pci_dma_read(PCI_DEVICE(s), addr, eng->buf, len);
        ns = regdbg_clock_ns() - t0;
    }
    /* the other address is the device's own: the guest's value, as written */
    for (RegdbgDmaReg *r = other; r <= other + 1; r++) {
        if (r->present && r->swapped) {
            regdbg_dma_put(s, a, r, r->shadow, false);
        }
    }
    if (hi->present) {
        regdbg_dma_put(s, a, lo, eng->buf_pa, true);
        regdbg_dma_put(s, a, hi, eng->buf_pa >> (8 * lo->width), true);
    } else {
        regdbg_dma_put(s, a, lo, eng->buf_pa, true);
    }
    eng->busy = true;
    eng->busy_from_dev = from_dev;
    eng->busy_addr = addr;
    eng->busy_len = len;
    trace_regdbg_dma_start(eng->name, from_dev, addr, len, eng->buf_pa, ns);
    regdbg_dma_fill(s, eng, a, &ev, REGDBG_DMA_START, REGDBG_DMA_WHY_NONE,
                    from_dev, addr, len, eng->buf_pa, ns);
    regdbg_proxy_publish(s, &ev);
    /* the start reaches the device now, after the copy and the addresses */
    a->t_ns = regdbg_access_clock_ns();
}

static bool regdbg_dma_touches(RegdbgDma *dma, unsigned bar, hwaddr addr,
                               unsigned size)
{
    return addr < dma->hi[bar] && dma->lo[bar] < addr + size;
}

void regdbg_dma_write(RegdbgProxyState *s, RegdbgProxyBar *bar,
                      RegdbgAccess *a, RegdbgAccess *post)
{
    RegdbgDma *dma = s->dma;

    if (!regdbg_dma_touches(dma, bar->index, a->addr, a->size)) {
        return;
    }
    for (unsigned i = 0; i < dma->n; i++) {
        RegdbgDmaEngine *eng = &dma->eng[i];
        RegdbgDmaReg *st = &eng->reg[REGDBG_DMA_START_REG];
        bool start = false;

        for (unsigned k = 0; k < REGDBG_DMA_NREGS; k++) {
            RegdbgDmaReg *r = &eng->reg[k];
            uint64_t known, v;

            if (!regdbg_dma_overlaps(r, bar->index, a->addr, a->size)) {
                continue;
            }
            v = regdbg_dma_bytes(r, a->addr, a->size, a->value, &known);
            r->shadow = (r->shadow & ~known) | v;
            r->swapped = false;
            if (k == REGDBG_DMA_START_REG) {
                start = !eng->start_field ||
                        (regdbg_dma_field_known(eng->start, known) &&
                         regdbg_dma_field_get(eng->start, v));
            }
        }
        if (start && st->present) {
            regdbg_dma_start(s, eng, a, post);
            return;
        }
    }
}

void regdbg_dma_read(RegdbgProxyState *s, RegdbgProxyBar *bar,
                     RegdbgAccess *a, RegdbgAccess *post)
{
    RegdbgDma *dma = s->dma;

    if (!regdbg_dma_touches(dma, bar->index, a->addr, a->size)) {
        return;
    }
    for (unsigned i = 0; i < dma->n; i++) {
        RegdbgDmaEngine *eng = &dma->eng[i];
        RegdbgDmaReg *done = &eng->reg[REGDBG_DMA_DONE_REG];
        uint64_t known, v;

        /* a swapped address reads as the guest wrote it */
        for (unsigned k = REGDBG_DMA_SRC_LO; k <= REGDBG_DMA_DST_HI; k++) {
            RegdbgDmaReg *r = &eng->reg[k];

            if (!r->swapped ||
                !regdbg_dma_overlaps(r, bar->index, a->addr, a->size)) {
                continue;
            }
            for (unsigned j = 0; j < a->size; j++) {
                uint64_t at = a->addr + j;

                if (at >= r->offset && at < r->offset + r->width) {
                    uint64_t byte = (r->shadow >> (8 * (at - r->offset))) &
                                    0xff;

                    a->value = (a->value & ~(0xffULL << (8 * j))) |
                               byte << (8 * j);
                }
            }
            a->flags |= REGDBG_EV_DMA_ADDR;
        }
        if (!eng->busy || !eng->done_field ||
            !regdbg_dma_overlaps(done, bar->index, a->addr, a->size)) {
            continue;
        }
        v = regdbg_dma_bytes(done, a->addr, a->size, a->orig, &known);
        if (regdbg_dma_field_known(eng->done, known) &&
            regdbg_dma_field_get(eng->done, v) == eng->done_value) {
            RegdbgAccess ev;

            /* copied now; said after the read's own event (the caller) */
            if (post->dma_what) {
                regdbg_dma_complete(s, eng, a, &ev);
                regdbg_proxy_publish(s, &ev);
            } else {
                regdbg_dma_complete(s, eng, a, post);
            }
        }
    }
}

/*
 * host-irq=uio: the host device interrupted (regdbg-hostirq.c's thread, with
 * the BQL, before the guest's line is raised). Each engine in flight whose
 * map names the interrupt as a completion is complete: copied out (from the
 * device) and said, before the guest can see the interrupt. An engine that
 * also has a completion field is asked first (one read of the device, as
 * regdbg_dma_check_done()): the interrupt may be another of the device's.
 */
void regdbg_dma_host_irq(RegdbgProxyState *s)
{
    RegdbgDma *dma = s->dma;
    const RegdbgAccess cause = { .cpu = REGDBG_CPU_NONE };

    if (!dma || s->dma_mode != REGDBG_DMA_MODE_BOUNCE) {
        return;
    }
    for (unsigned i = 0; i < dma->n; i++) {
        RegdbgDmaEngine *eng = &dma->eng[i];
        RegdbgAccess ev;

        if (!eng->busy || !eng->done_irq) {
            continue;
        }
        if (eng->done_field) {
            regdbg_dma_check_done(s, eng, &cause);
            continue;
        }
        regdbg_dma_complete(s, eng, &cause, &ev);
        regdbg_proxy_publish(s, &ev);
    }
}
