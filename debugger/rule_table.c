/*
 * The debugger's side of a proxy's rules and park slots (see rule_table.h and the ordering
 * contract in include/regdbg/rules.h).
 */
#include "rule_table.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct regdbg_rules_area *rule_area(struct ring_reader *rr)
{
    if (!rr->base || rr->info.rules_offset != REGDBG_RULES_OFFSET) {
        return NULL;
    }
    return (struct regdbg_rules_area *)((char *)rr->base + REGDBG_RULES_OFFSET);
}

static long futex(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *timeout)
{
    /* shared futex: the other side is QEMU */
    return syscall(SYS_futex, word, op, val, timeout, NULL, 0);
}

/* Recompute the device's index from the enabled rules. Bits are added before they are needed
   and removed only after the rule is disabled, so the device never misses a live rule. */
static void rebuild_index(struct regdbg_rules_area *a)
{
    uint64_t masks[6][REGDBG_INDEX_BUCKETS];

    memset(masks, 0, sizeof(masks));
    for (unsigned i = 0; i < REGDBG_MAX_RULES; i++) {
        const struct regdbg_rule *r = &a->rules[i];
        uint64_t first, last;

        if (!r->enabled || r->bar >= 6 || r->end <= r->start) {
            continue;
        }
        first = r->start >> 2;
        last = (r->end - 1) >> 2;
        if (last - first >= REGDBG_INDEX_BUCKETS) {
            last = first + REGDBG_INDEX_BUCKETS - 1;   /* every bucket */
        }
        for (uint64_t d = first; d <= last; d++) {
            masks[r->bar][d % REGDBG_INDEX_BUCKETS] |= UINT64_C(1) << i;
        }
    }
    for (unsigned b = 0; b < 6; b++) {
        for (unsigned k = 0; k < REGDBG_INDEX_BUCKETS; k++) {
            if (atomic_load_explicit(&a->index[b][k], memory_order_relaxed) != masks[b][k]) {
                /* [R3] */
                atomic_store_explicit(&a->index[b][k], masks[b][k], memory_order_release);
            }
        }
    }
}

static void write_rule_raw(struct regdbg_rules_area *a, int n, const struct regdbg_rule *body,
                           uint32_t ignore, uint32_t temp_left, uint64_t hits)
{
    struct regdbg_rule *r = &a->rules[n];
    uint32_t seq = atomic_load_explicit(&r->seq, memory_order_relaxed);

    atomic_store_explicit(&r->seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release); /* [R1] */
    r->enabled = body->enabled;
    r->kind = body->kind;
    r->dirs = body->dirs;
    r->bar = body->bar;
    r->op = body->op;
    r->n_code = body->n_code;
    r->uses_value = body->uses_value;
    r->uses_pc = body->uses_pc;
    r->start = body->start;
    r->end = body->end;
    r->operand = body->operand;
    r->mask = body->mask;
    memcpy(r->consts, body->consts, sizeof(r->consts));
    memcpy(r->code, body->code, sizeof(r->code));
    atomic_store_explicit(&r->ignore_left, ignore, memory_order_relaxed);
    atomic_store_explicit(&r->temp_left, temp_left, memory_order_relaxed);
    atomic_store_explicit(&r->hits, hits, memory_order_relaxed);
    atomic_store_explicit(&r->seq, seq + 2, memory_order_release); /* [R1] */
    atomic_fetch_add_explicit(&a->generation, 1, memory_order_release); /* [R2] */
}

/* Turn rule n off under its seqlock [R1], counters kept, so that no access sees it while its
   index bits change. */
static void switch_off(struct regdbg_rules_area *a, int n)
{
    struct regdbg_rule body;

    memcpy(&body, &a->rules[n], sizeof(body));
    if (!body.enabled) {
        return;
    }
    body.enabled = 0;
    write_rule_raw(a, n, &body, atomic_load(&a->rules[n].ignore_left),
                   atomic_load(&a->rules[n].temp_left), atomic_load(&a->rules[n].hits));
}

static void write_rule(struct regdbg_rules_area *a, int n, const struct regdbg_rule *body,
                       uint32_t ignore, bool temp)
{
    write_rule_raw(a, n, body, ignore, temp ? 1 : REGDBG_TEMP_UNUSED, 0);
}

static int check_n(struct regdbg_rules_area *a, int n, char *err, size_t errlen)
{
    if (!a) {
        snprintf(err, errlen, "this ring has no rules area");
        return -1;
    }
    if (n < 0 || n >= (int)REGDBG_MAX_RULES || !a->text[n][0]) {
        snprintf(err, errlen, "no rule %d (info rules lists them)", n);
        return -1;
    }
    return 0;
}

int rule_replace(struct ring_reader *rr, int n, const struct regdbg_rule *rule, uint32_t ignore,
                 bool temp, const char *text, char *err, size_t errlen)
{
    struct regdbg_rules_area *a = rule_area(rr);

    if (check_n(a, n, err, errlen) < 0) {
        return -1;
    }
    /* Off first, so that no access sees a half-written rule through the index. */
    switch_off(a, n);
    rebuild_index(a);
    write_rule(a, n, rule, ignore, temp);
    snprintf(a->text[n], sizeof(a->text[n]), "%s", text);
    rebuild_index(a);
    return 0;
}

int rule_add(struct ring_reader *rr, const struct regdbg_rule *rule, uint32_t ignore, bool temp,
             const char *text, char *err, size_t errlen)
{
    struct regdbg_rules_area *a = rule_area(rr);

    if (!a) {
        snprintf(err, errlen, "this ring has no rules area");
        return -1;
    }
    for (int n = 0; n < (int)REGDBG_MAX_RULES; n++) {
        if (!a->text[n][0]) {
            /* claim the slot (a non-empty text), then write it like any other */
            a->text[n][0] = '?';
            a->text[n][1] = '\0';
            return rule_replace(rr, n, rule, ignore, temp, text[0] ? text : "rule", err,
                                errlen) < 0 ? -1 : n;
        }
    }
    snprintf(err, errlen, "all %u rules are in use; delete one first", REGDBG_MAX_RULES);
    return -1;
}

int rule_set_enabled(struct ring_reader *rr, int n, bool enabled, char *err, size_t errlen)
{
    struct regdbg_rules_area *a = rule_area(rr);
    struct regdbg_rule body;

    if (check_n(a, n, err, errlen) < 0) {
        return -1;
    }
    memcpy(&body, &a->rules[n], sizeof(body));
    body.enabled = enabled;
    switch_off(a, n);
    rebuild_index(a);
    /* Counters kept, inside the seqlock [R1]: the hit count, what is left to ignore, and a
       temporary rule that has acted stays spent (docs/rules.md). */
    write_rule_raw(a, n, &body, atomic_load(&body.ignore_left), atomic_load(&body.temp_left),
                   atomic_load(&body.hits));
    rebuild_index(a);
    return 0;
}

int rule_delete(struct ring_reader *rr, int n, char *err, size_t errlen)
{
    struct regdbg_rules_area *a = rule_area(rr);
    struct regdbg_rule off;

    if (check_n(a, n, err, errlen) < 0) {
        return -1;
    }
    memset(&off, 0, sizeof(off));
    switch_off(a, n);
    rebuild_index(a);
    write_rule(a, n, &off, 0, false);
    a->text[n][0] = '\0';
    return 0;
}

void rule_get(struct ring_reader *rr, int n, struct rule_info *out)
{
    struct regdbg_rules_area *a = rule_area(rr);

    memset(out, 0, sizeof(*out));
    if (!a || n < 0 || n >= (int)REGDBG_MAX_RULES || !a->text[n][0]) {
        return;
    }
    out->used = true;
    out->enabled = a->rules[n].enabled;
    out->kind = a->rules[n].kind;
    out->hits = atomic_load_explicit(&a->rules[n].hits, memory_order_relaxed);
    memcpy(out->text, a->text[n], sizeof(out->text));
    out->text[sizeof(out->text) - 1] = '\0';
}

uint32_t rule_seq(struct ring_reader *rr, int n)
{
    struct regdbg_rules_area *a = rule_area(rr);

    if (!a || n < 0 || n >= (int)REGDBG_MAX_RULES) {
        return 0;
    }
    return atomic_load_explicit(&a->rules[n].seq, memory_order_acquire); /* [R1] */
}

void rule_save(struct ring_reader *rr, int n, struct rule_saved *out)
{
    struct regdbg_rules_area *a = rule_area(rr);

    memset(out, 0, sizeof(*out));
    if (!a || n < 0 || n >= (int)REGDBG_MAX_RULES || !a->text[n][0]) {
        return;
    }
    out->used = true;
    memcpy(&out->body, &a->rules[n], sizeof(out->body));
    memcpy(out->text, a->text[n], sizeof(out->text));
    out->text[sizeof(out->text) - 1] = '\0';
}

int rule_restore(struct ring_reader *rr, int n, const struct rule_saved *saved, char *err,
                 size_t errlen)
{
    struct regdbg_rules_area *a = rule_area(rr);

    if (!a || n < 0 || n >= (int)REGDBG_MAX_RULES) {
        snprintf(err, errlen, "no rule %d (info rules lists them)", n);
        return -1;
    }
    if (!saved->used) {
        return a->text[n][0] ? rule_delete(rr, n, err, errlen) : 0;
    }
    if (!a->text[n][0]) {
        a->text[n][0] = '?';
        a->text[n][1] = '\0';
    }
    switch_off(a, n);
    rebuild_index(a);
    write_rule_raw(a, n, &saved->body, atomic_load(&saved->body.ignore_left),
                   atomic_load(&saved->body.temp_left), atomic_load(&saved->body.hits));
    snprintf(a->text[n], sizeof(a->text[n]), "%s", saved->text[0] ? saved->text : "rule");
    rebuild_index(a);
    return 0;
}

void rule_step(struct ring_reader *rr, uint32_t n)
{
    atomic_store_explicit(&rr->ring.hdr->step_left, n, memory_order_release); /* [S1] */
}

void rule_heartbeat(struct ring_reader *rr, uint64_t now_ns)
{
    atomic_store_explicit(&rr->ring.hdr->heartbeat_ns, now_ns, memory_order_release); /* [E5] */
}

int park_next(struct ring_reader *rr, int from, struct regdbg_park_slot *out)
{
    struct regdbg_rules_area *a = rule_area(rr);

    if (!a || from < 0) {
        return -1;
    }
    for (int i = from; i < (int)REGDBG_MAX_PARK; i++) {
        /* [P1] */
        if (atomic_load_explicit(&a->park[i].state, memory_order_acquire) ==
            REGDBG_PARK_PARKED) {
            memcpy(out, &a->park[i], sizeof(*out));
            /* the copy may be torn if the device timed out meanwhile: check again */
            if (atomic_load_explicit(&a->park[i].state, memory_order_acquire) ==
                    REGDBG_PARK_PARKED && a->park[i].park_id == out->park_id) {
                return i;
            }
        }
    }
    return -1;
}

int park_answer(struct ring_reader *rr, int slot, uint64_t park_id, uint32_t verdict,
                uint64_t value, char *err, size_t errlen)
{
    struct regdbg_rules_area *a = rule_area(rr);
    struct regdbg_park_slot *p;

    if (!a || slot < 0 || slot >= (int)REGDBG_MAX_PARK) {
        snprintf(err, errlen, "no such parked access");
        return -1;
    }
    p = &a->park[slot];
    if (atomic_load_explicit(&p->state, memory_order_acquire) != REGDBG_PARK_PARKED || /* [P1] */
        p->park_id != park_id) {
        snprintf(err, errlen, "that access is no longer parked (it timed out or was answered)");
        return -1;
    }
    p->verdict = verdict;
    p->reply_value = value;
    atomic_store_explicit(&p->state, REGDBG_PARK_ANSWERED, memory_order_release); /* [P3] */
    futex(&p->state, FUTEX_WAKE, INT_MAX, NULL);
    return 0;
}

void park_release_all(struct ring_reader *rr)
{
    struct regdbg_park_slot s;
    char err[128];
    int i = 0;

    while ((i = park_next(rr, i, &s)) >= 0) {
        park_answer(rr, i, s.park_id, REGDBG_VERDICT_CONTINUE, 0, err, sizeof(err));
        i++;
    }
}

uint32_t park_doorbell(struct ring_reader *rr)
{
    return atomic_load_explicit(&rr->ring.hdr->park_doorbell, memory_order_acquire); /* [P2] */
}

int park_wait_doorbell(struct ring_reader *rr, uint32_t seen, int timeout_ms)
{
    struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };

    if (park_doorbell(rr) != seen) {
        return 1;
    }
    if (futex(&rr->ring.hdr->park_doorbell, FUTEX_WAIT, seen, &ts) < 0 && errno != EAGAIN &&
        errno != EINTR && errno != ETIMEDOUT) {
        return -1;
    }
    return park_doorbell(rr) != seen;
}
