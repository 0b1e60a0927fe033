/*
 * Unit tests of the comparison of runs (debugger/trace_diff.c): the Myers core against a plain
 * O(NM) longest-common-subsequence table on random sequences (the edit script must be valid and
 * as short as possible), its cost on a long common prefix, its limits; then the runs: poll
 * collapsing, masks and ignores, poll notes, and which runs agree with a block.
 */
#include <stdlib.h>

#include "regdbg/abi.h"
#include "trace_diff.h"
#include "check.h"

/* A small deterministic generator, so that a failure can be replayed. */
static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* The length of a longest common subsequence, by the textbook table. */
static size_t lcs_length(const uint64_t *a, size_t n, const uint64_t *b, size_t m)
{
    size_t *row = calloc((m + 1) * 2, sizeof(*row));
    size_t *prev = row, *cur = row + m + 1, result;

    for (size_t i = 1; i <= n; i++) {
        cur[0] = 0;
        for (size_t j = 1; j <= m; j++) {
            if (a[i - 1] == b[j - 1]) {
                cur[j] = prev[j - 1] + 1;
            } else {
                cur[j] = prev[j] > cur[j - 1] ? prev[j] : cur[j - 1];
            }
        }
        size_t *t = prev;
        prev = cur;
        cur = t;
    }
    result = prev[m];
    free(row);
    return result;
}

static const struct diff_limits no_limits = { .max_edits = 1000000, .max_steps = UINT64_MAX };

/*
 * The hunks are an edit script of a and b: in order, apart, within the sequences, and every
 * item between them matched with an equal one. Returns the number of edits (items in hunks), or
 * (size_t)-1 with a failure recorded.
 */
static size_t check_script(const uint64_t *a, size_t n, const uint64_t *b, size_t m,
                           const struct diff_hunk_list *hl, const char *what)
{
    size_t x = 0, y = 0, edits = 0;

    for (size_t h = 0; h <= hl->n; h++) {
        struct diff_hunk hk = h < hl->n ? hl->v[h] :
                              (struct diff_hunk){ (uint32_t)n, (uint32_t)n, (uint32_t)m,
                                                  (uint32_t)m };

        if (hk.a < x || hk.b < y || hk.a_end < hk.a || hk.b_end < hk.b || hk.a_end > n ||
            hk.b_end > m || hk.a - x != hk.b - y) {
            CHECK(0, "%s: hunk %zu [%u,%u) [%u,%u) out of order or misaligned (at %zu,%zu)",
                  what, h, hk.a, hk.a_end, hk.b, hk.b_end, x, y);
            return (size_t)-1;
        }
        if (h < hl->n && hk.a == hk.a_end && hk.b == hk.b_end) {
            CHECK(0, "%s: empty hunk %zu", what, h);
            return (size_t)-1;
        }
        for (; x < hk.a; x++, y++) {
            if (a[x] != b[y]) {
                CHECK(0, "%s: items %zu and %zu are matched but differ", what, x, y);
                return (size_t)-1;
            }
        }
        edits += (hk.a_end - hk.a) + (hk.b_end - hk.b);
        x = hk.a_end;
        y = hk.b_end;
    }
    return edits;
}

static void random_sequence(uint64_t *v, size_t n, unsigned alphabet)
{
    for (size_t i = 0; i < n; i++) {
        v[i] = rng() % alphabet;
    }
}

/* Random pairs, from unrelated to near-identical, checked against the LCS table. */
static void test_random_sequences_have_shortest_scripts(void)
{
    uint64_t a[80], b[90];

    for (int round = 0; round < 20000 && !check_first_failure[0]; round++) {
        size_t n = rng() % 81, m;
        unsigned alphabet = 1 + (unsigned)(rng() % 6);
        struct diff_hunk_list hl = { 0 };
        enum diff_align_status st;
        char what[64];

        random_sequence(a, n, alphabet);
        if (round % 2) {
            /* b is a with a few edits: the common case of two runs of one firmware */
            m = 0;
            for (size_t i = 0; i < n && m < 88; i++) {
                unsigned dice = (unsigned)(rng() % 10);

                if (dice == 0) {
                    continue;                       /* deleted */
                }
                if (dice == 1) {
                    b[m++] = rng() % alphabet;      /* inserted before */
                }
                b[m++] = dice == 2 ? rng() % 7 : a[i];
            }
        } else {
            m = rng() % 91;
            random_sequence(b, m, alphabet);
        }
        snprintf(what, sizeof(what), "round %d (n=%zu m=%zu)", round, n, m);
        st = diff_align(a, n, b, m, &no_limits, &hl, NULL);
        CHECK(st == DIFF_ALIGNED, "%s: status %d", what, st);
        size_t edits = check_script(a, n, b, m, &hl, what);
        size_t lcs = lcs_length(a, n, b, m);
        CHECK(edits == n + m - 2 * lcs, "%s: %zu edits, the shortest script has %zu", what,
              edits, n + m - 2 * lcs);
        diff_hunk_list_free(&hl);
    }
}

static void test_edge_cases(void)
{
    static const uint64_t abc[] = { 1, 2, 3 };
    static const uint64_t xyz[] = { 7, 8, 9 };
    struct diff_hunk_list hl = { 0 };

    CHECK(diff_align(abc, 0, abc, 0, &no_limits, &hl, NULL) == DIFF_ALIGNED && hl.n == 0,
          "empty vs empty");
    CHECK(diff_align(abc, 3, abc, 3, &no_limits, &hl, NULL) == DIFF_ALIGNED && hl.n == 0,
          "identical");
    CHECK(diff_align(abc, 3, abc, 0, &no_limits, &hl, NULL) == DIFF_ALIGNED && hl.n == 1 &&
          hl.v[0].a == 0 && hl.v[0].a_end == 3 && hl.v[0].b == 0 && hl.v[0].b_end == 0,
          "all deleted: %zu hunks", hl.n);
    hl.n = 0;
    CHECK(diff_align(abc, 3, xyz, 3, &no_limits, &hl, NULL) == DIFF_ALIGNED && hl.n == 1 &&
          hl.v[0].a_end == 3 && hl.v[0].b_end == 3, "all replaced: one hunk, %zu", hl.n);
    diff_hunk_list_free(&hl);
}

/* A long common prefix (and suffix) costs one comparison per item, not per item and edit. */
static void test_long_common_prefix_is_linear(void)
{
    size_t n = 2000000;
    uint64_t *a = malloc(n * sizeof(*a)), *b = malloc((n + 1) * sizeof(*b)), steps = 0;
    struct diff_hunk_list hl = { 0 };

    for (size_t i = 0; i < n; i++) {
        a[i] = b[i] = i % 16;       /* periodic, as firmware loops are */
    }
    b[n] = 99;
    CHECK(diff_align(a, n, b, n + 1, &no_limits, &hl, &steps) == DIFF_ALIGNED && hl.n == 1 &&
          hl.v[0].a == n && hl.v[0].b == n && hl.v[0].b_end == n + 1, "one insertion at the end");
    CHECK(steps <= n + 16, "%llu steps for %zu common items", (unsigned long long)steps, n);
    /* A few scattered changes in a periodic sequence: the shortest script still. */
    hl.n = 0;
    b[n / 3] = 50;
    b[2 * n / 3] = 51;
    CHECK(diff_align(a, n, b, n + 1, &no_limits, &hl, &steps) == DIFF_ALIGNED && hl.n == 3,
          "three hunks: %zu", hl.n);
    CHECK(check_script(a, n, b, n + 1, &hl, "scattered") == 5, "5 edits");
    diff_hunk_list_free(&hl);
    free(a);
    free(b);
}

static void test_limits(void)
{
    uint64_t a[200], b[200], steps;
    struct diff_hunk_list hl = { 0 };
    struct diff_limits few = { .max_edits = 10, .max_steps = UINT64_MAX };
    struct diff_limits cheap = { .max_edits = 1000, .max_steps = 50 };

    for (int i = 0; i < 200; i++) {
        a[i] = (uint64_t)i;
        b[i] = (uint64_t)i + (i % 20 == 7 ? 1000 : 0);     /* 10 replaced: 20 edits */
    }
    CHECK(diff_align(a, 200, b, 200, &few, &hl, NULL) == DIFF_TOO_MANY_EDITS, "20 > 10 edits");
    hl.n = 0;
    few.max_edits = 20;
    CHECK(diff_align(a, 200, b, 200, &few, &hl, NULL) == DIFF_ALIGNED && hl.n == 10,
          "20 edits are within 20: %zu hunks", hl.n);
    hl.n = 0;
    CHECK(diff_align(a, 200, b, 150, &few, &hl, NULL) == DIFF_TOO_MANY_EDITS,
          "a length difference of 50 needs 50 edits");
    hl.n = 0;
    CHECK(diff_align(a, 200, b, 200, &cheap, &hl, &steps) == DIFF_TOO_MUCH_WORK,
          "50 steps are not enough");
    CHECK(steps < 1000, "the search stopped soon after its budget: %llu steps",
          (unsigned long long)steps);
    diff_hunk_list_free(&hl);
}

/* ---- runs ---------------------------------------------------------------------------------- */

static struct diff_options plain_options(void)
{
    return (struct diff_options){ .limits = { DIFF_DEFAULT_MAX_EDITS, DIFF_DEFAULT_MAX_STEPS } };
}

#define R(off, v) { 0, (off), 4, REGDBG_DIR_READ, (v) }
#define W(off, v) { 0, (off), 4, REGDBG_DIR_WRITE, (v) }
struct access { unsigned bar; uint64_t offset; unsigned size, dir; uint64_t value; };

static void add_all(struct trace_diff *d, size_t run, const struct access *v, size_t n)
{
    char err[128];

    for (size_t i = 0; i < n; i++) {
        int r = trace_diff_add(d, run, v[i].bar, v[i].offset, v[i].size, v[i].dir, v[i].value,
                               err, sizeof(err));
        CHECK(r == 0, "add: %s", err);
    }
}

static void test_polls_collapse(void)
{
    /* a poll ending on a change, a read after it, a poll without change, a write between */
    static const struct access acc[] = {
        R(0x70, 1), R(0x70, 1), R(0x70, 1), R(0x70, 6), R(0x70, 6), W(0x10, 5),
        R(0x70, 6), R(0x70, 6), R(0x34, 6),
    };
    struct diff_options opt = plain_options();
    struct trace_diff d;

    CHECK(trace_diff_init(&d, &opt, NULL, 2) == 0, "init");
    add_all(&d, 0, acc, sizeof(acc) / sizeof(acc[0]));
    const struct diff_run *r = &d.runs[0];
    CHECK(r->n == 9 && r->n_items == 5, "%zu accesses, %zu items", r->n, r->n_items);
    CHECK(r->first[0] == 0 && r->count[0] == 4, "1,1,1,6 is one poll: %u", r->count[0]);
    CHECK(r->first[1] == 4 && r->count[1] == 1, "the 6 after it is not in it");
    CHECK(r->count[3] == 2 && r->count[4] == 1, "6,6 then another register");
    trace_diff_free(&d);
}

static void test_longer_poll_is_a_note_not_a_hunk(void)
{
    static const struct access a[] = { W(0, 1), R(0x70, 6), R(0x70, 6), W(0x10, 2) };
    static const struct access b[] = { W(0, 1), R(0x70, 6), R(0x70, 6), R(0x70, 6), R(0x70, 6),
                                       W(0x10, 2) };
    /* one run's poll ended at once, the other waited on another value */
    static const struct access c[] = { W(0, 1), R(0x70, 1), R(0x70, 6), W(0x10, 2) };
    struct diff_options opt = plain_options();
    struct trace_diff d;

    CHECK(trace_diff_init(&d, &opt, NULL, 3) == 0, "init");
    add_all(&d, 0, a, 4);
    add_all(&d, 1, b, 6);
    add_all(&d, 2, c, 4);
    CHECK(trace_diff_compare(&d, 6) == 0, "compare");
    CHECK(trace_diff_same(&d), "polls of other lengths are the same run");
    CHECK(d.n_blocks == 0, "%zu blocks", d.n_blocks);
    CHECK(d.pairings[1].n_notes == 1 && d.pairings[1].notes[0].polls == 1 &&
          d.pairings[1].notes[0].a_item == 1 && d.pairings[1].notes[0].b_item == 1,
          "one note for run 2: %zu", d.pairings[1].n_notes);
    CHECK(d.pairings[2].n_notes == 1, "a poll that ended at once is a note: %zu",
          d.pairings[2].n_notes);
    trace_diff_free(&d);
}

static void test_mask_and_ignore(void)
{
    static const struct access a[] = { W(0, 0x63), W(4, 0x50), R(0x70, 6) };
    static const struct access b[] = { W(0, 0x65), W(4, 0x50), R(0x70, 6) };
    struct diff_mask speed_hidden = { { 0, 0, 4 }, ~0x6ull };
    struct diff_range ignore_con = { 0, 0, 4 };
    struct diff_options opt = plain_options();
    struct trace_diff d;

    CHECK(trace_diff_init(&d, &opt, NULL, 2) == 0, "init");
    add_all(&d, 0, a, 3);
    add_all(&d, 1, b, 3);
    CHECK(trace_diff_compare(&d, 6) == 0 && !trace_diff_same(&d) && d.n_blocks == 1 &&
          d.blocks[0].a == 0 && d.blocks[0].a_end == 1, "0x63 vs 0x65 is one block");
    trace_diff_free(&d);

    opt.masks = &speed_hidden;
    opt.n_masks = 1;
    CHECK(trace_diff_init(&d, &opt, NULL, 2) == 0, "init");
    add_all(&d, 0, a, 3);
    add_all(&d, 1, b, 3);
    CHECK(trace_diff_compare(&d, 6) == 0 && trace_diff_same(&d), "bits 1-2 masked off");
    trace_diff_free(&d);

    opt = plain_options();
    opt.ignore = &ignore_con;
    opt.n_ignore = 1;
    CHECK(trace_diff_init(&d, &opt, NULL, 2) == 0, "init");
    add_all(&d, 0, a, 3);
    add_all(&d, 1, b, 3);
    CHECK(trace_diff_compare(&d, 6) == 0 && trace_diff_same(&d), "offset 0 ignored");
    CHECK(d.runs[0].n == 2 && d.runs[0].in_file == 3 && diff_run_file_pos(&d.runs[0], 0) == 2,
          "the kept accesses keep their numbers in the file");
    trace_diff_free(&d);

    /* an access dropped after others: those before it keep their numbers too */
    ignore_con = (struct diff_range){ 0, 4, 5 };
    CHECK(trace_diff_init(&d, &opt, NULL, 2) == 0, "init");
    add_all(&d, 0, a, 3);
    CHECK(d.runs[0].n == 2 && diff_run_file_pos(&d.runs[0], 0) == 1 &&
          diff_run_file_pos(&d.runs[0], 1) == 3, "numbers 1 and 3: %llu %llu",
          (unsigned long long)diff_run_file_pos(&d.runs[0], 0),
          (unsigned long long)diff_run_file_pos(&d.runs[0], 1));
    trace_diff_free(&d);
}

static void test_which_runs_agree(void)
{
    static const struct access a[] = { W(0, 1), W(4, 2), W(8, 3), W(12, 4) };
    static const struct access b[] = { W(0, 1), W(4, 9), W(8, 3), W(12, 4) };
    struct diff_options opt = plain_options();
    struct trace_diff d;

    CHECK(trace_diff_init(&d, &opt, NULL, 4) == 0, "init");
    add_all(&d, 0, a, 4);
    add_all(&d, 1, b, 4);      /* differs at 1 */
    add_all(&d, 2, a, 4);      /* agrees with run 1 */
    add_all(&d, 3, b, 4);      /* differs as run 2 does */
    CHECK(trace_diff_compare(&d, 6) == 0, "compare");
    CHECK(d.n_blocks == 1, "runs 2 and 4 share one block: %zu", d.n_blocks);
    CHECK(d.blocks[0].run == 1 && d.blocks[0].relation[1] == DIFF_REL_SAME &&
          d.blocks[0].relation[2] == DIFF_REL_AS_FIRST &&
          d.blocks[0].relation[3] == DIFF_REL_SAME, "relations %d %d %d",
          d.blocks[0].relation[1], d.blocks[0].relation[2], d.blocks[0].relation[3]);
    trace_diff_free(&d);
}

int main(void)
{
    RUN_TEST(test_random_sequences_have_shortest_scripts);
    RUN_TEST(test_edge_cases);
    RUN_TEST(test_long_common_prefix_is_linear);
    RUN_TEST(test_limits);
    RUN_TEST(test_polls_collapse);
    RUN_TEST(test_longer_poll_is_a_note_not_a_hunk);
    RUN_TEST(test_mask_and_ignore);
    RUN_TEST(test_which_runs_agree);
    return TEST_SUMMARY();
}
