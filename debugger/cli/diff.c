/*
 * `regdbg diff`: compare the register accesses of recorded runs (docs/diff.md). Options, reading
 * the trace files into the comparison of debugger/trace_diff.c, and its report as text or JSON.
 * Exit status as diff(1): 0 the runs agree, 1 they differ, 2 trouble.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli.h"
#include "rules_parse.h"
#include "session.h"
#include "trace_diff.h"
#include "symbols.h"
#include "trace_file.h"
#include "tui.h"

#define DIFF_SAME 0
#define DIFF_DIFFERENT 1
#define DIFF_TROUBLE 2

#define DEFAULT_CONTEXT 3
#define MAX_CONTEXT 100000

const char diff_usage[] =
    "usage: regdbg diff A.trace B.trace [C.trace ...] [OPTIONS]\n"
    "\n"
    "Compare the register accesses of recorded runs of one device: each run is aligned with the\n"
    "first (a shortest edit script over the accesses, poll loops collapsed), and the report\n"
    "gives the first divergence with the accesses before it, every later hunk in the style of a\n"
    "unified diff, notes on polls that differ only in length, and per register the reads and\n"
    "writes of each run with the values seen. Timestamps and interrupt events are never\n"
    "compared (where an interrupt falls between accesses is timing; the header counts them).\n"
    "Lines: '-' run 1, '+' the other run, ' ' both; the number is the access's position among\n"
    "its file's accesses (as in `regdbg dump`, its interrupt lines left out), 'x37' a poll of\n"
    "37 reads. docs/diff.md describes it all.\n"
    "\n"
    "  --context N         accesses shown before and after each hunk (default 3)\n"
    "  --ignore REG|barN+OFF   drop the accesses that touch that register or byte before\n"
    "                      comparing (repeatable)\n"
    "  --mask REG=MASK     compare only those bits of the register's values (repeatable;\n"
    "                      barN+OFF=MASK too)\n"
    "  --writes            compare the writes only\n"
    "  --dev ID            the device the traces must be of (a trace holds one device)\n"
    "  --map FILE          a register map to add to the shipped ones (a file or a folder)\n"
    "  --format F          text (default) or json (one object; schema in docs/diff.md)\n"
    "  --tui               the runs side by side in the debugger's look instead of a report:\n"
    "                      run 1 and another (Tab: the next), register names and fields, n and\n"
    "                      N (or ] and [) to the next and previous divergence, ? help, q quits\n"
    "                      (exit status 0; 2 as ever for trouble)\n"
    "  --max-edits N       give up aligning a run that needs more than N inserted and deleted\n"
    "                      items (default 10000), and report where it parts from the first\n"
    CLI_SYMBOLS_HELP
    "                      (the report's accesses name the code that made them; PCs are never\n"
    "                      compared)\n"
    "\n"
    "exit status: 0 the runs agree (polls of other lengths aside), 1 they differ, 2 trouble\n"
    "(an unreadable or damaged trace, traces of different devices, a usage error)\n"
    "\n"
    "examples:\n"
    "  regdbg diff good.trace bad.trace\n"
    "  regdbg diff fw1.trace fw2.trace fw3.trace --ignore IC_STATUS --mask IC_CON=0x61\n";

struct diff_args {
    const char **files;
    size_t n_files;
    const char **ignore_specs, **mask_specs;
    size_t n_ignore, n_masks;
    char **maps;
    int n_maps;
    const char *dev;
    bool writes_only, json, tui;
    uint32_t context;
    uint64_t max_edits;
    const char *sym_specs[CLI_MAX_SYMBOLS];
    int n_syms;
};

/* What the report says of each run besides its accesses. */
struct run_info {
    const char *path;
    struct regdbg_trace_header hdr;
    uint64_t dropped_events;        /* from drop markers */
    uint64_t irq_events;            /* interrupt events: read, not compared (docs/diff.md) */
    bool ended;                     /* it has an end record */
    /* with --symbols: the PC of each access, by its number in the file less one */
    uint64_t *pc;
    uint16_t *pc_flags;             /* REGDBG_EV_PC and REGDBG_EV_PC_AFTER, 0 for none */
    size_t n_pcs, pcs_cap;
};

/* With --symbols, the report's accesses name their code: the set and the runs' PCs. */
static struct {
    const struct symbols *syms;
    const struct run_info *info;
} code_names;

/* ---- arguments ---------------------------------------------------------------------------- */

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "regdbg diff: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "; try 'regdbg diff --help'\n");
    return DIFF_TROUBLE;
}

static int parse_count(const char *text, uint64_t max, uint64_t *out)
{
    return rules_parse_number(text, strlen(text), out) == RULES_NUMBER_OK && *out <= max ? 0 : -1;
}

/* 0, 1 when --help was given, or DIFF_TROUBLE after saying what is wrong. */
static int parse_args(int argc, char **argv, struct diff_args *a)
{
    static const struct option opts[] = {
        { "context", required_argument, NULL, 'C' },
        { "ignore", required_argument, NULL, 'i' },
        { "mask", required_argument, NULL, 'M' },
        { "writes", no_argument, NULL, 'w' },
        { "dev", required_argument, NULL, 'd' },
        { "map", required_argument, NULL, 'm' },
        { "format", required_argument, NULL, 'F' },
        { "max-edits", required_argument, NULL, 'E' },
        { "tui", no_argument, NULL, 'T' },
        { "symbols", required_argument, NULL, CLI_SYMBOLS },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    uint64_t n;
    int opt;

    memset(a, 0, sizeof(*a));
    a->context = DEFAULT_CONTEXT;
    a->max_edits = DIFF_DEFAULT_MAX_EDITS;
    /* Every repeatable option fits in argc entries. */
    a->ignore_specs = calloc((size_t)argc, sizeof(*a->ignore_specs));
    a->mask_specs = calloc((size_t)argc, sizeof(*a->mask_specs));
    a->maps = calloc((size_t)argc, sizeof(*a->maps));
    a->files = calloc((size_t)argc, sizeof(*a->files));
    if (!a->ignore_specs || !a->mask_specs || !a->maps || !a->files) {
        fprintf(stderr, "regdbg diff: out of memory\n");
        return DIFF_TROUBLE;
    }
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'C':
            if (parse_count(optarg, MAX_CONTEXT, &n) < 0) {
                return usage_error("--context %s: expected a number of accesses, 0 to 100000",
                                   optarg);
            }
            a->context = (uint32_t)n;
            break;
        case 'i': a->ignore_specs[a->n_ignore++] = optarg; break;
        case 'M': a->mask_specs[a->n_masks++] = optarg; break;
        case 'w': a->writes_only = true; break;
        case 'T': a->tui = true; break;
        case 'd': a->dev = optarg; break;
        case 'm': a->maps[a->n_maps++] = optarg; break;
        case 'F':
            if (strcmp(optarg, "text") != 0 && strcmp(optarg, "json") != 0) {
                return usage_error("--format %s: expected text or json", optarg);
            }
            a->json = optarg[0] == 'j';
            break;
        case 'E':
            /* The search keeps 24 bytes per allowed edit: a billion is 24 GB, too many. */
            if (parse_count(optarg, 100000000, &n) < 0) {
                return usage_error("--max-edits %s: expected a number, 0 to 100000000", optarg);
            }
            a->max_edits = n;
            break;
        case CLI_SYMBOLS:
            if (cli_symbols_option("diff", a->sym_specs, &a->n_syms, optarg)) {
                return DIFF_TROUBLE;
            }
            break;
        case 'h':
            fputs(diff_usage, stdout);
            return 1;
        default:
            cli_bad_option("diff", argc, argv, opts, "h");
            return DIFF_TROUBLE;
        }
    }
    for (int i = optind; i < argc; i++) {
        a->files[a->n_files++] = argv[i];
    }
    if (a->n_files < 2) {
        return usage_error("%s", a->n_files ? "give at least two trace files to compare"
                                            : "give the trace files to compare (two or more)");
    }
    if (a->tui && a->json) {
        return usage_error("%s", "--tui and --format json: one or the other");
    }
    return 0;
}

/* ---- places: REG or barN+OFF -------------------------------------------------------------- */

static void suggest_register(const struct regmap *map, const char *name, char *hint, size_t len)
{
    const char **names = calloc(map->n_regs ? map->n_regs : 1, sizeof(*names));
    const char *best;

    hint[0] = '\0';
    if (!names) {
        return;
    }
    for (size_t i = 0; i < map->n_regs; i++) {
        names[i] = map->regs[i].name;
    }
    best = rules_closest_name(name, names, map->n_regs);
    if (best) {
        snprintf(hint, len, "; did you mean %s?", best);
    }
    free(names);
}

/*
 * The place of a --ignore or --mask target: a register of the map, or "barN+OFF" (the byte at
 * OFF). 0, or -1 after printing what is wrong (option names the option for the message).
 */
static int parse_place(const char *option, const char *text, size_t len,
                       const struct regmap *map, const struct regdbg_trace_header *hdr,
                       struct diff_range *out)
{
    char name[128];

    if (len == 0 || len >= sizeof(name)) {
        fprintf(stderr, "regdbg diff: %s %.*s: expected a register name or barN+OFFSET; try "
                "'regdbg diff --help'\n", option, (int)len, text);
        return -1;
    }
    memcpy(name, text, len);
    name[len] = '\0';
    if (len > 4 && strncmp(name, "bar", 3) == 0 && name[3] >= '0' && name[3] <= '9' &&
        name[4] == '+') {
        unsigned bar = (unsigned)(name[3] - '0');
        uint64_t off;

        if (rules_parse_number(name + 5, len - 5, &off) != RULES_NUMBER_OK) {
            fprintf(stderr, "regdbg diff: %s %s: the offset after '+' must be a number (0x10 or "
                    "16); try 'regdbg diff --help'\n", option, name);
            return -1;
        }
        if (bar >= REGDBG_NUM_BARS || hdr->bars[bar].size == 0) {
            fprintf(stderr, "regdbg diff: %s %s: the device (%04x:%04x) has no BAR %u\n",
                    option, name, hdr->vendor_id, hdr->device_id, bar);
            return -1;
        }
        if (off >= hdr->bars[bar].size) {
            fprintf(stderr, "regdbg diff: %s %s: offset 0x%" PRIx64 " is past the end of BAR %u "
                    "(0x%" PRIx64 " bytes)\n", option, name, off, bar, hdr->bars[bar].size);
            return -1;
        }
        *out = (struct diff_range){ bar, off, off + 1 };
        return 0;
    }
    if (!map) {
        fprintf(stderr, "regdbg diff: %s %s: no register map for the device %04x:%04x, so no "
                "register names; give --map FILE, or the place as barN+OFFSET\n", option, name,
                hdr->vendor_id, hdr->device_id);
        return -1;
    }
    const struct regmap_reg *reg = regmap_find_name(map, name);
    if (!reg) {
        char hint[160];

        suggest_register(map, name, hint, sizeof(hint));
        fprintf(stderr, "regdbg diff: %s %s: no register %s in the map \"%s\" (%s)%s\n", option,
                name, name, map->name, map->path, hint);
        return -1;
    }
    *out = (struct diff_range){ reg->bar, reg->offset, reg->offset + reg->width };
    return 0;
}

static int parse_mask(const char *spec, const struct regmap *map,
                      const struct regdbg_trace_header *hdr, struct diff_mask *out)
{
    const char *eq = strrchr(spec, '=');

    if (!eq) {
        fprintf(stderr, "regdbg diff: --mask %s: expected REG=MASK (the bits to compare, e.g. "
                "IC_CON=0x61); try 'regdbg diff --help'\n", spec);
        return -1;
    }
    if (parse_place("--mask", spec, (size_t)(eq - spec), map, hdr, &out->where) < 0) {
        return -1;
    }
    if (rules_parse_number(eq + 1, strlen(eq + 1), &out->mask) != RULES_NUMBER_OK) {
        fprintf(stderr, "regdbg diff: --mask %s: the mask after '=' must be a number (0x61 or "
                "97); try 'regdbg diff --help'\n", spec);
        return -1;
    }
    return 0;
}

/* ---- reading ------------------------------------------------------------------------------ */

static int open_traces(const struct diff_args *a, struct trace_reader **readers,
                       struct run_info *info)
{
    char err[512];

    for (size_t i = 0; i < a->n_files; i++) {
        readers[i] = trace_reader_open(a->files[i], err, sizeof(err));
        if (!readers[i]) {
            fprintf(stderr, "regdbg diff: %s\n", err);
            return -1;
        }
        info[i].path = a->files[i];
        info[i].hdr = *trace_reader_header(readers[i]);
    }
    for (size_t i = 0; i < a->n_files; i++) {
        const struct regdbg_trace_header *h = &info[i].hdr, *h0 = &info[0].hdr;
        char id[4 * REGDBG_DEV_ID_LEN + 1], id0[4 * REGDBG_DEV_ID_LEN + 1];

        cli_escape_name(h->dev_id, id, sizeof(id));
        cli_escape_name(h0->dev_id, id0, sizeof(id0));
        if (a->dev && strcmp(h->dev_id, a->dev) != 0) {
            fprintf(stderr, "regdbg diff: %s records device \"%s\", not \"%s\" (--dev); a trace "
                    "holds one device: give the traces of %s\n", info[i].path, id, a->dev,
                    a->dev);
            return -1;
        }
        if (h->vendor_id != h0->vendor_id || h->device_id != h0->device_id) {
            fprintf(stderr, "regdbg diff: %s is of device %04x:%04x (\"%s\") but %s of %04x:%04x "
                    "(\"%s\"): diff compares runs of one device\n", info[0].path,
                    h0->vendor_id, h0->device_id, id0, info[i].path, h->vendor_id,
                    h->device_id, id);
            return -1;
        }
    }
    return 0;
}

/* Every access of run's file into the comparison. 0, or -1 after saying which file and where
   the damage is. */
/* Keep an access's PC, by its number in the file (the report names accesses by it) */
static int keep_pc(struct run_info *info, const struct regdbg_trace_record *rec)
{
    if (info->n_pcs == info->pcs_cap) {
        size_t cap = info->pcs_cap ? 2 * info->pcs_cap : 4096;
        uint64_t *pc = realloc(info->pc, cap * sizeof(*pc));
        uint16_t *flags;

        if (!pc) {
            return -1;
        }
        info->pc = pc;
        flags = realloc(info->pc_flags, cap * sizeof(*flags));
        if (!flags) {
            return -1;
        }
        info->pc_flags = flags;
        info->pcs_cap = cap;
    }
    info->pc[info->n_pcs] = rec->guest_pc;
    info->pc_flags[info->n_pcs++] = rec->flags & (REGDBG_EV_PC | REGDBG_EV_PC_AFTER);
    return 0;
}

/* "guest_main+0x4b" for access number `access` of run, or "" (no --symbols, no PC) */
static void code_text(size_t run, uint64_t access, char *buf, size_t len)
{
    const struct run_info *info = code_names.info ? &code_names.info[run] : NULL;
    uint16_t flags;

    buf[0] = '\0';
    if (!code_names.syms || !info || access == 0 || access > info->n_pcs) {
        return;
    }
    flags = info->pc_flags[access - 1];
    if (flags & REGDBG_EV_PC) {
        char name[256];

        symbols_format(code_names.syms, info->pc[access - 1], flags & REGDBG_EV_PC_AFTER, false,
                       name, sizeof(name));
        cli_escape_name(name, buf, len);
    }
}

static int read_run(struct trace_diff *d, size_t run, struct trace_reader *r,
                    struct run_info *info)
{
    struct regdbg_trace_record rec;
    struct stat st;
    char err[512];

    /* Every record takes at least 32 bytes: reserve for the most the file can hold, once. */
    if (stat(info->path, &st) == 0 && st.st_size > REGDBG_TRACE_HEADER_SIZE &&
        trace_diff_reserve(d, run, (size_t)(st.st_size - REGDBG_TRACE_HEADER_SIZE) / 32) < 0) {
        fprintf(stderr, "regdbg diff: out of memory for the accesses of %s\n", info->path);
        return -1;
    }
    for (;;) {
        enum trace_read_status status = trace_reader_next(r, &rec, err, sizeof(err));

        if (status == TRACE_EOF) {
            break;
        }
        if (status != TRACE_RECORD) {
            fprintf(stderr, "regdbg diff: %s\n", err);
            return -1;
        }
        if (rec.kind == REGDBG_REC_ACCESS && rec.dir == REGDBG_DIR_DMA) {
            continue;           /* a DMA event, no register access: not compared */
        }
        if (rec.kind == REGDBG_REC_ACCESS && rec.dir == REGDBG_DIR_IRQ) {
            info->irq_events++;     /* where they fall between accesses is timing */
        } else if (rec.kind == REGDBG_REC_ACCESS) {
            if (code_names.syms && keep_pc(info, &rec) < 0) {
                fprintf(stderr, "regdbg diff: out of memory for the PCs of %s\n", info->path);
                return -1;
            }
            if (trace_diff_add(d, run, rec.bar, rec.offset, rec.size, rec.dir, rec.value, err,
                               sizeof(err)) < 0) {
                fprintf(stderr, "regdbg diff: %s: %s\n", info->path, err);
                return -1;
            }
        } else if (rec.kind == REGDBG_REC_DROP) {
            info->dropped_events += rec.value;
        } else if (rec.kind == REGDBG_REC_END) {
            info->ended = true;
        }
    }
    if (!info->ended) {
        fprintf(stderr, "regdbg diff: note: %s has no end record; the recording was interrupted "
                "or is still running\n", info->path);
    }
    return 0;
}

/* ---- describing items --------------------------------------------------------------------- */

struct item_view {
    const struct diff_location *loc;
    uint64_t access;                /* number in its file */
    uint32_t count;
    uint64_t first_value, value;    /* value: the last */
};

static struct item_view view_item(const struct trace_diff *d, size_t run, uint32_t item)
{
    const struct diff_run *r = &d->runs[run];
    uint32_t first = r->first[item], last = first + r->count[item] - 1;

    return (struct item_view){ .loc = &d->locs[r->loc[first]],
                               .access = diff_run_file_pos(r, first), .count = r->count[item],
                               .first_value = r->value[first], .value = r->value[last] };
}

/* The number in its file of item of run; for the item past the last, the access after the
   file's last (where an insertion at the end goes). */
static uint64_t item_access(const struct trace_diff *d, size_t run, uint32_t item)
{
    const struct diff_run *r = &d->runs[run];

    return item < r->n_items ? diff_run_file_pos(r, r->first[item]) : r->in_file + 1;
}

/* "IC_CON", "IC_CON+1" for an access inside it, or "bar0+0x0010". */
static void where_text(const struct diff_location *l, char *buf, size_t len)
{
    if (l->reg) {
        snprintf(buf, len, "%s", l->reg->name);
        if (l->offset != l->reg->offset || l->size != l->reg->width) {
            size_t n = strlen(buf);

            snprintf(buf + n, len - n, "+%" PRIu64, l->offset - l->reg->offset);
        }
    } else {
        snprintf(buf, len, "bar%u+0x%04" PRIx64, l->bar, l->offset);
    }
}

static void fields_text(const struct diff_location *l, uint64_t value, char *buf, size_t len)
{
    buf[0] = '\0';
    if (l->reg) {
        regmap_decode(l->reg, l->offset, l->size, value, buf, len);
    }
}

static const char *dir_name(const struct diff_location *l)
{
    return l->dir == REGDBG_DIR_WRITE ? "written" : "read";
}

/* One line of a hunk: "-     1234 W4 IC_CON ← 0x00000063  MASTER=1 SPEED=fast ...". */
static void print_item(const struct trace_diff *d, char op, size_t run, uint32_t item)
{
    struct item_view v = view_item(d, run, item);
    char where[96], fields[512], code[1024];
    int digits = v.loc->size * 2;

    where_text(v.loc, where, sizeof(where));
    if (v.count > 1) {
        size_t n = strlen(where);

        snprintf(where + n, sizeof(where) - n, " ×%" PRIu32, v.count);
    }
    fields_text(v.loc, v.value, fields, sizeof(fields));
    /* "×" is two bytes and one column: pad by columns */
    printf("%c %8" PRIu64 " %c%u %-*s %s 0x%0*" PRIx64, op, v.access,
           v.loc->dir == REGDBG_DIR_WRITE ? 'W' : 'R', v.loc->size,
           (int)(24 + (v.count > 1 ? 1 : 0)), where, v.loc->dir == REGDBG_DIR_WRITE ? "←" : "→",
           digits, v.value);
    if (v.first_value != v.value) {
        printf(" (0x%0*" PRIx64 " until the last)", digits, v.first_value);
    }
    if (fields[0]) {
        printf("  %s", fields);
    }
    code_text(run, v.access, code, sizeof(code));
    if (code[0]) {
        printf("  [%s]", code);
    }
    putchar('\n');
}

/*
 * The fields whose values differ between two decodings ("A=1 B=fast" and "A=1 B=slow" give
 * "B: fast vs slow"), into buf; "" when the decodings are alike or absent.
 */
static void field_changes(const char *x, const char *y, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    while (*x) {
        size_t tok = strcspn(x, " "), name = strcspn(x, "=");
        const char *p = y;

        if (name < tok) {
            while (*p) {
                size_t ptok = strcspn(p, " ");

                if (strncmp(p, x, name + 1) == 0) {
                    if (ptok != tok || strncmp(p, x, tok) != 0) {
                        int n = snprintf(buf + used, len - used, "%s%.*s: %.*s vs %.*s",
                                         used ? ", " : "", (int)name, x,
                                         (int)(tok - name - 1), x + name + 1,
                                         (int)(ptok - name - 1), p + name + 1);

                        if (n < 0 || (size_t)n >= len - used) {
                            return;
                        }
                        used += (size_t)n;
                    }
                    break;
                }
                p += ptok;
                p += strspn(p, " ");
            }
        }
        x += tok;
        x += strspn(x, " ");
    }
}

/* ---- text report -------------------------------------------------------------------------- */

static void list_runs(const uint8_t *relation, size_t n_runs, enum diff_relation want,
                      char *buf, size_t len)
{
    size_t used = 0, count = 0;

    buf[0] = '\0';
    for (size_t j = 1; j < n_runs; j++) {
        if (relation[j] == want) {
            count++;
        }
    }
    for (size_t j = 1; j < n_runs; j++) {
        if (relation[j] == want) {
            int n = snprintf(buf + used, len - used, "%s%zu", used ? ", " :
                             count > 1 ? "runs " : "run ", j + 1);

            if (n < 0 || (size_t)n >= len - used) {
                return;
            }
            used += (size_t)n;
        }
    }
}

/* The line that says what differs first: register, values, and the fields that differ. */
static void print_first_divergence(const struct trace_diff *d, const struct diff_block *blk)
{
    const struct diff_hunk *hk = &d->pairings[blk->run].hunks.v[blk->hunk];
    size_t j = blk->run;
    char where_a[96], where_b[96], fa[512], fb[512], changes[512];

    printf("first divergence: ");
    if (hk->a == hk->a_end || hk->b == hk->b_end) {
        bool extra = hk->a == hk->a_end;
        struct item_view v = view_item(d, extra ? j : 0, extra ? hk->b : hk->a);
        size_t n = extra ? hk->b_end - hk->b : hk->a_end - hk->a;

        where_text(v.loc, where_a, sizeof(where_a));
        printf("access %" PRIu64 " (run 1) / %" PRIu64 " (run %zu): run %zu %s %zu access%s%s, "
               "from %s %s 0x%0*" PRIx64 "\n", item_access(d, 0, hk->a),
               item_access(d, j, hk->b), j + 1, j + 1, extra ? "makes" : "lacks", n,
               n > 1 ? "es" : "", extra ? " more" : " of run 1", where_a, dir_name(v.loc),
               v.loc->size * 2, v.value);
        return;
    }
    struct item_view va = view_item(d, 0, hk->a), vb = view_item(d, j, hk->b);

    where_text(va.loc, where_a, sizeof(where_a));
    where_text(vb.loc, where_b, sizeof(where_b));
    printf("access %" PRIu64 " (run 1) / %" PRIu64 " (run %zu): ", va.access, vb.access, j + 1);
    if (va.loc != vb.loc) {
        printf("run 1 %s %s where run %zu %s %s\n",
               va.loc->dir == REGDBG_DIR_WRITE ? "writes" : "reads", where_a, j + 1,
               vb.loc->dir == REGDBG_DIR_WRITE ? "writes" : "reads", where_b);
        return;
    }
    printf("%s %s 0x%0*" PRIx64 " in run 1, 0x%0*" PRIx64 " in run %zu", where_a,
           dir_name(va.loc), va.loc->size * 2, va.value, vb.loc->size * 2, vb.value, j + 1);
    if (va.value == vb.value && va.first_value != vb.first_value) {
        printf(" (after 0x%0*" PRIx64 " vs 0x%0*" PRIx64 ")", va.loc->size * 2, va.first_value,
               vb.loc->size * 2, vb.first_value);
    }
    fields_text(va.loc, va.value, fa, sizeof(fa));
    fields_text(vb.loc, vb.value, fb, sizeof(fb));
    field_changes(fa, fb, changes, sizeof(changes));
    if (changes[0]) {
        printf("; %s", changes);
    }
    putchar('\n');
}

/* Items [from, to) of run 1, as context. */
static void print_context(const struct trace_diff *d, uint32_t from, uint32_t to)
{
    for (uint32_t x = from; x < to; x++) {
        print_item(d, ' ', 0, x);
    }
}

static void print_block(const struct trace_diff *d, const struct diff_block *blk,
                        uint32_t context)
{
    const struct diff_hunk_list *hl = &d->pairings[blk->run].hunks;
    size_t n_items = d->runs[0].n_items;
    uint32_t before = blk->a > context ? blk->a - context : 0;
    uint32_t after = n_items - blk->a_end > context ? blk->a_end + context : (uint32_t)n_items;
    uint32_t x = blk->a;
    char same[256], as_first[256], other[256];

    printf("@@ access %" PRIu64 " (run 1) / %" PRIu64 " (run %u) @@", item_access(d, 0, blk->a),
           item_access(d, blk->run, blk->b), blk->run + 1);
    if (d->n_runs > 2) {
        list_runs(blk->relation, d->n_runs, DIFF_REL_SAME, same, sizeof(same));
        list_runs(blk->relation, d->n_runs, DIFF_REL_AS_FIRST, as_first, sizeof(as_first));
        list_runs(blk->relation, d->n_runs, DIFF_REL_OTHER, other, sizeof(other));
        printf(" this in %s", same);
        if (as_first[0]) {
            printf("; as run 1: %s", as_first);
        }
        if (other[0]) {
            printf("; otherwise: %s", other);
        }
    }
    putchar('\n');
    print_context(d, before, blk->a);
    for (size_t h = blk->hunk; h < blk->hunk_end; h++) {
        const struct diff_hunk *hk = &hl->v[h];

        print_context(d, x, hk->a);
        for (uint32_t i = hk->a; i < hk->a_end; i++) {
            print_item(d, '-', 0, i);
        }
        for (uint32_t i = hk->b; i < hk->b_end; i++) {
            print_item(d, '+', blk->run, i);
        }
        x = hk->a_end;
    }
    print_context(d, blk->a_end, after);
}

/* A run that needs too many edits: where it parts from run 1 and where they meet again. */
static void print_coarse(const struct trace_diff *d, size_t j, uint32_t context)
{
    const struct diff_pairing *p = &d->pairings[j];
    uint32_t before = p->prefix > context ? p->prefix - context : 0;

    printf("@@ access %" PRIu64 " (run 1) / %" PRIu64 " (run %zu) @@ run %zu diverges too much "
           "to align: %s\n", item_access(d, 0, p->prefix), item_access(d, j, p->prefix), j + 1,
           j + 1, p->status == DIFF_TOO_MANY_EDITS ? "more inserted and deleted accesses than "
           "--max-edits allows" : "the search ran out of its work budget");
    print_context(d, before, p->prefix);
    for (uint32_t i = p->prefix; i < p->a_suffix && i - p->prefix < context; i++) {
        print_item(d, '-', 0, i);
    }
    for (uint32_t i = p->prefix; i < p->b_suffix && i - p->prefix < context; i++) {
        print_item(d, '+', j, i);
    }
    if (p->a_suffix < d->runs[0].n_items) {
        printf("  ... the runs agree again from access %" PRIu64 " (run 1) / %" PRIu64
               " (run %zu) to their end\n", item_access(d, 0, p->a_suffix),
               item_access(d, j, p->b_suffix), j + 1);
    } else {
        printf("  ... and do not agree again before their end\n");
    }
}

static void print_notes(const struct trace_diff *d)
{
    for (size_t j = 1; j < d->n_runs; j++) {
        const struct diff_pairing *p = &d->pairings[j];

        for (size_t i = 0; i < p->n_notes; i++) {
            const struct diff_poll_note *nt = &p->notes[i];
            struct item_view va = view_item(d, 0, nt->a_item), vb = view_item(d, j, nt->b_item);
            char where[96];

            where_text(&d->locs[nt->loc], where, sizeof(where));
            printf("note: run %zu: %s polled %" PRIu32 " vs %" PRIu32 " times at access %" PRIu64
                   " (run 1) / %" PRIu64 " (run %zu)", j + 1, where, va.count, vb.count,
                   va.access, vb.access, j + 1);
            if (nt->polls > 1) {
                printf("; %" PRIu64 " more polls of %s differ only in length", nt->polls - 1,
                       where);
            }
            putchar('\n');
        }
    }
}

static void print_values(const struct diff_summary_cell *c, unsigned size)
{
    for (unsigned i = 0; i < c->n_values; i++) {
        printf("%s0x%0*" PRIx64, i ? " " : "", (int)size * 2, c->values[i]);
    }
    if (c->more_values) {
        printf(" …");
    }
}

static bool same_values(const struct diff_summary_cell *x, const struct diff_summary_cell *y)
{
    if (x->n_values != y->n_values || x->more_values != y->more_values) {
        return false;
    }
    for (unsigned i = 0; i < x->n_values; i++) {
        if (x->values[i] != y->values[i]) {
            return false;
        }
    }
    return true;
}

static void print_summary(const struct trace_diff *d)
{
    printf("summary: reads/writes of each register per run and the values seen (%d at most);"
           " * where counts or values differ\n", DIFF_SUMMARY_VALUES);
    printf("  %-24s", "register");
    for (size_t run = 0; run < d->n_runs; run++) {
        char head[32];

        snprintf(head, sizeof(head), "run %zu", run + 1);
        printf(" %15s", head);
    }
    printf("  values\n");
    for (size_t i = 0; i < d->n_rows; i++) {
        const struct diff_summary_row *row = &d->rows[i];
        char name[96];
        bool all_alike = true;

        if (row->reg) {
            snprintf(name, sizeof(name), "%s", row->reg->name);
        } else {
            snprintf(name, sizeof(name), "bar%u+0x%04" PRIx64, row->bar, row->offset);
        }
        printf("%c %-24s", row->differs ? '*' : ' ', name);
        for (size_t run = 0; run < d->n_runs; run++) {
            char counts[48];

            snprintf(counts, sizeof(counts), "%" PRIu64 "/%" PRIu64, row->cells[run].reads,
                     row->cells[run].writes);
            printf(" %15s", counts);
            all_alike &= same_values(&row->cells[0], &row->cells[run]);
        }
        printf("  ");
        if (all_alike) {
            print_values(&row->cells[0], row->size);
        } else {
            for (size_t run = 0; run < d->n_runs; run++) {
                printf("%srun %zu: ", run ? "; " : "", run + 1);
                print_values(&row->cells[run], row->size);
            }
        }
        putchar('\n');
    }
}

static void print_header(const struct trace_diff *d, const struct run_info *info)
{
    for (size_t run = 0; run < d->n_runs; run++) {
        const struct diff_run *r = &d->runs[run];
        char id[4 * REGDBG_DEV_ID_LEN + 1];

        cli_escape_name(info[run].hdr.dev_id, id, sizeof(id));
        printf("run %zu: %s: %s %04x:%04x, %" PRIu64 " accesses", run + 1, info[run].path,
               id[0] ? id : "-", info[run].hdr.vendor_id, info[run].hdr.device_id, r->in_file);
        if (r->n != r->in_file) {
            printf(" (%zu compared)", r->n);
        }
        if (info[run].irq_events) {
            printf("; %" PRIu64 " interrupt event%s, not compared", info[run].irq_events,
                   info[run].irq_events == 1 ? "" : "s");
        }
        if (info[run].dropped_events) {
            printf("; %" PRIu64 " events were lost in drops, differences near them may be the "
                   "losses", info[run].dropped_events);
        }
        if (!info[run].ended) {
            printf("; no end record");
        }
        putchar('\n');
    }
    if (d->map) {
        printf("registers: %s (%s)\n", d->map->name, d->map->path);
    } else {
        printf("registers: no map for %04x:%04x; places show as barN+OFFSET (--map FILE names "
               "them)\n", info[0].hdr.vendor_id, info[0].hdr.device_id);
    }
}

/* What the report shows, in the order of run 1: a block, or a run that gave up aligning. */
struct report_entry {
    uint32_t at;                    /* item of run 1 */
    const struct diff_block *blk;   /* NULL for a run that gave up: */
    size_t coarse_run;
};

static int cmp_entries(const void *pa, const void *pb)
{
    const struct report_entry *a = pa, *b = pb;

    if (a->at != b->at) {
        return a->at < b->at ? -1 : 1;
    }
    if (!a->blk != !b->blk) {
        return a->blk ? -1 : 1;
    }
    return a->blk ? (a->blk > b->blk) - (a->blk < b->blk)
                  : (a->coarse_run > b->coarse_run) - (a->coarse_run < b->coarse_run);
}

/* The entries into out (room for n_blocks + n_runs); returns their number. */
static size_t report_order(const struct trace_diff *d, struct report_entry *out)
{
    size_t n = 0;

    for (size_t i = 0; i < d->n_blocks; i++) {
        out[n++] = (struct report_entry){ .at = d->blocks[i].a, .blk = &d->blocks[i] };
    }
    for (size_t j = 1; j < d->n_runs; j++) {
        if (d->pairings[j].status != DIFF_ALIGNED) {
            out[n++] = (struct report_entry){ .at = d->pairings[j].prefix, .coarse_run = j };
        }
    }
    qsort(out, n, sizeof(*out), cmp_entries);
    return n;
}

static void print_text(const struct trace_diff *d, const struct run_info *info,
                       const struct diff_args *a, const struct report_entry *order,
                       size_t n_order)
{
    size_t n_coarse = 0, n_notes = 0;

    print_header(d, info);
    if (n_order && order[0].blk) {
        print_first_divergence(d, order[0].blk);
    } else if (n_order) {
        printf("first divergence: access %" PRIu64 " (run 1) / %" PRIu64 " (run %zu), where "
               "run %zu parts from run 1\n", item_access(d, 0, order[0].at),
               item_access(d, order[0].coarse_run, order[0].at), order[0].coarse_run + 1,
               order[0].coarse_run + 1);
    }
    for (size_t i = 0; i < n_order; i++) {
        if (order[i].blk) {
            print_block(d, order[i].blk, a->context);
        } else {
            print_coarse(d, order[i].coarse_run, a->context);
            n_coarse++;
        }
    }
    print_notes(d);
    print_summary(d);
    for (size_t j = 1; j < d->n_runs; j++) {
        n_notes += d->pairings[j].n_notes;
    }
    if (trace_diff_same(d)) {
        printf("no differences");
        if (n_notes) {
            printf(" (polls of other lengths: see the notes)");
        }
        putchar('\n');
    } else {
        printf("the runs differ: %zu hunk%s", d->n_blocks, d->n_blocks == 1 ? "" : "s");
        if (n_coarse) {
            printf(", %zu run%s too different to align", n_coarse, n_coarse == 1 ? "" : "s");
        }
        putchar('\n');
    }
}

/* ---- JSON report -------------------------------------------------------------------------- */

static json_t *json_id(const char *id)
{
    json_t *s = json_string(id);
    char text[4 * REGDBG_DEV_ID_LEN + 1];

    if (s) {
        return s;
    }
    /* not UTF-8: its escaped text form keeps the output valid JSON */
    cli_escape_name(id, text, sizeof(text));
    return json_string(text);
}

/* A 64-bit value: a JSON integer up to 2^63 - 1 (all that jansson and most readers take), a
   "0x..." string above. */
static json_t *json_u64(uint64_t v)
{
    char hex[24];

    if (v <= INT64_MAX) {
        return json_integer((json_int_t)v);
    }
    snprintf(hex, sizeof(hex), "0x%" PRIx64, v);
    return json_string(hex);
}

static json_t *json_item(const struct trace_diff *d, const char *op, size_t run, uint32_t item)
{
    struct item_view v = view_item(d, run, item);
    char fields[512], code[1024];
    json_t *o;

    fields_text(v.loc, v.value, fields, sizeof(fields));
    o = json_pack("{s:s, s:I, s:I, s:s, s:I, s:I, s:o, s:o, s:I, s:o, s:o, s:s}",
                  "op", op, "run", (json_int_t)run + 1, "access", (json_int_t)v.access,
                  "dir", v.loc->dir == REGDBG_DIR_WRITE ? "w" : "r",
                  "size", (json_int_t)v.loc->size, "bar", (json_int_t)v.loc->bar,
                  "off", json_u64(v.loc->offset),
                  "reg", v.loc->reg ? json_string(v.loc->reg->name) : json_null(),
                  "count", (json_int_t)v.count, "value", json_u64(v.value),
                  "first_value", json_u64(v.first_value), "fields", fields);
    if (o && code_names.syms) {
        code_text(run, v.access, code, sizeof(code));
        json_object_set_new(o, "sym", code[0] ? json_string(code) : json_null());
    }
    return o;
}

static json_t *json_runs_with(const uint8_t *relation, size_t n_runs, enum diff_relation want)
{
    json_t *list = json_array();

    for (size_t j = 1; j < n_runs; j++) {
        if (relation[j] == want) {
            json_array_append_new(list, json_integer((json_int_t)j + 1));
        }
    }
    return list;
}

static void json_context(json_t *lines, const struct trace_diff *d, uint32_t from, uint32_t to)
{
    for (uint32_t x = from; x < to; x++) {
        json_array_append_new(lines, json_item(d, " ", 0, x));
    }
}

static json_t *json_block(const struct trace_diff *d, const struct diff_block *blk,
                          uint32_t context)
{
    const struct diff_hunk_list *hl = &d->pairings[blk->run].hunks;
    size_t n_items = d->runs[0].n_items;
    uint32_t before = blk->a > context ? blk->a - context : 0;
    uint32_t after = n_items - blk->a_end > context ? blk->a_end + context : (uint32_t)n_items;
    json_t *lines = json_array();
    uint32_t x = blk->a;

    json_context(lines, d, before, blk->a);
    for (size_t h = blk->hunk; h < blk->hunk_end; h++) {
        const struct diff_hunk *hk = &hl->v[h];

        json_context(lines, d, x, hk->a);
        for (uint32_t i = hk->a; i < hk->a_end; i++) {
            json_array_append_new(lines, json_item(d, "-", 0, i));
        }
        for (uint32_t i = hk->b; i < hk->b_end; i++) {
            json_array_append_new(lines, json_item(d, "+", blk->run, i));
        }
        x = hk->a_end;
    }
    json_context(lines, d, blk->a_end, after);
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:b, s:o}",
                     "run", (json_int_t)blk->run + 1,
                     "item", (json_int_t)blk->a, "item_end", (json_int_t)blk->a_end,
                     "run_item", (json_int_t)blk->b, "run_item_end", (json_int_t)blk->b_end,
                     "same_in", json_runs_with(blk->relation, d->n_runs, DIFF_REL_SAME),
                     "as_run_1", json_runs_with(blk->relation, d->n_runs, DIFF_REL_AS_FIRST),
                     "otherwise", json_runs_with(blk->relation, d->n_runs, DIFF_REL_OTHER),
                     "coarse", 0, "lines", lines);
}

static json_t *json_coarse(const struct trace_diff *d, size_t j, uint32_t context)
{
    const struct diff_pairing *p = &d->pairings[j];
    uint32_t before = p->prefix > context ? p->prefix - context : 0;
    json_t *lines = json_array();

    json_context(lines, d, before, p->prefix);
    for (uint32_t i = p->prefix; i < p->a_suffix && i < p->prefix + context; i++) {
        json_array_append_new(lines, json_item(d, "-", 0, i));
    }
    for (uint32_t i = p->prefix; i < p->b_suffix && i < p->prefix + context; i++) {
        json_array_append_new(lines, json_item(d, "+", j, i));
    }
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:[I], s:[], s:[], s:b, s:s, s:o}",
                     "run", (json_int_t)j + 1, "item", (json_int_t)p->prefix,
                     "item_end", (json_int_t)p->a_suffix, "run_item", (json_int_t)p->prefix,
                     "run_item_end", (json_int_t)p->b_suffix, "same_in", (json_int_t)j + 1,
                     "as_run_1", "otherwise", "coarse", 1,
                     "why", p->status == DIFF_TOO_MANY_EDITS ? "too many edits" : "too much work",
                     "lines", lines);
}

static json_t *json_summary(const struct trace_diff *d)
{
    json_t *rows = json_array();

    for (size_t i = 0; i < d->n_rows; i++) {
        const struct diff_summary_row *row = &d->rows[i];
        json_t *runs = json_array();

        for (size_t run = 0; run < d->n_runs; run++) {
            const struct diff_summary_cell *c = &row->cells[run];
            json_t *values = json_array();

            for (unsigned v = 0; v < c->n_values; v++) {
                json_array_append_new(values, json_u64(c->values[v]));
            }
            json_array_append_new(runs, json_pack("{s:I, s:I, s:o, s:b}", "reads",
                                                  (json_int_t)c->reads, "writes",
                                                  (json_int_t)c->writes, "values", values,
                                                  "more_values", c->more_values));
        }
        json_array_append_new(rows, json_pack("{s:o, s:I, s:o, s:b, s:o}", "reg",
                                              row->reg ? json_string(row->reg->name) :
                                              json_null(), "bar", (json_int_t)row->bar, "off",
                                              json_u64(row->offset), "differs", row->differs,
                                              "runs", runs));
    }
    return rows;
}

static json_t *json_notes(const struct trace_diff *d)
{
    json_t *notes = json_array();

    for (size_t j = 1; j < d->n_runs; j++) {
        for (size_t i = 0; i < d->pairings[j].n_notes; i++) {
            const struct diff_poll_note *nt = &d->pairings[j].notes[i];
            const struct diff_location *l = &d->locs[nt->loc];
            struct item_view va = view_item(d, 0, nt->a_item), vb = view_item(d, j, nt->b_item);

            json_array_append_new(notes, json_pack(
                "{s:I, s:o, s:I, s:o, s:s, s:I, s:[I,I], s:[I,I]}", "run", (json_int_t)j + 1,
                "reg", l->reg ? json_string(l->reg->name) : json_null(), "bar",
                (json_int_t)l->bar, "off", json_u64(l->offset),
                "dir", l->dir == REGDBG_DIR_WRITE ? "w" : "r", "polls", (json_int_t)nt->polls,
                "access", (json_int_t)va.access, (json_int_t)vb.access, "count",
                (json_int_t)va.count, (json_int_t)vb.count));
        }
    }
    return notes;
}

static int print_json(const struct trace_diff *d, const struct run_info *info,
                      const struct diff_args *a, const struct report_entry *order,
                      size_t n_order)
{
    json_t *root = json_object(), *runs = json_array(), *hunks = json_array();
    int ret;

    for (size_t run = 0; run < d->n_runs; run++) {
        const struct diff_run *r = &d->runs[run];
        char vendor[8], device[8];

        snprintf(vendor, sizeof(vendor), "0x%04x", info[run].hdr.vendor_id);
        snprintf(device, sizeof(device), "0x%04x", info[run].hdr.device_id);
        json_array_append_new(runs, json_pack(
            "{s:I, s:s, s:o, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:b}", "run",
            (json_int_t)run + 1, "file", info[run].path, "dev", json_id(info[run].hdr.dev_id),
            "vendor", vendor, "device", device, "accesses", (json_int_t)r->in_file, "compared",
            (json_int_t)r->n, "items", (json_int_t)r->n_items, "irq_events",
            (json_int_t)info[run].irq_events, "dropped_events",
            (json_int_t)info[run].dropped_events, "complete", info[run].ended));
    }
    for (size_t i = 0; i < n_order; i++) {
        json_t *h = order[i].blk ? json_block(d, order[i].blk, a->context)
                                 : json_coarse(d, order[i].coarse_run, a->context);
        size_t run = order[i].blk ? order[i].blk->run : order[i].coarse_run;

        json_object_set_new(h, "access", json_pack("[I,I]",
                                                   (json_int_t)item_access(d, 0, order[i].at),
                                                   (json_int_t)item_access(
                                                       d, run, order[i].blk ? order[i].blk->b
                                                                            : order[i].at)));
        json_array_append_new(hunks, h);
    }
    json_object_set_new(root, "runs", runs);
    json_object_set_new(root, "map", d->map ? json_pack("{s:s, s:s}", "name", d->map->name,
                                                        "path", d->map->path) : json_null());
    json_object_set_new(root, "same", json_boolean(trace_diff_same(d)));
    json_object_set_new(root, "first_divergence", n_order ? json_integer(0) : json_null());
    json_object_set_new(root, "hunks", hunks);
    json_object_set_new(root, "notes", json_notes(d));
    json_object_set_new(root, "summary", json_summary(d));
    ret = json_dumpf(root, stdout, JSON_INDENT(1) | JSON_ENSURE_ASCII);
    putchar('\n');
    json_decref(root);
    return ret;
}

/* ---- the command -------------------------------------------------------------------------- */

static void free_args(struct diff_args *a)
{
    free(a->ignore_specs);
    free(a->mask_specs);
    free(a->maps);
    free(a->files);
}

int cmd_diff(int argc, char **argv)
{
    struct diff_args a;
    struct trace_reader **readers = NULL;
    struct run_info *info = NULL;
    struct diff_range *ignores = NULL;
    struct diff_mask *masks = NULL;
    struct session maps;
    bool maps_ready = false;
    struct trace_diff d = { 0 };
    struct diff_options opt = { 0 };
    struct report_entry *order = NULL;
    struct symbols *syms = NULL;
    size_t n_order;
    char err[512];
    int status = DIFF_TROUBLE;

    int parsed = parse_args(argc, argv, &a);
    if (parsed) {
        free_args(&a);
        return parsed == 1 ? 0 : DIFF_TROUBLE;
    }
    readers = calloc(a.n_files, sizeof(*readers));
    info = calloc(a.n_files, sizeof(*info));
    ignores = calloc(a.n_ignore + 1, sizeof(*ignores));
    masks = calloc(a.n_masks + 1, sizeof(*masks));
    if (!readers || !info || !ignores || !masks) {
        fprintf(stderr, "regdbg diff: out of memory\n");
        goto out;
    }
    if (open_traces(&a, readers, info) < 0) {
        goto out;
    }
    if (cli_load_symbols("diff", a.sym_specs, a.n_syms, &syms)) {
        goto out;
    }
    code_names.syms = syms;
    code_names.info = info;
    /* The maps as the debugger picks them: the shipped ones, then --map, by vendor:device. */
    if (session_init(&maps, 1024, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg diff: %s\n", err);
        goto out;
    }
    maps_ready = true;
    if (session_load_default_maps(&maps, a.maps, a.n_maps, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg diff: %s\n", err);
        goto out;
    }
    const struct regmap *map = session_map_for(&maps, info[0].hdr.vendor_id,
                                               info[0].hdr.device_id);
    for (size_t i = 0; i < a.n_ignore; i++) {
        if (parse_place("--ignore", a.ignore_specs[i], strlen(a.ignore_specs[i]), map,
                        &info[0].hdr, &ignores[i]) < 0) {
            goto out;
        }
    }
    for (size_t i = 0; i < a.n_masks; i++) {
        if (parse_mask(a.mask_specs[i], map, &info[0].hdr, &masks[i]) < 0) {
            goto out;
        }
    }
    opt = (struct diff_options){ .ignore = ignores, .n_ignore = a.n_ignore, .masks = masks,
                                 .n_masks = a.n_masks, .writes_only = a.writes_only,
                                 .limits = { a.max_edits, DIFF_DEFAULT_MAX_STEPS } };
    if (trace_diff_init(&d, &opt, map, a.n_files) < 0) {
        fprintf(stderr, "regdbg diff: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < a.n_files; i++) {
        if (read_run(&d, i, readers[i], &info[i]) < 0) {
            goto out;
        }
        trace_reader_close(readers[i]);
        readers[i] = NULL;
    }
    if (trace_diff_compare(&d, 2 * a.context) < 0) {
        fprintf(stderr, "regdbg diff: out of memory while comparing\n");
        goto out;
    }
    order = calloc(d.n_blocks + d.n_runs, sizeof(*order));
    if (!order) {
        fprintf(stderr, "regdbg diff: out of memory\n");
        goto out;
    }
    n_order = report_order(&d, order);
    if (a.tui) {
        status = tui_diff(&d, a.files) ? DIFF_TROUBLE : DIFF_SAME;
        goto out;
    }
    if (a.json) {
        if (print_json(&d, info, &a, order, n_order) < 0) {
            fprintf(stderr, "regdbg diff: cannot write the report: %s\n", strerror(errno));
            goto out;
        }
    } else {
        print_text(&d, info, &a, order, n_order);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "regdbg diff: cannot write the report: %s\n", strerror(errno));
        goto out;
    }
    status = trace_diff_same(&d) ? DIFF_SAME : DIFF_DIFFERENT;
out:
    trace_diff_free(&d);
    for (size_t i = 0; readers && i < a.n_files; i++) {
        trace_reader_close(readers[i]);
    }
    if (maps_ready) {
        session_free(&maps);
    }
    for (size_t i = 0; info && i < a.n_files; i++) {
        free(info[i].pc);
        free(info[i].pc_flags);
    }
    code_names.syms = NULL;
    code_names.info = NULL;
    symbols_free(syms);
    free(readers);
    free(info);
    free(ignores);
    free(masks);
    free(order);
    free_args(&a);
    return status;
}
