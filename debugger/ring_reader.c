/*
 * The debugger's side of a regdbg-proxy ring (see ring_reader.h). The shared memory is a trust
 * boundary: everything taken from it is checked before it is used to index anything.
 */
#include "ring_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static bool pid_alive(uint32_t pid)
{
    return pid != 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

static int check_header(const struct regdbg_shm_header *h, const char *path, uint64_t file_size,
                        char *err, size_t errlen)
{
    uint32_t entries = h->ring_entries;

    if (h->magic != REGDBG_SHM_MAGIC) {
        snprintf(err, errlen, "%s is not a regdbg ring (bad magic); is it the shm= of a "
                 "regdbg-proxy device?", path);
        return -1;
    }
    if (h->abi_version != REGDBG_ABI_VERSION) {
        snprintf(err, errlen, "%s uses ring ABI version %u; this regdbg speaks version %u: use "
                 "the regdbg built with that QEMU", path, h->abi_version, REGDBG_ABI_VERSION);
        return -1;
    }
    if (h->header_size != REGDBG_HEADER_SIZE || h->event_size != sizeof(struct regdbg_event) ||
        h->events_offset != REGDBG_EVENTS_OFFSET || h->rules_offset != REGDBG_RULES_OFFSET) {
        snprintf(err, errlen, "%s is corrupt: header size %u, event size %u, rules at %llu, "
                 "events at %llu", path, h->header_size, h->event_size,
                 (unsigned long long)h->rules_offset, (unsigned long long)h->events_offset);
        return -1;
    }
    if (entries < REGDBG_RING_MIN_ENTRIES || entries > REGDBG_RING_MAX_ENTRIES ||
        (entries & (entries - 1))) {
        snprintf(err, errlen, "%s is corrupt: ring-entries %u is not a power of two in range",
                 path, entries);
        return -1;
    }
    if (h->shm_size != regdbg_shm_size_for(entries) || file_size < h->shm_size) {
        snprintf(err, errlen, "%s is truncated: the file has %llu bytes, its header needs %llu",
                 path, (unsigned long long)file_size,
                 (unsigned long long)regdbg_shm_size_for(entries));
        return -1;
    }
    for (unsigned b = 0; b < REGDBG_NUM_BARS; b++) {
        const struct regdbg_bar_info *bar = &h->bars[b];

        if (bar->type > REGDBG_BAR_IO || (bar->type == REGDBG_BAR_ABSENT) != (bar->size == 0) ||
            (bar->size & (bar->size - 1))) {
            snprintf(err, errlen, "%s is corrupt: BAR %u has type %u and size %llu (a present "
                     "BAR has type 1-3 and a power-of-two size)", path, b, bar->type,
                     (unsigned long long)bar->size);
            return -1;
        }
    }
    return 0;
}

static uint64_t monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int ring_reader_attach(struct ring_reader *rr, const char *path, char *err, size_t errlen)
{
    struct regdbg_shm_header *h;
    struct stat st;
    uint32_t me = (uint32_t)getpid();
    uint32_t other;
    uint64_t magic;
    void *base;
    int fd;

    memset(rr, 0, sizeof(*rr));
    /* No O_NOFOLLOW: QEMU may name a sealed memfd as /proc/PID/fd/N, a link by design. What the
       path leads to is checked instead: a regular file as large as its header says. */
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open the ring %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regdbg ring: not a regular file; is it the shm= of a "
                 "regdbg-proxy device?", path);
        close(fd);
        return -1;
    }
    if ((uint64_t)st.st_size < REGDBG_HEADER_SIZE) {
        snprintf(err, errlen, "%s is not a regdbg ring: %lld bytes, shorter than a ring header",
                 path, (long long)st.st_size);
        close(fd);
        return -1;
    }
    base = mmap(NULL, REGDBG_HEADER_SIZE, PROT_READ, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        snprintf(err, errlen, "cannot map %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    /* [H1] the magic first, with acquire: QEMU stores it last. Then check a private copy: the
       mapping can change under us. */
    magic = atomic_load_explicit((_Atomic uint64_t *)base, memory_order_acquire);
    memcpy(&rr->info, base, sizeof(rr->info));
    rr->info.magic = magic;
    munmap(base, REGDBG_HEADER_SIZE);
    if (check_header(&rr->info, path, (uint64_t)st.st_size, err, errlen) < 0) {
        close(fd);
        return -1;
    }
    rr->info.dev_id[sizeof(rr->info.dev_id) - 1] = '\0';
    rr->size = rr->info.shm_size;
    rr->base = mmap(NULL, rr->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (rr->base == MAP_FAILED) {
        snprintf(err, errlen, "cannot map %s: %s", path, strerror(errno));
        rr->base = NULL;
        return -1;
    }
    regdbg_ring_init_view(&rr->ring, rr->base, rr->info.ring_entries, 0);
    h = rr->ring.hdr;

    /* Where the recording of a new consumer begins: read before the claim makes us visible. */
    rr->attach_ns = monotonic_ns();
    rr->attach_head = atomic_load_explicit(&h->head, memory_order_acquire);
    rr->attach_dropped = atomic_load_explicit(&h->dropped, memory_order_acquire);

    /* One consumer at a time; take over from one that died. */
    other = 0;
    /* [E4] */
    while (!atomic_compare_exchange_strong_explicit(&h->consumer_pid, &other, me,
                                                    memory_order_acq_rel,
                                                    memory_order_acquire)) {
        if (pid_alive(other) && other != me) {
            snprintf(err, errlen, "%s already has a consumer: process %u (another regdbg?)",
                     path, other);
            munmap(rr->base, rr->size);
            rr->base = NULL;
            return -1;
        }
    }
    rr->claimed = true;
    atomic_store_explicit(&h->stalled_tail, UINT64_MAX, memory_order_relaxed);
    rr->tail = atomic_load_explicit(&h->tail, memory_order_acquire); /* [E2] */
    rr->path = strdup(path);
    return 0;
}

void ring_reader_detach(struct ring_reader *rr)
{
    if (rr->base) {
        if (rr->claimed) {
            uint32_t me = (uint32_t)getpid();
            /* [E4] */
            atomic_compare_exchange_strong_explicit(&rr->ring.hdr->consumer_pid, &me, 0,
                                                    memory_order_release, memory_order_relaxed);
        }
        munmap(rr->base, rr->size);
    }
    free(rr->path);
    memset(rr, 0, sizeof(*rr));
}

void ring_reader_consume(struct ring_reader *rr, uint64_t n)
{
    if (n) {
        rr->tail += n;
        regdbg_ring_release(&rr->ring, rr->tail);
    }
}

size_t ring_reader_skip_unpublished(struct ring_reader *rr)
{
    if (rr->tail >= ring_reader_head(rr)) {
        return 0;
    }
    rr->tail++;
    regdbg_ring_release(&rr->ring, rr->tail);
    return 1;
}

uint64_t ring_reader_dropped(const struct ring_reader *rr)
{
    return atomic_load_explicit(&rr->ring.hdr->dropped, memory_order_acquire);
}

uint64_t ring_reader_head(const struct ring_reader *rr)
{
    return atomic_load_explicit(&rr->ring.hdr->head, memory_order_acquire);
}

uint64_t ring_reader_fill(const struct ring_reader *rr)
{
    uint64_t head = ring_reader_head(rr);

    return head > rr->tail ? head - rr->tail : 0;
}

bool ring_reader_qemu_alive(const struct ring_reader *rr)
{
    return pid_alive(rr->info.qemu_pid);
}

/* The parts of an interrupt event (regdbg/abi.h, REGDBG_DIR_IRQ) that an access lacks. */
static int check_irq_event(const struct regdbg_event *ev, char *why, size_t whylen)
{
    bool msi = ev->flags & REGDBG_EV_IRQ_MSI;

    if (ev->size != 0 || ev->bar != 0) {
        snprintf(why, whylen, "interrupt event with size %u and bar %u (both are 0)", ev->size,
                 ev->bar);
        return -1;
    }
    if (ev->value == 0 || ev->value > REGDBG_IRQ_WHAT_MAX) {
        snprintf(why, whylen, "interrupt event %llu is not 1-%u",
                 (unsigned long long)ev->value, REGDBG_IRQ_WHAT_MAX);
        return -1;
    }
    if (ev->orig_value > REGDBG_IRQ_ACTION_MAX) {
        snprintf(why, whylen, "interrupt request %llu is not 0-%u",
                 (unsigned long long)ev->orig_value, REGDBG_IRQ_ACTION_MAX);
        return -1;
    }
    if (ev->irq_source == REGDBG_IRQ_SRC_NONE || ev->irq_source > REGDBG_IRQ_SRC_MAX) {
        snprintf(why, whylen, "interrupt source %u is not 1-%u", ev->irq_source,
                 REGDBG_IRQ_SRC_MAX);
        return -1;
    }
    if (msi ? ev->offset >= 32 : ev->offset < 1 || ev->offset > 4) {
        snprintf(why, whylen, "%s %llu is not %s", msi ? "MSI vector" : "INTx pin",
                 (unsigned long long)ev->offset, msi ? "0-31" : "1-4 (INTA-INTD)");
        return -1;
    }
    if (ev->flags & ~(uint16_t)REGDBG_EV_IRQ_FLAGS) {
        snprintf(why, whylen, "flags 0x%04x has bits an interrupt event does not have",
                 ev->flags);
        return -1;
    }
    if ((ev->irq_source == REGDBG_IRQ_SRC_RULE) != (ev->rule != REGDBG_RULE_NONE)) {
        snprintf(why, whylen, "interrupt from %s with rule %u",
                 ev->irq_source == REGDBG_IRQ_SRC_RULE ? "a rule" : "no rule", ev->rule);
        return -1;
    }
    return 0;
}

/* The parts of a DMA event (regdbg/abi.h, REGDBG_DIR_DMA) that an access lacks. */
static int check_dma_event(const struct ring_reader *rr, const struct regdbg_event *ev,
                           char *why, size_t whylen)
{
    if (ev->dma_what < 1 || ev->dma_what > REGDBG_DMA_WHAT_MAX) {
        snprintf(why, whylen, "DMA event with dma_what %u (1-%u)", ev->dma_what,
                 REGDBG_DMA_WHAT_MAX);
        return -1;
    }
    if (ev->dma_why > REGDBG_DMA_WHY_MAX) {
        snprintf(why, whylen, "DMA event with dma_why %u (0-%u)", ev->dma_why, REGDBG_DMA_WHY_MAX);
        return -1;
    }
    if (ev->flags & ~(uint16_t)REGDBG_EV_DMA_FLAGS) {
        snprintf(why, whylen, "DMA event with flags 0x%04x", ev->flags);
        return -1;
    }
    if (ev->bar >= REGDBG_NUM_BARS || rr->info.bars[ev->bar].type == REGDBG_BAR_ABSENT ||
        ev->size >= 4 || ev->rule != REGDBG_RULE_NONE || ev->cpu_mode || ev->irq_source) {
        snprintf(why, whylen, "DMA event with bar %u, engine %u, rule %u, cpu_mode %u, "
                 "interrupt source %u", ev->bar, ev->size, ev->rule, ev->cpu_mode,
                 ev->irq_source);
        return -1;
    }
    return 0;
}

/* The parts of an access that an interrupt event lacks. */
static int check_access_event(const struct ring_reader *rr, const struct regdbg_event *ev,
                              char *why, size_t whylen)
{
    const struct regdbg_bar_info *bar;

    if (ev->size != 1 && ev->size != 2 && ev->size != 4 && ev->size != 8) {
        snprintf(why, whylen, "size %u is not 1, 2, 4 or 8", ev->size);
        return -1;
    }
    if (ev->bar >= REGDBG_NUM_BARS) {
        snprintf(why, whylen, "bar %u is not 0-5", ev->bar);
        return -1;
    }
    bar = &rr->info.bars[ev->bar];
    if (bar->type == REGDBG_BAR_ABSENT) {
        snprintf(why, whylen, "bar %u is absent from this device", ev->bar);
        return -1;
    }
    if (ev->size > bar->size || ev->offset > bar->size - ev->size) {
        snprintf(why, whylen, "offset 0x%llx + size %u runs past the end of BAR %u (0x%llx "
                 "bytes)", (unsigned long long)ev->offset, ev->size, ev->bar,
                 (unsigned long long)bar->size);
        return -1;
    }
    if (bar->type == REGDBG_BAR_IO && ev->size > 4) {
        snprintf(why, whylen, "size %u on I/O BAR %u (port accesses are 1, 2 or 4 bytes)",
                 ev->size, ev->bar);
        return -1;
    }
    if (ev->flags & ~(uint16_t)REGDBG_EV_ACCESS_FLAGS) {
        snprintf(why, whylen, "flags 0x%04x has %s bits", ev->flags,
                 ev->flags & ~(uint16_t)REGDBG_EV_ALL_FLAGS ? "unknown" :
                 ev->flags & REGDBG_EV_DMA_FLAGS ? "DMA-event" : "interrupt-event");
        return -1;
    }
    if (ev->irq_source != REGDBG_IRQ_SRC_NONE) {
        snprintf(why, whylen, "an access with interrupt source %u", ev->irq_source);
        return -1;
    }
    return 0;
}

int ring_reader_check_event(const struct ring_reader *rr, const struct regdbg_event *ev,
                            uint64_t now_ns, char *why, size_t whylen)
{
    if (ev->dir > REGDBG_DIR_DMA) {
        snprintf(why, whylen, "dir %u is not 0 (read), 1 (write), 2 (interrupt) or 3 (DMA)",
                 ev->dir);
        return -1;
    }
    if (ev->dir != REGDBG_DIR_DMA && (ev->dma_what || ev->dma_why)) {
        snprintf(why, whylen, "dma_what %u, dma_why %u in an event other than DMA's",
                 ev->dma_what, ev->dma_why);
        return -1;
    }
    if ((ev->dir == REGDBG_DIR_IRQ ? check_irq_event(ev, why, whylen) :
         ev->dir == REGDBG_DIR_DMA ? check_dma_event(rr, ev, why, whylen)
                                   : check_access_event(rr, ev, why, whylen)) < 0) {
        return -1;
    }
    if ((ev->flags & REGDBG_EV_PC_AFTER) && !(ev->flags & REGDBG_EV_PC)) {
        snprintf(why, whylen, "flags 0x%04x has pc-after (0x%x) without pc (0x%x)", ev->flags,
                 REGDBG_EV_PC_AFTER, REGDBG_EV_PC);
        return -1;
    }
    if (ev->cpu_mode > REGDBG_MODE_MAX) {
        snprintf(why, whylen, "cpu_mode %u is not a CPU mode 0-%u", ev->cpu_mode,
                 REGDBG_MODE_MAX);
        return -1;
    }
    if (ev->cpu != REGDBG_CPU_NONE && (ev->cpu < 0 || ev->cpu > RING_MAX_CPU)) {
        snprintf(why, whylen, "cpu %d is neither -1 (none) nor a vCPU index 0-%d", ev->cpu,
                 RING_MAX_CPU);
        return -1;
    }
    if (ev->rule != REGDBG_RULE_NONE && ev->rule >= REGDBG_MAX_RULES) {
        snprintf(why, whylen, "rule %u is neither 0xffff (none) nor a rule 0-%u", ev->rule,
                 REGDBG_MAX_RULES - 1);
        return -1;
    }
    if (ev->t_ns > now_ns + REGDBG_STAMP_AHEAD_NS) {
        snprintf(why, whylen, "t_ns %llu is later than now (%llu) by more than the %u ns a "
                 "stamp may run ahead", (unsigned long long)ev->t_ns,
                 (unsigned long long)now_ns, REGDBG_STAMP_AHEAD_NS);
        return -1;
    }
    return 0;
}
