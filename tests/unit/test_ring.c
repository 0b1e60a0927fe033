/*
 * Unit tests of the event ring (include/regdbg/ring.h) on real shared memory with real threads:
 * ordering, wrap-around, overflow in lossy and lossless mode, stalled and returning consumers,
 * and concurrent producers with nothing lost or duplicated.
 */
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ring_producer.h"
#include "check.h"

static uint64_t tail_of(struct shm_ring *s)
{
    return atomic_load(&s->ring.hdr->tail);
}

static size_t consume(struct shm_ring *s, struct regdbg_event *out, size_t max)
{
    uint64_t tail = tail_of(s);
    size_t n = 0;

    while (n < max && regdbg_ring_peek(&s->ring, tail + n, &out[n])) {
        n++;
    }
    regdbg_ring_release(&s->ring, tail + n);
    return n;
}

static void test_fresh_ring_is_empty(void)
{
    struct shm_ring s;
    struct regdbg_event ev;

    ring_create(&s, 8, false, 1000000);
    for (uint64_t p = 0; p < 8; p++) {
        CHECK(!regdbg_ring_peek(&s.ring, p, &ev), "position %llu looks published",
              (unsigned long long)p);
    }
    ring_destroy(&s);
}

static void test_order_and_values(void)
{
    struct shm_ring s;
    struct regdbg_event out[64];
    size_t n;

    ring_create(&s, 64, false, 1000000);
    attach_consumer(&s);
    for (uint64_t i = 0; i < 50; i++) {
        CHECK(produce(&s, 0, 1000 + i), "produce %llu", (unsigned long long)i);
    }
    n = consume(&s, out, 64);
    CHECK(n == 50, "consumed %zu", n);
    for (size_t i = 0; i < n; i++) {
        CHECK(atomic_load(&out[i].seq) == i && out[i].value == 1000 + i, "event %zu: seq %llu "
              "value %llu", i, (unsigned long long)atomic_load(&out[i].seq),
              (unsigned long long)out[i].value);
    }
    CHECK(consume(&s, out, 64) == 0, "ring should be empty");
    ring_destroy(&s);
}

static void test_wrap_around(void)
{
    struct shm_ring s;
    struct regdbg_event out[8];
    uint64_t expect = 0;

    ring_create(&s, 8, false, 1000000);
    attach_consumer(&s);
    for (unsigned round = 0; round < 500; round++) {
        unsigned k = 1 + round % 8;
        for (unsigned i = 0; i < k; i++) {
            CHECK(produce(&s, 0, expect + i), "produce in round %u", round);
        }
        size_t n = consume(&s, out, 8);
        CHECK(n == k, "round %u consumed %zu of %u", round, n, k);
        for (size_t i = 0; i < n; i++) {
            CHECK(atomic_load(&out[i].seq) == expect && out[i].value == expect,
                  "round %u: seq %llu, expected %llu", round,
                  (unsigned long long)atomic_load(&out[i].seq), (unsigned long long)expect);
            expect++;
        }
    }
    CHECK(atomic_load(&s.ring.hdr->dropped) == 0, "drops in a drained ring");
    ring_destroy(&s);
}

static void test_lossy_overflow_counts_exactly(void)
{
    struct shm_ring s;
    struct regdbg_event out[16];

    ring_create(&s, 16, true, 1000000);
    attach_consumer(&s); /* lossy never waits, even with a consumer */
    for (unsigned i = 0; i < 100; i++) {
        produce(&s, 0, i);
    }
    CHECK(atomic_load(&s.ring.hdr->head) == 16, "published %llu",
          (unsigned long long)atomic_load(&s.ring.hdr->head));
    CHECK(atomic_load(&s.ring.hdr->dropped) == 84, "dropped %llu",
          (unsigned long long)atomic_load(&s.ring.hdr->dropped));
    CHECK(consume(&s, out, 16) == 16, "backlog");
    for (unsigned i = 0; i < 16; i++) {
        CHECK(out[i].value == i, "the oldest events are kept: %u", i);
    }
    CHECK(atomic_load(&s.ring.hdr->waits) == 0, "lossy mode waited");
    ring_destroy(&s);
}

static void test_lossless_without_consumer_never_waits(void)
{
    struct shm_ring s;

    uint64_t reads = atomic_load(&waiter_clock_reads);

    ring_create(&s, 16, false, 10ull * 1000000000u);
    for (unsigned i = 0; i < 1000; i++) {
        produce(&s, 0, i);
    }
    CHECK(atomic_load(&s.ring.hdr->dropped) == 1000 - 16, "dropped %llu",
          (unsigned long long)atomic_load(&s.ring.hdr->dropped));
    CHECK(atomic_load(&s.ring.hdr->waits) == 0, "waited without a consumer");
    CHECK(atomic_load(&waiter_clock_reads) == reads, "%llu clock reads to drop without a consumer",
          (unsigned long long)(atomic_load(&waiter_clock_reads) - reads));
    ring_destroy(&s);
}

static void test_lossless_stalled_consumer(void)
{
    struct shm_ring s;
    struct regdbg_event out[16];
    uint64_t reads;

    ring_create(&s, 16, false, 20 * 1000000); /* 20 ms */
    attach_consumer(&s);
    for (unsigned i = 0; i < 16; i++) {
        CHECK(produce(&s, 0, i), "fill %u", i);
    }
    /* Full, consumer attached but not draining: the first producer waits, then gives up. */
    CHECK(!produce(&s, 0, 16), "a stalled consumer must not block forever");
    CHECK(atomic_load(&s.ring.hdr->stalled_tail) == 0, "stall recorded at tail 0");
    CHECK(atomic_load(&s.ring.hdr->waits) == 1, "waits %llu",
          (unsigned long long)atomic_load(&s.ring.hdr->waits));
    /* Later producers drop at once, without waiting again (or reading the clock). */
    reads = atomic_load(&waiter_clock_reads);
    for (unsigned i = 0; i < 100; i++) {
        CHECK(!produce(&s, 0, 17 + i), "dropped while stalled");
    }
    CHECK(atomic_load(&s.ring.hdr->waits) == 1, "waited again while stalled");
    CHECK(atomic_load(&waiter_clock_reads) == reads, "%llu clock reads to drop while stalled",
          (unsigned long long)(atomic_load(&waiter_clock_reads) - reads));
    CHECK(atomic_load(&s.ring.hdr->dropped) == 101, "dropped %llu",
          (unsigned long long)atomic_load(&s.ring.hdr->dropped));
    /* The consumer comes back: draining moves the tail and producers publish again. */
    CHECK(consume(&s, out, 16) == 16, "drain");
    CHECK(produce(&s, 0, 999), "publish after the consumer returned");
    CHECK(consume(&s, out, 16) == 1 && out[0].value == 999, "the new event");
    CHECK(atomic_load(&s.ring.hdr->waits) == 1 && atomic_load(&s.ring.hdr->dropped) == 101,
          "waits %llu dropped %llu after the consumer returned",
          (unsigned long long)atomic_load(&s.ring.hdr->waits),
          (unsigned long long)atomic_load(&s.ring.hdr->dropped));
    ring_destroy(&s);
}

/* One produce() in a thread of its own, for producers that wait. */
struct one_producer {
    struct shm_ring *s;
    uint64_t value;
    bool published;
    pthread_t th;
};

static void *one_producer_main(void *opaque)
{
    struct one_producer *p = opaque;

    p->published = produce(p->s, 0, p->value);
    return NULL;
}

static void start_producer(struct one_producer *p, struct shm_ring *s, uint64_t value)
{
    *p = (struct one_producer){ .s = s, .value = value };
    pthread_create(&p->th, NULL, one_producer_main, p);
}

/* Wait (at most 10 s) until the header's counter at *field reaches want. */
static bool counter_reaches(_Atomic uint64_t *field, uint64_t want)
{
    uint64_t deadline = now_ns() + 10ull * 1000000000u;

    while (atomic_load(field) < want) {
        if (now_ns() > deadline) {
            return false;
        }
        usleep(1000);
    }
    return true;
}

/*
 * waits counts the accesses that had to wait for a slot: one per wait, however often the tail
 * moves meanwhile. Two producers wait on a full ring; the consumer frees one slot, which one of
 * them takes while the other sees the tail move and waits on; then the second slot.
 */
static void test_lossless_waits_count_each_wait_once(void)
{
    struct shm_ring s;
    struct one_producer a, b;
    struct regdbg_event out[4];

    ring_create(&s, 4, false, 10ull * 1000000000u);
    attach_consumer(&s);
    for (unsigned i = 0; i < 4; i++) {
        CHECK(produce(&s, 0, i), "fill %u", i);
    }
    CHECK(atomic_load(&s.ring.hdr->waits) == 0, "waits %llu before any wait",
          (unsigned long long)atomic_load(&s.ring.hdr->waits));
    start_producer(&a, &s, 100);
    CHECK(counter_reaches(&s.ring.hdr->waits, 1), "the first producer does not wait");
    start_producer(&b, &s, 101);
    CHECK(counter_reaches(&s.ring.hdr->waits, 2), "the second producer does not wait");
    CHECK(consume(&s, out, 1) == 1 && out[0].value == 0, "free one slot");
    CHECK(counter_reaches(&s.ring.hdr->head, 5), "nobody took the freed slot");
    usleep(50000);      /* the other producer goes round its loop, the tail has moved */
    CHECK(atomic_load(&s.ring.hdr->waits) == 2, "waits %llu after the tail moved once",
          (unsigned long long)atomic_load(&s.ring.hdr->waits));
    CHECK(consume(&s, out, 1) == 1 && out[0].value == 1, "free the second slot");
    pthread_join(a.th, NULL);
    pthread_join(b.th, NULL);
    CHECK(a.published && b.published, "a producer dropped its event (%d %d)", a.published,
          b.published);
    CHECK(atomic_load(&s.ring.hdr->waits) == 2 && atomic_load(&s.ring.hdr->dropped) == 0,
          "waits %llu dropped %llu", (unsigned long long)atomic_load(&s.ring.hdr->waits),
          (unsigned long long)atomic_load(&s.ring.hdr->dropped));
    CHECK(consume(&s, out, 4) == 4 && out[0].value == 2 && out[1].value == 3 &&
          out[2].value + out[3].value == 201 && out[2].value != out[3].value,
          "the ring holds 2, 3 and both waiting events");
    ring_destroy(&s);
}

/*
 * A tail that moves without freeing a slot (another process writing garbage past the head) is
 * no progress: the producer waits once, for consumer_timeout in all, and drops its event.
 */
static void test_lossless_tail_moving_without_freeing_is_one_wait(void)
{
    struct shm_ring s;
    struct one_producer a;

    ring_create(&s, 4, false, 1000ull * 1000000u);     /* 1 s */
    attach_consumer(&s);
    for (unsigned i = 0; i < 4; i++) {
        CHECK(produce(&s, 0, i), "fill %u", i);
    }
    start_producer(&a, &s, 100);
    CHECK(counter_reaches(&s.ring.hdr->waits, 1), "the producer does not wait");
    for (uint64_t k = 5; k < 10; k++) {
        atomic_store(&s.ring.hdr->tail, k);             /* past the head: frees nothing */
        usleep(10000);
    }
    atomic_store(&s.ring.hdr->tail, 0);
    pthread_join(a.th, NULL);
    CHECK(!a.published, "published into a full ring");
    CHECK(atomic_load(&s.ring.hdr->waits) == 1 && atomic_load(&s.ring.hdr->dropped) == 1 &&
          atomic_load(&s.ring.hdr->head) == 4, "waits %llu dropped %llu head %llu",
          (unsigned long long)atomic_load(&s.ring.hdr->waits),
          (unsigned long long)atomic_load(&s.ring.hdr->dropped),
          (unsigned long long)atomic_load(&s.ring.hdr->head));
    ring_destroy(&s);
}

#define PRODUCERS 4
#define PER_PRODUCER 200000

struct producer_arg {
    struct shm_ring *s;
    int cpu;
    uint64_t published;
    pthread_barrier_t *start;
};

static void *producer_main(void *opaque)
{
    struct producer_arg *a = opaque;

    pthread_barrier_wait(a->start);
    for (uint64_t j = 0; j < PER_PRODUCER; j++) {
        if (produce(a->s, a->cpu, ((uint64_t)a->cpu << 32) | j)) {
            a->published++;
        }
    }
    return NULL;
}

/* Run PRODUCERS threads against one consumer; check order per producer and count everything. */
static void run_concurrent(bool lossy, uint32_t entries, unsigned consumer_pause_us)
{
    struct shm_ring s;
    pthread_t th[PRODUCERS];
    struct producer_arg args[PRODUCERS];
    pthread_barrier_t start;
    uint64_t next[PRODUCERS] = { 0 };
    uint64_t got[PRODUCERS] = { 0 };
    uint64_t expect_seq = 0, total = 0, published = 0;
    struct regdbg_event *out = malloc(entries * sizeof(*out));
    bool producers_done = false;

    ring_create(&s, entries, lossy, 2ull * 1000000000u);
    attach_consumer(&s);
    pthread_barrier_init(&start, NULL, PRODUCERS + 1);
    for (int i = 0; i < PRODUCERS; i++) {
        args[i] = (struct producer_arg){ .s = &s, .cpu = i, .start = &start };
        pthread_create(&th[i], NULL, producer_main, &args[i]);
    }
    pthread_barrier_wait(&start);
    for (;;) {
        size_t n = consume(&s, out, entries);
        for (size_t i = 0; i < n; i++) {
            int cpu = out[i].cpu;
            uint64_t j = out[i].value & 0xffffffffu;
            CHECK(atomic_load(&out[i].seq) == expect_seq, "seq %llu, expected %llu",
                  (unsigned long long)atomic_load(&out[i].seq), (unsigned long long)expect_seq);
            expect_seq++;
            CHECK(cpu >= 0 && cpu < PRODUCERS && (out[i].value >> 32) == (uint64_t)cpu,
                  "event from an unknown producer");
            if (cpu < 0 || cpu >= PRODUCERS) {
                continue;
            }
            if (lossy) {
                CHECK(j >= next[cpu], "producer %d out of order", cpu);
            } else {
                CHECK(j == next[cpu], "producer %d: got %llu, expected %llu", cpu,
                      (unsigned long long)j, (unsigned long long)next[cpu]);
            }
            next[cpu] = j + 1;
            got[cpu]++;
            total++;
        }
        if (producers_done && n == 0) {
            break;
        }
        if (!producers_done && total + atomic_load(&s.ring.hdr->dropped) ==
            (uint64_t)PRODUCERS * PER_PRODUCER) {
            producers_done = true;
        }
        if (consumer_pause_us) {
            usleep(consumer_pause_us);
        }
    }
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join(th[i], NULL);
        published += args[i].published;
        CHECK(got[i] == args[i].published, "producer %d published %llu, consumer got %llu", i,
              (unsigned long long)args[i].published, (unsigned long long)got[i]);
    }
    CHECK(total == published, "total %llu, published %llu", (unsigned long long)total,
          (unsigned long long)published);
    CHECK(total + atomic_load(&s.ring.hdr->dropped) == (uint64_t)PRODUCERS * PER_PRODUCER,
          "consumed %llu + dropped %llu != produced %d", (unsigned long long)total,
          (unsigned long long)atomic_load(&s.ring.hdr->dropped), PRODUCERS * PER_PRODUCER);
    if (!lossy) {
        CHECK(atomic_load(&s.ring.hdr->dropped) == 0, "lossless dropped %llu",
              (unsigned long long)atomic_load(&s.ring.hdr->dropped));
    }
    pthread_barrier_destroy(&start);
    free(out);
    ring_destroy(&s);
}

static void test_concurrent_producers_lossless(void)
{
    run_concurrent(false, 1024, 0);
}

static void test_concurrent_producers_lossless_slow_consumer(void)
{
    run_concurrent(false, 256, 200);
}

static void test_concurrent_producers_lossy_exact_drop_count(void)
{
    run_concurrent(true, 256, 200);
}

int main(void)
{
    RUN_TEST(test_fresh_ring_is_empty);
    RUN_TEST(test_order_and_values);
    RUN_TEST(test_wrap_around);
    RUN_TEST(test_lossy_overflow_counts_exactly);
    RUN_TEST(test_lossless_without_consumer_never_waits);
    RUN_TEST(test_lossless_stalled_consumer);
    RUN_TEST(test_lossless_waits_count_each_wait_once);
    RUN_TEST(test_lossless_tail_moving_without_freeing_is_one_wait);
    RUN_TEST(test_concurrent_producers_lossless);
    RUN_TEST(test_concurrent_producers_lossless_slow_consumer);
    RUN_TEST(test_concurrent_producers_lossy_exact_drop_count);
    return TEST_SUMMARY();
}
