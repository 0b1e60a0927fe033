/*
 * Linux's mmiotrace text format (Documentation/trace/mmiotrace.rst in the kernel source, version
 * 20070824; kernel/trace/trace_mmiotrace.c writes it), in and out of regdbg trace files: export
 * writes a trace's accesses at the physical addresses its BAR records place them (trace format
 * 3), import places each R/W line on its PCI device, BAR and offset through the PCIDEV and MAP
 * lines. Pure conversion of files: no QMP, no printing but into the streams given.
 */
#ifndef REGDBG_MMIOTRACE_H
#define REGDBG_MMIOTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "regdbg/abi.h"
#include "trace_file.h"

#define MMIOTRACE_VERSION "20070824"

/* ---- export ------------------------------------------------------------------------------- */

struct mmiotrace_export_opts {
    /* BAR addresses to use where the trace places none (--bar N=ADDR); UINT64_MAX: none */
    uint64_t bar_addr[REGDBG_NUM_BARS];
};

struct mmiotrace_export_stats {
    uint64_t accesses;          /* R and W lines written */
    uint64_t io_accesses;       /* accesses to I/O BARs, left out: mmiotrace traces memory only */
    uint64_t lost;              /* events the trace's drop markers count, as MARK lines */
    uint64_t irq_events;        /* interrupt events, as MARK lines (mmiotrace has no line type
                                   of its own for them) */
    uint64_t mappings;          /* MAP lines */
};

/*
 * The accesses r holds from here on, as mmiotrace text on out: VERSION, a PCIDEV line for the
 * device (its PCI address from the BAR records; 0000 when they have none), a MAP per mapped
 * memory BAR before its first access and again, after an UNMAP and a new PCIDEV line, where a
 * BAR record moves it, R/W lines with the physical address, the value and the guest PC (0 when
 * unknown), "MARK t Lost N events." for drops, "MARK t regdbg interrupt: INTA raised by rule 3
 * (pulse)" for interrupt events. 0, or -1 with a message in err (a damaged trace,
 * an access to a BAR placed nowhere that opts does not place either, a write error).
 */
int mmiotrace_export(struct trace_reader *r, FILE *out, const struct mmiotrace_export_opts *opts,
                     struct mmiotrace_export_stats *st, char *err, size_t errlen);

/* ---- import ------------------------------------------------------------------------------- */

#define MMIOTRACE_MAX_DEVICES 256

/* A PCI device as a PCIDEV line describes it. */
struct mmiotrace_device {
    unsigned bus, devfn;
    uint16_t vendor, device;
    uint64_t start[REGDBG_NUM_BARS];    /* the BARs' addresses (flag bits removed) */
    uint64_t size[REGDBG_NUM_BARS];
    uint8_t type[REGDBG_NUM_BARS];      /* enum regdbg_bar_type */
    bool prefetch[REGDBG_NUM_BARS];
    uint64_t accesses;                  /* R/W lines placed on it */
};

struct mmiotrace_import_stats {
    struct mmiotrace_device devices[MMIOTRACE_MAX_DEVICES];
    size_t n_devices;
    int chosen;                 /* the device written, index into devices */
    uint64_t accesses;          /* R and W lines */
    uint64_t written;           /* of them, written into the trace (the chosen device's) */
    uint64_t outside;           /* at an address inside no BAR of any PCIDEV device */
    uint64_t first_outside_line, first_outside_phys;
    uint64_t unknown_ops;       /* UNKNOWN lines: accesses mmiotrace could not decode */
    uint64_t lost;              /* events the "Lost N events." marks count */
    uint64_t marks;             /* other MARK lines (trace_marker text), not kept */
    uint64_t map_mismatches;    /* R/W lines whose map id is not open, or does not hold phys */
    uint64_t first_mismatch_line;
};

/* Which device to write: NULL (the one device the R/W lines fall on), "VVVV:DDDD" (hex
   vendor:device) or "BB:DD.F" (bus, slot, function: hex, as lspci prints them). */
struct mmiotrace_import_opts {
    const char *device;
};

/*
 * Read the mmiotrace text in (named name in messages) and write the chosen device's accesses
 * into a new trace file out_path (format 3: BAR records from the PCIDEV lines, an access record
 * per R/W line on it, a drop marker per "Lost N events.", an end record). in must be seekable:
 * it is read twice (once to check every line and count the devices' accesses, once to write).
 * 0, or -1 with a message in err: a malformed line ("NAME:LINE: what was expected"), no
 * device or several with accesses and none chosen (the message lists them), a write error.
 */
int mmiotrace_import(FILE *in, const char *name, const char *out_path,
                     const struct mmiotrace_import_opts *opts,
                     struct mmiotrace_import_stats *st, char *err, size_t errlen);

#endif /* REGDBG_MMIOTRACE_H */
