/*
 * Linux mmiotrace text in and out of regdbg trace files (see mmiotrace.h): the export's mapping
 * of BAR records to MAP/UNMAP/PCIDEV lines, and the import's line parser, device placement and
 * trace writer.
 */
#include "mmiotrace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Linux's PCI_REGION_FLAG_MASK bits of a resource, as PCIDEV prints them after its start. */
#define PCIDEV_IO 0x1u
#define PCIDEV_MEM64 0x4u
#define PCIDEV_PREFETCH 0x8u
#define PCIDEV_FLAGS 0xfu
#define PCIDEV_RESOURCES 7          /* six BARs and the expansion ROM */

/* ---- export ------------------------------------------------------------------------------- */

struct export_state {
    FILE *out;
    const struct regdbg_trace_header *h;
    uint64_t addr[REGDBG_NUM_BARS];     /* where each BAR is now; UINT64_MAX: nowhere known */
    int map_id[REGDBG_NUM_BARS];        /* its open MAP, or 0 */
    int next_map_id;
    uint64_t pci;                       /* bus << 8 | devfn, or REGDBG_PCI_UNKNOWN */
    bool started;                       /* the header lines are out */
    uint64_t last_t;                    /* the time of the last line, for the markers */
};

static bool is_memory_bar(const struct regdbg_trace_header *h, unsigned bar)
{
    return h->bars[bar].size && h->bars[bar].type != REGDBG_BAR_IO;
}

/* A time as mmiotrace prints it: seconds and microseconds since the recording began. */
static void put_time(struct export_state *x, uint64_t t_ns)
{
    uint64_t rel = t_ns > x->h->start_monotonic_ns ? t_ns - x->h->start_monotonic_ns : 0;

    x->last_t = t_ns;
    fprintf(x->out, "%" PRIu64 ".%06" PRIu64, rel / 1000000000u, rel % 1000000000u / 1000u);
}

static void put_pcidev(struct export_state *x)
{
    const struct regdbg_trace_header *h = x->h;
    unsigned bus = x->pci == REGDBG_PCI_UNKNOWN ? 0 : (unsigned)(x->pci >> 8) & 0xff;
    unsigned devfn = x->pci == REGDBG_PCI_UNKNOWN ? 0 : (unsigned)x->pci & 0xff;

    /* as mmio_print_pcidev() does: bus and devfn, vendor and device, the IRQ (not known: 0),
       each resource's start with its flag bits, each one's size, then the driver (none) */
    fprintf(x->out, "PCIDEV %02x%02x %04x%04x %x", bus, devfn, h->vendor_id, h->device_id, 0);
    for (unsigned i = 0; i < PCIDEV_RESOURCES; i++) {
        uint64_t start = 0, flags = 0;

        if (i < REGDBG_NUM_BARS && h->bars[i].size) {
            start = x->addr[i] == REGDBG_BAR_UNMAPPED ? 0 : x->addr[i];
            flags = h->bars[i].type == REGDBG_BAR_IO ? PCIDEV_IO
                  : (h->bars[i].type == REGDBG_BAR_MEM64 ? PCIDEV_MEM64 : 0) |
                    (h->bars[i].prefetch ? PCIDEV_PREFETCH : 0);
        }
        fprintf(x->out, " %" PRIx64, start | flags);
    }
    for (unsigned i = 0; i < PCIDEV_RESOURCES; i++) {
        fprintf(x->out, " %" PRIx64, i < REGDBG_NUM_BARS ? h->bars[i].size : 0);
    }
    fputs(" \n", x->out);
}

static void put_map(struct export_state *x, unsigned bar, uint64_t t_ns,
                    struct mmiotrace_export_stats *st)
{
    x->map_id[bar] = ++x->next_map_id;
    /* MAP t id phys virt len pc pid: the guest's virtual address is not known (0) */
    fputs("MAP ", x->out);
    put_time(x, t_ns);
    fprintf(x->out, " %d 0x%" PRIx64 " 0x0 0x%" PRIx64 " 0x0 0\n", x->map_id[bar], x->addr[bar],
            x->h->bars[bar].size);
    st->mappings++;
}

static void put_unmap(struct export_state *x, unsigned bar, uint64_t t_ns)
{
    fputs("UNMAP ", x->out);
    put_time(x, t_ns);
    fprintf(x->out, " %d 0x0 0\n", x->map_id[bar]);
    x->map_id[bar] = 0;
}

/* The header lines, and a MAP for each memory BAR placed somewhere. */
static void start_export(struct export_state *x, uint64_t t_ns,
                         struct mmiotrace_export_stats *st)
{
    fputs("VERSION " MMIOTRACE_VERSION "\n", x->out);
    put_pcidev(x);
    for (unsigned b = 0; b < REGDBG_NUM_BARS; b++) {
        if (is_memory_bar(x->h, b) && x->addr[b] != REGDBG_BAR_UNMAPPED) {
            put_map(x, b, t_ns, st);
        }
    }
    x->started = true;
}

/* A BAR record after the header: the BAR's old mapping goes, the device is described again with
   its BARs where they are now (a later PCIDEV line is how the import learns it), the new one
   comes. */
static void move_bar(struct export_state *x, const struct regdbg_trace_record *rec,
                     struct mmiotrace_export_stats *st)
{
    unsigned bar = rec->bar;

    if (x->addr[bar] == rec->value &&
        (rec->offset == REGDBG_PCI_UNKNOWN || rec->offset == x->pci)) {
        return;
    }
    x->addr[bar] = rec->value;
    if (rec->offset != REGDBG_PCI_UNKNOWN) {
        x->pci = rec->offset;
    }
    if (!x->started) {
        return;
    }
    if (!is_memory_bar(x->h, bar)) {
        return;
    }
    if (x->map_id[bar]) {
        put_unmap(x, bar, rec->t_ns);
    }
    put_pcidev(x);
    if (x->addr[bar] != REGDBG_BAR_UNMAPPED) {
        put_map(x, bar, rec->t_ns, st);
    }
}

int mmiotrace_export(struct trace_reader *r, FILE *out, const struct mmiotrace_export_opts *opts,
                     struct mmiotrace_export_stats *st, char *err, size_t errlen)
{
    struct export_state x = { .out = out, .h = trace_reader_header(r),
                              .pci = REGDBG_PCI_UNKNOWN };
    struct regdbg_trace_record rec;
    uint64_t index = 0;             /* accesses read so far */
    enum trace_read_status status;

    memset(st, 0, sizeof(*st));
    for (unsigned b = 0; b < REGDBG_NUM_BARS; b++) {
        x.addr[b] = opts->bar_addr[b];
    }
    while ((status = trace_reader_next(r, &rec, err, errlen)) == TRACE_RECORD) {
        if (rec.kind == REGDBG_REC_BAR) {
            move_bar(&x, &rec, st);
            continue;
        }
        if (!x.started && rec.kind != REGDBG_REC_END) {
            start_export(&x, rec.t_ns, st);
        }
        if (rec.kind == REGDBG_REC_DROP) {
            /* as the kernel's tracer marks its own losses */
            fputs("MARK ", out);
            put_time(&x, rec.t_ns);
            fprintf(out, " Lost %" PRIu64 " events.\n", rec.value);
            st->lost += rec.value;
            continue;
        }
        if (rec.kind != REGDBG_REC_ACCESS || rec.dir == REGDBG_DIR_DMA) {
            continue;           /* a DMA event is no access: mmiotrace has no line for it */
        }
        if (rec.dir == REGDBG_DIR_IRQ) {
            /* the kernel's tracer has no interrupt line: a mark a reader keeps */
            fputs("MARK ", out);
            put_time(&x, rec.t_ns);
            fprintf(out, " regdbg interrupt: ");
            if (rec.flags & REGDBG_EV_IRQ_MSI) {
                fprintf(out, "MSI%" PRIu64, rec.offset);
            } else {
                fprintf(out, "INT%c", (char)('A' + (rec.offset - 1) % 4));
            }
            fprintf(out, " %s by %s", trace_irq_what_name((uint8_t)rec.value),
                    trace_irq_source_name(rec.irq_source));
            if (rec.rule != REGDBG_RULE_NONE) {
                fprintf(out, " %u", rec.rule);
            }
            if (rec.orig_value) {
                fprintf(out, " (%s)", trace_irq_action_name((uint8_t)rec.orig_value));
            }
            fputc('\n', out);
            st->irq_events++;
            continue;
        }
        index++;
        if (x.h->bars[rec.bar].size && x.h->bars[rec.bar].type == REGDBG_BAR_IO) {
            st->io_accesses++;
            continue;
        }
        if (x.addr[rec.bar] == REGDBG_BAR_UNMAPPED) {
            snprintf(err, errlen, "access %" PRIu64 " (seq %" PRIu64 ") is to BAR %u, which the "
                     "trace places nowhere at that point (a trace recorded before format 3, with "
                     "--shm, or before the guest mapped it): give --bar %u=ADDRESS, the physical "
                     "address the guest had it at", index, rec.seq, rec.bar, rec.bar);
            return -1;
        }
        if (!x.map_id[rec.bar]) {
            put_map(&x, rec.bar, rec.t_ns, st);
        }
        fprintf(out, "%c %u ", rec.dir == REGDBG_DIR_WRITE ? 'W' : 'R', rec.size);
        put_time(&x, rec.t_ns);
        fprintf(out, " %d 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 " 0\n", x.map_id[rec.bar],
                x.addr[rec.bar] + rec.offset, rec.value,
                rec.flags & REGDBG_EV_PC ? rec.guest_pc : 0);
        st->accesses++;
    }
    if (status != TRACE_EOF) {
        return -1;          /* err says what and where */
    }
    if (!x.started) {
        start_export(&x, x.h->start_monotonic_ns, st);
    }
    for (unsigned b = 0; b < REGDBG_NUM_BARS; b++) {
        if (x.map_id[b]) {
            put_unmap(&x, b, x.last_t);
        }
    }
    if (fflush(out) != 0 || ferror(out)) {
        snprintf(err, errlen, "cannot write the mmiotrace text: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- import: the parser ------------------------------------------------------------------- */

#define MAX_FIELDS 24
#define MAX_MAPS 4096

struct line {
    char *field[MAX_FIELDS];
    int n;
    const char *rest;               /* MARK: the text after the time; PCIDEV: after the sizes */
};

/* Split s in place at single spaces (a trailing space, as PCIDEV lines end, makes no field). */
static void split(char *s, struct line *l)
{
    l->n = 0;
    while (*s && l->n < MAX_FIELDS) {
        char *sp = strchr(s, ' ');

        l->field[l->n++] = s;
        if (!sp) {
            break;
        }
        *sp = '\0';
        s = sp + 1;
    }
}

struct mmio_map {
    int id;
    uint64_t phys, len;
    bool open;
};

struct import_state {
    const char *name;
    uint64_t line_no;
    struct mmiotrace_import_stats *st;
    struct mmio_map maps[MAX_MAPS];
    size_t n_maps;
    bool version_seen;
    char *err;
    size_t errlen;
    /* pass 2: writing */
    struct trace_writer *w;
    int chosen;
    uint64_t next_seq;
    uint64_t last_t;
    uint64_t placed[REGDBG_NUM_BARS];   /* the BAR addresses the trace holds */
    bool placed_known;
    bool all_pcs;                       /* every R/W line of the device has a PC */
};

__attribute__((format(printf, 2, 3)))
static int bad_line(struct import_state *s, const char *fmt, ...)
{
    char what[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(s->err, s->errlen, "%s:%" PRIu64 ": %s", s->name, s->line_no, what);
    return -1;
}

/* A hex number, with or without 0x, all of the text. */
static int hex_field(const char *text, uint64_t *out)
{
    char *end;

    if (!*text || *text == '-' || *text == '+' || *text == ' ') {
        return -1;
    }
    errno = 0;
    *out = strtoull(text, &end, 16);
    return errno || *end ? -1 : 0;
}

static int dec_field(const char *text, uint64_t *out)
{
    char *end;

    if (*text < '0' || *text > '9') {
        return -1;
    }
    errno = 0;
    *out = strtoull(text, &end, 10);
    return errno || *end ? -1 : 0;
}

/* "SECONDS.MICROSECONDS" (the tracer prints six digits) into nanoseconds. */
static int time_field(const char *text, uint64_t *ns)
{
    const char *dot = strchr(text, '.');
    char secs[32];
    uint64_t s, us;
    size_t n = dot ? (size_t)(dot - text) : 0;

    if (!dot || n == 0 || n >= sizeof(secs) || strlen(dot + 1) != 6) {
        return -1;
    }
    memcpy(secs, text, n);
    secs[n] = '\0';
    if (dec_field(secs, &s) < 0 || dec_field(dot + 1, &us) < 0 || s > UINT64_MAX / 1000000000u) {
        return -1;
    }
    *ns = s * 1000000000u + us * 1000u;
    return 0;
}

static int want_fields(struct import_state *s, const struct line *l, int n, const char *form)
{
    if (l->n != n) {
        return bad_line(s, "expected '%s' (%d fields after %s), found %d", form, n - 1,
                        l->field[0], l->n - 1);
    }
    return 0;
}

static struct mmiotrace_device *device_at(struct mmiotrace_import_stats *st, unsigned bus,
                                          unsigned devfn)
{
    for (size_t i = 0; i < st->n_devices; i++) {
        if (st->devices[i].bus == bus && st->devices[i].devfn == devfn) {
            return &st->devices[i];
        }
    }
    return NULL;
}

/* PCIDEV BBDD VVVVDDDD IRQ START|FLAGS x7 SIZE x7 [DRIVER] */
static int parse_pcidev(struct import_state *s, const struct line *l, int *dev_index)
{
    static const char form[] = "PCIDEV BBDD VVVVDDDD IRQ START x7 SIZE x7 [DRIVER]";
    struct mmiotrace_import_stats *st = s->st;
    struct mmiotrace_device d = { 0 }, *old;
    uint64_t v, starts[PCIDEV_RESOURCES], sizes[PCIDEV_RESOURCES];

    if (l->n < 3 + 2 * PCIDEV_RESOURCES + 1) {
        return bad_line(s, "expected '%s' (at least 17 fields after PCIDEV), found %d", form,
                        l->n - 1);
    }
    if (strlen(l->field[1]) != 4 || hex_field(l->field[1], &v) < 0) {
        return bad_line(s, "PCIDEV: '%s' is not a bus and devfn (4 hex digits, as 0008)",
                        l->field[1]);
    }
    d.bus = (unsigned)(v >> 8);
    d.devfn = (unsigned)v & 0xff;
    if (strlen(l->field[2]) != 8 || hex_field(l->field[2], &v) < 0) {
        return bad_line(s, "PCIDEV: '%s' is not a vendor and device id (8 hex digits, as "
                        "80860f41)", l->field[2]);
    }
    d.vendor = (uint16_t)(v >> 16);
    d.device = (uint16_t)v;
    if (hex_field(l->field[3], &v) < 0) {
        return bad_line(s, "PCIDEV: the IRQ '%s' is not a hex number", l->field[3]);
    }
    for (int i = 0; i < PCIDEV_RESOURCES; i++) {
        if (hex_field(l->field[4 + i], &starts[i]) < 0 ||
            hex_field(l->field[4 + PCIDEV_RESOURCES + i], &sizes[i]) < 0) {
            return bad_line(s, "PCIDEV: resource %d's start '%s' or size '%s' is not a hex "
                            "number", i, l->field[4 + i], l->field[4 + PCIDEV_RESOURCES + i]);
        }
    }
    for (unsigned i = 0; i < REGDBG_NUM_BARS; i++) {
        uint64_t flags = starts[i] & PCIDEV_FLAGS;

        d.size[i] = sizes[i];
        d.start[i] = flags & PCIDEV_IO ? starts[i] & ~(uint64_t)3
                                       : starts[i] & ~(uint64_t)PCIDEV_FLAGS;
        d.type[i] = !sizes[i] ? REGDBG_BAR_ABSENT : flags & PCIDEV_IO ? REGDBG_BAR_IO
                  : flags & PCIDEV_MEM64 ? REGDBG_BAR_MEM64 : REGDBG_BAR_MEM32;
        d.prefetch[i] = !(flags & PCIDEV_IO) && (flags & PCIDEV_PREFETCH);
    }
    old = device_at(st, d.bus, d.devfn);
    if (old) {
        /* described again: its BARs may have moved (regdbg export says so this way) */
        d.accesses = old->accesses;
        *old = d;
        *dev_index = (int)(old - st->devices);
        return 0;
    }
    if (st->n_devices == MMIOTRACE_MAX_DEVICES) {
        return bad_line(s, "more than %d PCIDEV devices", MMIOTRACE_MAX_DEVICES);
    }
    st->devices[st->n_devices] = d;
    *dev_index = (int)st->n_devices++;
    return 0;
}

static struct mmio_map *find_map(struct import_state *s, int id)
{
    for (size_t i = 0; i < s->n_maps; i++) {
        if (s->maps[i].id == id) {
            return &s->maps[i];
        }
    }
    return NULL;
}

/* The device and BAR a physical address range falls in: a memory BAR of a PCIDEV device. */
static bool place(const struct mmiotrace_import_stats *st, uint64_t phys, unsigned width,
                  int *dev, unsigned *bar)
{
    for (size_t i = 0; i < st->n_devices; i++) {
        const struct mmiotrace_device *d = &st->devices[i];

        for (unsigned b = 0; b < REGDBG_NUM_BARS; b++) {
            if (d->size[b] && d->type[b] != REGDBG_BAR_IO && d->start[b] &&
                phys >= d->start[b] && phys - d->start[b] < d->size[b] &&
                width <= d->size[b] - (phys - d->start[b])) {
                *dev = (int)i;
                *bar = b;
                return true;
            }
        }
    }
    return false;
}

/* pass 2: a BAR record for each BAR of the chosen device whose address the trace lacks */
static int place_bars(struct import_state *s, uint64_t t_ns)
{
    const struct mmiotrace_device *d = &s->st->devices[s->chosen];

    for (unsigned b = 0; b < REGDBG_NUM_BARS; b++) {
        uint64_t addr = d->start[b] ? d->start[b] : REGDBG_BAR_UNMAPPED;
        struct regdbg_trace_record rec = {
            .kind = REGDBG_REC_BAR, .bar = (uint8_t)b, .value = addr, .t_ns = t_ns,
            .offset = (uint64_t)d->bus << 8 | d->devfn, .cpu = REGDBG_CPU_NONE,
            .rule = REGDBG_RULE_NONE,
        };

        if (!d->size[b] || (s->placed_known && s->placed[b] == addr)) {
            continue;
        }
        if (trace_writer_add(s->w, &rec, s->err, s->errlen) < 0) {
            return -1;
        }
        s->placed[b] = addr;
    }
    s->placed_known = true;
    return 0;
}

static int rw_line(struct import_state *s, const struct line *l)
{
    static const char form[] = "R|W WIDTH SECONDS MAP_ID PHYS VALUE PC PID";
    struct mmiotrace_import_stats *st = s->st;
    uint64_t width, t, id, phys, value, pc, pid;
    struct mmio_map *m;
    unsigned bar;
    int dev;

    if (want_fields(s, l, 8, form) < 0) {
        return -1;
    }
    if (dec_field(l->field[1], &width) < 0 ||
        (width != 1 && width != 2 && width != 4 && width != 8)) {
        return bad_line(s, "%s: the width '%s' is not 1, 2, 4 or 8 (bytes)", l->field[0],
                        l->field[1]);
    }
    if (time_field(l->field[2], &t) < 0) {
        return bad_line(s, "%s: '%s' is not a time (SECONDS.MICROSECONDS, six digits after the "
                        "point)", l->field[0], l->field[2]);
    }
    if (dec_field(l->field[3], &id) < 0 || id > INT32_MAX || hex_field(l->field[4], &phys) < 0 ||
        hex_field(l->field[5], &value) < 0 || hex_field(l->field[6], &pc) < 0 ||
        dec_field(l->field[7], &pid) < 0) {
        return bad_line(s, "%s: expected '%s' with a decimal map id and PID and hex PHYS, "
                        "VALUE and PC", l->field[0], form);
    }
    if (width < 8 && value >> (width * 8)) {
        return bad_line(s, "%s: the value 0x%" PRIx64 " does not fit %" PRIu64 " bytes",
                        l->field[0], value, width);
    }
    if (!s->w) {
        st->accesses++;
    }
    if (!place(st, phys, (unsigned)width, &dev, &bar)) {
        if (!s->w && !st->outside++) {
            st->first_outside_line = s->line_no;
            st->first_outside_phys = phys;
        }
        return 0;
    }
    m = find_map(s, (int)id);
    if (!s->w && (!m || !m->open || phys < m->phys || phys - m->phys >= m->len)) {
        /* placed by the PCIDEV lines all the same: the physical address is the tracer's */
        if (!st->map_mismatches++) {
            st->first_mismatch_line = s->line_no;
        }
    }
    if (!s->w) {
        st->devices[dev].accesses++;
        return 0;
    }
    if (dev != s->chosen) {
        return 0;
    }
    {
        const struct mmiotrace_device *d = &st->devices[dev];
        struct regdbg_trace_record rec = {
            .kind = REGDBG_REC_ACCESS, .seq = s->next_seq++, .t_ns = t,
            .offset = phys - d->start[bar], .value = value, .orig_value = value,
            .guest_pc = pc, .cpu = REGDBG_CPU_NONE, .flags = pc ? REGDBG_EV_PC : 0,
            .rule = REGDBG_RULE_NONE, .bar = (uint8_t)bar, .size = (uint8_t)width,
            .dir = l->field[0][0] == 'W' ? REGDBG_DIR_WRITE : REGDBG_DIR_READ,
        };

        s->last_t = t;
        if (!s->placed_known && place_bars(s, t) < 0) {
            return -1;
        }
        if (trace_writer_add(s->w, &rec, s->err, s->errlen) < 0) {
            return -1;
        }
        st->written++;
    }
    return 0;
}

/* One line; pass 2 (s->w set) writes what pass 1 checked. */
static int parse_line(struct import_state *s, char *text)
{
    struct mmiotrace_import_stats *st = s->st;
    struct line l;
    uint64_t t, id, phys, virt, len, pc, pid;
    const char *kw;

    if (!*text || *text == '#') {
        return 0;       /* the `trace` file (not trace_pipe) begins with # comments */
    }
    split(text, &l);
    kw = l.field[0];
    if (!strcmp(kw, "R") || !strcmp(kw, "W")) {
        return rw_line(s, &l);
    }
    if (!strcmp(kw, "VERSION")) {
        if (l.n != 2 || strcmp(l.field[1], MMIOTRACE_VERSION) != 0) {
            return bad_line(s, "VERSION %s: this reads mmiotrace version " MMIOTRACE_VERSION,
                            l.n > 1 ? l.field[1] : "(none)");
        }
        s->version_seen = true;
        return 0;
    }
    if (!strcmp(kw, "PCIDEV")) {
        int dev = -1;

        if (parse_pcidev(s, &l, &dev) < 0) {
            return -1;
        }
        /* a device described again once the trace began: BARs it moved are placed anew */
        if (s->w && dev == s->chosen && s->placed_known) {
            return place_bars(s, s->last_t);
        }
        return 0;
    }
    if (!strcmp(kw, "MAP")) {
        struct mmio_map *m;

        if (want_fields(s, &l, 8, "MAP SECONDS MAP_ID PHYS VIRT LENGTH PC PID") < 0) {
            return -1;
        }
        if (time_field(l.field[1], &t) < 0 || dec_field(l.field[2], &id) < 0 ||
            id > INT32_MAX || hex_field(l.field[3], &phys) < 0 ||
            hex_field(l.field[4], &virt) < 0 || hex_field(l.field[5], &len) < 0 || hex_field(l.field[6], &pc) < 0 ||
            dec_field(l.field[7], &pid) < 0) {
            return bad_line(s, "MAP: expected 'MAP SECONDS MAP_ID PHYS VIRT LENGTH PC PID' with "
                            "a time, a decimal map id and PID and hex PHYS, VIRT, LENGTH and PC");
        }
        m = find_map(s, (int)id);
        if (!m) {
            if (s->n_maps == MAX_MAPS) {
                return bad_line(s, "MAP: more than %d mappings", MAX_MAPS);
            }
            m = &s->maps[s->n_maps++];
        }
        *m = (struct mmio_map){ .id = (int)id, .phys = phys, .len = len, .open = true };
        return 0;
    }
    if (!strcmp(kw, "UNMAP")) {
        struct mmio_map *m;

        if (want_fields(s, &l, 5, "UNMAP SECONDS MAP_ID PC PID") < 0) {
            return -1;
        }
        if (time_field(l.field[1], &t) < 0 || dec_field(l.field[2], &id) < 0 ||
            hex_field(l.field[3], &pc) < 0 || dec_field(l.field[4], &pid) < 0) {
            return bad_line(s, "UNMAP: expected 'UNMAP SECONDS MAP_ID PC PID' with a time, a "
                            "decimal map id and PID and a hex PC");
        }
        m = find_map(s, (int)id);
        if (m) {
            m->open = false;
        }
        return 0;
    }
    if (!strcmp(kw, "MARK")) {
        uint64_t lost;

        if (l.n < 2 || time_field(l.field[1], &t) < 0) {
            return bad_line(s, "MARK: expected 'MARK SECONDS TEXT'");
        }
        /* "MARK 0.000000 Lost N events.": what the tracer's own buffer lost */
        if (l.n == 5 && !strcmp(l.field[2], "Lost") && !strcmp(l.field[4], "events.") &&
            dec_field(l.field[3], &lost) == 0) {
            if (s->w) {
                struct regdbg_trace_record rec = {
                    .kind = REGDBG_REC_DROP, .value = lost, .seq = s->next_seq,
                    .t_ns = t ? t : s->last_t, .cpu = REGDBG_CPU_NONE, .rule = REGDBG_RULE_NONE,
                };

                return trace_writer_add(s->w, &rec, s->err, s->errlen);
            }
            st->lost += lost;
        } else if (!s->w) {
            st->marks++;
        }
        return 0;
    }
    if (!strcmp(kw, "UNKNOWN")) {
        if (want_fields(s, &l, 7, "UNKNOWN SECONDS MAP_ID PHYS DATA PC PID") < 0) {
            return -1;
        }
        if (!s->w) {
            st->unknown_ops++;
        }
        return 0;
    }
    if (!strcmp(kw, "LSPCI")) {
        return 0;       /* lspci -v text for the reader */
    }
    return bad_line(s, "'%.40s' is not an mmiotrace record: expected VERSION, PCIDEV, MAP, "
                    "UNMAP, R, W, MARK, UNKNOWN or LSPCI", kw);
}

static int read_lines(FILE *in, struct import_state *s)
{
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    int ret = 0;

    s->line_no = 0;
    s->n_maps = 0;
    while (ret == 0 && (n = getline(&buf, &cap, in)) >= 0) {
        s->line_no++;
        if ((size_t)n != strlen(buf)) {
            ret = bad_line(s, "a NUL byte: this is not mmiotrace text");
            break;
        }
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
            buf[--n] = '\0';
        }
        ret = parse_line(s, buf);
    }
    if (ret == 0 && ferror(in)) {
        snprintf(s->err, s->errlen, "cannot read %s: %s", s->name, strerror(errno));
        ret = -1;
    }
    free(buf);
    return ret;
}

/* ---- import: choosing the device and writing ---------------------------------------------- */

static int choose_device(const struct mmiotrace_import_opts *opts,
                         const struct mmiotrace_import_stats *st, const char *name, char *err,
                         size_t errlen)
{
    int chosen = -1, with_accesses = 0;
    char list[1024] = "";
    size_t used = 0;

    for (size_t i = 0; i < st->n_devices; i++) {
        const struct mmiotrace_device *d = &st->devices[i];
        int n;

        if (d->accesses) {
            with_accesses++;
            chosen = (int)i;
        }
        n = snprintf(list + used, sizeof(list) - used, "%s%04x:%04x at %02x:%02x.%x (%" PRIu64
                     " accesses)", used ? ", " : "", d->vendor, d->device, d->bus, d->devfn >> 3,
                     d->devfn & 7, d->accesses);
        if (n > 0 && (size_t)n < sizeof(list) - used) {
            used += (size_t)n;
        }
    }
    if (opts->device) {
        unsigned a, b, c;
        char extra;

        chosen = -1;
        for (size_t i = 0; i < st->n_devices; i++) {
            const struct mmiotrace_device *d = &st->devices[i];

            if ((sscanf(opts->device, "%x:%x.%x%c", &a, &b, &c, &extra) == 3 && a == d->bus &&
                 b == (d->devfn >> 3) && c == (d->devfn & 7)) ||
                (strchr(opts->device, '.') == NULL &&
                 sscanf(opts->device, "%x:%x%c", &a, &b, &extra) == 2 && a == d->vendor &&
                 b == d->device)) {
                if (chosen >= 0) {
                    snprintf(err, errlen, "%s: --device %s matches more than one PCIDEV device; "
                             "name one by its address (BB:DD.F): %s", name, opts->device, list);
                    return -1;
                }
                chosen = (int)i;
            }
        }
        if (chosen < 0) {
            snprintf(err, errlen, "%s: no PCIDEV device is %s; the devices: %s", name,
                     opts->device, st->n_devices ? list : "none");
            return -1;
        }
        return chosen;
    }
    if (with_accesses == 1) {
        return chosen;
    }
    if (with_accesses == 0) {
        snprintf(err, errlen, "%s: no R or W line falls in a BAR of a PCIDEV device (%s): "
                 "nothing to import", name, st->n_devices ? list : "no PCIDEV line at all");
    } else {
        snprintf(err, errlen, "%s: accesses fall on %d devices; choose one with --device "
                 "VVVV:DDDD or BB:DD.F: %s", name, with_accesses, list);
    }
    return -1;
}

int mmiotrace_import(FILE *in, const char *name, const char *out_path,
                     const struct mmiotrace_import_opts *opts,
                     struct mmiotrace_import_stats *st, char *err, size_t errlen)
{
    static struct import_state s;      /* its map table is large */
    struct regdbg_trace_header h;
    const struct mmiotrace_device *d;
    char cerr[256];
    int ret;

    memset(st, 0, sizeof(*st));
    memset(&s, 0, sizeof(s));
    s.name = name;
    s.st = st;
    s.err = err;
    s.errlen = errlen;
    if (read_lines(in, &s) < 0) {
        return -1;
    }
    if (!s.version_seen) {
        snprintf(err, errlen, "%s: no 'VERSION " MMIOTRACE_VERSION "' line: not mmiotrace text "
                 "(read /sys/kernel/tracing/trace_pipe, not trace, to get it)", name);
        return -1;
    }
    if ((s.chosen = choose_device(opts, st, name, err, errlen)) < 0) {
        return -1;
    }
    st->chosen = s.chosen;
    d = &st->devices[s.chosen];
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, REGDBG_TRACE_MAGIC, sizeof(h.magic));
    h.version = REGDBG_TRACE_VERSION;
    h.header_size = REGDBG_TRACE_HEADER_SIZE;
    h.record_unit = 32;
    /* the tracer's clock: times stay those of the mmiotrace text */
    snprintf(h.dev_id, sizeof(h.dev_id), "%02x:%02x.%x", d->bus, d->devfn >> 3, d->devfn & 7);
    h.vendor_id = d->vendor;
    h.device_id = d->device;
    for (unsigned b = 0; b < REGDBG_NUM_BARS; b++) {
        h.bars[b].size = d->size[b];
        h.bars[b].type = d->type[b];
        h.bars[b].prefetch = d->prefetch[b];
    }
    /* Pass 2 from the top: the devices as the first PCIDEV lines describe them (in the same
       order, so that the chosen index stays), their counts kept from pass 1. */
    uint64_t counts[MMIOTRACE_MAX_DEVICES];
    size_t n_devices = st->n_devices;

    for (size_t i = 0; i < n_devices; i++) {
        counts[i] = st->devices[i].accesses;
    }
    st->n_devices = 0;
    if (fseek(in, 0, SEEK_SET) < 0) {
        snprintf(err, errlen, "cannot read %s again: %s", name, strerror(errno));
        return -1;
    }
    s.w = trace_writer_open(out_path, &h, err, errlen);
    if (!s.w) {
        return -1;
    }
    ret = read_lines(in, &s);
    if (ret == 0 && !s.placed_known) {
        ret = place_bars(&s, s.last_t);
    }
    if (ret == 0) {
        struct regdbg_trace_record end = {
            .kind = REGDBG_REC_END, .value = st->written, .orig_value = st->lost,
            .t_ns = s.last_t, .cpu = REGDBG_CPU_NONE, .rule = REGDBG_RULE_NONE,
        };

        ret = trace_writer_add(s.w, &end, err, errlen);
    }
    if (trace_writer_close(s.w, cerr, sizeof(cerr)) < 0 && ret == 0) {
        snprintf(err, errlen, "%s", cerr);
        ret = -1;
    }
    for (size_t i = 0; i < n_devices; i++) {
        st->devices[i].accesses = counts[i];
    }
    return ret;
}
