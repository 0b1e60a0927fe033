/*
 * The recorder (see recorder.h): a ring drained into a trace file with every event and counter
 * checked, drops marked where they happened, where the guest placed the BARs, and one summary
 * line.
 */
#include "recorder.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Shorter recordings print no rate: a few events over a few microseconds make an absurd one. */
#define MIN_RATE_SPAN_S 0.1

static uint64_t now_ns(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int recorder_start(struct recorder *rec, struct ring_reader *rr, const char *path,
                   enum recorder_from from, char *err, size_t errlen)
{
    struct regdbg_trace_header th;

    memset(rec, 0, sizeof(*rec));
    rec->rr = rr;
    if (from == RECORDER_FROM_ATTACH) {
        rec->start_ns = rr->attach_ns;
        rec->skip_until = rr->attach_head;
        rec->dropped_seen = rr->attach_dropped;
    } else {
        /* In the order ring_reader_attach reads them: whatever is reserved after the head is
           read has a position >= skip_until. */
        rec->start_ns = now_ns(CLOCK_MONOTONIC);
        rec->skip_until = ring_reader_head(rr);
        rec->dropped_seen = ring_reader_dropped(rr);
    }
    rec->dropped_seen_ns = rec->start_ns;
    rec->checked_tail = rr->tail;
    snprintf(rec->path, sizeof(rec->path), "%s", path);
    trace_header_from_shm(&th, &rr->info);
    th.start_monotonic_ns = rec->start_ns;
    th.start_realtime_ns = now_ns(CLOCK_REALTIME) - (now_ns(CLOCK_MONOTONIC) - rec->start_ns);
    rec->w = trace_writer_open(path, &th, err, errlen);
    return rec->w ? 0 : -1;
}

static int mark_drops(struct recorder *rec, uint64_t seq, uint64_t count, uint64_t t_ns,
                      char *err, size_t errlen)
{
    struct regdbg_trace_record m = {
        .seq = seq, .t_ns = t_ns, .value = count,
        .cpu = REGDBG_CPU_NONE, .rule = REGDBG_RULE_NONE, .kind = REGDBG_REC_DROP,
    };

    if (trace_writer_add(rec->w, &m, err, errlen) < 0) {
        return -1;
    }
    rec->dropped += count;
    return 0;
}

/* The drops read from the counter, as one marker before the access at position seq, once seq
   has reached the place where they happened (always, with force: the recording ends there). */
static int mark_pending_drops(struct recorder *rec, uint64_t seq, bool force, char *err,
                              size_t errlen)
{
    if (rec->drops_pending && (force || seq >= rec->drops_at)) {
        if (mark_drops(rec, seq, rec->drops_pending, rec->drops_noticed_ns, err, errlen) < 0) {
            return -1;
        }
        rec->drops_pending = 0;
    }
    return 0;
}

/* Positions a dead QEMU never published, as one marker before the access that follows them. */
static int mark_lost(struct recorder *rec, uint64_t next_seq, char *err, size_t errlen)
{
    if (rec->lost_pending) {
        if (mark_drops(rec, next_seq, rec->lost_pending, now_ns(CLOCK_MONOTONIC), err,
                       errlen) < 0) {
            return -1;
        }
        rec->lost_pending = 0;
    }
    return 0;
}

/* Damage at position pos (every position before it is in the trace, or was skipped). */
__attribute__((format(printf, 5, 6)))
static int damage(struct recorder *rec, uint64_t pos, char *err, size_t errlen,
                  const char *fmt, ...)
{
    char what[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    /* drops read before the damage stay in the trace, after what was recorded */
    if (mark_pending_drops(rec, pos, true, err, errlen) < 0) {
        return -1;
    }
    snprintf(err, errlen, "the ring %s is damaged at position %" PRIu64 ": %s", rec->rr->path,
             pos, what);
    rec->damaged = true;
    return -1;
}

int recorder_place_bars(struct recorder *rec, const uint64_t addr[REGDBG_NUM_BARS], uint64_t pci,
                        char *err, size_t errlen)
{
    uint64_t t = now_ns(CLOCK_MONOTONIC);

    for (unsigned b = 0; b < REGDBG_NUM_BARS; b++) {
        struct regdbg_trace_record m = {
            .kind = REGDBG_REC_BAR, .bar = (uint8_t)b, .value = addr[b], .offset = pci,
            .t_ns = t, .cpu = REGDBG_CPU_NONE, .rule = REGDBG_RULE_NONE,
        };

        if (rec->rr->info.bars[b].size == 0 ||
            (rec->bar_written[b] && rec->bar_addr[b] == addr[b] && rec->bar_pci == pci)) {
            continue;
        }
        if (trace_writer_add(rec->w, &m, err, errlen) < 0) {
            return -1;
        }
        rec->bar_written[b] = true;
        rec->bar_addr[b] = addr[b];
    }
    rec->bar_pci = pci;
    return 0;
}

int recorder_refresh_bars(struct recorder *rec, char *err, size_t errlen)
{
    uint64_t addr[REGDBG_NUM_BARS], pci = REGDBG_PCI_UNKNOWN;
    char why[256];

    rec->damaged = false;
    if (!rec->bar_query || rec->bar_query(rec->bar_opaque, addr, &pci, why, sizeof(why)) < 0) {
        return 0;   /* no answer now: asked again later */
    }
    return recorder_place_bars(rec, addr, pci, err, errlen);
}

bool recorder_bars_unplaced(const struct recorder *rec)
{
    for (unsigned b = 0; b < REGDBG_NUM_BARS; b++) {
        if (rec->rr->info.bars[b].size &&
            (!rec->bar_written[b] || rec->bar_addr[b] == REGDBG_BAR_UNMAPPED)) {
            return true;
        }
    }
    return false;
}

int recorder_set_bar_source(struct recorder *rec, recorder_bar_query query, void *opaque,
                            char *err, size_t errlen)
{
    rec->bar_query = query;
    rec->bar_opaque = opaque;
    return recorder_refresh_bars(rec, err, errlen);
}

/* Before an access to a BAR the trace has not placed (or placed nowhere): the guest reached it,
   so it is mapped now; ask where, at most once per RECORDER_BAR_ASK_NS. */
static int place_accessed_bar(struct recorder *rec, unsigned bar, char *err, size_t errlen)
{
    uint64_t t;

    if (!rec->bar_query || bar >= REGDBG_NUM_BARS ||
        (rec->bar_written[bar] && rec->bar_addr[bar] != REGDBG_BAR_UNMAPPED)) {
        return 0;
    }
    t = now_ns(CLOCK_MONOTONIC);
    if (rec->bar_asked_ns && t - rec->bar_asked_ns < RECORDER_BAR_ASK_NS) {
        return 0;
    }
    rec->bar_asked_ns = t;
    return recorder_refresh_bars(rec, err, errlen);
}

int recorder_add(struct recorder *rec, uint64_t pos, const struct regdbg_event *ev,
                 uint64_t *now, char *err, size_t errlen)
{
    struct regdbg_trace_record r;
    char why[192];

    rec->damaged = false;
    if (ev->t_ns > *now + REGDBG_STAMP_AHEAD_NS) {
        /* a clock read only when the one in hand would not do: draining right behind the
           producer, every event is younger than the last read, and a read per event was a
           quarter of the recorder's time */
        *now = now_ns(CLOCK_MONOTONIC);
    }
    if (ring_reader_check_event(rec->rr, ev, *now, why, sizeof(why)) < 0) {
        return damage(rec, pos, err, errlen, "%s", why);
    }
    if (pos < rec->skip_until || ev->t_ns < rec->start_ns) {
        rec->skipped++;        /* queued, or begun, before the recording */
        return 0;
    }
    trace_record_from_event(&r, ev);
    if (mark_lost(rec, pos, err, errlen) < 0 ||
        mark_pending_drops(rec, pos, false, err, errlen) < 0 ||
        place_accessed_bar(rec, r.bar, err, errlen) < 0 ||
        trace_writer_add(rec->w, &r, err, errlen) < 0) {
        return -1;
    }
    rec->written++;
    return 1;
}

long recorder_drain(struct recorder *rec, size_t max, char *err, size_t errlen)
{
    struct ring_reader *rr = rec->rr;
    struct regdbg_event ev;
    uint64_t now = now_ns(CLOCK_MONOTONIC);
    size_t n = 0;

    while (n < max && ring_reader_peek(rr, n, &ev)) {
        if (recorder_add(rec, rr->tail + n, &ev, &now, err, errlen) < 0) {
            /* damage: the positions before it are done; a write error: so are they, and this
               one is tried again */
            ring_reader_consume(rr, n);
            return -1;
        }
        n++;
    }
    ring_reader_consume(rr, n);
    return (long)n;
}

int recorder_check_ring(struct recorder *rec, char *err, size_t errlen)
{
    struct ring_reader *rr = rec->rr;
    uint64_t head = ring_reader_head(rr);
    uint64_t tail = rr->tail;
    uint64_t entries = rr->info.ring_entries;
    uint64_t dropped, now;

    rec->damaged = false;
    if (head < tail) {
        return damage(rec, tail, err, errlen, "head %" PRIu64 " is behind the tail", head);
    }
    if (head - tail > entries) {
        return damage(rec, tail, err, errlen, "head %" PRIu64 " is %" PRIu64 " positions ahead "
                      "of the tail, more than the ring's %" PRIu64 " entries", head, head - tail,
                      entries);
    }
    dropped = ring_reader_dropped(rr);
    now = now_ns(CLOCK_MONOTONIC);
    if (dropped < rec->dropped_seen) {
        return damage(rec, tail, err, errlen, "dropped went back from %" PRIu64 " to %" PRIu64,
                      rec->dropped_seen, dropped);
    }
    if (dropped - rec->dropped_seen > now - rec->dropped_seen_ns) {
        /* An access takes far longer than a nanosecond: no device drops that fast. */
        return damage(rec, tail, err, errlen, "dropped rose by %" PRIu64 " in %" PRIu64 " ns, "
                      "more than one access per nanosecond", dropped - rec->dropped_seen,
                      now - rec->dropped_seen_ns);
    }
    if (dropped > rec->dropped_seen) {
        /* A producer drops only when the ring is full: at a position a ring's worth after the
           tail it saw, which was at least the tail at the last check; and before the head. */
        uint64_t at = rec->checked_tail + entries;

        head = ring_reader_head(rr);
        if (!rec->drops_pending) {
            rec->drops_at = at < head ? at : head;
            rec->drops_noticed_ns = now;
        }
        rec->drops_pending += dropped - rec->dropped_seen;
        rec->dropped_seen = dropped;
        rec->dropped_seen_ns = now;
    }
    rec->checked_tail = tail;
    if (rec->drops_pending && tail >= rec->drops_at &&
        (mark_lost(rec, tail, err, errlen) < 0 ||
         mark_pending_drops(rec, tail, false, err, errlen) < 0)) {
        return -1;
    }
    return 0;
}

int recorder_flush(struct recorder *rec, char *err, size_t errlen)
{
    rec->damaged = false;
    return trace_writer_flush(rec->w, err, errlen);
}

int recorder_give_up_unpublished(struct recorder *rec)
{
    uint64_t pos = rec->rr->tail;

    if (!ring_reader_skip_unpublished(rec->rr)) {
        return 0;
    }
    if (pos < rec->skip_until) {
        rec->skipped++;
    } else {
        rec->lost_pending++;
    }
    return 1;
}

int recorder_finish(struct recorder *rec, uint64_t t_end_ns, char *err, size_t errlen)
{
    struct regdbg_trace_record end = {
        .seq = rec->rr->tail, .t_ns = t_end_ns, .cpu = REGDBG_CPU_NONE,
        .rule = REGDBG_RULE_NONE, .kind = REGDBG_REC_END,
    };
    char cerr[512];
    int ret = 0;

    rec->damaged = false;
    if (mark_lost(rec, rec->rr->tail, err, errlen) < 0 ||
        mark_pending_drops(rec, rec->rr->tail, true, err, errlen) < 0) {
        ret = -1;
    } else {
        end.value = rec->written;
        end.orig_value = rec->dropped;
        ret = trace_writer_add(rec->w, &end, err, errlen);
    }
    if (trace_writer_close(rec->w, cerr, sizeof(cerr)) < 0 && ret == 0) {
        snprintf(err, errlen, "%s", cerr);
        ret = -1;
    }
    rec->w = NULL;
    return ret;
}

int recorder_abandon(struct recorder *rec, char *err, size_t errlen)
{
    int ret = trace_writer_close(rec->w, err, errlen);

    rec->w = NULL;
    return ret;
}

void recorder_summary(const struct recorder *rec, uint64_t t_end_ns, const char *ended, char *buf,
                      size_t len)
{
    /* in milliseconds, as printed: whether a rate is shown follows the span the line shows */
    double secs = (double)((t_end_ns - rec->start_ns + 500000) / 1000000) / 1e3;
    char rate[64] = "", notes[160] = "";

    if (secs >= MIN_RATE_SPAN_S) {
        snprintf(rate, sizeof(rate), ", %.0f events/s", (double)rec->written / secs);
    }
    if (ended && rec->skipped) {
        snprintf(notes, sizeof(notes), " (%s; %" PRIu64 " earlier accesses skipped)", ended,
                 rec->skipped);
    } else if (ended) {
        snprintf(notes, sizeof(notes), " (%s)", ended);
    } else if (rec->skipped) {
        snprintf(notes, sizeof(notes), " (%" PRIu64 " earlier accesses skipped)", rec->skipped);
    }
    snprintf(buf, len, "%" PRIu64 " events, %" PRIu64 " dropped, %.3f s%s -> %s%s",
             rec->written, rec->dropped, secs, rate, rec->path, notes);
}
