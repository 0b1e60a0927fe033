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
 */
#ifndef REGDBG_RECORDER_H
#define REGDBG_RECORDER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ring_reader.h"
#include "trace_file.h"

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
 * -> FILE[ (QEMU exited; K earlier accesses skipped)]" (no rate below 0.1 s: a few events over a
 * few microseconds make an absurd one).
 */
void recorder_summary(const struct recorder *rec, uint64_t t_end_ns, bool qemu_exited, char *buf,
                      size_t len);

#endif /* REGDBG_RECORDER_H */
