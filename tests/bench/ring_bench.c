/*
 * Ring throughput benchmark (`make bench`): producer threads publish into a real shared-memory ring
 * in /dev/shm, following the device's policy, while the debugger's own recorder
 * (debugger/recorder.c, the one `regdbg record` and the TUI use) drains it into a trace file.
 *
 * usage: ring_bench PRODUCERS EVENTS_PER_PRODUCER RING_ENTRIES lossless|lossy TRACE_FILE
 * prints: ring producers=P events=N consumed=C dropped=D seconds=S mevents_per_s=R
 *
 * usage: ring_bench memcpy EVENTS TRACE_FILE     the reference loop: the same bytes, no ring
 * prints: memcpy events=N seconds=S mevents_per_s=R
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>

#include "ring_producer.h"
#include "recorder.h"

/*
 * The producers stamp events as the device does (qemu-device/regdbg-clock.c): the TSC scaled to
 * CLOCK_MONOTONIC from a point where both were read, taken again every millisecond, not a
 * clock_gettime() per event (which was most of a producer's time here, and no longer the
 * device's). The scale is measured once, over 20 ms, before the run.
 */
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define RESYNC_NS 1000000ull

static uint64_t tsc_mult;     /* ns per tick, 32.32 */

struct stamp_clock {
    uint64_t base_ns, base_tsc, resync_ticks;
};

static void stamp_pair(uint64_t *ns, uint64_t *tsc)
{
    *ns = now_ns();
    *tsc = __rdtsc();         /* after the clock: a stamp scaled from here errs late */
}

static void stamp_measure(void)
{
    uint64_t ns0, tsc0, ns1, tsc1;
    struct timespec pause = { 0, 20000000 };

    stamp_pair(&ns0, &tsc0);
    nanosleep(&pause, NULL);
    stamp_pair(&ns1, &tsc1);
    tsc_mult = (uint64_t)((((unsigned __int128)(ns1 - ns0)) << 32) / (tsc1 - tsc0));
}

static inline uint64_t stamp_ns(struct stamp_clock *c)
{
    uint64_t ticks = __rdtsc() - c->base_tsc;

    if (ticks >= c->resync_ticks) {
        stamp_pair(&c->base_ns, &c->base_tsc);
        c->resync_ticks = (RESYNC_NS << 32) / tsc_mult;
        return c->base_ns;
    }
    return c->base_ns + ((ticks * tsc_mult) >> 32);
}
#else
struct stamp_clock {
    int unused;
};

static void stamp_measure(void)
{
}

static inline uint64_t stamp_ns(struct stamp_clock *c)
{
    (void)c;
    return now_ns();
}
#endif

struct producer {
    pthread_t thread;
    struct shm_ring *ring;
    int cpu;
    uint64_t count;
    pthread_barrier_t *start;
};

static void *producer_main(void *opaque)
{
    struct producer *p = opaque;
    struct stamp_clock clock = { 0 };

    pthread_barrier_wait(p->start);
    for (uint64_t j = 0; j < p->count; j++) {
        produce_stamped(p->ring, p->cpu, j, stamp_ns(&clock));
    }
    return NULL;
}

static void *create_ring_file(const char *path, uint32_t entries, bool lossy)
{
    size_t size = regdbg_shm_size_for(entries);
    struct regdbg_shm_header *h;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

    if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
        fprintf(stderr, "ring_bench: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    h = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (h == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    h->abi_version = REGDBG_ABI_VERSION;
    h->header_size = REGDBG_HEADER_SIZE;
    h->event_size = sizeof(struct regdbg_event);
    h->ring_entries = entries;
    h->events_offset = REGDBG_EVENTS_OFFSET;
    h->rules_offset = REGDBG_RULES_OFFSET;
    h->shm_size = size;
    h->ring_mode = lossy ? REGDBG_RING_LOSSY : REGDBG_RING_LOSSLESS;
    h->qemu_pid = (uint32_t)getpid();
    snprintf(h->dev_id, sizeof(h->dev_id), "bench");
    h->consumer_timeout_ns = 1000000000u;
    h->bars[0].size = 4096;             /* the producers write at offset 0x10 of BAR 0 */
    h->bars[0].type = REGDBG_BAR_MEM32;
    atomic_store(&h->stalled_tail, UINT64_MAX);
    for (uint32_t i = 0; i < entries; i++) {
        struct regdbg_event *ev = (struct regdbg_event *)((char *)h + REGDBG_EVENTS_OFFSET) + i;
        atomic_store_explicit(&ev->seq, UINT64_MAX, memory_order_relaxed);
    }
    /* [H1] */
    atomic_store_explicit((_Atomic uint64_t *)&h->magic, REGDBG_SHM_MAGIC, memory_order_release);
    return h;
}

/*
 * The reference loop for the ring's figure, measured in the same run: the bytes the recorder
 * moves, without the ring. 64-byte events out of a ring-sized buffer, 32 bytes of each copied
 * into a 64 KiB staging buffer that is written to the trace file, as a plain record is.
 */
static int memcpy_reference(uint64_t events, const char *target)
{
    enum { SRC_EVENTS = 65536, STAGE = 65536 };
    struct regdbg_event *src = calloc(SRC_EVENTS, sizeof(*src));
    char *stage = malloc(STAGE);
    size_t used = 0;
    uint64_t t0, t1;
    int fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (!src || !stage || fd < 0) {
        fprintf(stderr, "ring_bench: memcpy reference: %s\n", strerror(errno));
        return 1;
    }
    for (uint64_t i = 0; i < SRC_EVENTS; i++) {
        src[i].t_ns = i;
        src[i].value = i * 7;
    }
    t0 = now_ns();
    for (uint64_t i = 0; i < events; i++) {
        memcpy(stage + used, &src[i & (SRC_EVENTS - 1)].t_ns, 32);
        used += 32;
        if (used == STAGE || i + 1 == events) {
            if (write(fd, stage, used) != (ssize_t)used) {
                fprintf(stderr, "ring_bench: memcpy reference: %s\n", strerror(errno));
                return 1;
            }
            used = 0;
        }
    }
    close(fd);
    t1 = now_ns();
    printf("memcpy events=%" PRIu64 " seconds=%.3f mevents_per_s=%.2f\n", events,
           (double)(t1 - t0) / 1e9, (double)events / ((double)(t1 - t0) / 1e3));
    free(src);
    free(stage);
    return 0;
}

int main(int argc, char **argv)
{
    int nprod;
    uint64_t per, total, consumed = 0, dropped;
    uint32_t entries;
    bool lossy;
    char shm_path[128], err[256];
    struct shm_ring ring;
    struct ring_reader rr;
    struct recorder rec;
    struct producer *prods;
    pthread_barrier_t start;
    uint64_t t0, t1;

    if (argc == 4 && !strcmp(argv[1], "memcpy")) {
        return memcpy_reference(strtoull(argv[2], NULL, 0), argv[3]);
    }
    if (argc != 6) {
        fprintf(stderr, "usage: ring_bench PRODUCERS EVENTS_PER_PRODUCER RING_ENTRIES "
                "lossless|lossy TRACE_FILE\n       ring_bench memcpy EVENTS TRACE_FILE\n");
        return 2;
    }
    nprod = atoi(argv[1]);
    per = strtoull(argv[2], NULL, 0);
    entries = (uint32_t)strtoul(argv[3], NULL, 0);
    lossy = strcmp(argv[4], "lossy") == 0;
    total = per * (uint64_t)nprod;

    snprintf(shm_path, sizeof(shm_path), "/dev/shm/regdbg-bench-%d", (int)getpid());
    ring.base = create_ring_file(shm_path, entries, lossy);
    ring.size = regdbg_shm_size_for(entries);
    ring.lossy = lossy;
    regdbg_ring_init_view(&ring.ring, ring.base, entries, 1000000000u);

    if (ring_reader_attach(&rr, shm_path, err, sizeof(err)) < 0) {
        fprintf(stderr, "ring_bench: %s\n", err);
        return 1;
    }
    if (recorder_start(&rec, &rr, argv[5], RECORDER_FROM_ATTACH, err, sizeof(err)) < 0) {
        fprintf(stderr, "ring_bench: %s\n", err);
        return 1;
    }
    stamp_measure();
    prods = calloc((size_t)nprod, sizeof(*prods));
    pthread_barrier_init(&start, NULL, (unsigned)nprod + 1);
    for (int i = 0; i < nprod; i++) {
        prods[i] = (struct producer){ .ring = &ring, .cpu = i, .count = per, .start = &start };
        pthread_create(&prods[i].thread, NULL, producer_main, &prods[i]);
    }
    pthread_barrier_wait(&start);
    t0 = now_ns();
    for (;;) {
        long n = recorder_drain(&rec, entries / 2, err, sizeof(err));

        if (n < 0 || recorder_check_ring(&rec, err, sizeof(err)) < 0) {
            fprintf(stderr, "ring_bench: %s\n", err);
            return 1;
        }
        consumed += (uint64_t)n;
        if (n == 0) {
            dropped = ring_reader_dropped(&rr);
            if (consumed + dropped == total) {
                break;
            }
            sched_yield();
        }
    }
    if (recorder_finish(&rec, now_ns(), err, sizeof(err)) < 0) {
        fprintf(stderr, "ring_bench: %s\n", err);
        return 1;
    }
    t1 = now_ns();
    for (int i = 0; i < nprod; i++) {
        pthread_join(prods[i].thread, NULL);
    }
    dropped = ring_reader_dropped(&rr);
    printf("ring producers=%d events=%" PRIu64 " consumed=%" PRIu64 " dropped=%" PRIu64
           " seconds=%.3f mevents_per_s=%.2f\n", nprod, total, consumed, dropped,
           (double)(t1 - t0) / 1e9, (double)consumed / ((double)(t1 - t0) / 1e3));
    ring_reader_detach(&rr);
    munmap(ring.base, ring.size);
    unlink(shm_path);
    free(prods);
    return 0;
}
