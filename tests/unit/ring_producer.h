/*
 * Test and benchmark side of the ring: a ring on anonymous shared memory and a producer that runs
 * the device's own policy (regdbg_ring_reserve() and regdbg_ring_wait_for_slot() of regdbg/ring.h:
 * reserve, else wait while a lossless consumer frees slots, else drop), pausing with sched_yield().
 */
#ifndef REGDBG_TEST_RING_PRODUCER_H
#define REGDBG_TEST_RING_PRODUCER_H

#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "regdbg/ring.h"

struct shm_ring {
    void *base;
    size_t size;
    struct regdbg_ring ring;
    bool lossy;
};

static inline uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void ring_create(struct shm_ring *s, uint32_t entries, bool lossy, uint64_t timeout_ns)
{
    s->size = regdbg_shm_size_for(entries);
    s->base = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s->base == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    s->lossy = lossy;
    regdbg_ring_init_view(&s->ring, s->base, entries, timeout_ns);
    s->ring.hdr->ring_entries = entries;
    s->ring.hdr->consumer_timeout_ns = timeout_ns;
    regdbg_ring_format_slots(&s->ring);
}

static inline void ring_destroy(struct shm_ring *s)
{
    munmap(s->base, s->size);
}

static inline void attach_consumer(struct shm_ring *s)
{
    atomic_store(&s->ring.hdr->consumer_pid, (uint32_t)getpid());
    atomic_store(&s->ring.hdr->stalled_tail, UINT64_MAX);
}

/* How often the policy read the clock: a drop with nobody (or a stalled consumer) to wait for
   reads none (the device's clock read per access was what a full ring cost) */
static _Atomic uint64_t waiter_clock_reads;

static inline uint64_t waiter_now(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&waiter_clock_reads, 1);
    return now_ns();
}

static inline void waiter_nothing(void *ctx)
{
    (void)ctx;
}

static inline void waiter_yield(void *ctx, unsigned n)
{
    (void)ctx;
    (void)n;
    sched_yield();
}

static inline void waiter_done(void *ctx, int reserved)
{
    (void)ctx;
    (void)reserved;
}

/*
 * The device's producer: regdbg_ring_wait_for_slot() itself, with sched_yield as the pause. The
 * event is what the device publishes for an untouched 32-bit write, every field set (a slot is
 * reused: rule 0 left from the zeroed ring would say a rule touched it), stamped t_ns.
 */
static inline bool produce_stamped(struct shm_ring *s, int cpu, uint64_t value, uint64_t t_ns)
{
    static const struct regdbg_ring_waiter waiter = {
        .now_ns = waiter_now, .begin = waiter_nothing, .pause = waiter_yield, .end = waiter_done,
    };
    struct regdbg_event *ev;
    uint64_t pos;

    if (!regdbg_ring_reserve(&s->ring, &pos, &ev) &&
        !regdbg_ring_wait_for_slot(&s->ring, s->lossy, &waiter, &pos, &ev)) {
        return false;
    }
    ev->t_ns = t_ns;
    ev->offset = 0x10;
    ev->value = value;
    ev->orig_value = value;
    ev->guest_pc = 0;
    ev->cpu = cpu;
    ev->flags = 0;
    ev->rule = REGDBG_RULE_NONE;
    ev->bar = 0;
    ev->size = 4;
    ev->dir = REGDBG_DIR_WRITE;
    ev->cpu_mode = REGDBG_MODE_UNKNOWN;
    ev->irq_source = REGDBG_IRQ_SRC_NONE;
    ev->dma_what = 0;
    ev->dma_why = 0;
    regdbg_ring_publish(ev, pos);
    return true;
}

static inline bool produce(struct shm_ring *s, int cpu, uint64_t value)
{
    return produce_stamped(s, cpu, value, now_ns());
}

#endif /* REGDBG_TEST_RING_PRODUCER_H */
