/*
 * Big traces for the `regdbg diff` benchmark (`make bench`, tests/bench/bench.py): a DesignWare
 * I2C driver's loop, as the test guest's i2c mode makes it, with polls of varying length and
 * varying data, written by the library's own trace writer, whole loops until there are at least
 * ACCESSES accesses (so that runs end alike). The same ACCESSES give the same run; DIFFERENCES > 0
 * plants that many differences at evenly spread places, in turn: a target address written
 * otherwise, a write inserted, a read left out, a poll that runs longer (a note, not a hunk) and a
 * data byte read otherwise.
 *
 * usage: trace_gen OUT.trace ACCESSES [DIFFERENCES]
 * prints: trace_gen accesses=N differences=D file=OUT.trace
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_file.h"

struct gen {
    struct trace_writer *w;
    struct regdbg_trace_record rec;
    uint64_t limit;
    char err[512];
};

static int emit(struct gen *g, unsigned dir, uint64_t offset, uint64_t value)
{
    g->rec.dir = (uint8_t)dir;
    g->rec.offset = offset;
    g->rec.value = g->rec.orig_value = value;
    g->rec.t_ns += 700;
    if (trace_writer_add(g->w, &g->rec, g->err, sizeof(g->err)) < 0) {
        return -1;
    }
    g->rec.seq++;
    return 0;
}

/* splitmix64 of the loop number: every run draws the same numbers for the same loop. */
static uint64_t draw(uint64_t loop, uint64_t what)
{
    uint64_t z = loop * 0x9e3779b97f4a7c15ull + what * 0xbf58476d1ce4e5b9ull;

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

enum { DIFF_TARGET, DIFF_INSERT, DIFF_DELETE, DIFF_LONGER_POLL, DIFF_DATA, DIFF_KINDS };

/* One loop of the driver; planted is the difference to make in it, or -1. */
static int driver_loop(struct gen *g, uint64_t i, int planted)
{
    unsigned busy = 1 + (unsigned)(draw(i, 1) % 4), waits = (unsigned)(draw(i, 2) % 6);
    int bad = 0;

    if (planted == DIFF_LONGER_POLL) {
        waits += 5;
    }
    bad |= emit(g, 0, 0xfc, 0x44570140);                    /* IC_COMP_TYPE */
    bad |= emit(g, 1, 0x6c, 0);                             /* IC_ENABLE = 0 */
    for (unsigned k = 0; k < busy; k++) {                   /* IC_ENABLE_STATUS until 0 */
        bad |= emit(g, 0, 0x9c, k + 1 < busy ? 1 : 0);
    }
    bad |= emit(g, 1, 0x00, 0x63);                          /* IC_CON */
    bad |= emit(g, 1, 0x04, planted == DIFF_TARGET ? 0x51 : 0x50);     /* IC_TAR */
    bad |= emit(g, 1, 0x14, 0x190);
    bad |= emit(g, 1, 0x18, 0x1d6);
    if (planted == DIFF_INSERT) {
        bad |= emit(g, 1, 0x38, 1);                         /* IC_RX_TL */
    }
    bad |= emit(g, 1, 0x30, 0);                             /* IC_INTR_MASK */
    bad |= emit(g, 1, 0x6c, 1);
    bad |= emit(g, 1, 0x10, i & 0xff);                      /* IC_DATA_CMD: write a byte */
    bad |= emit(g, 1, 0x10, 0x300);                         /* ... read one, STOP */
    for (unsigned k = 0; k <= waits; k++) {                 /* IC_STATUS until TFE */
        bad |= emit(g, 0, 0x70, k < waits ? 0x2 : 0x6);
    }
    bad |= emit(g, 0, 0x34, 0x4);                           /* IC_RAW_INTR_STAT */
    bad |= emit(g, 0, 0x10, (draw(i, 3) & 0xff) ^ (planted == DIFF_DATA ? 0x80 : 0));
    if (planted != DIFF_DELETE) {
        bad |= emit(g, 0, 0x40, 0);                         /* IC_CLR_INTR */
    }
    bad |= emit(g, 1, 0x6c, 0);
    return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
    struct regdbg_shm_header sh;
    struct regdbg_trace_header th;
    struct gen g = { 0 };
    uint64_t differences = 0, loops, next = 0;
    char *end;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: trace_gen OUT.trace ACCESSES [DIFFERENCES]\n");
        return 2;
    }
    g.limit = strtoull(argv[2], &end, 10);
    if (*end || g.limit == 0 || (argc == 4 && (differences = strtoull(argv[3], &end, 10), *end))) {
        fprintf(stderr, "trace_gen: ACCESSES and DIFFERENCES are decimal numbers, ACCESSES > 0\n");
        return 2;
    }
    memset(&sh, 0, sizeof(sh));
    snprintf(sh.dev_id, sizeof(sh.dev_id), "i2c0");
    sh.vendor_id = 0x8086;
    sh.device_id = 0x0f41;
    sh.class_code = 0x0c8000;
    sh.bars[0].size = 4096;
    sh.bars[0].type = REGDBG_BAR_MEM32;
    trace_header_from_shm(&th, &sh);
    th.start_monotonic_ns = 1000;
    g.w = trace_writer_open(argv[1], &th, g.err, sizeof(g.err));
    if (!g.w) {
        fprintf(stderr, "trace_gen: %s\n", g.err);
        return 1;
    }
    g.rec = (struct regdbg_trace_record){ .kind = REGDBG_REC_ACCESS, .cpu = 0, .size = 4,
                                          .rule = REGDBG_RULE_NONE, .t_ns = 1000 };
    loops = g.limit / 22 + 1;       /* a loop makes about 22 accesses */
    for (uint64_t i = 0; g.rec.seq < g.limit; i++) {
        int planted = -1;

        /* difference k in loop (k + 1) * loops / (differences + 1) */
        if (next < differences && i == (next + 1) * loops / (differences + 1)) {
            planted = (int)(next++ % DIFF_KINDS);
        }
        if (driver_loop(&g, i, planted) < 0) {
            fprintf(stderr, "trace_gen: %s\n", g.err);
            trace_writer_close(g.w, g.err, sizeof(g.err));
            return 1;
        }
    }
    g.limit = g.rec.seq;
    g.rec = (struct regdbg_trace_record){ .kind = REGDBG_REC_END, .value = g.limit,
                                          .t_ns = g.rec.t_ns };
    if (trace_writer_add(g.w, &g.rec, g.err, sizeof(g.err)) < 0 ||
        trace_writer_close(g.w, g.err, sizeof(g.err)) < 0) {
        fprintf(stderr, "trace_gen: %s\n", g.err);
        return 1;
    }
    printf("trace_gen accesses=%" PRIu64 " differences=%" PRIu64 " file=%s\n", g.limit, next,
           argv[1]);
    return 0;
}
