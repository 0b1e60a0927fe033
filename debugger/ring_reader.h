/*
 * The debugger's side of a regdbg-proxy ring: maps the shared memory, checks it (magic, version,
 * sizes) before trusting any of it, claims the single consumer slot and drains published events.
 */
#ifndef REGDBG_RING_READER_H
#define REGDBG_RING_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "regdbg/ring.h"

struct ring_reader {
    char *path;
    void *base;
    size_t size;
    struct regdbg_ring ring;
    struct regdbg_shm_header info;  /* a checked copy of the immutable part of the header */
    uint64_t tail;                  /* next position to read */
    /* Read just before this reader became the consumer, in this order: whatever a producer
       reserves once the consumer is visible has a position >= attach_head and a time >=
       attach_ns. */
    uint64_t attach_ns;             /* CLOCK_MONOTONIC */
    uint64_t attach_head;           /* header.head */
    uint64_t attach_dropped;        /* header.dropped */
    bool claimed;
};

/* The highest vCPU index a sane event carries: QEMU's x86 machines have at most 4096 vCPUs. */
#define RING_MAX_CPU 4095

/*
 * Map and check the ring at path and become its consumer. 0, or -1 with a message in err.
 * path may be a magic link such as /proc/PID/fd/N: what it opens must be a regular file at least
 * as large as its header says.
 */
int ring_reader_attach(struct ring_reader *rr, const char *path, char *err, size_t errlen);

/*
 * Is ev (a copy taken by ring_reader_peek) a possible access of this device? 0, or -1 with the
 * field and what is wrong with it in why ("size 0 is not 1, 2, 4 or 8"). now_ns is
 * CLOCK_MONOTONIC read after the copy was taken: no published event is stamped later than
 * now_ns + REGDBG_STAMP_AHEAD_NS (so a caller may pass an older reading, and read the clock
 * again only for a stamp past that).
 */
int ring_reader_check_event(const struct ring_reader *rr, const struct regdbg_event *ev,
                            uint64_t now_ns, char *why, size_t whylen);
void ring_reader_detach(struct ring_reader *rr);

/*
 * Draining one event at a time: copy the i-th unread event (i = 0 is the oldest) into *out if it
 * has been published, returning 1, else 0; then ring_reader_consume() hands back the first n
 * slots.
 * Consume at least every ring_entries / 2 events so that lossless producers can go on.
 */
static inline int ring_reader_peek(const struct ring_reader *rr, uint64_t i,
                                   struct regdbg_event *out)
{
    return regdbg_ring_peek(&rr->ring, rr->tail + i, out);
}

void ring_reader_consume(struct ring_reader *rr, uint64_t n);

/*
 * For a ring whose QEMU has died: positions reserved but never published can no longer be filled.
 * Skip the first such position if later ones are published or the producer is gone; returns the
 * number of positions skipped (0 or 1).
 */
size_t ring_reader_skip_unpublished(struct ring_reader *rr);

uint64_t ring_reader_dropped(const struct ring_reader *rr);
uint64_t ring_reader_head(const struct ring_reader *rr);
/* Events published but not yet drained. */
uint64_t ring_reader_fill(const struct ring_reader *rr);
/* false when the QEMU process that owns the ring no longer exists. */
bool ring_reader_qemu_alive(const struct ring_reader *rr);

#endif /* REGDBG_RING_READER_H */
