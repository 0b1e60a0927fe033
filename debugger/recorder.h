/*
 * The recorder: one ring recorded into one trace file, the same way for every caller (`regdbg
 * record`, the TUI's :record, `regdbg batch --record` and the ring benchmark), trusting nothing
 * the ring says.
 *
 * Every event is checked (ring_reader_check_event) before it is written, and so are the
 * header's counters: a head that runs further ahead of the tail than the ring can hold, or a
 * drop counter that goes back or rises faster than accesses can happen, is damage. Damage stops
 * the recording with a message that names the position and the field; what was written before
 * it stays valid. Drops the ring counts are marked in the trace where they happened.
 *
 * A recording starts at a moment: events queued in the ring before then, and accesses that began
 * before then, are skipped and counted, never written; drops counted before then are not this
 * recording's.
 *
 * Where the guest has placed the BARs goes into the trace too (a BAR record, trace format 3),
 * from a source the caller gives (QEMU's query-pci, recorder_bar_source): when the recording
 * starts, whenever the caller refreshes it, and before the first access to a BAR whose address
 * the trace does not hold yet (the guest reached it, so it is mapped now; the source is asked at
 * most once per RECORDER_BAR_ASK_NS for that).
 */
#ifndef REGDBG_RECORDER_H
#define REGDBG_RECORDER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ring_reader.h"
#include "trace_file.h"

/*
 * Where the guest has the BARs now: fills addr (REGDBG_BAR_UNMAPPED for one not mapped) and *pci
 * (bus << 8 | devfn, or REGDBG_PCI_UNKNOWN). 0, or -1 with a message (the recording goes on
 * without BAR records until an answer comes).
 */
typedef int (*recorder_bar_query)(void *opaque, uint64_t addr[REGDBG_NUM_BARS], uint64_t *pci,
                                  char *err, size_t errlen);
#define RECORDER_BAR_ASK_NS 100000000ull

struct recorder {
    struct ring_reader *rr;
    struct trace_writer *w;     /* NULL once closed */
    char path[PATH_MAX];
    uint64_t start_ns;          /* CLOCK_MONOTONIC at the start: the trace header's time 0 */
    uint64_t skip_until;        /* ring positions before it were queued before the start */
    uint64_t written;           /* accesses written */
    uint64_t skipped;           /* accesses from before the start, left out */
    uint64_t dropped;           /* accesses lost, as marked in the trace */
    uint64_t dropped_seen;      /* the ring's drop counter as far as the trace has marked it */
    uint64_t dropped_seen_ns;   /* when it was read */
    uint64_t lost_pending;      /* positions a dead QEMU never published, not marked yet */
    uint64_t checked_tail;      /* the tail when the drop counter was last read */
    uint64_t drops_pending;     /* drops read from the counter, not marked yet: they are */
    uint64_t drops_at;          /*   marked before the access at this position (or at the end) */
    uint64_t drops_noticed_ns;  /*   when they were read */
    bool damaged;               /* the last error was damage in the ring, not a write error */
    /* BAR placements (recorder_set_bar_source) */
    recorder_bar_query bar_query;   /* NULL: none */
    void *bar_opaque;
    uint64_t bar_addr[REGDBG_NUM_BARS];     /* as the trace last placed each BAR */
    bool bar_written[REGDBG_NUM_BARS];      /* ... once it has */
    uint64_t bar_pci;               /* the PCI address the trace last gave */
    uint64_t bar_asked_ns;          /* when the source was last asked for an unplaced BAR */
};

/* Where a recording starts. */
enum recorder_from {
    RECORDER_FROM_ATTACH,       /* when rr attached (rr->attach_*): `regdbg record` attaches to
                                   record, so that not one access after it is missed */
    RECORDER_FROM_NOW,          /* now, on a ring the caller already drains (the TUI, batch) */
};

/*
 * Create the trace file path (its header from the ring's) and start recording rr, attached,
 * into it. 0, or -1 with a message in err.
 */
int recorder_start(struct recorder *rec, struct ring_reader *rr, const char *path,
                   enum recorder_from from, char *err, size_t errlen);

/*
 * One event the caller took from the ring itself (ring_reader_peek at position pos, not yet
 * consumed; the session does so for its scrollback): checked, then written, or skipped when it
 * precedes the start. *now_ns is CLOCK_MONOTONIC read after the copy was taken, refreshed here
 * when the event looks younger. 1 written, 0 skipped, or -1 with a message in err
 * (rec->damaged: damage in the ring, else a trace that cannot be written).
 */
int recorder_add(struct recorder *rec, uint64_t pos, const struct regdbg_event *ev,
                 uint64_t *now_ns, char *err, size_t errlen);

/*
 * Move up to max published positions from the ring: each recorder_add()ed, its slot handed back.
 * Returns the number of positions taken, or -1 as recorder_add.
 */
long recorder_drain(struct recorder *rec, size_t max, char *err, size_t errlen);

/*
 * Check the header's head and drop counter, and mark drops it reports that the trace has not
 * marked yet, where they happened: the ring drops only when it is full, so drops read now came
 * after the ring's worth of positions that followed the tail at the last check (and before the
 * head now); their marker goes before the access at that position. Call it after each drain.
 * 0, or -1 as recorder_add.
 */
int recorder_check_ring(struct recorder *rec, char *err, size_t errlen);

/*
 * Where BAR placements come from, for the rest of the recording: it is asked at once, and the
 * trace places each BAR the header describes (a source that fails now is asked again later).
 * 0, or -1 when the BAR records cannot be written.
 */
int recorder_set_bar_source(struct recorder *rec, recorder_bar_query query, void *opaque,
                            char *err, size_t errlen);

/* Ask the source again and place what moved (call it now and then, e.g. once a second). 0, or
   -1 when the BAR records cannot be written. */
int recorder_refresh_bars(struct recorder *rec, char *err, size_t errlen);

/* Is a BAR of the device not placed by the trace yet, or placed nowhere (unmapped)? */
bool recorder_bars_unplaced(const struct recorder *rec);

/* Place the BARs where addr says (a BAR record for each BAR of the device whose address differs
   from the trace's), pci as the device's PCI address. 0 or -1. */
int recorder_place_bars(struct recorder *rec, const uint64_t addr[REGDBG_NUM_BARS], uint64_t pci,
                        char *err, size_t errlen);

/* Make what was written visible to readers such as `dump --follow`. 0 or -1. */
int recorder_flush(struct recorder *rec, char *err, size_t errlen);

/*
 * The producer is gone: give up the first position it reserved and never published, to be
 * marked as one lost access. Returns 1 when a position was given up, 0 when none is left.
 */
int recorder_give_up_unpublished(struct recorder *rec);

/*
 * End the recording cleanly: mark what is still pending, write the end record (t_end_ns), close
 * the file. 0 or -1 with a message; the file is closed either way.
 */
int recorder_finish(struct recorder *rec, uint64_t t_end_ns, char *err, size_t errlen);

/*
 * Close the file without an end record (after damage: the trace keeps what came before and
 * says that it did not end cleanly). 0, or -1 when what was buffered cannot be written.
 */
int recorder_abandon(struct recorder *rec, char *err, size_t errlen);

static inline bool recorder_active(const struct recorder *rec)
{
    return rec->w != NULL;
}

/*
 * The summary of a recording that ended at t_end_ns: "N events, D dropped, S s[, R events/s]
 * -> FILE[ (ENDED; K earlier accesses skipped)]", ENDED why the producer went ("QEMU exited",
 * "device unplugged"; NULL: it did not) (no rate below 0.1 s: a few events over a few
 * microseconds make an absurd one).
 */
void recorder_summary(const struct recorder *rec, uint64_t t_end_ns, const char *ended, char *buf,
                      size_t len);

#endif /* REGDBG_RECORDER_H */
