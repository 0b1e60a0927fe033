/*
 * regdbg-proxy rules: breakpoints, write edits, read injections, drops and
 * interrupt triggers that the debugger writes into shared memory
 * (include/regdbg/rules.h), applied to an access in flight, and the parking
 * of an access for the debugger.
 *
 * Edits, injections and drops are applied here on the vCPU thread without a
 * round trip. A breakpoint (or a step) parks the vCPU: the access waits in a
 * park slot, with the BQL dropped as hw/remote/mpqemu-link.c does, until the
 * debugger answers or is gone for park-timeout.
 *
 * Copyright (c) 2026 The regdbg authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <linux/futex.h>
#include <sys/syscall.h>
#include "qemu/host-utils.h"
#include "qemu/main-loop.h"
#include "hw/core/cpu.h"
#include "system/runstate.h"
#include "hw/misc/regdbg/trace-hw_misc_regdbg.h"
#include "regdbg-proxy.h"

#define REGDBG_PARK_POLL_NS (50 * 1000 * 1000)

/* Does the cached rule c concern the access? (Its direction is known.) */
static bool regdbg_rules_applies(const RegdbgRuleCache *c,
                                 const RegdbgAccess *a)
{
    return c->bar == a->bar && a->addr < c->end && a->addr + a->size > c->start;
}

/*
 * Recognise the conditions most rules have, (value >> shift) & mask OP k or
 * none at all, so that they are checked without running the program.
 */
static void regdbg_rules_simplify(RegdbgRuleCache *c)
{
    const struct regdbg_rule *r = &c->r;
    const struct regdbg_insn *in = r->code;
    unsigned n = r->n_code, k = 1;

    c->simple = false;
    c->shift = 0;
    c->fmask = ~0ULL;
    if (n == 0) {
        c->simple = true;
        c->op = 0;
        return;
    }
    if (n < 3 || n > 4 || in[0].op != REGDBG_INSN_VALUE) {
        return;
    }
    if (n == 4) {
        if (in[1].op != REGDBG_INSN_FIELD || in[1].width == 0 ||
            in[1].width > 64 || in[1].shift > 63) {
            return;
        }
        c->shift = in[1].shift;
        c->fmask = in[1].width == 64 ? ~0ULL : (1ULL << in[1].width) - 1;
        k = 2;
    }
    if (in[k].op != REGDBG_INSN_CONST ||
        in[k].arg >= REGDBG_RULE_MAX_CONSTS ||
        in[k + 1].op < REGDBG_INSN_EQ || in[k + 1].op > REGDBG_INSN_GE) {
        return;
    }
    c->k = r->consts[in[k].arg];
    c->op = in[k + 1].op;
    c->simple = true;
}

/*
 * Take rule i anew from shared memory, under its seqlock. Returns false while
 * the debugger is rewriting it: the old copy stays in use until the next try,
 * or none if the copy tore (the rule is then off until it is taken whole).
 */
static bool regdbg_rules_take(RegdbgProxyState *s, unsigned i)
{
    struct regdbg_rule *r = &s->rules->rules[i];
    RegdbgRuleCache *c = &s->rule_cache[i];
    /* [R1] */
    uint32_t seq = atomic_load_explicit(&r->seq, memory_order_acquire);

    if (seq & 1) {
        return false;
    }
    if (c->seq == seq) {
        return true;
    }
    memcpy(&c->r, r, offsetof(struct regdbg_rule, ignore_left));
    if (c->r.n_code > REGDBG_RULE_MAX_CODE) {
        c->r.enabled = 0;              /* malformed: never matches */
        c->r.n_code = 0;
    }
    memcpy(c->r.consts, r->consts, sizeof(c->r.consts));
    memcpy(c->r.code, r->code, c->r.n_code * sizeof(c->r.code[0]));
    /* [R1] */
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&r->seq, memory_order_relaxed) != seq) {
        c->seq = 1;                    /* torn: take it again next time */
        c->r.enabled = 0;
        return false;
    }
    regdbg_rules_simplify(c);
    c->kind = c->r.kind;
    c->bar = c->r.bar;
    c->uses_value = c->r.uses_value;
    c->start = c->r.start;
    c->end = c->r.end;
    c->seq = seq;
    return true;
}

/* Add rule i (a simple EQ condition) to dir's group of its field, if room */
static void regdbg_rules_group_eq(RegdbgProxyState *s, unsigned dir,
                                  unsigned i)
{
    const RegdbgRuleCache *c = &s->rule_cache[i];
    RegdbgEqGroup *g = NULL;
    unsigned j;

    for (j = 0; j < s->n_eq[dir]; j++) {
        if (s->eq[dir][j].shift == c->shift &&
            s->eq[dir][j].fmask == c->fmask) {
            g = &s->eq[dir][j];
            break;
        }
    }
    if (!g) {
        if (s->n_eq[dir] == REGDBG_EQ_GROUPS) {
            return;                    /* checked one by one instead */
        }
        g = &s->eq[dir][s->n_eq[dir]++];
        g->rules = 0;
        g->n = 0;
        g->shift = c->shift;
        g->fmask = c->fmask;
    }
    /* insertion sort by k: at most 64 rules, once per change of the rules */
    for (j = g->n; j > 0 && g->k[j - 1] > c->k; j--) {
        g->k[j] = g->k[j - 1];
        g->rule[j] = g->rule[j - 1];
    }
    g->k[j] = c->k;
    g->rule[j] = i;
    g->n++;
    g->rules |= 1ULL << i;
}

/*
 * Of the candidates, drop the grouped EQ rules whose k is not the value's:
 * one binary search per group instead of one check per rule.
 */
static uint64_t regdbg_rules_eq_filter(RegdbgProxyState *s, unsigned dir,
                                       uint64_t value, uint64_t candidates)
{
    for (unsigned j = 0; j < s->n_eq[dir]; j++) {
        const RegdbgEqGroup *g = &s->eq[dir][j];
        uint64_t v = (value >> g->shift) & g->fmask;
        uint64_t hit = 0;
        unsigned lo = 0, hi = g->n;

        if (!(candidates & g->rules)) {
            continue;
        }
        while (lo < hi) {
            unsigned mid = (lo + hi) / 2;

            if (g->k[mid] < v) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        for (; lo < g->n && g->k[lo] == v; lo++) {
            hit |= 1ULL << g->rule[lo];
        }
        candidates &= ~g->rules | hit;
    }
    return candidates;
}

/*
 * Bring the device's copy of the rules up to date: only when the debugger
 * has written a rule since (one load otherwise). Runs under the BQL, which
 * serialises the vCPUs' use of the copy.
 */
static void regdbg_rules_sync(RegdbgProxyState *s)
{
    /* [R2] */
    uint64_t gen = atomic_load_explicit(&s->rules->generation,
                                        memory_order_acquire);
    bool whole = true;

    if (gen == s->rules_gen) {
        return;
    }
    s->rules_for_dir[REGDBG_DIR_READ] = s->rules_for_dir[REGDBG_DIR_WRITE] = 0;
    s->rules_use_value = 0;
    s->n_eq[REGDBG_DIR_READ] = s->n_eq[REGDBG_DIR_WRITE] = 0;
    for (unsigned i = 0; i < REGDBG_MAX_RULES; i++) {
        const RegdbgRuleCache *c = &s->rule_cache[i];

        whole &= regdbg_rules_take(s, i);
        if (!c->r.enabled) {
            continue;
        }
        if (c->uses_value) {
            s->rules_use_value |= 1ULL << i;
        }
        if (c->r.dirs & REGDBG_RULE_DIR_READ) {
            s->rules_for_dir[REGDBG_DIR_READ] |= 1ULL << i;
        }
        if (c->r.dirs & REGDBG_RULE_DIR_WRITE) {
            s->rules_for_dir[REGDBG_DIR_WRITE] |= 1ULL << i;
        }
        if (c->simple && c->op == REGDBG_INSN_EQ) {
            for (unsigned dir = REGDBG_DIR_READ; dir <= REGDBG_DIR_WRITE;
                 dir++) {
                if (s->rules_for_dir[dir] & (1ULL << i)) {
                    regdbg_rules_group_eq(s, dir, i);
                }
            }
        }
    }
    if (whole) {
        s->rules_gen = gen;
    }
}

/* Rule i if it concerns the access (a candidate of its direction), or NULL */
static const RegdbgRuleCache *regdbg_rules_get(RegdbgProxyState *s,
                                               unsigned i,
                                               const RegdbgAccess *a)
{
    const RegdbgRuleCache *c = &s->rule_cache[i];

    return regdbg_rules_applies(c, a) ? c : NULL;
}

static bool regdbg_rules_cond(RegdbgProxyState *s, const RegdbgRuleCache *c,
                              RegdbgAccess *a)
{
    uint64_t v;

    if (!c->simple) {
        if (c->r.uses_pc && !a->pc_tried) {
            regdbg_access_find_pc(a, s->bars[a->bar].type == REGDBG_BAR_IO);
        }
        return regdbg_rule_eval(&c->r, a->orig, a->size, a->cpu,
                                regdbg_access_rule_pc(a)) == 1;
    }
    v = (a->orig >> c->shift) & c->fmask;
    switch (c->op) {
    case 0: return true;
    case REGDBG_INSN_EQ: return v == c->k;
    case REGDBG_INSN_NE: return v != c->k;
    case REGDBG_INSN_LT: return v < c->k;
    case REGDBG_INSN_GT: return v > c->k;
    case REGDBG_INSN_LE: return v <= c->k;
    default: return v >= c->k;
    }
}

void regdbg_rules_reset_cache(RegdbgProxyState *s)
{
    for (unsigned i = 0; i < REGDBG_MAX_RULES; i++) {
        s->rule_cache[i].seq = 1;      /* odd: nothing cached */
        s->rule_cache[i].r.enabled = 0;
    }
    s->rules_for_dir[REGDBG_DIR_READ] = s->rules_for_dir[REGDBG_DIR_WRITE] = 0;
    s->rules_use_value = 0;
    s->n_eq[REGDBG_DIR_READ] = s->n_eq[REGDBG_DIR_WRITE] = 0;
    s->rules_gen = UINT64_MAX;     /* take the rules at the first candidate */
}

/*
 * The rules (as a mask of rule numbers) whose index buckets the access hits
 * and that act on its direction: the one decision most accesses need.
 */
uint64_t regdbg_rules_candidates(RegdbgProxyState *s, unsigned bar,
                                 hwaddr addr, unsigned size, unsigned dir)
{
    _Atomic uint64_t *index = s->rules->index[bar];
    uint64_t mask = 0;

    for (hwaddr a = addr & ~(hwaddr)3; a < addr + size; a += 4) {
        /* [R3] */
        mask |= atomic_load_explicit(&index[regdbg_index_bucket(a)],
                                     memory_order_acquire);
    }
    if (!mask) {
        return 0;
    }
    regdbg_rules_sync(s);
    return mask & s->rules_for_dir[dir];
}

/* Claim one use of a rule: ignore counts first, then a temporary rule. */
static bool regdbg_rules_claim(struct regdbg_rule *r)
{
    uint32_t left = atomic_load_explicit(&r->ignore_left,
                                         memory_order_relaxed);

    while (left > 0) {
        if (atomic_compare_exchange_weak_explicit(&r->ignore_left, &left,
                                                  left - 1,
                                                  memory_order_relaxed,
                                                  memory_order_relaxed)) {
            return false;
        }
    }
    if (atomic_load_explicit(&r->temp_left, memory_order_relaxed) !=
        REGDBG_TEMP_UNUSED) {
        uint32_t one = 1;

        if (!atomic_compare_exchange_strong_explicit(&r->temp_left, &one, 0,
                                                     memory_order_relaxed,
                                                     memory_order_relaxed)) {
            return false;
        }
    }
    atomic_fetch_add_explicit(&r->hits, 1, memory_order_relaxed);
    return true;
}

static bool regdbg_rules_step(RegdbgProxyState *s)
{
    _Atomic uint32_t *left = &s->ring.hdr->step_left;
    uint32_t n = atomic_load_explicit(left, memory_order_relaxed);

    while (n > 0) {
        if (atomic_compare_exchange_weak_explicit(left, &n, n - 1,
                                                  memory_order_relaxed,
                                                  memory_order_relaxed)) {
            return true;
        }
    }
    return false;
}

/*
 * Why this access may not park, as an event flag, or 0 if it may. Only a
 * vCPU may park: an access made from the main loop (qtest, the monitor,
 * gdbstub, a DMA that another device makes from a timer or bottom half)
 * would hold the main loop, QMP with it, until the debugger answers. And
 * only while a debugger that answers parks is attached (a consumer, and a
 * heartbeat younger than park-timeout): with nobody to answer, every parked
 * access would cost the guest park-timeout.
 */
static uint16_t regdbg_rules_why_not_park(RegdbgProxyState *s)
{
    struct regdbg_shm_header *h = s->ring.hdr;
    uint64_t beat;

    if (!current_cpu) {
        return REGDBG_EV_NO_PARK_NOT_VCPU;
    }
    /* [E4] */
    if (atomic_load_explicit(&h->consumer_pid, memory_order_acquire) == 0) {
        return REGDBG_EV_NO_PARK_NO_DEBUGGER;
    }
    /* [E5] */
    beat = atomic_load_explicit(&h->heartbeat_ns, memory_order_acquire);
    /* a heartbeat from the future (garbage) wraps to a huge age */
    if (!beat || regdbg_clock_ns() - beat >= s->park_timeout_ns) {
        return REGDBG_EV_NO_PARK_NO_DEBUGGER;
    }
    return 0;
}

/* Is this vCPU being stopped (pause_all_vcpus() waits for it)? */
static bool regdbg_rules_vm_stopping(void)
{
    return current_cpu && qatomic_read(&current_cpu->stop);
}

static long regdbg_futex(_Atomic uint32_t *word, int op, uint32_t val,
                         const struct timespec *timeout)
{
    /* Shared (not FUTEX_PRIVATE): the other side is the debugger process */
    return syscall(SYS_futex, word, op, val, timeout, NULL, 0);
}

/* Wake every parked access (regdbg_proxy_drain: the device is unplugged) */
void regdbg_rules_wake_parked(RegdbgProxyState *s)
{
    for (unsigned i = 0; s->rules && i < REGDBG_MAX_PARK; i++) {
        regdbg_futex(&s->rules->park[i].state, FUTEX_WAKE, INT_MAX, NULL);
    }
}

/*
 * Park the access in a slot until the debugger answers. Returns the
 * verdict; *reply gets the debugger's value.
 */
static uint32_t regdbg_rules_park(RegdbgProxyState *s, RegdbgAccess *a,
                                  uint16_t rule, bool before_read,
                                  uint64_t *reply)
{
    struct regdbg_shm_header *h = s->ring.hdr;
    unsigned first = a->cpu >= 0 ? (unsigned)a->cpu % REGDBG_MAX_PARK
                                 : REGDBG_MAX_PARK - 1;
    struct regdbg_park_slot *slot = NULL;
    uint64_t start = regdbg_clock_ns();
    uint32_t verdict = REGDBG_VERDICT_CONTINUE;
    bool had_bql = bql_locked();
    bool timed_out = false;
    bool stopping = false;

    if (qatomic_read(&s->gone)) {
        return REGDBG_VERDICT_CONTINUE;     /* unplugged: nothing parks now */
    }
    for (unsigned k = 0; k < REGDBG_MAX_PARK && !slot; k++) {
        struct regdbg_park_slot *cand =
            &s->rules->park[(first + k) % REGDBG_MAX_PARK];
        uint32_t expect = REGDBG_PARK_FREE;

        /* [P1: claim] */
        if (atomic_compare_exchange_strong_explicit(&cand->state, &expect,
                                                    REGDBG_PARK_FILLING,
                                                    memory_order_acquire,
                                                    memory_order_relaxed)) {
            slot = cand;
        }
    }
    if (!slot) {
        atomic_fetch_add_explicit(&h->park_overflows, 1,
                                  memory_order_relaxed);
        return REGDBG_VERDICT_CONTINUE;
    }
    slot->park_id = atomic_fetch_add_explicit(&h->parks, 1,
                                              memory_order_relaxed);
    slot->verdict = REGDBG_VERDICT_CONTINUE;
    slot->reply_value = 0;
    slot->offset = a->addr;
    slot->value = a->value;
    if (!a->pc_tried) {
        regdbg_access_find_pc(a, s->bars[a->bar].type == REGDBG_BAR_IO);
    }
    slot->guest_pc = a->guest_pc;
    slot->pc_known = !!(a->flags & REGDBG_EV_PC);
    slot->cpu_mode = a->cpu_mode;
    slot->pc_after = !!(a->flags & REGDBG_EV_PC_AFTER);
    slot->t_ns = a->t_ns;
    slot->cpu = a->cpu;
    slot->rule = rule;
    slot->bar = a->bar;
    slot->size = a->size;
    slot->dir = a->dir;
    slot->before_read = before_read;
    /* [P1, then P2] */
    atomic_store_explicit(&slot->state, REGDBG_PARK_PARKED,
                          memory_order_release);
    atomic_fetch_add_explicit(&h->park_doorbell, 1, memory_order_release);
    regdbg_futex(&h->park_doorbell, FUTEX_WAKE, INT_MAX, NULL);
    trace_regdbg_proxy_park(a->bar, a->addr, a->size, a->dir, rule);

    if (had_bql) {
        s->unlocked++;          /* regdbg_proxy_drain() waits for it */
        bql_unlock();
    }
    for (;;) {
        struct timespec ts = { 0, REGDBG_PARK_POLL_NS };
        uint32_t state;
        uint64_t now, seen;
        bool gone;

        regdbg_futex(&slot->state, FUTEX_WAIT, REGDBG_PARK_PARKED, &ts);
        /* [P3] */
        state = atomic_load_explicit(&slot->state, memory_order_acquire);
        if (state == REGDBG_PARK_ANSWERED) {
            break;
        }
        /*
         * Resume once the debugger is gone (detached, or silent too long),
         * or when the VM is being stopped: a vCPU can only pause outside the
         * handler, and pause_all_vcpus() would wait for it forever.
         */
        now = regdbg_clock_ns();
        /* [E5] */
        seen = atomic_load_explicit(&h->heartbeat_ns, memory_order_acquire);
        /* a debugger that leaves says so with a heartbeat of 0 */
        gone = !seen ||
            atomic_load_explicit(&h->consumer_pid, memory_order_acquire) == 0;
        if (seen < start) {
            seen = start;
        }
        /* an unplug (s->gone) resumes it too: the device goes away */
        stopping = regdbg_rules_vm_stopping() || qatomic_read(&s->gone);
        if (stopping || gone || now - seen >= s->park_timeout_ns) {
            uint32_t parked = REGDBG_PARK_PARKED;

            /* [P3: taken back] */
            if (atomic_compare_exchange_strong_explicit(
                    &slot->state, &parked, REGDBG_PARK_FILLING,
                    memory_order_acquire, memory_order_acquire)) {
                timed_out = true;
                break;
            }
            /* the answer arrived just now */
            break;
        }
    }
    if (had_bql) {
        bql_lock();
        s->unlocked--;
    }
    if (timed_out && stopping) {
        trace_regdbg_proxy_park_vm_stop(a->bar, a->addr);
    } else if (timed_out) {
        atomic_fetch_add_explicit(&h->park_timeouts, 1, memory_order_relaxed);
        a->flags |= REGDBG_EV_TIMED_OUT;
        trace_regdbg_proxy_park_timeout(a->bar, a->addr);
    } else {
        verdict = slot->verdict;
        *reply = slot->reply_value;
    }
    /* [P3: FREE, for the next P1] */
    atomic_store_explicit(&slot->state, REGDBG_PARK_FREE,
                          memory_order_release);
    a->flags |= REGDBG_EV_PARKED;
    if (a->rule == REGDBG_RULE_NONE) {
        a->rule = rule;
    }
    if (verdict == REGDBG_VERDICT_STOP_VM) {
        /*
         * The access completes unmodified; the VM stops right after it. On a
         * vCPU thread vm_stop() also stops this vCPU at the first boundary
         * its accelerator allows (TCG: the end of this translation block),
         * instead of whenever the main loop gets to pause it.
         */
        vm_stop(RUN_STATE_PAUSED);
        verdict = REGDBG_VERDICT_CONTINUE;
    }
    return verdict;
}

/*
 * Breakpoint i matched the access: does it let it pass without a hit? Yes
 * when an earlier breakpoint parks it already, or when the access cannot
 * park (the flag says why). *why_not caches regdbg_rules_why_not_park().
 */
static bool regdbg_rules_break_passes(RegdbgProxyState *s, RegdbgAccess *a,
                                      unsigned i, int park_rule, int *why_not)
{
    if (park_rule >= 0) {
        return true;
    }
    if (*why_not < 0) {
        *why_not = regdbg_rules_why_not_park(s);
    }
    if (!*why_not) {
        return false;
    }
    a->flags |= *why_not;
    if (a->rule == REGDBG_RULE_NONE) {
        a->rule = i;
    }
    return true;
}

/*
 * Rules that act before the backend: all of them for a write; for a read,
 * breakpoints and conditions that do not look at the value read.
 */
void regdbg_rules_before(RegdbgProxyState *s, RegdbgAccess *a,
                         uint64_t candidates)
{
    bool is_write = a->dir == REGDBG_DIR_WRITE;
    int park_rule = -1;
    int why_not = -1;           /* regdbg_rules_why_not_park(), once known */
    bool step;
    uint64_t reply = 0;

    /* a read's rules that look at the value decide once it is read */
    a->post_read = is_write ? 0 : candidates & s->rules_use_value;
    candidates &= ~a->post_read;
    if (is_write) {
        candidates = regdbg_rules_eq_filter(s, REGDBG_DIR_WRITE, a->orig,
                                            candidates);
    }
    for (uint64_t m = candidates; m; m &= m - 1) {
        unsigned i = ctz64(m);
        const RegdbgRuleCache *c = regdbg_rules_get(s, i, a);

        if (!c || !regdbg_rules_cond(s, c, a)) {
            continue;
        }
        if (c->kind == REGDBG_RULE_BREAK &&
            regdbg_rules_break_passes(s, a, i, park_rule, &why_not)) {
            continue;
        }
        if (c->kind == REGDBG_RULE_IRQ) {
            a->irq |= 1ULL << i;        /* claimed once the access is done */
            continue;
        }
        if (!regdbg_rules_claim(&s->rules->rules[i])) {
            continue;
        }
        switch (c->kind) {
        case REGDBG_RULE_EDIT:
            if (is_write) {
                a->value = regdbg_rule_apply(&c->r, a->value);
                a->flags |= REGDBG_EV_EDITED;
                a->rule = i;
            }
            break;
        case REGDBG_RULE_INJECT:
            if (!is_write) {
                a->inject |= 1ULL << i;   /* applied to the value read */
            }
            break;
        case REGDBG_RULE_DROP:
            if (is_write) {
                a->skip_backend = true;
                a->flags |= REGDBG_EV_DROPPED;
                a->rule = i;
            }
            break;
        case REGDBG_RULE_BREAK:
            park_rule = i;
            break;
        default:
            break;
        }
    }
    if (park_rule < 0) {
        /* a step parks whatever the access, if it can park */
        if (!atomic_load_explicit(&s->ring.hdr->step_left,
                                  memory_order_relaxed)) {
            return;
        }
        if (why_not < 0) {
            why_not = regdbg_rules_why_not_park(s);
        }
        if (why_not) {
            a->flags |= why_not;
            return;
        }
    }
    step = regdbg_rules_step(s);
    if (park_rule < 0 && !step) {
        return;
    }
    switch (regdbg_rules_park(s, a, park_rule < 0 ? REGDBG_RULE_NONE
                                                  : park_rule,
                              !is_write, &reply)) {
    case REGDBG_VERDICT_VALUE:
        if (is_write) {
            a->value = reply;
            a->flags |= REGDBG_EV_EDITED;
        } else {
            a->forced = true;           /* the read happens, returns reply */
            a->forced_value = reply;
        }
        break;
    case REGDBG_VERDICT_SKIP:
        a->skip_backend = true;
        if (is_write) {
            a->flags |= REGDBG_EV_DROPPED;
        } else {
            a->value = a->orig = reply;
            a->flags |= REGDBG_EV_INJECTED;
        }
        break;
    default:
        break;
    }
}

/* A read, after the backend: injections and value-dependent rules */
void regdbg_rules_after_read(RegdbgProxyState *s, RegdbgAccess *a)
{
    uint64_t reply = 0;
    int park_rule = -1;
    int why_not = -1;

    a->post_read = regdbg_rules_eq_filter(s, REGDBG_DIR_READ, a->orig,
                                          a->post_read);
    for (uint64_t m = a->post_read; m; m &= m - 1) {
        unsigned i = ctz64(m);
        const RegdbgRuleCache *c = regdbg_rules_get(s, i, a);

        if (!c || !regdbg_rules_cond(s, c, a)) {
            continue;
        }
        if (c->kind == REGDBG_RULE_BREAK &&
            regdbg_rules_break_passes(s, a, i, park_rule, &why_not)) {
            continue;
        }
        if (c->kind == REGDBG_RULE_IRQ) {
            a->irq |= 1ULL << i;
            continue;
        }
        if (!regdbg_rules_claim(&s->rules->rules[i])) {
            continue;
        }
        if (c->kind == REGDBG_RULE_INJECT) {
            a->inject |= 1ULL << i;
        } else if (c->kind == REGDBG_RULE_BREAK && park_rule < 0) {
            park_rule = i;
        }
    }
    for (uint64_t m = a->inject; m; m &= m - 1) {
        unsigned i = ctz64(m);
        const RegdbgRuleCache *c = regdbg_rules_get(s, i, a);

        if (c) {
            a->value = regdbg_rule_apply(&c->r, a->value);
            a->flags |= REGDBG_EV_INJECTED;
            a->rule = i;
        }
    }
    if (a->forced) {
        a->value = a->forced_value;
        a->flags |= REGDBG_EV_INJECTED;
    }
    if (park_rule >= 0) {
        switch (regdbg_rules_park(s, a, park_rule, false, &reply)) {
        case REGDBG_VERDICT_VALUE:
        case REGDBG_VERDICT_SKIP:
            a->value = reply;
            a->flags |= REGDBG_EV_INJECTED;
            break;
        default:
            break;
        }
    }
}

/*
 * The access has gone through (a write reached the backend, a read returned
 * from it) and its event is in the ring: the interrupt rules it matched act,
 * in rule order. One that never reached the backend (dropped, skipped) fires
 * none and uses up no ignore count. A rule rewritten while the access was
 * parked (the BQL dropped) acts as it is now, if it is still an IRQ rule.
 */
void regdbg_rules_fire_irq(RegdbgProxyState *s, const RegdbgAccess *a)
{
    if (a->skip_backend) {
        return;
    }
    for (uint64_t m = a->irq; m; m &= m - 1) {
        unsigned i = ctz64(m);
        const RegdbgRuleCache *c = &s->rule_cache[i];

        if (c->kind != REGDBG_RULE_IRQ || !c->r.enabled ||
            !regdbg_rules_claim(&s->rules->rules[i])) {
            continue;
        }
        regdbg_proxy_irq(s, c->r.op, REGDBG_IRQ_SRC_RULE, i, a);
    }
}
