/*
 * regdbg ring algorithm: the multi-producer, single-consumer event ring laid out in regdbg/abi.h,
 * shared by the QEMU device (producers) and the debugger (consumer). The ordering contract is stated
 * in abi.h. These functions make no system call and never allocate: they run on the device's hot path.
 *
 * Each side builds a struct regdbg_ring from values it trusts (the producer from its own properties,
 * the consumer after checking the header), never from indices re-read out of shared memory.
 */
#ifndef REGDBG_RING_H
#define REGDBG_RING_H

#include <string.h>

#include "regdbg/abi.h"

struct regdbg_ring {
    struct regdbg_shm_header *hdr;
    struct regdbg_event *events;
    uint64_t mask;            /* ring_entries - 1 */
    uint64_t timeout_ns;      /* a lossless producer gives up after the tail has not moved this long */
};

static inline void regdbg_ring_init_view(struct regdbg_ring *r, void *base, uint32_t entries,
                                         uint64_t timeout_ns)
{
    r->hdr = (struct regdbg_shm_header *)base;
    r->events = (struct regdbg_event *)((char *)base + REGDBG_EVENTS_OFFSET);
    r->mask = (uint64_t)entries - 1;
    r->timeout_ns = timeout_ns;
}

/* Producer side, once at creation: make every slot unpublished for its first position. */
static inline void regdbg_ring_format_slots(struct regdbg_ring *r)
{
    for (uint64_t i = 0; i <= r->mask; i++) {
        atomic_store_explicit(&r->events[i].seq, UINT64_MAX, memory_order_relaxed);
    }
    atomic_store_explicit(&r->hdr->stalled_tail, UINT64_MAX, memory_order_relaxed);
}

/*
 * Producer: reserve the next position. Returns 1 and the slot when there is room, 0 when the ring is
 * full. The caller must fill the slot and call regdbg_ring_publish() without blocking in between.
 */
static inline int regdbg_ring_reserve(const struct regdbg_ring *r, uint64_t *pos,
                                      struct regdbg_event **slot)
{
    uint64_t p = atomic_load_explicit(&r->hdr->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&r->hdr->tail_cache, memory_order_acquire); /* [E3] */

    for (;;) {
        if (p - tail > r->mask) {
            /* Looks full by the cached tail: look at the consumer's line itself. */
            tail = atomic_load_explicit(&r->hdr->tail, memory_order_acquire); /* [E2] */
            if (p - tail > r->mask) {
                return 0;
            }
            atomic_store_explicit(&r->hdr->tail_cache, tail, memory_order_release); /* [E3] */
        }
        if (atomic_compare_exchange_weak_explicit(&r->hdr->head, &p, p + 1, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            *pos = p;
            *slot = &r->events[p & r->mask];
            return 1;
        }
    }
}

static inline void regdbg_ring_publish(struct regdbg_event *slot, uint64_t pos)
{
    atomic_store_explicit(&slot->seq, pos, memory_order_release); /* [E1] */
}

static inline void regdbg_ring_count_drop(const struct regdbg_ring *r)
{
    atomic_fetch_add_explicit(&r->hdr->dropped, 1, memory_order_relaxed);
}

/* State of one producer waiting for space in lossless mode. */
struct regdbg_ring_wait {
    uint64_t tail;            /* tail when the wait began */
    uint64_t since_ns;        /* when it began */
};

/*
 * How a lossless producer pauses while it waits for a slot. The device drops QEMU's big lock in
 * begin() and takes it again in end(), and pauses with sched_yield() then short sleeps; the tests
 * and the ring benchmark pause with sched_yield(). Only the slow path (a full ring) calls these.
 */
struct regdbg_ring_waiter {
    uint64_t (*now_ns)(void *ctx);                 /* CLOCK_MONOTONIC */
    void (*begin)(void *ctx);                      /* before the first pause */
    void (*pause)(void *ctx, unsigned n);          /* the n-th pause, from 0 */
    void (*end)(void *ctx, int reserved);          /* after the last; reserved: a slot was got */
    int (*abandon)(void *ctx);                     /* optional, before each pause: nonzero to
                                                      stop waiting and drop (the device is going
                                                      away) */
    void *ctx;
};

/*
 * Producer, lossless mode, ring full: should it wait (1) or drop (0)? Call first with
 * w->since_ns == 0, then again after each pause. The clock is read only when the answer needs
 * it: a ring nobody drains (or whose consumer stalled) drops each access without a clock read.
 *
 * A producer waits while the consumer frees slots, even when other producers take them first,
 * and gives up when the tail has not gone forward for timeout_ns. Only a tail that goes forward,
 * and not past the head, is progress: a tail moved back and forth (another process writing the
 * header) frees nothing. A producer that gives up marks the consumer stalled; from then on
 * producers drop without waiting until the consumer has drained the ring to half full, so that a
 * consumer nudging the tail cannot hold the guest at one access per timeout.
 */
static inline int regdbg_ring_should_wait(const struct regdbg_ring *r, struct regdbg_ring_wait *w,
                                          const struct regdbg_ring_waiter *wt)
{
    struct regdbg_shm_header *h = r->hdr;
    uint64_t tail, stalled, now_ns;

    if (atomic_load_explicit(&h->consumer_pid, memory_order_acquire) == 0) { /* [E4] */
        return 0;
    }
    tail = atomic_load_explicit(&h->tail, memory_order_acquire); /* [E2] */
    stalled = atomic_load_explicit(&h->stalled_tail, memory_order_relaxed);
    if (stalled != UINT64_MAX) {
        uint64_t head = atomic_load_explicit(&h->head, memory_order_relaxed);

        /* a tail past the head (garbage) wraps to a huge fill: still stalled */
        if (head - tail > (r->mask + 1) / 2) {
            return 0;
        }
        atomic_compare_exchange_strong_explicit(&h->stalled_tail, &stalled, UINT64_MAX,
                                                memory_order_relaxed, memory_order_relaxed);
    }
    now_ns = wt->now_ns(wt->ctx);
    if (w->since_ns == 0) {
        atomic_fetch_add_explicit(&h->waits, 1, memory_order_relaxed);
        w->tail = tail;
        w->since_ns = now_ns;
        return 1;
    }
    if ((int64_t)(tail - w->tail) > 0 &&
        (int64_t)(tail - atomic_load_explicit(&h->head, memory_order_relaxed)) <= 0) {
        /* the consumer freed slots (others may have taken them): it is alive, wait on */
        w->tail = tail;
        w->since_ns = now_ns;
        return 1;
    }
    if (now_ns - w->since_ns >= r->timeout_ns) {
        /* UINT64_MAX means "not stalled": a tail of that value (garbage) is stored as one less */
        atomic_store_explicit(&h->stalled_tail, tail == UINT64_MAX ? tail - 1 : tail,
                              memory_order_relaxed);
        return 0;
    }
    return 1;
}

/*
 * Producer, slow path, after regdbg_ring_reserve() found the ring full: in lossless mode, wait
 * for a slot while regdbg_ring_should_wait() allows; otherwise, or when it gives up, count the
 * drop. Returns 1 with the slot reserved (fill it and publish it), 0 when the event is dropped.
 * This is the policy the device ships; the tests and the benchmark run this same code.
 */
static inline int regdbg_ring_wait_for_slot(const struct regdbg_ring *r, int lossy,
                                            const struct regdbg_ring_waiter *wt, uint64_t *pos,
                                            struct regdbg_event **slot)
{
    struct regdbg_ring_wait w = { 0, 0 };
    unsigned n = 0;
    int reserved = 0;

    if (!lossy && regdbg_ring_should_wait(r, &w, wt)) {
        wt->begin(wt->ctx);
        for (;;) {
            if (wt->abandon && wt->abandon(wt->ctx)) {
                break;
            }
            wt->pause(wt->ctx, n++);
            if (regdbg_ring_reserve(r, pos, slot)) {
                reserved = 1;
                break;
            }
            if (!regdbg_ring_should_wait(r, &w, wt)) {
                break;
            }
        }
        wt->end(wt->ctx, reserved);
    }
    if (!reserved) {
        regdbg_ring_count_drop(r);
    }
    return reserved;
}

/*
 * Consumer: copy the event at position pos if it has been published. Returns 1 on success, 0 when the
 * producer that reserved it has not published it yet (or nothing was produced there).
 */
static inline int regdbg_ring_peek(const struct regdbg_ring *r, uint64_t pos, struct regdbg_event *out)
{
    const struct regdbg_event *slot = &r->events[pos & r->mask];

    if (atomic_load_explicit(&slot->seq, memory_order_acquire) != pos) { /* [E1] */
        return 0;
    }
    memcpy(out, slot, sizeof(*out));
    atomic_store_explicit(&out->seq, pos, memory_order_relaxed);
    return 1;
}

/* Consumer: hand back every slot before new_tail. */
static inline void regdbg_ring_release(const struct regdbg_ring *r, uint64_t new_tail)
{
    atomic_store_explicit(&r->hdr->tail, new_tail, memory_order_release); /* [E2] */
}

#endif /* REGDBG_RING_H */
