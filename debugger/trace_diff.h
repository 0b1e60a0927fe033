/*
 * The comparison of recorded runs behind `regdbg diff` (docs/diff.md): the accesses of each run
 * kept in compact arrays, poll loops collapsed into one item each, every run aligned with the
 * first by Myers' O(ND) difference algorithm (linear space, with a bound on the edits and on the
 * work), the hunks of those alignments grouped by where they fall in the first run, notes for
 * polls that differ only in length, and a per-register summary. Pure computation: no file, no
 * printing; debugger/cli/diff.c reads the traces and writes the report.
 */
#ifndef REGDBG_TRACE_DIFF_H
#define REGDBG_TRACE_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "regmap.h"

/* ---- the alignment core ------------------------------------------------------------------- */

/* Items [a, a_end) of the first sequence stand where the second has [b, b_end); one of the two
   ranges may be empty (an insertion or a deletion). */
struct diff_hunk {
    uint32_t a, a_end;
    uint32_t b, b_end;
};

struct diff_hunk_list {
    struct diff_hunk *v;
    size_t n, cap;
};

struct diff_limits {
    uint64_t max_edits;         /* items inserted plus deleted, above which alignment gives up */
    uint64_t max_steps;         /* comparisons of items, above which alignment gives up */
};

/* Defaults (docs/diff.md, "Limits"): 10000 edits keep the search's arrays tiny; 2e9 steps take
   about 4.5 s on the 2-core benchmark machine, whatever the lengths (a 10M-access diff that ran
   out of 2e9 took 5.3 s in all, of 3e9 7.4 s: the 10 s target needs the margin). */
#define DIFF_DEFAULT_MAX_EDITS 10000u
#define DIFF_DEFAULT_MAX_STEPS 2000000000ull

enum diff_align_status {
    DIFF_ALIGNED = 0,
    DIFF_TOO_MANY_EDITS,        /* the shortest edit script is longer than max_edits */
    DIFF_TOO_MUCH_WORK,         /* max_steps ran out before the script was complete */
    DIFF_NO_MEMORY,
};

/*
 * A shortest edit script between a[0..n) and b[0..m) (n, m < 2^32), as hunks appended to out in
 * order, adjacent ones merged: every item outside the hunks is matched, in order, with an equal
 * item of the other sequence, and the hunks hold as few items as possible. The common prefix and
 * suffix cost one comparison per item; the middle O((n + m) * D) for D edits, in memory
 * O(max_edits). *steps (may be NULL) gets the comparisons made. Unless DIFF_ALIGNED, out holds
 * whatever was found before giving up.
 */
enum diff_align_status diff_align(const uint64_t *a, size_t n, const uint64_t *b, size_t m,
                                  const struct diff_limits *limits, struct diff_hunk_list *out,
                                  uint64_t *steps);

void diff_hunk_list_free(struct diff_hunk_list *list);

/* ---- runs, and what is compared --------------------------------------------------------- */

/* A place in a BAR: an access matches it when it touches any byte of [lo, hi). */
struct diff_range {
    unsigned bar;
    uint64_t lo, hi;
};

/* Compare only the bits of mask of the values of accesses at that place; the mask is laid out
   as the register at lo is, and shifted for an access that starts elsewhere. */
struct diff_mask {
    struct diff_range where;
    uint64_t mask;
};

struct diff_options {
    const struct diff_range *ignore;        /* accesses dropped before anything else */
    size_t n_ignore;
    const struct diff_mask *masks;
    size_t n_masks;
    bool writes_only;                       /* reads are dropped too */
    struct diff_limits limits;
};

/* A (BAR, offset, width, direction) that some run accessed; runs share the numbering. */
struct diff_location {
    uint64_t offset;
    uint64_t mask;                          /* the bits compared (all, unless --mask) */
    const struct regmap_reg *reg;           /* the register it falls in, or NULL */
    uint8_t bar, size, dir;                 /* dir: REGDBG_DIR_READ or REGDBG_DIR_WRITE */
    bool ignored;
};

/*
 * One run: its accesses in order (those the options keep), and the items they collapse into. An
 * item is one access, or a poll: consecutive reads of one location whose compared value stays
 * the same until possibly the last read, kept as its first access and count. Items compare by
 * key: a 64-bit hash of (location, first value, last value), the values masked; the count is not
 * in the key, so polls that differ only in length match.
 */
struct diff_run {
    /* accesses */
    uint32_t *loc;                  /* index into trace_diff.locs */
    uint64_t *value;                /* as recorded, unmasked */
    uint32_t *file_pos;             /* 1-based number of the access in its file; NULL while no
                                       access was dropped, when access i is number i + 1 */
    size_t n, cap;
    uint64_t in_file;               /* accesses offered, dropped ones too */
    /* items */
    uint64_t *key;
    uint32_t *first;                /* index of the item's first access */
    uint32_t *count;                /* accesses in the item (1 unless a poll) */
    size_t n_items, items_cap;
};

/* Two matched items of a pairing whose counts differ: a poll that ran longer in one run. The
   notes of a pairing are gathered by location: one entry each, with its first occurrence. */
struct diff_poll_note {
    uint32_t loc;
    uint64_t polls;                 /* how many polls of loc differ only in length */
    uint32_t a_item, b_item;        /* the first of them, in run 1 and in the other run */
};

/* The alignment of run j with run 1. */
struct diff_pairing {
    struct diff_hunk_list hunks;    /* item ranges; empty when the runs agree */
    struct diff_poll_note *notes;
    size_t n_notes;
    /* When the alignment gave up (status != DIFF_ALIGNED), hunks is empty and these say where
       the runs part (the end of their common prefix) and meet again (their common suffix). */
    enum diff_align_status status;
    uint32_t prefix, a_suffix, b_suffix;    /* items: [0, prefix) match; [a_suffix, n) and
                                               [b_suffix, m) match */
    uint64_t steps;
};

/* Relation of a run to a block: it shows the block's lines, it agrees with run 1 there, or it
   differs from run 1 there in another way (another block, or it gave up aligning). */
enum diff_relation { DIFF_REL_AS_FIRST = 0, DIFF_REL_SAME, DIFF_REL_OTHER };

/*
 * A block: hunks of one pairing (run) close enough in run 1 to be shown together (their gap is
 * at most twice the context), shown once for every run whose pairing has an identical block.
 */
struct diff_block {
    unsigned run;                   /* the pairing whose hunks these are (>= 1) */
    size_t hunk, hunk_end;          /* [hunk, hunk_end) of pairings[run].hunks */
    uint32_t a, a_end, b, b_end;    /* the items of run 1 and of run `run` the hunks span */
    uint8_t *relation;              /* per run: enum diff_relation (run 0: DIFF_REL_AS_FIRST) */
};

#define DIFF_SUMMARY_VALUES 8       /* values listed per register and run before "…" */

struct diff_summary_cell {
    uint64_t reads, writes;
    uint64_t values[DIFF_SUMMARY_VALUES];   /* compared (masked) values, in first-seen order */
    unsigned n_values;
    bool more_values;               /* values other than those were seen too */
};

/* One register (of the map), or one BAR offset outside every register of the map. */
struct diff_summary_row {
    const struct regmap_reg *reg;   /* NULL: the row is (bar, offset) */
    unsigned bar;
    uint64_t offset;
    unsigned size;                  /* the widest access seen */
    struct diff_summary_cell *cells;    /* one per run */
    bool differs;                   /* counts or values differ between runs */
};

struct trace_diff {
    struct diff_options opt;
    const struct regmap *map;       /* may be NULL */
    struct diff_location *locs;
    uint32_t n_locs, locs_cap;
    uint32_t *loc_slots;            /* hash table of locs: index + 1, 0 = free */
    size_t n_loc_slots;
    struct diff_run *runs;
    size_t n_runs;
    /* results of trace_diff_compare */
    struct diff_pairing *pairings;  /* [j] aligns run j with run 0; [0] unused */
    struct diff_block *blocks;      /* by position in run 1, then run */
    size_t n_blocks;
    struct diff_summary_row *rows;  /* by BAR and offset */
    size_t n_rows;
};

/* n_runs >= 2; opt is copied but its arrays must outlive d; map may be NULL. 0 or -1 (memory). */
int trace_diff_init(struct trace_diff *d, const struct diff_options *opt,
                    const struct regmap *map, size_t n_runs);
void trace_diff_free(struct trace_diff *d);

/* Room for n accesses in run (a hint, e.g. from the file's size). 0 or -1 (memory). */
int trace_diff_reserve(struct trace_diff *d, size_t run, size_t n);

/* The next access of run, in the order of its file. 0, or -1 with err: out of memory, or more
   than 2^32 - 1 accesses or locations. */
int trace_diff_add(struct trace_diff *d, size_t run, unsigned bar, uint64_t offset,
                   unsigned size, unsigned dir, uint64_t value, char *err, size_t errlen);

/*
 * Once every access is in: align every run with run 0, gather poll notes, make the blocks (hunks
 * of a pairing at most join_gap items apart in run 1 share a block) and the summary. 0, or -1
 * (memory). A pairing that gives up is no error: its status says why.
 */
int trace_diff_compare(struct trace_diff *d, uint32_t join_gap);

/* The 1-based number in its file of access i of run. */
uint64_t diff_run_file_pos(const struct diff_run *run, size_t i);

/* True when no run differs from run 0 (poll notes aside). */
bool trace_diff_same(const struct trace_diff *d);

#endif /* REGDBG_TRACE_DIFF_H */
