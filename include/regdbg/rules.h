/*
 * regdbg rules ABI: the breakpoints, write edits, read injections, drops and interrupt triggers
 * that the debugger
 * writes into shared memory and the device applies on its hot path, the index that lets an access
 * no rule concerns pass with one load, and the park slots through which a parked access and the
 * debugger's answer travel. Part of the shared-memory object described in regdbg/abi.h.
 *
 * Memory-ordering contract (labelled as in regdbg/abi.h; every site cites its label):
 *   [R1] rule: the debugger writes a rule under its seqlock: seq made odd (relaxed store, then a
 *        release fence), the body written, seq made even with a release store. The device loads
 *        seq with acquire, copies the body, issues an acquire fence and loads seq again; it uses
 *        the copy only if both loads are equal and even. hits, ignore_left and temp_left are
 *        atomics the device updates (relaxed); the debugger only reads hits and resets the others
 *        when it (re)writes a rule. Every field of a rule, enabled included, is written inside
 *        the seqlock.
 *   [R2] generation: after a rule's seqlock is even again, the debugger bumps generation with
 *        release; the device loads it with acquire and, when it changed, takes every rule anew
 *        under [R1] (keeping its old copy of a rule being written, and trying again at the next
 *        access).
 *   [R3] index: one 64-bit mask of rule numbers per bucket of each BAR, written by the debugger
 *        with release after the rules it names; the device loads it with acquire. A stale mask
 *        only costs a rule check: every candidate is checked in full.
 *   [P1] park: a slot belongs to the device while FREE or PARKED and to the debugger while it
 *        answers. The device claims a FREE slot by compare-and-swap (acquire), fills it and
 *        stores PARKED with release; the debugger reads the slot after an acquire load of PARKED.
 *   [P2] doorbell: after [P1] the device bumps park_doorbell with release and wakes futex
 *        waiters on it; the debugger loads it with acquire.
 *   [P3] answer: the debugger writes its verdict, stores ANSWERED with release and wakes the
 *        futex on state; the device reads the verdict after an acquire load of ANSWERED (or takes
 *        the slot back from PARKED by compare-and-swap when nobody answers), then stores FREE
 *        with release, which the next [P1] claim acquires.
 *   [S1] step: the debugger stores step_left with release; the device takes one by relaxed
 *        compare-and-swap (a count, nothing else rides on it).
 *
 * Everything the device reads here is untrusted: it bounds every index and the condition program
 * it runs, and a malformed rule only fails to match.
 */
#ifndef REGDBG_RULES_H
#define REGDBG_RULES_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define REGDBG_MAX_RULES        64u
#define REGDBG_INDEX_BUCKETS    1024u   /* per BAR; bucket = (offset / 4) % REGDBG_INDEX_BUCKETS */
#define REGDBG_MAX_PARK         64u
#define REGDBG_RULE_MAX_CODE    32u
#define REGDBG_RULE_MAX_CONSTS  8u
#define REGDBG_EVAL_STACK       16u

/* Sets of rules travel as 64-bit masks (the index, the device's candidates). */
_Static_assert(REGDBG_MAX_RULES == 64, "one bit per rule in a uint64_t");

enum regdbg_rule_kind {
    REGDBG_RULE_BREAK  = 1,     /* park the access for the debugger */
    REGDBG_RULE_EDIT   = 2,     /* change the value written before the backend sees it */
    REGDBG_RULE_INJECT = 3,     /* change the value read before the guest sees it */
    REGDBG_RULE_DROP   = 4,     /* the write never reaches the backend */
    REGDBG_RULE_IRQ    = 5,     /* (ABI 5) once the access has gone through (a write reached
                                   the backend, a read returned from it), drive the device's
                                   interrupt: op is an enum regdbg_irq_action. An access that
                                   never reached the backend (a drop, a skip) fires none, and
                                   ignore counts and temp count only accesses that did. Several
                                   fire in rule order, after the access's event is published. */
};

#define REGDBG_RULE_DIR_READ  0x1u
#define REGDBG_RULE_DIR_WRITE 0x2u

/* What REGDBG_RULE_IRQ does (its op), and what an interrupt event was asked (regdbg/abi.h) */
enum regdbg_irq_action {
    REGDBG_IRQ_ASSERT   = 1,    /* INTx: hold the pin high; MSI: send a message */
    REGDBG_IRQ_DEASSERT = 2,    /* INTx: release the pin; MSI: nothing (no line to lower) */
    REGDBG_IRQ_PULSE    = 3,    /* INTx: high, then low at once; MSI: send a message */
};
#define REGDBG_IRQ_ACTION_MAX 3u

enum regdbg_rule_op {           /* how EDIT and INJECT change the value v */
    REGDBG_OP_SET    = 1,       /* v |= operand */
    REGDBG_OP_CLEAR  = 2,       /* v &= ~operand */
    REGDBG_OP_ASSIGN = 3,       /* v = (v & ~mask) | (operand & mask) */
    REGDBG_OP_OR     = 4,
    REGDBG_OP_AND    = 5,       /* v &= operand | ~mask */
    REGDBG_OP_XOR    = 6,
};

/* Condition program: a stack machine over the access; true when the last value is non-zero. */
enum regdbg_insn_op {
    REGDBG_INSN_VALUE = 1,      /* push the value (written, or read from the backend) */
    REGDBG_INSN_SIZE  = 2,      /* push the access width in bytes */
    REGDBG_INSN_CPU   = 3,      /* push the vCPU index (all ones for none) */
    REGDBG_INSN_CONST = 4,      /* push consts[arg] */
    REGDBG_INSN_FIELD = 5,      /* pop v, push (v >> shift) & ((1 << width) - 1) */
    REGDBG_INSN_EQ = 6, REGDBG_INSN_NE, REGDBG_INSN_LT, REGDBG_INSN_GT, REGDBG_INSN_LE,
    REGDBG_INSN_GE, REGDBG_INSN_BAND, REGDBG_INSN_BOR, REGDBG_INSN_LAND, REGDBG_INSN_LOR,
    REGDBG_INSN_NOT,
    REGDBG_INSN_PC,             /* push the guest PC (linear), all ones when it is not known;
                                   with REGDBG_EV_PC_AFTER, guest_pc - 1: an address inside the
                                   instruction, so that ranges (functions) match it */
};

struct regdbg_insn {
    uint8_t op;                 /* enum regdbg_insn_op */
    uint8_t arg;                /* CONST: index into consts */
    uint8_t shift;              /* FIELD */
    uint8_t width;              /* FIELD: 1..64 */
};
_Static_assert(sizeof(struct regdbg_insn) == 4, "insn layout");

struct regdbg_rule {
    _Atomic uint32_t seq;       /* seqlock, odd while the debugger writes */
    uint8_t enabled;
    uint8_t kind;               /* enum regdbg_rule_kind */
    uint8_t dirs;               /* REGDBG_RULE_DIR_* */
    uint8_t bar;
    uint8_t op;                 /* enum regdbg_rule_op, for EDIT and INJECT; enum
                                   regdbg_irq_action for IRQ */
    uint8_t n_code;             /* condition length; 0 = always */
    uint8_t uses_value;         /* the condition reads the value (reads: decide after the read) */
    uint8_t uses_pc;            /* the condition reads the guest PC (the device finds it first) */
    uint8_t pad0[4];
    uint64_t start, end;        /* the access must overlap [start, end) */
    uint64_t operand;
    uint64_t mask;              /* ASSIGN/AND: the bits concerned (a field), all ones otherwise */
    _Atomic uint32_t ignore_left; /* matching accesses to let pass before the rule acts */
    _Atomic uint32_t temp_left; /* temporary rules: 1 until the first hit claims it; else ~0 */
    _Atomic uint64_t hits;
    uint64_t consts[REGDBG_RULE_MAX_CONSTS];
    struct regdbg_insn code[REGDBG_RULE_MAX_CODE];
    uint8_t reserved[32];
};
_Static_assert(offsetof(struct regdbg_rule, start) == 16, "rule layout");
_Static_assert(offsetof(struct regdbg_rule, hits) == 56, "rule layout");
_Static_assert(offsetof(struct regdbg_rule, consts) == 64, "rule layout");
_Static_assert(offsetof(struct regdbg_rule, code) == 128, "rule layout");
_Static_assert(sizeof(struct regdbg_rule) == 288, "rule layout");

#define REGDBG_TEMP_UNUSED UINT32_MAX
#define REGDBG_PC_UNKNOWN  UINT64_MAX  /* what REGDBG_INSN_PC pushes when the PC is not known */

enum regdbg_park_state {
    REGDBG_PARK_FREE = 0,
    REGDBG_PARK_PARKED = 1,     /* the device waits for an answer */
    REGDBG_PARK_ANSWERED = 2,   /* the debugger answered; the device takes it */
    REGDBG_PARK_FILLING = 3,    /* the device is filling or emptying the slot */
};

enum regdbg_verdict {
    REGDBG_VERDICT_CONTINUE = 0,        /* go on unmodified */
    REGDBG_VERDICT_VALUE = 1,           /* go on with reply_value (written / returned) */
    REGDBG_VERDICT_SKIP = 2,            /* the write does not happen / the read returns
                                           reply_value without touching the backend */
    REGDBG_VERDICT_STOP_VM = 3,         /* go on unmodified, then stop the VM */
};

struct regdbg_park_slot {
    _Atomic uint32_t state;     /* enum regdbg_park_state; also the futex word */
    uint32_t verdict;           /* enum regdbg_verdict, written by the debugger */
    uint64_t park_id;           /* unique per park, from header.parks */
    uint64_t reply_value;
    uint64_t offset;
    uint64_t value;             /* written value, or the value read (0 before a read happened) */
    uint64_t guest_pc;          /* as in struct regdbg_event, valid when pc_known */
    uint64_t t_ns;
    int32_t cpu;
    uint16_t rule;              /* the rule that parked it, or REGDBG_RULE_NONE for a step */
    uint8_t bar;
    uint8_t size;
    uint8_t dir;
    uint8_t before_read;        /* a read parked before the backend was touched */
    uint8_t pc_known;           /* guest_pc and cpu_mode are the access's */
    uint8_t cpu_mode;           /* enum regdbg_cpu_mode */
    uint8_t pc_after;           /* as REGDBG_EV_PC_AFTER */
    uint8_t pad[3];
};
_Static_assert(sizeof(struct regdbg_park_slot) == 72, "park slot layout");

#define REGDBG_RULE_TEXT_LEN 192

/* The rules area, at header.rules_offset. */
struct regdbg_rules_area {
    struct regdbg_rule rules[REGDBG_MAX_RULES];
    _Atomic uint64_t index[6][REGDBG_INDEX_BUCKETS];
    struct regdbg_park_slot park[REGDBG_MAX_PARK];
    /* The debugger's own text of each rule, so that a debugger that attaches later can list the
       rules in place; the device never reads it. */
    char text[REGDBG_MAX_RULES][REGDBG_RULE_TEXT_LEN];
    /* Bumped (release) by the debugger after each rule it writes, once that rule's seqlock is
       even again. The device takes its copy of the rules anew when it sees a new value (acquire),
       and otherwise decides from that copy without touching the rules. */
    _Atomic uint64_t generation;
    uint8_t reserved[56];
};
_Static_assert(offsetof(struct regdbg_rules_area, generation) ==
               REGDBG_MAX_RULES * 288 + 6 * REGDBG_INDEX_BUCKETS * 8 + REGDBG_MAX_PARK * 72 +
               REGDBG_MAX_RULES * REGDBG_RULE_TEXT_LEN, "rules area layout");
_Static_assert(sizeof(struct regdbg_rules_area) % 64 == 0, "rules area layout");

static inline uint32_t regdbg_index_bucket(uint64_t offset)
{
    return (uint32_t)((offset >> 2) % REGDBG_INDEX_BUCKETS);
}

/*
 * Run a condition program. Returns 1 (true), 0 (false), or -1 for a malformed program, which the
 * device treats as false. No loops: at most REGDBG_RULE_MAX_CODE steps.
 */
static inline int regdbg_rule_eval(const struct regdbg_rule *r, uint64_t value, unsigned size,
                                   int32_t cpu, uint64_t pc)
{
    uint64_t st[REGDBG_EVAL_STACK];
    unsigned sp = 0, n = r->n_code;

    if (n == 0) {
        return 1;
    }
    if (n > REGDBG_RULE_MAX_CODE) {
        return -1;
    }
    for (unsigned ip = 0; ip < n; ip++) {
        const struct regdbg_insn *in = &r->code[ip];
        uint64_t a, b;

        switch (in->op) {
        case REGDBG_INSN_VALUE:
        case REGDBG_INSN_SIZE:
        case REGDBG_INSN_CPU:
        case REGDBG_INSN_CONST:
        case REGDBG_INSN_PC:
            if (sp == REGDBG_EVAL_STACK) {
                return -1;
            }
            if (in->op == REGDBG_INSN_CONST && in->arg >= REGDBG_RULE_MAX_CONSTS) {
                return -1;
            }
            st[sp++] = in->op == REGDBG_INSN_VALUE ? value
                     : in->op == REGDBG_INSN_SIZE ? size
                     : in->op == REGDBG_INSN_CPU ? (uint64_t)(int64_t)cpu
                     : in->op == REGDBG_INSN_PC ? pc
                     : r->consts[in->arg];
            continue;
        case REGDBG_INSN_FIELD:
            if (sp < 1 || in->width == 0 || in->width > 64 || in->shift > 63) {
                return -1;
            }
            a = st[sp - 1] >> in->shift;
            st[sp - 1] = in->width == 64 ? a : a & ((UINT64_C(1) << in->width) - 1);
            continue;
        case REGDBG_INSN_NOT:
            if (sp < 1) {
                return -1;
            }
            st[sp - 1] = !st[sp - 1];
            continue;
        default:
            break;
        }
        if (sp < 2) {
            return -1;
        }
        b = st[--sp];
        a = st[sp - 1];
        switch (in->op) {
        case REGDBG_INSN_EQ: a = a == b; break;
        case REGDBG_INSN_NE: a = a != b; break;
        case REGDBG_INSN_LT: a = a < b; break;
        case REGDBG_INSN_GT: a = a > b; break;
        case REGDBG_INSN_LE: a = a <= b; break;
        case REGDBG_INSN_GE: a = a >= b; break;
        case REGDBG_INSN_BAND: a = a & b; break;
        case REGDBG_INSN_BOR: a = a | b; break;
        case REGDBG_INSN_LAND: a = a && b; break;
        case REGDBG_INSN_LOR: a = a || b; break;
        default:
            return -1;
        }
        st[sp - 1] = a;
    }
    return sp == 1 ? st[0] != 0 : -1;
}

/* Apply an EDIT or INJECT operation. */
static inline uint64_t regdbg_rule_apply(const struct regdbg_rule *r, uint64_t v)
{
    switch (r->op) {
    case REGDBG_OP_SET: return v | r->operand;
    case REGDBG_OP_CLEAR: return v & ~r->operand;
    case REGDBG_OP_ASSIGN: return (v & ~r->mask) | (r->operand & r->mask);
    case REGDBG_OP_OR: return v | r->operand;
    case REGDBG_OP_AND: return v & (r->operand | ~r->mask);
    case REGDBG_OP_XOR: return v ^ r->operand;
    default: return v;
    }
}

#endif /* REGDBG_RULES_H */
