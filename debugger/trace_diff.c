/*
 * The comparison of recorded runs (trace_diff.h, docs/diff.md): location interning, poll
 * collapsing, Myers' linear-space O(ND) alignment with its bounds, poll notes, blocks grouped
 * across runs, and the per-register summary.
 */
#include "trace_diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regdbg/abi.h"

/* ---- hashing ------------------------------------------------------------------------------ */

/* MurmurHash3's 64-bit finalizer: every input bit moves about half the output bits, so that keys
   of near-identical items (values one apart) differ in every comparison. */
static uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/*
 * The key of an item. Two different items get equal keys with probability about 2^-64 per
 * comparison, which over the 1e10 comparisons of a large diff is far below the chance of a
 * memory error; comparing 8 bytes instead of 20 keeps the alignment's inner loop in cache.
 */
static uint64_t item_key(uint32_t loc, uint64_t first, uint64_t last)
{
    uint64_t h = mix64(0x9e3779b97f4a7c15ull ^ loc);

    h = mix64(h ^ first);
    return mix64(h ^ (last + 0x632be59bd9b4e019ull));
}

/* ---- the alignment core: Myers' linear-space O(ND) algorithm ------------------------------ */

/*
 * The search of "An O(ND) Difference Algorithm and Its Variations" (E. Myers, 1986), section
 * 4b: from both ends at once, diagonal k = x - y, until the forward and backward paths overlap;
 * the overlap splits the problem into two with at most half the edits each. The diagonals are
 * kept inside the edit graph by moving the outermost ones inwards by one when they reach its
 * border, which keeps their parity (as GNU diff does). A search of D edits touches diagonals at
 * most D / 2 + 1 away from its two ends, so the arrays hold max_edits + 2 * (max_edits / 2 + 2)
 * + 1 entries, whatever the lengths.
 */
struct align {
    const uint64_t *a, *b;
    int64_t *fwd, *bwd;             /* furthest x on a diagonal, forward and backward */
    int64_t half;                   /* the most search rounds a problem within limits takes */
    struct diff_limits limits;
    uint64_t steps;
    struct diff_hunk_list *out;
    enum diff_align_status status;
};

static int append_hunk(struct diff_hunk_list *list, int64_t a, int64_t a_end, int64_t b,
                       int64_t b_end)
{
    struct diff_hunk *last = list->n ? &list->v[list->n - 1] : NULL;

    if (last && last->a_end == a && last->b_end == b) {
        last->a_end = (uint32_t)a_end;
        last->b_end = (uint32_t)b_end;
        return 0;
    }
    if (list->n == list->cap) {
        size_t cap = list->cap ? 2 * list->cap : 16;
        struct diff_hunk *v = realloc(list->v, cap * sizeof(*v));

        if (!v) {
            return -1;
        }
        list->v = v;
        list->cap = cap;
    }
    list->v[list->n++] = (struct diff_hunk){ (uint32_t)a, (uint32_t)a_end, (uint32_t)b,
                                             (uint32_t)b_end };
    return 0;
}

/*
 * The point where a shortest path of [xoff, xlim) x [yoff, ylim) crosses its middle: the end of
 * the forward snake or the start of the backward one that overlap first. Both ranges are
 * non-empty and their first and last items differ (so D >= 2). 0, or -1 with al->status set.
 */
static int middle_point(struct align *al, int64_t xoff, int64_t xlim, int64_t yoff, int64_t ylim,
                        int64_t *xmid, int64_t *ymid)
{
    const uint64_t *a = al->a, *b = al->b;
    const int64_t dmin = xoff - ylim, dmax = xlim - yoff;   /* the diagonals of the graph */
    const int64_t fmid = xoff - yoff, bmid = xlim - ylim;   /* where the searches start */
    const int64_t base = (fmid < bmid ? fmid : bmid) - al->half - 2;
    int64_t fmin = fmid, fmax = fmid, bmin = bmid, bmax = bmid;
    const bool odd = (fmid - bmid) & 1;

#define FWD(k) al->fwd[(k) - base]
#define BWD(k) al->bwd[(k) - base]
    FWD(fmid) = xoff;
    BWD(bmid) = xlim;
    for (int64_t c = 1;; c++) {
        /* Rounds 1..c-1 found no overlap: D >= 2c - 1. */
        if ((uint64_t)(2 * c - 1) > al->limits.max_edits) {
            al->status = DIFF_TOO_MANY_EDITS;
            return -1;
        }
        if (fmin > dmin) {
            --fmin;
            FWD(fmin - 1) = -1;
        } else {
            ++fmin;
        }
        if (fmax < dmax) {
            ++fmax;
            FWD(fmax + 1) = -1;
        } else {
            --fmax;
        }
        for (int64_t k = fmax; k >= fmin; k -= 2) {
            int64_t from_left = FWD(k - 1), from_above = FWD(k + 1);
            int64_t x = from_left >= from_above ? from_left + 1 : from_above;
            int64_t y = x - k, x0 = x;

            while (x < xlim && y < ylim && a[x] == b[y]) {
                x++;
                y++;
            }
            FWD(k) = x;
            al->steps += (uint64_t)(x - x0) + 1;
            if (odd && bmin <= k && k <= bmax && BWD(k) <= x) {
                *xmid = x;
                *ymid = y;
                return 0;
            }
        }
        if (bmin > dmin) {
            --bmin;
            BWD(bmin - 1) = INT64_MAX;
        } else {
            ++bmin;
        }
        if (bmax < dmax) {
            ++bmax;
            BWD(bmax + 1) = INT64_MAX;
        } else {
            --bmax;
        }
        for (int64_t k = bmax; k >= bmin; k -= 2) {
            int64_t from_left = BWD(k - 1), from_above = BWD(k + 1);
            int64_t x = from_left < from_above ? from_left : from_above - 1;
            int64_t y = x - k, x0 = x;

            while (x > xoff && y > yoff && a[x - 1] == b[y - 1]) {
                x--;
                y--;
            }
            BWD(k) = x;
            al->steps += (uint64_t)(x0 - x) + 1;
            if (!odd && fmin <= k && k <= fmax && x <= FWD(k)) {
                *xmid = x;
                *ymid = y;
                return 0;
            }
        }
        if (al->steps > al->limits.max_steps) {
            al->status = DIFF_TOO_MUCH_WORK;
            return -1;
        }
    }
#undef FWD
#undef BWD
}

/* The shortest edit script of [xoff, xlim) x [yoff, ylim), appended to al->out in order. Each
   level halves the edits, so the recursion is at most log2(max_edits) + 2 deep. */
static int align_range(struct align *al, int64_t xoff, int64_t xlim, int64_t yoff, int64_t ylim)
{
    const uint64_t *a = al->a, *b = al->b;
    int64_t x0 = xoff, xmid, ymid;

    while (xoff < xlim && yoff < ylim && a[xoff] == b[yoff]) {
        xoff++;
        yoff++;
    }
    while (xlim > xoff && ylim > yoff && a[xlim - 1] == b[ylim - 1]) {
        xlim--;
        ylim--;
    }
    al->steps += (uint64_t)(xoff - x0);
    if (xoff == xlim || yoff == ylim) {
        if (xoff == xlim && yoff == ylim) {
            return 0;
        }
        if (append_hunk(al->out, xoff, xlim, yoff, ylim) < 0) {
            al->status = DIFF_NO_MEMORY;
            return -1;
        }
        return 0;
    }
    if (middle_point(al, xoff, xlim, yoff, ylim, &xmid, &ymid) < 0) {
        return -1;
    }
    if (align_range(al, xoff, xmid, yoff, ymid) < 0) {
        return -1;
    }
    return align_range(al, xmid, xlim, ymid, ylim);
}

enum diff_align_status diff_align(const uint64_t *a, size_t n, const uint64_t *b, size_t m,
                                  const struct diff_limits *limits, struct diff_hunk_list *out,
                                  uint64_t *steps)
{
    struct align al = { .a = a, .b = b, .limits = *limits, .out = out,
                        .status = DIFF_ALIGNED };
    size_t prefix = 0, delta = n > m ? n - m : m - n;
    uint64_t most_edits;
    size_t slots;

    if (steps) {
        *steps = 0;
    }
    /* The common prefix first, without the search's arrays: a long common run costs one
       comparison per item and nothing more. */
    while (prefix < n && prefix < m && a[prefix] == b[prefix]) {
        prefix++;
    }
    al.steps = prefix;
    if (delta > limits->max_edits) {
        /* Every script inserts or deletes at least the difference of the lengths. */
        if (steps) {
            *steps = al.steps;
        }
        return DIFF_TOO_MANY_EDITS;
    }
    /* No script has more edits than items; every sub-problem's length difference is at most
       its edits, so this window holds the diagonals of all of them. */
    most_edits = (uint64_t)(n + m - 2 * prefix);
    if (limits->max_edits < most_edits) {
        most_edits = limits->max_edits;
    }
    al.half = (int64_t)(most_edits / 2) + 2;
    slots = (size_t)most_edits + 2 * (size_t)al.half + 8;
    al.fwd = malloc(slots * sizeof(*al.fwd));
    al.bwd = malloc(slots * sizeof(*al.bwd));
    if (!al.fwd || !al.bwd) {
        al.status = DIFF_NO_MEMORY;
    } else {
        align_range(&al, (int64_t)prefix, (int64_t)n, (int64_t)prefix, (int64_t)m);
    }
    free(al.fwd);
    free(al.bwd);
    if (steps) {
        *steps = al.steps;
    }
    return al.status;
}

void diff_hunk_list_free(struct diff_hunk_list *list)
{
    free(list->v);
    memset(list, 0, sizeof(*list));
}

/* ---- locations ---------------------------------------------------------------------------- */

static uint64_t location_hash(unsigned bar, uint64_t offset, unsigned size, unsigned dir)
{
    return mix64(offset ^ ((uint64_t)bar << 56) ^ ((uint64_t)size << 48) ^ ((uint64_t)dir << 47)
                 ^ 0x5bd1e9955bd1e995ull);
}

static bool touches(const struct diff_range *r, unsigned bar, uint64_t offset, unsigned size)
{
    /* [offset, offset + size) and [lo, hi) share a byte; offset + size cannot wrap in a trace
       (the recorder refuses such an access), but compare without adding to be sure. */
    return r->bar == bar && offset < r->hi && (offset >= r->lo || r->lo - offset < size);
}

/* The bits of an access of size bytes at offset that a mask compares: the mask's bytes where
   the access overlaps its register, every bit of the bytes outside it. */
static uint64_t mask_for_access(const struct diff_mask *m, uint64_t offset, unsigned size)
{
    uint64_t out = 0;

    for (unsigned i = 0; i < size; i++) {
        uint64_t byte_at = offset + i;
        uint64_t bits = 0xff;

        if (byte_at >= m->where.lo && byte_at < m->where.hi && byte_at - m->where.lo < 8) {
            bits = (m->mask >> (8 * (byte_at - m->where.lo))) & 0xff;
        }
        out |= bits << (8 * i);
    }
    return out;
}

static uint64_t width_mask(unsigned size)
{
    return size >= 8 ? UINT64_MAX : (1ull << (8 * size)) - 1;
}

static int grow_loc_slots(struct trace_diff *d)
{
    size_t n_slots = d->n_loc_slots ? 2 * d->n_loc_slots : 256;
    uint32_t *slots = calloc(n_slots, sizeof(*slots));

    if (!slots) {
        return -1;
    }
    for (uint32_t i = 0; i < d->n_locs; i++) {
        const struct diff_location *l = &d->locs[i];
        size_t s = location_hash(l->bar, l->offset, l->size, l->dir) & (n_slots - 1);

        while (slots[s]) {
            s = (s + 1) & (n_slots - 1);
        }
        slots[s] = i + 1;
    }
    free(d->loc_slots);
    d->loc_slots = slots;
    d->n_loc_slots = n_slots;
    return 0;
}

/* The number of (bar, offset, size, dir), made on first sight with what the options say of it.
   -1 when out of memory or numbers. */
static int64_t intern_location(struct trace_diff *d, unsigned bar, uint64_t offset,
                               unsigned size, unsigned dir)
{
    size_t s;
    struct diff_location *l;

    if (2 * ((size_t)d->n_locs + 1) > d->n_loc_slots && grow_loc_slots(d) < 0) {
        return -1;
    }
    s = location_hash(bar, offset, size, dir) & (d->n_loc_slots - 1);
    while (d->loc_slots[s]) {
        l = &d->locs[d->loc_slots[s] - 1];
        if (l->offset == offset && l->bar == bar && l->size == size && l->dir == dir) {
            return d->loc_slots[s] - 1;
        }
        s = (s + 1) & (d->n_loc_slots - 1);
    }
    if (d->n_locs == UINT32_MAX - 1) {
        return -1;
    }
    if (d->n_locs == d->locs_cap) {
        uint32_t cap = d->locs_cap ? 2 * d->locs_cap : 64;
        struct diff_location *v = realloc(d->locs, (size_t)cap * sizeof(*v));

        if (!v) {
            return -1;
        }
        d->locs = v;
        d->locs_cap = cap;
    }
    l = &d->locs[d->n_locs];
    memset(l, 0, sizeof(*l));
    l->offset = offset;
    l->bar = (uint8_t)bar;
    l->size = (uint8_t)size;
    l->dir = (uint8_t)dir;
    l->reg = regmap_find(d->map, bar, offset, size);
    l->mask = width_mask(size);
    l->ignored = d->opt.writes_only && dir != REGDBG_DIR_WRITE;
    for (size_t i = 0; i < d->opt.n_ignore; i++) {
        l->ignored |= touches(&d->opt.ignore[i], bar, offset, size);
    }
    for (size_t i = 0; i < d->opt.n_masks; i++) {
        if (touches(&d->opt.masks[i].where, bar, offset, size)) {
            l->mask &= mask_for_access(&d->opt.masks[i], offset, size);
        }
    }
    d->loc_slots[s] = d->n_locs + 1;
    return d->n_locs++;
}

/* ---- runs --------------------------------------------------------------------------------- */

int trace_diff_init(struct trace_diff *d, const struct diff_options *opt,
                    const struct regmap *map, size_t n_runs)
{
    memset(d, 0, sizeof(*d));
    d->opt = *opt;
    d->map = map;
    d->n_runs = n_runs;
    d->runs = calloc(n_runs, sizeof(*d->runs));
    d->pairings = calloc(n_runs, sizeof(*d->pairings));
    if (!d->runs || !d->pairings) {
        trace_diff_free(d);
        return -1;
    }
    return 0;
}

static void free_run(struct diff_run *r)
{
    free(r->loc);
    free(r->value);
    free(r->file_pos);
    free(r->key);
    free(r->first);
    free(r->count);
}

void trace_diff_free(struct trace_diff *d)
{
    for (size_t i = 0; d->runs && i < d->n_runs; i++) {
        free_run(&d->runs[i]);
    }
    for (size_t i = 0; d->pairings && i < d->n_runs; i++) {
        diff_hunk_list_free(&d->pairings[i].hunks);
        free(d->pairings[i].notes);
    }
    for (size_t i = 0; i < d->n_blocks; i++) {
        free(d->blocks[i].relation);
    }
    for (size_t i = 0; i < d->n_rows; i++) {
        free(d->rows[i].cells);
    }
    free(d->runs);
    free(d->pairings);
    free(d->blocks);
    free(d->rows);
    free(d->locs);
    free(d->loc_slots);
    memset(d, 0, sizeof(*d));
}

/* Grow array ptr to n elements: 0, or -1 with ptr untouched. Needs a `void *grown` in scope. */
#define GROW(ptr, n) \
    ((grown = realloc((ptr), (size_t)(n) * sizeof(*(ptr)))) ? ((ptr) = grown, 0) : -1)

static int reserve_accesses(struct diff_run *r, size_t n)
{
    void *grown;

    if (n <= r->cap) {
        return 0;
    }
    /* Each array is set only if its own growth succeeded, so that a failure leaves the run
       consistent (cap is the smallest of the capacities). */
    if (GROW(r->loc, n) < 0 || GROW(r->value, n) < 0 ||
        (r->file_pos && GROW(r->file_pos, n) < 0)) {
        return -1;
    }
    r->cap = n;
    return 0;
}

static int reserve_items(struct diff_run *r, size_t n)
{
    void *grown;

    if (n <= r->items_cap) {
        return 0;
    }
    if (GROW(r->key, n) < 0 || GROW(r->first, n) < 0 || GROW(r->count, n) < 0) {
        return -1;
    }
    r->items_cap = n;
    return 0;
}

int trace_diff_reserve(struct trace_diff *d, size_t run, size_t n)
{
    struct diff_run *r = &d->runs[run];

    if (n > UINT32_MAX) {
        n = UINT32_MAX;
    }
    return reserve_accesses(r, n) < 0 || reserve_items(r, n) < 0 ? -1 : 0;
}

uint64_t diff_run_file_pos(const struct diff_run *run, size_t i)
{
    return run->file_pos ? run->file_pos[i] : (uint64_t)i + 1;
}

int trace_diff_add(struct trace_diff *d, size_t run, unsigned bar, uint64_t offset,
                   unsigned size, unsigned dir, uint64_t value, char *err, size_t errlen)
{
    struct diff_run *r = &d->runs[run];
    const struct diff_location *l;
    int64_t loc;

    if (r->in_file >= UINT32_MAX - 1) {
        snprintf(err, errlen, "more than %u accesses in one trace: cut it into parts",
                 UINT32_MAX - 2);
        return -1;
    }
    r->in_file++;
    loc = intern_location(d, bar, offset, size, dir);
    if (loc < 0) {
        snprintf(err, errlen, "out of memory for the locations accessed");
        return -1;
    }
    l = &d->locs[loc];
    if (l->ignored) {
        if (!r->file_pos) {
            /* The first access dropped: from now on the numbers in the file are kept. */
            r->file_pos = malloc((r->cap ? r->cap : 1) * sizeof(*r->file_pos));
            if (!r->file_pos) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            for (size_t i = 0; i < r->n; i++) {
                r->file_pos[i] = (uint32_t)(i + 1);
            }
        }
        return 0;
    }
    if (r->n == r->cap && reserve_accesses(r, r->cap ? 2 * r->cap : 4096) < 0) {
        snprintf(err, errlen, "out of memory after %zu accesses", r->n);
        return -1;
    }
    r->loc[r->n] = (uint32_t)loc;
    r->value[r->n] = value;
    if (r->file_pos) {
        r->file_pos[r->n] = (uint32_t)r->in_file;
    }
    /* A read of the open poll's location while its value has not changed yet joins it. */
    if (r->n_items && l->dir == REGDBG_DIR_READ) {
        size_t it = r->n_items - 1;
        uint32_t first = r->first[it];
        uint32_t last = first + r->count[it] - 1;

        if (r->loc[first] == (uint32_t)loc &&
            ((r->value[first] ^ r->value[last]) & l->mask) == 0) {
            r->count[it]++;
            r->n++;
            return 0;
        }
    }
    if (r->n_items == r->items_cap &&
        reserve_items(r, r->items_cap ? 2 * r->items_cap : 4096) < 0) {
        snprintf(err, errlen, "out of memory after %zu accesses", r->n);
        return -1;
    }
    r->first[r->n_items] = (uint32_t)r->n;
    r->count[r->n_items] = 1;
    r->n_items++;
    r->n++;
    return 0;
}

static void compute_keys(const struct trace_diff *d, struct diff_run *r)
{
    for (size_t i = 0; i < r->n_items; i++) {
        uint32_t first = r->first[i], last = first + r->count[i] - 1;
        uint32_t loc = r->loc[first];
        uint64_t mask = d->locs[loc].mask;

        r->key[i] = item_key(loc, r->value[first] & mask, r->value[last] & mask);
    }
}

/* ---- pairings: alignment and poll notes --------------------------------------------------- */

static bool is_read(const struct trace_diff *d, const struct diff_run *r, uint32_t item)
{
    return d->locs[r->loc[r->first[item]]].dir == REGDBG_DIR_READ;
}

static uint64_t item_last_value(const struct trace_diff *d, const struct diff_run *r,
                                uint32_t item)
{
    uint32_t last = r->first[item] + r->count[item] - 1;

    return r->value[last] & d->locs[r->loc[last]].mask;
}

static uint64_t item_first_value(const struct trace_diff *d, const struct diff_run *r,
                                 uint32_t item)
{
    uint32_t first = r->first[item];

    return r->value[first] & d->locs[r->loc[first]].mask;
}

/*
 * Items that differ only because one run's poll found its final value at once: reads of one
 * location that end on the same value, one of them never seeing another. A poll that waited in
 * both runs but saw other values while it waited is a difference, not timing.
 */
static bool poll_ended_at_once(const struct trace_diff *d, const struct diff_run *ra,
                               uint32_t ia, const struct diff_run *rb, uint32_t ib)
{
    uint64_t last = item_last_value(d, ra, ia);

    return is_read(d, ra, ia) && ra->loc[ra->first[ia]] == rb->loc[rb->first[ib]] &&
           last == item_last_value(d, rb, ib) &&
           (item_first_value(d, ra, ia) == last || item_first_value(d, rb, ib) == last);
}

struct note_builder {
    int64_t *by_loc;                /* note index + 1 for a location, 0 = none yet */
    struct diff_pairing *p;
    size_t cap;
};

static int add_note(struct note_builder *nb, uint32_t loc, uint32_t a_item, uint32_t b_item)
{
    struct diff_pairing *p = nb->p;
    void *grown;

    if (nb->by_loc[loc]) {
        p->notes[nb->by_loc[loc] - 1].polls++;
        return 0;
    }
    if (p->n_notes == nb->cap) {
        size_t cap = nb->cap ? 2 * nb->cap : 8;

        if (GROW(p->notes, cap) < 0) {
            return -1;
        }
        nb->cap = cap;
    }
    p->notes[p->n_notes] = (struct diff_poll_note){ .loc = loc, .polls = 1, .a_item = a_item,
                                                    .b_item = b_item };
    nb->by_loc[loc] = (int64_t)++p->n_notes;
    return 0;
}

/* Notes for matched items of [a, a_end) and [b, ...) whose counts differ. */
static int notes_of_match(const struct diff_run *ra, const struct diff_run *rb,
                          struct note_builder *nb, uint32_t a, uint32_t a_end, uint32_t b)
{
    for (uint32_t x = a, y = b; x < a_end; x++, y++) {
        if (ra->count[x] != rb->count[y] &&
            add_note(nb, ra->loc[ra->first[x]], x, y) < 0) {
            return -1;
        }
    }
    return 0;
}

static int pair_runs(struct trace_diff *d, size_t j)
{
    const struct diff_run *ra = &d->runs[0], *rb = &d->runs[j];
    struct diff_pairing *p = &d->pairings[j];
    struct note_builder nb = { .p = p };
    size_t n = ra->n_items, m = rb->n_items, kept = 0;
    uint32_t x = 0, y = 0;

    p->status = diff_align(ra->key, n, rb->key, m, &d->opt.limits, &p->hunks, &p->steps);
    if (p->status == DIFF_NO_MEMORY) {
        return -1;
    }
    if (p->status != DIFF_ALIGNED) {
        size_t prefix = 0, suffix = 0;

        while (prefix < n && prefix < m && ra->key[prefix] == rb->key[prefix]) {
            prefix++;
        }
        while (suffix < n - prefix && suffix < m - prefix &&
               ra->key[n - 1 - suffix] == rb->key[m - 1 - suffix]) {
            suffix++;
        }
        p->prefix = (uint32_t)prefix;
        p->a_suffix = (uint32_t)(n - suffix);
        p->b_suffix = (uint32_t)(m - suffix);
        p->hunks.n = 0;
        return 0;
    }
    nb.by_loc = calloc(d->n_locs ? d->n_locs : 1, sizeof(*nb.by_loc));
    if (!nb.by_loc) {
        return -1;
    }
    for (size_t h = 0; h < p->hunks.n; h++) {
        struct diff_hunk hk = p->hunks.v[h];
        uint32_t len = hk.a_end - hk.a;
        bool timing_only = len > 0 && len == hk.b_end - hk.b;

        if (notes_of_match(ra, rb, &nb, x, hk.a, y) < 0) {
            goto fail;
        }
        for (uint32_t i = 0; timing_only && i < len; i++) {
            timing_only = poll_ended_at_once(d, ra, hk.a + i, rb, hk.b + i);
        }
        if (timing_only) {
            for (uint32_t i = 0; i < len; i++) {
                if (add_note(&nb, ra->loc[ra->first[hk.a + i]], hk.a + i, hk.b + i) < 0) {
                    goto fail;
                }
            }
        } else {
            p->hunks.v[kept++] = hk;
        }
        x = hk.a_end;
        y = hk.b_end;
    }
    if (notes_of_match(ra, rb, &nb, x, (uint32_t)n, y) < 0) {
        goto fail;
    }
    p->hunks.n = kept;
    free(nb.by_loc);
    return 0;
fail:
    free(nb.by_loc);
    return -1;
}

/* ---- blocks ------------------------------------------------------------------------------- */

static int cmp_blocks(const void *pa, const void *pb)
{
    const struct diff_block *a = pa, *b = pb;

    if (a->a != b->a) {
        return a->a < b->a ? -1 : 1;
    }
    if (a->a_end != b->a_end) {
        return a->a_end < b->a_end ? -1 : 1;
    }
    return a->run < b->run ? -1 : a->run > b->run;
}

/* Do the two blocks put the same items where run 1 has the same items? */
static bool same_block(const struct trace_diff *d, const struct diff_block *x,
                       const struct diff_block *y)
{
    const struct diff_run *rx = &d->runs[x->run], *ry = &d->runs[y->run];

    if (x->a != y->a || x->a_end != y->a_end || x->b_end - x->b != y->b_end - y->b) {
        return false;
    }
    for (uint32_t i = 0; i < x->b_end - x->b; i++) {
        if (rx->key[x->b + i] != ry->key[y->b + i]) {
            return false;
        }
    }
    return true;
}

/* Does run j's pairing differ from run 1 anywhere in items [a, a_end] of run 1? */
static bool differs_within(const struct trace_diff *d, size_t j, uint32_t a, uint32_t a_end)
{
    const struct diff_pairing *p = &d->pairings[j];
    size_t lo = 0, hi = p->hunks.n;

    if (p->status != DIFF_ALIGNED) {
        return a_end >= p->prefix && a <= p->a_suffix;
    }
    /* the first hunk that ends at or after a */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (p->hunks.v[mid].a_end < a) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < p->hunks.n && p->hunks.v[lo].a <= a_end;
}

static int make_blocks(struct trace_diff *d, uint32_t join_gap)
{
    size_t total = 0, cap = 0, out = 0;

    for (size_t j = 1; j < d->n_runs; j++) {
        total += d->pairings[j].hunks.n;
    }
    cap = total ? total : 1;
    d->blocks = calloc(cap, sizeof(*d->blocks));
    if (!d->blocks) {
        return -1;
    }
    for (size_t j = 1; j < d->n_runs; j++) {
        const struct diff_hunk_list *hl = &d->pairings[j].hunks;

        for (size_t h = 0; h < hl->n;) {
            struct diff_block *blk = &d->blocks[d->n_blocks++];
            size_t e = h + 1;

            while (e < hl->n && hl->v[e].a - hl->v[e - 1].a_end <= join_gap) {
                e++;
            }
            *blk = (struct diff_block){ .run = (unsigned)j, .hunk = h, .hunk_end = e,
                                        .a = hl->v[h].a, .a_end = hl->v[e - 1].a_end,
                                        .b = hl->v[h].b, .b_end = hl->v[e - 1].b_end };
            h = e;
        }
    }
    qsort(d->blocks, d->n_blocks, sizeof(*d->blocks), cmp_blocks);
    /* Blocks of later runs identical to one already kept are that one's, seen again. */
    for (size_t i = 0; i < d->n_blocks; i++) {
        struct diff_block blk = d->blocks[i];
        bool seen = false;

        for (size_t k = 0; k < out && !seen; k++) {
            struct diff_block *kept = &d->blocks[out - 1 - k];

            if (kept->a != blk.a || kept->a_end != blk.a_end) {
                break;
            }
            if (same_block(d, kept, &blk)) {
                kept->relation[blk.run] = DIFF_REL_SAME;
                seen = true;
            }
        }
        if (seen) {
            continue;
        }
        blk.relation = calloc(d->n_runs, 1);
        if (!blk.relation) {
            d->n_blocks = out;
            return -1;
        }
        for (size_t j = 1; j < d->n_runs; j++) {
            blk.relation[j] = j == blk.run ? DIFF_REL_SAME :
                              differs_within(d, j, blk.a, blk.a_end) ? DIFF_REL_OTHER :
                              DIFF_REL_AS_FIRST;
        }
        d->blocks[out++] = blk;
    }
    d->n_blocks = out;
    return 0;
}

/* ---- summary ------------------------------------------------------------------------------ */

struct row_of_loc {
    uint32_t loc;
    unsigned bar;
    uint64_t offset;                /* the register's, or the location's without one */
    const struct regmap_reg *reg;
};

static int cmp_row_of_loc(const void *pa, const void *pb)
{
    const struct row_of_loc *a = pa, *b = pb;

    if (a->bar != b->bar) {
        return a->bar < b->bar ? -1 : 1;
    }
    if (a->offset != b->offset) {
        return a->offset < b->offset ? -1 : 1;
    }
    /* a register and a location outside every register can share an offset only when the
       register starts there: keep them apart, the register first */
    if (!a->reg != !b->reg) {
        return a->reg ? -1 : 1;
    }
    return a->loc < b->loc ? -1 : a->loc > b->loc;
}

static void cell_add_value(struct diff_summary_cell *c, uint64_t v)
{
    if (c->more_values) {
        return;
    }
    for (unsigned i = 0; i < c->n_values; i++) {
        if (c->values[i] == v) {
            return;
        }
    }
    if (c->n_values == DIFF_SUMMARY_VALUES) {
        c->more_values = true;
        return;
    }
    c->values[c->n_values++] = v;
}

static bool cell_has_value(const struct diff_summary_cell *c, uint64_t v)
{
    for (unsigned i = 0; i < c->n_values; i++) {
        if (c->values[i] == v) {
            return true;
        }
    }
    return false;
}

static bool cells_differ(const struct diff_summary_cell *x, const struct diff_summary_cell *y)
{
    if (x->reads != y->reads || x->writes != y->writes || x->n_values != y->n_values ||
        x->more_values != y->more_values) {
        return true;
    }
    for (unsigned i = 0; i < x->n_values; i++) {
        if (!cell_has_value(y, x->values[i])) {
            return true;
        }
    }
    return false;
}

static int make_summary(struct trace_diff *d)
{
    struct row_of_loc *order = calloc(d->n_locs ? d->n_locs : 1, sizeof(*order));
    uint32_t *row_of = calloc(d->n_locs ? d->n_locs : 1, sizeof(*row_of));
    size_t n_rows = 0;
    int ret = -1;

    if (!order || !row_of) {
        goto out;
    }
    for (uint32_t i = 0; i < d->n_locs; i++) {
        const struct diff_location *l = &d->locs[i];

        order[i] = (struct row_of_loc){ .loc = i, .bar = l->bar, .reg = l->reg,
                                        .offset = l->reg ? l->reg->offset : l->offset };
    }
    qsort(order, d->n_locs, sizeof(*order), cmp_row_of_loc);
    d->rows = calloc(d->n_locs ? d->n_locs : 1, sizeof(*d->rows));
    if (!d->rows) {
        goto out;
    }
    for (uint32_t i = 0; i < d->n_locs; i++) {
        const struct row_of_loc *o = &order[i];
        const struct diff_location *l = &d->locs[o->loc];
        bool same_row = n_rows && d->rows[n_rows - 1].bar == o->bar &&
                        d->rows[n_rows - 1].offset == o->offset &&
                        d->rows[n_rows - 1].reg == o->reg;

        if (l->ignored) {
            continue;
        }
        if (!same_row) {
            struct diff_summary_row *row = &d->rows[n_rows];

            row->cells = calloc(d->n_runs, sizeof(*row->cells));
            if (!row->cells) {
                goto out;
            }
            row->reg = o->reg;
            row->bar = o->bar;
            row->offset = o->offset;
            n_rows++;
            d->n_rows = n_rows;
        }
        if (l->size > d->rows[n_rows - 1].size) {
            d->rows[n_rows - 1].size = l->size;
        }
        row_of[o->loc] = (uint32_t)(n_rows - 1);
    }
    for (size_t run = 0; run < d->n_runs; run++) {
        const struct diff_run *r = &d->runs[run];

        for (size_t i = 0; i < r->n; i++) {
            const struct diff_location *l = &d->locs[r->loc[i]];
            struct diff_summary_cell *c = &d->rows[row_of[r->loc[i]]].cells[run];

            if (l->dir == REGDBG_DIR_WRITE) {
                c->writes++;
            } else {
                c->reads++;
            }
            cell_add_value(c, r->value[i] & l->mask);
        }
    }
    for (size_t i = 0; i < d->n_rows; i++) {
        for (size_t run = 1; run < d->n_runs; run++) {
            d->rows[i].differs |= cells_differ(&d->rows[i].cells[0], &d->rows[i].cells[run]);
        }
    }
    ret = 0;
out:
    free(order);
    free(row_of);
    return ret;
}

/* ---- the whole comparison ----------------------------------------------------------------- */

int trace_diff_compare(struct trace_diff *d, uint32_t join_gap)
{
    for (size_t run = 0; run < d->n_runs; run++) {
        compute_keys(d, &d->runs[run]);
    }
    for (size_t j = 1; j < d->n_runs; j++) {
        if (pair_runs(d, j) < 0) {
            return -1;
        }
    }
    if (make_blocks(d, join_gap) < 0) {
        return -1;
    }
    return make_summary(d);
}

bool trace_diff_same(const struct trace_diff *d)
{
    for (size_t j = 1; j < d->n_runs; j++) {
        if (d->pairings[j].status != DIFF_ALIGNED || d->pairings[j].hunks.n) {
            return false;
        }
    }
    return true;
}
