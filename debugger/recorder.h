/*
 * The recorder's core, shared by `regdbg record` and the ring benchmark: drain a ring straight
 * into a trace file, trusting nothing the ring says.
 *
 * Every event is checked (ring_reader_check_event) before it is written, and so are the
 * header's counters: a head that runs further ahead of the tail than the ring can hold, or a
 * drop counter that goes back or rises faster than accesses can happen, is damage. Damage stops
 * the recording with a message that names the position and the field; what was written before
 * it stays valid.
 *
 * A recording starts when the reader attached (rr->attach_ns): events queued in the ring before
 * then, and accesses that began before then, are skipped and counted, never written; drops
 * counted before then are not this recording's.
 */
#ifndef REGDBG_RECORDER_H
#define REGDBG_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ring_reader.h"
#include "trace_file.h"

struct recorder {
    struct ring_reader *rr;
    struct trace_writer *w;
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

/* Start a recording of rr (attached) into w; the trace header's start_monotonic_ns must be
   rr->attach_ns. */
void recorder_init(struct recorder *rec, struct ring_reader *rr, struct trace_writer *w);

/*
 * Move up to max published positions from the ring: each checked, then written (or skipped when
 * it precedes the start), its slot handed back. Returns the number of positions taken, or -1
 * with a message in err: rec->damaged tells damage in the ring from a trace that cannot be
 * written.
 */
long recorder_drain(struct recorder *rec, size_t max, char *err, size_t errlen);

/*
 * Check the header's head and drop counter, and mark drops it reports that the trace has not
 * marked yet, where they happened: the ring drops only when it is full, so drops read now came
 * after the ring's worth of positions that followed the tail at the last check (and before the
 * head now); their marker goes before the access at that position. 0, or -1 as recorder_drain.
 */
int recorder_check_ring(struct recorder *rec, char *err, size_t errlen);

/*
 * The producer is gone: give up the first position it reserved and never published, to be
 * marked as one lost access. Returns 1 when a position was given up, 0 when none is left.
 */
int recorder_give_up_unpublished(struct recorder *rec);

/* Mark what is still pending and write the end record (t_end_ns). 0 or -1 as recorder_drain. */
int recorder_finish(struct recorder *rec, uint64_t t_end_ns, char *err, size_t errlen);

#endif /* REGDBG_RECORDER_H */
