/*
 * regdbg trace files (format version 1, documented in docs/trace-format.md): a fixed header that
 * describes the device, then fixed-size little-endian records, one per access plus markers for
 * dropped events and the end of a recording. Writer and reader; the reader treats the file as
 * untrusted and reports the first damage with its byte offset.
 */
#ifndef REGDBG_TRACE_FILE_H
#define REGDBG_TRACE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "regdbg/abi.h"

#define REGDBG_TRACE_MAGIC   "RDBGTRCE"
#define REGDBG_TRACE_VERSION 1u
#define REGDBG_TRACE_HEADER_SIZE 256u

enum regdbg_record_kind {
    REGDBG_REC_ACCESS = 1,  /* one register access */
    REGDBG_REC_DROP   = 2,  /* value = events the ring dropped here; seq = seq of the next access */
    REGDBG_REC_END    = 3,  /* the recording finished cleanly: value = accesses, orig_value = drops */
};

struct regdbg_trace_header {
    char magic[8];                      /* REGDBG_TRACE_MAGIC, not NUL-terminated */
    uint32_t version;                   /* REGDBG_TRACE_VERSION */
    uint32_t header_size;               /* REGDBG_TRACE_HEADER_SIZE */
    uint32_t record_size;               /* sizeof(struct regdbg_trace_record) */
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
    uint8_t reserved[256 - 216];
};
_Static_assert(offsetof(struct regdbg_trace_header, dev_id) == 40, "trace header layout");
_Static_assert(offsetof(struct regdbg_trace_header, bars) == 120, "trace header layout");
_Static_assert(sizeof(struct regdbg_trace_header) == REGDBG_TRACE_HEADER_SIZE, "trace header");

struct regdbg_trace_record {
    uint64_t seq;
    uint64_t t_ns;
    uint64_t offset;
    uint64_t value;
    uint64_t orig_value;
    uint64_t guest_pc;
    int32_t cpu;
    uint16_t flags;
    uint16_t rule;
    uint8_t bar;
    uint8_t size;
    uint8_t dir;
    uint8_t kind;                       /* enum regdbg_record_kind */
    uint8_t pad[4];
};
_Static_assert(sizeof(struct regdbg_trace_record) == 64, "trace record layout");
_Static_assert(offsetof(struct regdbg_trace_record, cpu) == 48, "trace record layout");
_Static_assert(offsetof(struct regdbg_trace_record, kind) == 59, "trace record layout");

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
/* Byte offset of the next record to be read. */
uint64_t trace_reader_offset(const struct trace_reader *r);
void trace_reader_close(struct trace_reader *r);

/* "edited,injected" etc.; buf gets "" when no flag is set. */
void trace_flags_str(uint16_t flags, char *buf, size_t len);

#endif /* REGDBG_TRACE_FILE_H */
