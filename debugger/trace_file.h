/*
 * regdbg trace files (format version 4, documented in docs/trace-format.md): a fixed header that
 * describes the device, then little-endian records of 32 bytes (an ordinary access, with or
 * without its guest PC, drop and end markers, where the guest placed a BAR) or 64 bytes (an
 * access a rule touched, one that does not fit a short form, an interrupt event or a DMA
 * event), each starting with its kind byte. Writer (version 5) and reader (versions 1 to 5); the
 * reader treats the file as untrusted and reports the first damage with its byte offset. In
 * memory, every record is a struct regdbg_trace_record.
 */
#ifndef REGDBG_TRACE_FILE_H
#define REGDBG_TRACE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "regdbg/abi.h"

#define REGDBG_TRACE_MAGIC   "RDBGTRCE"
#define REGDBG_TRACE_VERSION 5u
#define REGDBG_TRACE_VERSION_MIN 1u     /* the oldest version the reader reads */
#define REGDBG_TRACE_VERSION_IRQ 4u     /* the first with interrupt events (full records, dir 2) */
#define REGDBG_TRACE_VERSION_DMA 5u     /* the first with DMA events (full records, dir 3) */
#define REGDBG_TRACE_HEADER_SIZE 256u

/* In-memory record kinds (struct regdbg_trace_record.kind) */
enum regdbg_record_kind {
    REGDBG_REC_ACCESS = 1,  /* one register access, or (dir REGDBG_DIR_IRQ) an interrupt event,
                               or (dir REGDBG_DIR_DMA) a DMA event */
    REGDBG_REC_DROP   = 2,  /* value = events the ring dropped here; seq = seq of the next access */
    REGDBG_REC_END    = 3,  /* the recording finished cleanly: value = accesses, orig_value = drops */
    REGDBG_REC_BAR    = 4,  /* version 3: BAR bar is at guest-physical address value from here on
                               (REGDBG_BAR_UNMAPPED: nowhere); offset = the device's PCI address
                               bus << 8 | devfn, or REGDBG_PCI_UNKNOWN */
};

#define REGDBG_BAR_UNMAPPED UINT64_MAX
#define REGDBG_PCI_UNKNOWN UINT64_MAX

/* On-disk kind bytes (the first byte of every record) */
enum regdbg_disk_kind {
    REGDBG_DISK_SHORT = 0x01,   /* 32 bytes: an access with seq = previous + 1, untouched by rules */
    REGDBG_DISK_FULL  = 0x02,   /* 64 bytes: any access; version 4: an interrupt event;
                                   version 5: a DMA event */
    REGDBG_DISK_DROP  = 0x03,   /* 32 bytes */
    REGDBG_DISK_END   = 0x04,   /* 32 bytes */
    REGDBG_DISK_SHORT_PC = 0x05, /* 32 bytes, version 2: a short access that carries its PC */
    REGDBG_DISK_BAR   = 0x06,   /* 32 bytes, version 3: where the guest placed a BAR */
};

struct regdbg_trace_header {
    char magic[8];                      /* REGDBG_TRACE_MAGIC, not NUL-terminated */
    uint32_t version;                   /* REGDBG_TRACE_VERSION */
    uint32_t header_size;               /* REGDBG_TRACE_HEADER_SIZE */
    uint32_t record_unit;               /* 32: every record is 32 or 64 bytes */
    uint32_t ring_mode;                 /* enum regdbg_ring_mode of the recorded ring */
    uint64_t start_realtime_ns;         /* CLOCK_REALTIME when recording began */
    uint64_t start_monotonic_ns;        /* CLOCK_MONOTONIC then: record t_ns is on this clock */
    char dev_id[REGDBG_DEV_ID_LEN];     /* NUL-terminated */
    uint16_t vendor_id;
    uint16_t device_id;
    uint16_t subsystem_vendor_id;
    uint16_t subsystem_id;
    uint32_t class_code;
    uint8_t revision;
    uint8_t backend;
    uint8_t pad0[2];
    struct regdbg_bar_info bars[REGDBG_NUM_BARS];
    uint8_t guest_pc;                   /* version 2: the ring's header.guest_pc (1: every
                                           access a vCPU made carries its PC); 0 in version 1 */
    uint8_t dma_mode;                   /* version 5: the ring's header.dma_mode; else 0 */
    uint8_t dma_address_bits;           /* version 5: the ring's header.dma_address_bits */
    uint8_t pad1[5];
    uint64_t dma_buffer_size;           /* version 5: the ring's header.dma_buffer_size */
    uint8_t reserved[256 - 232];
};
_Static_assert(offsetof(struct regdbg_trace_header, dev_id) == 40, "trace header layout");
_Static_assert(offsetof(struct regdbg_trace_header, bars) == 120, "trace header layout");
_Static_assert(offsetof(struct regdbg_trace_header, guest_pc) == 216, "trace header layout");
_Static_assert(offsetof(struct regdbg_trace_header, dma_mode) == 217, "trace header layout");
_Static_assert(offsetof(struct regdbg_trace_header, dma_buffer_size) == 224, "trace header layout");
_Static_assert(sizeof(struct regdbg_trace_header) == REGDBG_TRACE_HEADER_SIZE, "trace header");

/* A record as the reader returns it and the writer takes it (not the on-disk form). */
struct regdbg_trace_record {
    uint64_t seq;
    uint64_t t_ns;
    uint64_t offset;
    uint64_t value;
    uint64_t orig_value;
    uint64_t guest_pc;                  /* dir REGDBG_DIR_DMA: the copy's duration in ns */
    int32_t cpu;
    uint16_t flags;
    uint16_t rule;
    uint8_t bar;
    uint8_t size;                       /* dir REGDBG_DIR_DMA: the engine's index */
    uint8_t dir;
    uint8_t kind;                       /* enum regdbg_record_kind */
    uint8_t cpu_mode;                   /* enum regdbg_cpu_mode, with REGDBG_EV_PC */
    uint8_t irq_source;                 /* dir REGDBG_DIR_IRQ: enum regdbg_irq_source; else 0 */
    uint8_t dma_what;                   /* dir REGDBG_DIR_DMA: enum regdbg_dma_what; else 0 */
    uint8_t dma_why;                    /* dir REGDBG_DIR_DMA: enum regdbg_dma_why; else 0 */
};

/* On disk, 32 bytes: the common case. */
struct regdbg_disk_short {
    uint8_t kind;                       /* REGDBG_DISK_SHORT */
    uint8_t bar_size_dir;               /* bits 0-2 BAR, 3-4 log2(size), 5 write; 6-7 zero */
    uint16_t cpu;                       /* 0xffff = REGDBG_CPU_NONE */
    uint32_t offset;
    uint64_t t_ns;
    uint64_t value;
    uint32_t seq_lo;                    /* low 32 bits of seq: a check, seq itself is implied */
    uint32_t reserved;                  /* zero */
};
_Static_assert(sizeof(struct regdbg_disk_short) == 32, "short record layout");

/* On disk, 32 bytes (version 2): a short access whose flags are exactly REGDBG_EV_PC, with a
   value of at most 32 bits. Its seq is implied, without a check: there is no room for one. */
struct regdbg_disk_short_pc {
    uint8_t kind;                       /* REGDBG_DISK_SHORT_PC */
    uint8_t bar_size_dir;               /* as in the short record; the width is 1, 2 or 4 */
    uint16_t cpu;                       /* 0xffff = REGDBG_CPU_NONE */
    uint32_t offset;
    uint64_t t_ns;
    uint32_t value;
    uint8_t cpu_mode;                   /* enum regdbg_cpu_mode */
    uint8_t reserved[3];                /* zero */
    uint64_t guest_pc;
};
_Static_assert(sizeof(struct regdbg_disk_short_pc) == 32, "short record with PC layout");
_Static_assert(offsetof(struct regdbg_disk_short_pc, value) == 16, "short record with PC layout");
_Static_assert(offsetof(struct regdbg_disk_short_pc, cpu_mode) == 20,
               "short record with PC layout");
_Static_assert(offsetof(struct regdbg_disk_short_pc, guest_pc) == 24,
               "short record with PC layout");

/* On disk, 64 bytes. */
struct regdbg_disk_full {
    uint8_t kind;                       /* REGDBG_DISK_FULL */
    uint8_t bar;
    uint8_t size;
    uint8_t dir;
    int32_t cpu;
    uint64_t seq;
    uint64_t t_ns;
    uint64_t offset;
    uint64_t value;
    uint64_t orig_value;
    uint64_t guest_pc;
    uint16_t flags;
    uint16_t rule;
    uint8_t cpu_mode;                   /* version 2: enum regdbg_cpu_mode; zero in version 1 */
    uint8_t irq_source;                 /* version 4, dir REGDBG_DIR_IRQ: enum regdbg_irq_source;
                                           zero otherwise */
    uint8_t dma_what;                   /* version 5, a DMA event: enum regdbg_dma_what; else 0 */
    uint8_t dma_why;                    /* version 5, a DMA event: enum regdbg_dma_why; else 0 */
};
_Static_assert(sizeof(struct regdbg_disk_full) == 64, "full record layout");
_Static_assert(offsetof(struct regdbg_disk_full, irq_source) == 61, "full record layout");
_Static_assert(offsetof(struct regdbg_disk_full, dma_what) == 62, "full record layout");
_Static_assert(offsetof(struct regdbg_disk_full, guest_pc) == 48, "full record layout");
_Static_assert(offsetof(struct regdbg_disk_full, flags) == 56, "full record layout");
_Static_assert(offsetof(struct regdbg_disk_full, cpu_mode) == 60, "full record layout");

/* On disk, 32 bytes: drop and end markers. */
struct regdbg_disk_marker {
    uint8_t kind;                       /* REGDBG_DISK_DROP or REGDBG_DISK_END */
    uint8_t reserved[7];                /* zero */
    uint64_t count;                     /* DROP: events dropped; END: accesses recorded */
    uint64_t seq_or_drops;              /* DROP: seq of the next access; END: events dropped */
    uint64_t t_ns;
};
_Static_assert(sizeof(struct regdbg_disk_marker) == 32, "marker record layout");

/* On disk, 32 bytes (version 3): the guest-physical address of a BAR from this record on, as
   QEMU's query-pci gave it when regdbg learned it, with the device's PCI address. */
struct regdbg_disk_bar {
    uint8_t kind;                       /* REGDBG_DISK_BAR */
    uint8_t bar;                        /* 0..5, a BAR the header describes */
    uint8_t pci_known;                  /* 1: pci_bus and pci_devfn hold the PCI address; 0: zero */
    uint8_t pci_bus;
    uint8_t pci_devfn;                  /* slot << 3 | function */
    uint8_t reserved[3];                /* zero */
    uint64_t address;                   /* REGDBG_BAR_UNMAPPED: the BAR is not mapped */
    uint64_t t_ns;                      /* CLOCK_MONOTONIC when regdbg learned it */
    uint64_t reserved2;                 /* zero */
};
_Static_assert(sizeof(struct regdbg_disk_bar) == 32, "BAR record layout");
_Static_assert(offsetof(struct regdbg_disk_bar, address) == 8, "BAR record layout");
_Static_assert(offsetof(struct regdbg_disk_bar, t_ns) == 16, "BAR record layout");

/* Writer: buffered; every function returns 0 or -1 with a message in err. */
struct trace_writer;

struct trace_writer *trace_writer_open(const char *path, const struct regdbg_trace_header *hdr,
                                       char *err, size_t errlen);
int trace_writer_add(struct trace_writer *w, const struct regdbg_trace_record *rec,
                     char *err, size_t errlen);
int trace_writer_flush(struct trace_writer *w, char *err, size_t errlen);
/* Flushes and closes; frees w whatever happens. */
int trace_writer_close(struct trace_writer *w, char *err, size_t errlen);

/* Fill a trace header from a ring header (already validated by the caller). */
void trace_header_from_shm(struct regdbg_trace_header *th, const struct regdbg_shm_header *sh);
void trace_record_from_event(struct regdbg_trace_record *rec, const struct regdbg_event *ev);

/* Reader */
struct trace_reader;

enum trace_read_status {
    TRACE_RECORD = 1,       /* *rec holds the next record */
    TRACE_EOF = 0,          /* clean end of file */
    TRACE_PARTIAL = -1,     /* the file ends inside a record (may still be growing) */
    TRACE_CORRUPT = -2,     /* a record fails validation; err says which and where */
    TRACE_IO_ERROR = -3,
};

struct trace_reader *trace_reader_open(const char *path, char *err, size_t errlen);
const struct regdbg_trace_header *trace_reader_header(const struct trace_reader *r);
enum trace_read_status trace_reader_next(struct trace_reader *r, struct regdbg_trace_record *rec,
                                         char *err, size_t errlen);
void trace_reader_close(struct trace_reader *r);

/* "edited,injected" etc.; buf gets "" when no flag is set. */
#define TRACE_N_FLAGS 13
extern const char *const trace_flag_names[TRACE_N_FLAGS];

void trace_flags_str(uint16_t flags, char *buf, size_t len);

/* "real", "prot32", "long64"... (enum regdbg_cpu_mode); "unknown" for any other value. */
const char *trace_cpu_mode_name(uint8_t mode);

/*
 * The words of interrupt events (regdbg/abi.h), as dump, the stream, its filter and the rules
 * language write them. What happened (enum regdbg_irq_what): "raised", "lowered", "msi",
 * "unchanged", "host-masked", "host-unmasked", else "unknown"; what was asked (enum
 * regdbg_irq_action): "assert", "deassert", "pulse", else "" (nobody asked); who asked (enum
 * regdbg_irq_source): "debugger", "rule", "host", "device", else "unknown".
 */
const char *trace_irq_what_name(uint8_t what);
const char *trace_irq_action_name(uint8_t action);
const char *trace_irq_source_name(uint8_t source);

/*
 * The words of DMA events (regdbg/abi.h), as dump and the stream write them: what happened
 * (enum regdbg_dma_what) "start", "done", "refused", "blocked", else "unknown"; why (enum
 * regdbg_dma_why) "length", "address", "width", "busy", "no-buffer", "dma-off",
 * "guest-master-off", "direction", else "" (none); and why in a sentence.
 */
const char *trace_dma_what_name(uint8_t what);
const char *trace_dma_why_name(uint8_t why);
const char *trace_dma_why_text(uint8_t why);
/*
 * A DMA event in one line, without time, vCPU and device: "start to-device guest=0x100000
 * len=4096 buffer=0x2db92f000 copy_ns=31137", "refused from-device guest=0x8000000 len=4096
 * why=address: not all of it is the guest's RAM". Returns strlen(buf).
 */
size_t trace_dma_format(const struct regdbg_trace_record *r, char *buf, size_t len);

#endif /* REGDBG_TRACE_FILE_H */
