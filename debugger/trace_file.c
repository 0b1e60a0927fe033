/*
 * regdbg trace files: buffered writer and validating reader (format: docs/trace-format.md).
 */
#include "trace_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WRITE_BUFFER_BYTES (256u << 10) /* in L2 when write() copies it: 4 MiB halved the rate */
#define READ_BUFFER_BYTES (256u << 10)
#define MAX_DISK_RECORD 64u
#define TRACE_DMA_ENGINES_MAX 4u       /* as the device allows */

struct trace_writer {
    int fd;
    char *path;
    size_t used;                     /* bytes in buf */
    unsigned char *buf;
    uint64_t next_seq;               /* the seq a short record would imply */
    bool have_seq;
};

struct trace_reader {
    int fd;
    char *path;
    struct regdbg_trace_header hdr;
    uint64_t offset;                 /* of the next record */
    uint64_t records;                /* records read so far */
    uint64_t last_seq;
    bool have_seq;
    uint32_t version;                /* the file's format version */
    unsigned char *buf;
    size_t buf_len;                  /* bytes in buf */
    size_t buf_pos;
};

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

struct trace_writer *trace_writer_open(const char *path, const struct regdbg_trace_header *hdr,
                                       char *err, size_t errlen)
{
    struct trace_writer *w = calloc(1, sizeof(*w));

    if (!w || !(w->buf = malloc(WRITE_BUFFER_BYTES)) || !(w->path = strdup(path))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        goto fail;
    }
    if (write_all(w->fd, hdr, sizeof(*hdr)) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        close(w->fd);
        goto fail;
    }
    return w;
fail:
    if (w) {
        free(w->buf);
        free(w->path);
        free(w);
    }
    return NULL;
}

int trace_writer_flush(struct trace_writer *w, char *err, size_t errlen)
{
    if (w->used && write_all(w->fd, w->buf, w->used) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", w->path, strerror(errno));
        return -1;
    }
    w->used = 0;
    return 0;
}

static unsigned log2_size(uint8_t size)
{
    return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
}

/* What both short forms need: the next seq, no rule, a 32-bit offset, a cpu that fits. */
static bool fits_short_common(const struct trace_writer *w, const struct regdbg_trace_record *rec)
{
    return w->have_seq && rec->seq == w->next_seq && rec->rule == REGDBG_RULE_NONE &&
           rec->orig_value == rec->value && rec->offset <= UINT32_MAX &&
           rec->cpu >= REGDBG_CPU_NONE && rec->cpu < 0xffff && rec->bar < REGDBG_NUM_BARS &&
           rec->dir <= REGDBG_DIR_WRITE;
}

static bool fits_short(const struct trace_writer *w, const struct regdbg_trace_record *rec)
{
    return fits_short_common(w, rec) && rec->flags == 0 && rec->guest_pc == 0 &&
           rec->cpu_mode == REGDBG_MODE_UNKNOWN &&
           (rec->size == 1 || rec->size == 2 || rec->size == 4 || rec->size == 8);
}

/* The common case since ABI 4: an untouched access that carries its PC (not PC_AFTER, which
   goes in a full record: rarer, and kept simple). */
static bool fits_short_pc(const struct trace_writer *w, const struct regdbg_trace_record *rec)
{
    return fits_short_common(w, rec) && rec->flags == REGDBG_EV_PC &&
           rec->value <= UINT32_MAX && rec->cpu_mode <= REGDBG_MODE_MAX &&
           (rec->size == 1 || rec->size == 2 || rec->size == 4);
}

/* What the reader refuses in an access's flags and mode, or NULL. */
static const char *pc_problem(uint16_t flags, uint8_t cpu_mode)
{
    if (flags & ~(uint16_t)REGDBG_EV_ALL_FLAGS) {
        return "flags has unknown bits";
    }
    if ((flags & REGDBG_EV_PC_AFTER) && !(flags & REGDBG_EV_PC)) {
        return "flag pc-after without flag pc";
    }
    if (cpu_mode > REGDBG_MODE_MAX) {
        return "CPU mode is out of range";
    }
    return NULL;
}

/* What the reader refuses in a DMA event, or NULL. */
static const char *dma_problem(const struct regdbg_trace_record *rec)
{
    if (rec->dma_what < 1 || rec->dma_what > REGDBG_DMA_WHAT_MAX) {
        return "DMA event of an unknown kind";
    }
    if (rec->dma_why > REGDBG_DMA_WHY_MAX) {
        return "DMA event with an unknown reason";
    }
    if (rec->flags & ~(uint16_t)REGDBG_EV_DMA_FLAGS) {
        return "flags has unknown bits";
    }
    if (rec->rule != REGDBG_RULE_NONE || rec->cpu_mode != REGDBG_MODE_UNKNOWN ||
        rec->irq_source) {
        return "DMA event with a rule, a CPU mode or an interrupt source";
    }
    if (rec->bar >= REGDBG_NUM_BARS) {
        return "BAR number is out of range";
    }
    return NULL;
}

/*
 * What a reader refuses in an interrupt event (regdbg/abi.h, REGDBG_DIR_IRQ), or NULL: the same
 * checks as the ring's reader makes.
 */
static const char *irq_problem(const struct regdbg_trace_record *rec)
{
    bool msi = rec->flags & REGDBG_EV_IRQ_MSI;

    if (rec->size != 0 || rec->bar != 0) {
        return "an interrupt event with a size or a BAR";
    }
    if (rec->value == 0 || rec->value > REGDBG_IRQ_WHAT_MAX) {
        return "unknown interrupt event";
    }
    if (rec->orig_value > REGDBG_IRQ_ACTION_MAX) {
        return "unknown interrupt request";
    }
    if (rec->irq_source == REGDBG_IRQ_SRC_NONE || rec->irq_source > REGDBG_IRQ_SRC_MAX) {
        return "unknown interrupt source";
    }
    if (msi ? rec->offset >= 32 : rec->offset < 1 || rec->offset > 4) {
        return msi ? "MSI vector out of range" : "INTx pin out of range";
    }
    if (rec->flags & ~(uint16_t)REGDBG_EV_IRQ_FLAGS) {
        return "flags has bits an interrupt event does not have";
    }
    if ((rec->irq_source == REGDBG_IRQ_SRC_RULE) != (rec->rule != REGDBG_RULE_NONE)) {
        return "interrupt rule and source disagree";
    }
    return pc_problem(rec->flags, rec->cpu_mode);
}

/* What a reader would refuse in an access record, or NULL: the writer never writes it. */
static const char *access_problem(const struct regdbg_trace_record *rec)
{
    if (rec->dir == REGDBG_DIR_DMA) {
        return dma_problem(rec);
    }
    if (rec->dma_what || rec->dma_why) {
        return "a DMA event's fields in another record";
    }
    if (rec->dir == REGDBG_DIR_IRQ) {
        return irq_problem(rec);
    }
    if (rec->size != 1 && rec->size != 2 && rec->size != 4 && rec->size != 8) {
        return "access size is not 1, 2, 4 or 8";
    }
    if (rec->dir > REGDBG_DIR_WRITE) {
        return "direction is neither read nor write";
    }
    if (rec->bar >= REGDBG_NUM_BARS) {
        return "BAR number is out of range";
    }
    if (rec->flags & ~(uint16_t)REGDBG_EV_ACCESS_FLAGS) {
        return "flags has unknown bits";        /* for an access */
    }
    if (rec->irq_source) {
        return "an access with an interrupt source";
    }
    return pc_problem(rec->flags, rec->cpu_mode);
}

int trace_writer_add(struct trace_writer *w, const struct regdbg_trace_record *rec,
                     char *err, size_t errlen)
{
    unsigned char *dst;

    if (rec->kind == REGDBG_REC_BAR &&
        (rec->bar >= REGDBG_NUM_BARS || (rec->offset != REGDBG_PCI_UNKNOWN &&
                                          rec->offset > 0xffff))) {
        snprintf(err, errlen, "refusing to write a BAR record into %s: BAR %u, PCI address "
                 "0x%llx", w->path, rec->bar, (unsigned long long)rec->offset);
        return -1;
    }
    if (rec->kind == REGDBG_REC_ACCESS) {
        const char *problem = access_problem(rec);

        if (problem) {
            /* A file that its own reader refuses from here on would hide everything after. */
            snprintf(err, errlen, "refusing to write access seq %llu into %s: %s (size %u, dir "
                     "%u, BAR %u, flags 0x%x, mode %u)", (unsigned long long)rec->seq, w->path,
                     problem, rec->size, rec->dir, rec->bar, rec->flags, rec->cpu_mode);
            return -1;
        }
    }
    if (WRITE_BUFFER_BYTES - w->used < MAX_DISK_RECORD && trace_writer_flush(w, err, errlen) < 0) {
        return -1;
    }
    dst = w->buf + w->used;
    if (rec->kind == REGDBG_REC_ACCESS && fits_short(w, rec)) {
        struct regdbg_disk_short d = {
            .kind = REGDBG_DISK_SHORT,
            .bar_size_dir = (uint8_t)(rec->bar | log2_size(rec->size) << 3 | rec->dir << 5),
            .cpu = (uint16_t)rec->cpu, .offset = (uint32_t)rec->offset, .t_ns = rec->t_ns,
            .value = rec->value, .seq_lo = (uint32_t)rec->seq,
        };
        memcpy(dst, &d, sizeof(d));
        w->used += sizeof(d);
        w->next_seq++;
    } else if (rec->kind == REGDBG_REC_ACCESS && fits_short_pc(w, rec)) {
        struct regdbg_disk_short_pc d = {
            .kind = REGDBG_DISK_SHORT_PC,
            .bar_size_dir = (uint8_t)(rec->bar | log2_size(rec->size) << 3 | rec->dir << 5),
            .cpu = (uint16_t)rec->cpu, .offset = (uint32_t)rec->offset, .t_ns = rec->t_ns,
            .value = (uint32_t)rec->value, .cpu_mode = rec->cpu_mode, .guest_pc = rec->guest_pc,
        };
        memcpy(dst, &d, sizeof(d));
        w->used += sizeof(d);
        w->next_seq++;
    } else if (rec->kind == REGDBG_REC_ACCESS) {
        struct regdbg_disk_full d = {
            .kind = REGDBG_DISK_FULL, .bar = rec->bar, .size = rec->size, .dir = rec->dir,
            .cpu = rec->cpu, .seq = rec->seq, .t_ns = rec->t_ns, .offset = rec->offset,
            .value = rec->value, .orig_value = rec->orig_value, .guest_pc = rec->guest_pc,
            .flags = rec->flags, .rule = rec->rule, .cpu_mode = rec->cpu_mode,
            .irq_source = rec->irq_source, .dma_what = rec->dma_what,
            .dma_why = rec->dma_why,
        };
        memcpy(dst, &d, sizeof(d));
        w->used += sizeof(d);
        w->next_seq = rec->seq + 1;
        w->have_seq = true;
    } else if (rec->kind == REGDBG_REC_BAR) {
        bool pci_known = rec->offset != REGDBG_PCI_UNKNOWN;
        struct regdbg_disk_bar d = {
            .kind = REGDBG_DISK_BAR, .bar = rec->bar, .pci_known = pci_known,
            .pci_bus = pci_known ? (uint8_t)(rec->offset >> 8) : 0,
            .pci_devfn = pci_known ? (uint8_t)rec->offset : 0,
            .address = rec->value, .t_ns = rec->t_ns,
        };
        memcpy(dst, &d, sizeof(d));
        w->used += sizeof(d);
    } else {
        struct regdbg_disk_marker d = {
            .kind = rec->kind == REGDBG_REC_DROP ? REGDBG_DISK_DROP : REGDBG_DISK_END,
            .count = rec->value,
            .seq_or_drops = rec->kind == REGDBG_REC_DROP ? rec->seq : rec->orig_value,
            .t_ns = rec->t_ns,
        };
        memcpy(dst, &d, sizeof(d));
        w->used += sizeof(d);
    }
    return 0;
}

int trace_writer_close(struct trace_writer *w, char *err, size_t errlen)
{
    int ret = trace_writer_flush(w, err, errlen);

    if (close(w->fd) < 0 && ret == 0) {
        snprintf(err, errlen, "cannot write %s: %s", w->path, strerror(errno));
        ret = -1;
    }
    free(w->buf);
    free(w->path);
    free(w);
    return ret;
}

void trace_header_from_shm(struct regdbg_trace_header *th, const struct regdbg_shm_header *sh)
{
    memset(th, 0, sizeof(*th));
    memcpy(th->magic, REGDBG_TRACE_MAGIC, sizeof(th->magic));
    th->version = REGDBG_TRACE_VERSION;
    th->header_size = REGDBG_TRACE_HEADER_SIZE;
    th->record_unit = 32;
    th->ring_mode = sh->ring_mode;
    memcpy(th->dev_id, sh->dev_id, sizeof(th->dev_id));
    th->dev_id[sizeof(th->dev_id) - 1] = '\0';
    th->vendor_id = sh->vendor_id;
    th->device_id = sh->device_id;
    th->subsystem_vendor_id = sh->subsystem_vendor_id;
    th->subsystem_id = sh->subsystem_id;
    th->class_code = sh->class_code;
    th->revision = sh->revision;
    th->backend = sh->backend;
    memcpy(th->bars, sh->bars, sizeof(th->bars));
    th->guest_pc = sh->guest_pc;
    th->dma_mode = sh->dma_mode;
    th->dma_address_bits = sh->dma_address_bits;
    th->dma_buffer_size = sh->dma_buffer_size;
}

void trace_record_from_event(struct regdbg_trace_record *rec, const struct regdbg_event *ev)
{
    rec->seq = atomic_load_explicit(&ev->seq, memory_order_relaxed);
    rec->t_ns = ev->t_ns;
    rec->offset = ev->offset;
    rec->value = ev->value;
    rec->orig_value = ev->orig_value;
    rec->guest_pc = ev->guest_pc;
    rec->cpu = ev->cpu;
    rec->flags = ev->flags;
    rec->rule = ev->rule;
    rec->bar = ev->bar;
    rec->size = ev->size;
    rec->dir = ev->dir;
    rec->kind = REGDBG_REC_ACCESS;
    rec->cpu_mode = ev->cpu_mode;
    rec->irq_source = ev->irq_source;
    rec->dma_what = ev->dma_what;
    rec->dma_why = ev->dma_why;
}

/* --- reader ------------------------------------------------------------------------------------ */

static ssize_t read_full(int fd, void *data, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, (char *)data + got, len - got);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        if (n == 0) {
            break;
        }
        got += (size_t)n;
    }
    return (ssize_t)got;
}

struct trace_reader *trace_reader_open(const char *path, char *err, size_t errlen)
{
    struct trace_reader *r = calloc(1, sizeof(*r));
    const struct regdbg_trace_header *h;
    ssize_t n;

    if (!r || !(r->buf = malloc(READ_BUFFER_BYTES)) ||
        !(r->path = strdup(path))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        goto fail;
    }
    n = read_full(r->fd, &r->hdr, sizeof(r->hdr));
    h = &r->hdr;
    if (n < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        goto fail_fd;
    }
    if (n < 8 || memcmp(h->magic, REGDBG_TRACE_MAGIC, 8) != 0) {
        snprintf(err, errlen, "%s is not a regdbg trace file (no " REGDBG_TRACE_MAGIC
                 " magic at its start)", path);
        goto fail_fd;
    }
    if ((size_t)n < sizeof(*h)) {
        snprintf(err, errlen, "%s is truncated: its header has %zd of %u bytes", path, n,
                 REGDBG_TRACE_HEADER_SIZE);
        goto fail_fd;
    }
    if (h->version < REGDBG_TRACE_VERSION_MIN || h->version > REGDBG_TRACE_VERSION) {
        snprintf(err, errlen, "%s is trace format version %u; this regdbg reads versions %u to "
                 "%u", path, h->version, REGDBG_TRACE_VERSION_MIN, REGDBG_TRACE_VERSION);
        goto fail_fd;
    }
    r->version = h->version;
    if (h->header_size != REGDBG_TRACE_HEADER_SIZE || h->record_unit != 32) {
        snprintf(err, errlen, "%s is corrupt: header size %u and record unit %u, expected %u "
                 "and 32", path, h->header_size, h->record_unit, REGDBG_TRACE_HEADER_SIZE);
        goto fail_fd;
    }
    r->hdr.dev_id[sizeof(r->hdr.dev_id) - 1] = '\0';
    r->offset = REGDBG_TRACE_HEADER_SIZE;
    return r;
fail_fd:
    close(r->fd);
fail:
    if (r) {
        free(r->buf);
        free(r->path);
        free(r);
    }
    return NULL;
}

const struct regdbg_trace_header *trace_reader_header(const struct trace_reader *r)
{
    return &r->hdr;
}

static size_t disk_size(uint8_t kind)
{
    return kind == REGDBG_DISK_FULL ? sizeof(struct regdbg_disk_full) : 32;
}

/* Decode the record at p into rec; NULL, or what is wrong with it. */

/* The fields the two short access forms share */
static void short_access(struct regdbg_trace_record *rec, uint8_t bar_size_dir, uint16_t cpu,
                         uint32_t offset, uint64_t t_ns, uint64_t value)
{
    rec->bar = bar_size_dir & 7;
    rec->size = (uint8_t)(1u << ((bar_size_dir >> 3) & 3));
    rec->dir = (bar_size_dir >> 5) & 1;
    rec->cpu = cpu == 0xffff ? REGDBG_CPU_NONE : cpu;
    rec->offset = offset;
    rec->t_ns = t_ns;
    rec->value = rec->orig_value = value;
}
static const char *decode(struct trace_reader *r, const unsigned char *p,
                          struct regdbg_trace_record *rec)
{
    static const uint8_t zero[8];
    const char *problem;
    bool irq = false, dma = false;

    memset(rec, 0, sizeof(*rec));
    rec->rule = REGDBG_RULE_NONE;
    rec->cpu = REGDBG_CPU_NONE;
    switch (p[0]) {
    case REGDBG_DISK_SHORT: {
        struct regdbg_disk_short d;

        memcpy(&d, p, sizeof(d));
        if (!r->have_seq) {
            return "a short record without a full record before it";
        }
        if ((d.bar_size_dir & 0xc0) || d.reserved) {
            return "reserved bits are set";
        }
        rec->kind = REGDBG_REC_ACCESS;
        rec->seq = r->last_seq + 1;
        if ((uint32_t)rec->seq != d.seq_lo) {
            return "sequence check fails (records lost or reordered)";
        }
        short_access(rec, d.bar_size_dir, d.cpu, d.offset, d.t_ns, d.value);
        break;
    }
    case REGDBG_DISK_SHORT_PC: {
        struct regdbg_disk_short_pc d;

        if (r->version < 2) {
            return "unknown record kind";       /* version 2 brought it */
        }
        memcpy(&d, p, sizeof(d));
        if (!r->have_seq) {
            return "a short record without a full record before it";
        }
        if ((d.bar_size_dir & 0xc0) || memcmp(d.reserved, zero, sizeof(d.reserved)) != 0) {
            return "reserved bits are set";
        }
        if (((d.bar_size_dir >> 3) & 3) == 3) {
            return "access size is not 1, 2 or 4 (a short record with PC holds 32 bits)";
        }
        rec->kind = REGDBG_REC_ACCESS;
        rec->seq = r->last_seq + 1;
        short_access(rec, d.bar_size_dir, d.cpu, d.offset, d.t_ns, d.value);
        rec->flags = REGDBG_EV_PC;
        rec->cpu_mode = d.cpu_mode;
        rec->guest_pc = d.guest_pc;
        break;
    }
    case REGDBG_DISK_FULL: {
        struct regdbg_disk_full d;

        memcpy(&d, p, sizeof(d));
        if (d.dir == REGDBG_DIR_IRQ && r->version >= REGDBG_TRACE_VERSION_IRQ) {
            irq = true;
        } else if (d.dir == REGDBG_DIR_DMA && r->version >= REGDBG_TRACE_VERSION_DMA) {
            dma = true;
        } else if (d.dir > REGDBG_DIR_WRITE) {
            return "direction is neither read nor write";
        } else if (d.size != 1 && d.size != 2 && d.size != 4 && d.size != 8) {
            return "access size is not 1, 2, 4 or 8";
        }
        if ((r->version < 2 && d.cpu_mode) || (!irq && d.irq_source) ||
            (r->version < REGDBG_TRACE_VERSION_DMA && (d.dma_what || d.dma_why))) {
            return "reserved bits are set";
        }
        if (dma && d.size >= TRACE_DMA_ENGINES_MAX) {
            return "DMA event of an engine out of range";
        }
        if (!dma && (d.dma_what || d.dma_why)) {
            return "a DMA event's fields in another record";
        }
        if (r->have_seq && d.seq <= r->last_seq) {
            return "sequence number goes backwards";
        }
        rec->kind = REGDBG_REC_ACCESS;
        rec->bar = d.bar;
        rec->size = d.size;
        rec->dir = d.dir;
        rec->cpu = d.cpu;
        rec->seq = d.seq;
        rec->t_ns = d.t_ns;
        rec->offset = d.offset;
        rec->value = d.value;
        rec->orig_value = d.orig_value;
        rec->guest_pc = d.guest_pc;
        rec->flags = d.flags;
        rec->rule = d.rule;
        rec->cpu_mode = d.cpu_mode;
        rec->irq_source = d.irq_source;
        rec->dma_what = d.dma_what;
        rec->dma_why = d.dma_why;
        if (irq) {
            return irq_problem(rec);
        }
        if (dma) {
            return dma_problem(rec);
        }
        break;
    }
    case REGDBG_DISK_BAR: {
        struct regdbg_disk_bar d;

        if (r->version < 3) {
            return "unknown record kind";       /* version 3 brought it */
        }
        memcpy(&d, p, sizeof(d));
        if (memcmp(d.reserved, zero, sizeof(d.reserved)) != 0 || d.reserved2 || d.pci_known > 1 ||
            (!d.pci_known && (d.pci_bus || d.pci_devfn))) {
            return "reserved bits are set";
        }
        if (d.bar >= REGDBG_NUM_BARS || r->hdr.bars[d.bar].size == 0) {
            return "a BAR record for a BAR the header does not describe";
        }
        rec->kind = REGDBG_REC_BAR;
        rec->bar = d.bar;
        rec->value = d.address;
        rec->offset = d.pci_known ? (uint64_t)d.pci_bus << 8 | d.pci_devfn : REGDBG_PCI_UNKNOWN;
        rec->t_ns = d.t_ns;
        return NULL;
    }
    case REGDBG_DISK_DROP:
    case REGDBG_DISK_END: {
        struct regdbg_disk_marker d;

        memcpy(&d, p, sizeof(d));
        if (memcmp(d.reserved, zero, sizeof(d.reserved)) != 0) {
            return "reserved bits are set";
        }
        rec->kind = p[0] == REGDBG_DISK_DROP ? REGDBG_REC_DROP : REGDBG_REC_END;
        rec->value = d.count;
        if (p[0] == REGDBG_DISK_DROP) {
            rec->seq = d.seq_or_drops;
        } else {
            rec->orig_value = d.seq_or_drops;
        }
        rec->t_ns = d.t_ns;
        return NULL;
    }
    default:
        return "unknown record kind";
    }
    if (rec->bar >= REGDBG_NUM_BARS) {
        return "BAR number is out of range";
    }
    if (rec->flags & ~(uint16_t)REGDBG_EV_ACCESS_FLAGS) {
        return "flags has unknown bits";        /* for an access */
    }
    if ((problem = pc_problem(rec->flags, rec->cpu_mode))) {
        return problem;
    }
    return NULL;
}

enum trace_read_status trace_reader_next(struct trace_reader *r, struct regdbg_trace_record *rec,
                                         char *err, size_t errlen)
{
    const char *problem;
    size_t need = r->buf_len > r->buf_pos ? disk_size(r->buf[r->buf_pos]) : 1;

    if (r->buf_len - r->buf_pos < need) {
        /* Keep a partial record's bytes, refill after them. */
        size_t keep = r->buf_len - r->buf_pos;
        ssize_t n;

        memmove(r->buf, r->buf + r->buf_pos, keep);
        r->buf_pos = 0;
        r->buf_len = keep;
        do {
            n = read(r->fd, r->buf + keep, READ_BUFFER_BYTES - keep);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            snprintf(err, errlen, "cannot read %s: %s", r->path, strerror(errno));
            return TRACE_IO_ERROR;
        }
        r->buf_len += (size_t)n;
        if (r->buf_len == 0) {
            return TRACE_EOF;
        }
        need = disk_size(r->buf[0]);
        if (r->buf_len < need) {
            snprintf(err, errlen, "%s is truncated: %zu stray bytes after the last whole record "
                     "(byte %llu)", r->path, r->buf_len, (unsigned long long)r->offset);
            return TRACE_PARTIAL;
        }
    }
    problem = decode(r, r->buf + r->buf_pos, rec);
    if (problem) {
        snprintf(err, errlen, "%s is corrupt at byte %llu (record %llu): %s", r->path,
                 (unsigned long long)r->offset, (unsigned long long)r->records, problem);
        return TRACE_CORRUPT;
    }
    if (rec->kind == REGDBG_REC_ACCESS) {
        r->last_seq = rec->seq;
        r->have_seq = true;
    }
    r->buf_pos += need;
    r->offset += need;
    r->records++;
    return TRACE_RECORD;
}

void trace_reader_close(struct trace_reader *r)
{
    if (r) {
        close(r->fd);
        free(r->buf);
        free(r->path);
        free(r);
    }
}

/* The names of the REGDBG_EV_* flags, by bit; dump and the views print these. */
const char *const trace_flag_names[TRACE_N_FLAGS] = {
    "edited", "injected", "dropped", "parked", "timed-out", "not-parked-no-vcpu",
    "not-parked-no-debugger", "pc", "pc-after", "msi", "blocked", "dma-addr", "from-device",
};
_Static_assert(REGDBG_EV_ALL_FLAGS == (1u << TRACE_N_FLAGS) - 1, "a name for every event flag");

void trace_flags_str(uint16_t flags, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    /* REGDBG_EV_PC is not news: the PC has its own column, and an interrupt its line */
    flags &= ~(REGDBG_EV_PC | REGDBG_EV_PC_AFTER | REGDBG_EV_IRQ_MSI);
    for (unsigned i = 0; i < TRACE_N_FLAGS; i++) {
        if (flags & (1u << i)) {
            int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "",
                             trace_flag_names[i]);
            if (n < 0 || (size_t)n >= len - used) {
                return;
            }
            used += (size_t)n;
        }
    }
}

const char *trace_cpu_mode_name(uint8_t mode)
{
    static const char *const names[] = {
        "unknown", "real", "vm86", "prot16", "prot32", "compat16", "compat32", "long64",
    };
    _Static_assert(sizeof(names) / sizeof(names[0]) == REGDBG_MODE_MAX + 1, "a name per mode");

    return mode <= REGDBG_MODE_MAX ? names[mode] : "unknown";
}

const char *trace_irq_what_name(uint8_t what)
{
    static const char *const names[] = {
        "unknown", "raised", "lowered", "msi", "unchanged", "host-masked", "host-unmasked",
    };
    _Static_assert(sizeof(names) / sizeof(names[0]) == REGDBG_IRQ_WHAT_MAX + 1,
                   "a name per interrupt event");

    return what <= REGDBG_IRQ_WHAT_MAX ? names[what] : "unknown";
}

const char *trace_irq_action_name(uint8_t action)
{
    static const char *const names[] = { "", "assert", "deassert", "pulse" };
    _Static_assert(sizeof(names) / sizeof(names[0]) == REGDBG_IRQ_ACTION_MAX + 1,
                   "a name per interrupt action");

    return action <= REGDBG_IRQ_ACTION_MAX ? names[action] : "";
}

const char *trace_irq_source_name(uint8_t source)
{
    static const char *const names[] = { "unknown", "debugger", "rule", "host", "device" };
    _Static_assert(sizeof(names) / sizeof(names[0]) == REGDBG_IRQ_SRC_MAX + 1,
                   "a name per interrupt source");

    return source <= REGDBG_IRQ_SRC_MAX ? names[source] : "unknown";
}

const char *trace_dma_what_name(uint8_t what)
{
    static const char *const names[] = { "unknown", "start", "done", "refused", "blocked" };
    _Static_assert(sizeof(names) / sizeof(names[0]) == REGDBG_DMA_WHAT_MAX + 1, "a name each");

    return what <= REGDBG_DMA_WHAT_MAX ? names[what] : "unknown";
}

const char *trace_dma_why_name(uint8_t why)
{
    static const char *const names[] = {
        "", "length", "address", "width", "busy", "no-buffer", "dma-off", "guest-master-off",
        "direction",
    };
    _Static_assert(sizeof(names) / sizeof(names[0]) == REGDBG_DMA_WHY_MAX + 1, "a name each");

    return why <= REGDBG_DMA_WHY_MAX ? names[why] : "";
}

const char *trace_dma_why_text(uint8_t why)
{
    static const char *const text[] = {
        "",
        "longer than the bounce buffer or the engine's max_length",
        "not all of it is the guest's RAM",
        "the bounce buffer lies beyond the device's DMA address width",
        "the engine's previous transfer was not seen to complete",
        "the bounce buffer's physical address cannot be read",
        "the host's bus master is off (dma= unset): the device cannot make the transfer",
        "the guest's Bus Master Enable is off: the device cannot make the transfer",
        "the direction field holds neither value the map gives",
    };
    _Static_assert(sizeof(text) / sizeof(text[0]) == REGDBG_DMA_WHY_MAX + 1, "a text each");

    return why <= REGDBG_DMA_WHY_MAX ? text[why] : "";
}

size_t trace_dma_format(const struct regdbg_trace_record *r, char *buf, size_t len)
{
    int n;

    if (!len) {
        return 0;
    }
    n = snprintf(buf, len, "%s %s guest=0x%" PRIx64 " len=%" PRIu64, trace_dma_what_name(r->dma_what),
                 r->flags & REGDBG_EV_DMA_FROM_DEVICE ? "from-device" : "to-device", r->offset,
                 r->orig_value);
    if (n > 0 && (size_t)n < len && r->value) {
        n += snprintf(buf + n, len - (size_t)n, " buffer=0x%" PRIx64, r->value);
    }
    if (n > 0 && (size_t)n < len && r->guest_pc) {
        n += snprintf(buf + n, len - (size_t)n, " copy_ns=%" PRIu64, r->guest_pc);
    }
    if (n > 0 && (size_t)n < len && r->dma_why) {
        n += snprintf(buf + n, len - (size_t)n, " why=%s: %s", trace_dma_why_name(r->dma_why),
                      trace_dma_why_text(r->dma_why));
    }
    return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}
