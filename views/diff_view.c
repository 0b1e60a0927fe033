/*
 * The diff screen (`regdbg diff --tui`): recorded runs side by side in the debugger's look, run 1
 * on the left and one other run on the right, aligned by the comparison of debugger/trace_diff.c
 * (hunks paired line by line, what one run lacks left blank), each access named by register with
 * its fields, the accesses under the cursor decoded in full below. Its keys come from the one key
 * table (views/commands.c, scope diff): the next and previous divergence, the next run, help,
 * quit. Its own small loop (no VM, no session); the view (diff_view_ops) draws and moves, the
 * loop performs the rest.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "list.h"
#include "screen.h"
#include "tui.h"
#include "ui.h"
#include "trace_diff.h"

#define DETAIL_ROWS 4           /* the cursor's accesses, decoded in full, and what differs */
#define NONE UINT32_MAX

enum row_kind {
    ROW_SAME,                   /* matched, alike */
    ROW_POLL,                   /* matched: a poll that ran another number of times */
    ROW_CHANGED,                /* in a hunk, both sides */
    ROW_ONLY_LEFT,              /* in a hunk: run 1 has it, the other does not */
    ROW_ONLY_RIGHT,
};

struct diff_row {
    uint32_t a, b;              /* items of run 1 and of the run on the right; NONE */
    uint8_t kind;
};

struct diff_screen {
    const struct trace_diff *d;
    const char *const *paths;
    size_t run;                 /* the run on the right (>= 1) */
    struct diff_row *rows;
    size_t n_rows;
    size_t *hunks;              /* the rows where hunks begin */
    size_t n_hunks;
    size_t n_polls;             /* rows of polls of other lengths */
    bool quit;
};

/* ---- the rows of a pairing ---------------------------------------------------------------- */

static int add_row(struct diff_screen *ds, size_t *cap, uint32_t a, uint32_t b,
                   enum row_kind kind)
{
    if (ds->n_rows == *cap) {
        struct diff_row *bigger = realloc(ds->rows, (*cap = *cap ? *cap * 2 : 1024) *
                                          sizeof(*bigger));
        if (!bigger) {
            return -1;
        }
        ds->rows = bigger;
    }
    ds->rows[ds->n_rows++] = (struct diff_row){ a, b, (uint8_t)kind };
    return 0;
}

static int add_hunk_start(struct diff_screen *ds, size_t *cap)
{
    if (ds->n_hunks == *cap) {
        size_t *bigger = realloc(ds->hunks, (*cap = *cap ? *cap * 2 : 64) * sizeof(*bigger));

        if (!bigger) {
            return -1;
        }
        ds->hunks = bigger;
    }
    ds->hunks[ds->n_hunks++] = ds->n_rows;
    return 0;
}

/* Matched items [a, a_end) of run 1 against b... of the other run: alike, or polls of another
   length. */
static int add_matched(struct diff_screen *ds, size_t *cap, uint32_t a, uint32_t a_end,
                       uint32_t b)
{
    const struct diff_run *r0 = &ds->d->runs[0], *rj = &ds->d->runs[ds->run];

    for (; a < a_end; a++, b++) {
        bool poll = r0->count[a] != rj->count[b];

        ds->n_polls += poll;
        if (add_row(ds, cap, a, b, poll ? ROW_POLL : ROW_SAME) < 0) {
            return -1;
        }
    }
    return 0;
}

/* A hunk: its items side by side as far as both have some, then what only one has. */
static int add_hunk(struct diff_screen *ds, size_t *cap, size_t *hcap, uint32_t a,
                    uint32_t a_end, uint32_t b, uint32_t b_end)
{
    if (add_hunk_start(ds, hcap) < 0) {
        return -1;
    }
    while (a < a_end || b < b_end) {
        enum row_kind kind = a < a_end && b < b_end ? ROW_CHANGED
                           : a < a_end ? ROW_ONLY_LEFT : ROW_ONLY_RIGHT;

        if (add_row(ds, cap, a < a_end ? a : NONE, b < b_end ? b : NONE, kind) < 0) {
            return -1;
        }
        a += a < a_end;
        b += b < b_end;
    }
    return 0;
}

static int build_rows(struct diff_screen *ds)
{
    const struct trace_diff *d = ds->d;
    const struct diff_pairing *p = &d->pairings[ds->run];
    uint32_t n = (uint32_t)d->runs[0].n_items, m = (uint32_t)d->runs[ds->run].n_items;
    size_t cap = 0, hcap = 0;
    uint32_t x = 0, y = 0;

    free(ds->rows);
    free(ds->hunks);
    ds->rows = NULL;
    ds->hunks = NULL;
    ds->n_rows = ds->n_hunks = ds->n_polls = 0;
    if (p->status != DIFF_ALIGNED) {
        /* too different to align: where they part, what lies between, where they meet */
        return add_matched(ds, &cap, 0, p->prefix, 0) < 0 ||
               add_hunk(ds, &cap, &hcap, p->prefix, p->a_suffix, p->prefix, p->b_suffix) < 0 ||
               add_matched(ds, &cap, p->a_suffix, n, p->b_suffix) < 0 ? -1 : 0;
    }
    for (size_t h = 0; h < p->hunks.n; h++) {
        const struct diff_hunk *hk = &p->hunks.v[h];

        if (add_matched(ds, &cap, x, hk->a, y) < 0 ||
            add_hunk(ds, &cap, &hcap, hk->a, hk->a_end, hk->b, hk->b_end) < 0) {
            return -1;
        }
        x = hk->a_end;
        y = hk->b_end;
    }
    (void)m;
    return add_matched(ds, &cap, x, n, y);
}

/* ---- drawing ------------------------------------------------------------------------------ */

/* "  12 W4 IC_CON           <- 0x00000063  MASTER_MODE=1 SPEED=std ..." (fields when wide) */
static void format_item(const struct trace_diff *d, size_t run, uint32_t item, bool fields,
                        char *buf, size_t len)
{
    const struct diff_run *r = &d->runs[run];
    uint32_t first = r->first[item], last = first + r->count[item] - 1;
    const struct diff_location *l = &d->locs[r->loc[first]];
    char where[96], decoded[512] = "";
    int n;

    if (l->reg) {
        snprintf(where, sizeof(where), "%s", l->reg->name);
        if (l->offset != l->reg->offset || l->size != l->reg->width) {
            size_t w = strlen(where);

            snprintf(where + w, sizeof(where) - w, "+%" PRIu64, l->offset - l->reg->offset);
        }
        if (fields) {
            regmap_decode(l->reg, l->offset, l->size, r->value[last], decoded, sizeof(decoded));
        }
    } else {
        snprintf(where, sizeof(where), "bar%u+0x%04" PRIx64, l->bar, l->offset);
    }
    if (r->count[item] > 1) {
        size_t w = strlen(where);

        snprintf(where + w, sizeof(where) - w, " x%" PRIu32, r->count[item]);
    }
    n = snprintf(buf, len, "%6" PRIu64 " %c%u %-20s %s 0x%0*" PRIx64, diff_run_file_pos(r, first),
                 l->dir == REGDBG_DIR_WRITE ? 'W' : 'R', l->size, where,
                 l->dir == REGDBG_DIR_WRITE ? "<-" : "->", l->size * 2, r->value[last]);
    if (decoded[0] && n > 0 && (size_t)n < len) {
        snprintf(buf + n, len - (size_t)n, "  %s", decoded);
    }
}

static enum role row_role(const struct diff_screen *ds, const struct diff_row *row)
{
    const struct diff_run *r0 = &ds->d->runs[0];

    if (row->kind == ROW_SAME) {
        return ds->d->locs[r0->loc[r0->first[row->a]]].dir == REGDBG_DIR_WRITE ? ROLE_WRITE
                                                                                : ROLE_READ;
    }
    return row->kind == ROW_POLL ? ROLE_DIM : ROLE_CHANGED;
}

/* "SPEED: std vs fast" for the fields whose decodings differ. */
static void field_changes(const char *x, const char *y, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    while (*x) {
        size_t tok = strcspn(x, " "), name = strcspn(x, "=");

        for (const char *p = y; name < tok && *p; p += strcspn(p, " "), p += strspn(p, " ")) {
            size_t ptok = strcspn(p, " ");

            if (strncmp(p, x, name + 1) == 0) {
                if (ptok != tok || strncmp(p, x, tok) != 0) {
                    int n = snprintf(buf + used, len - used, "%s%.*s: %.*s vs %.*s",
                                     used ? ", " : "", (int)name, x, (int)(tok - name - 1),
                                     x + name + 1, (int)(ptok - name - 1), p + name + 1);

                    if (n < 0 || (size_t)n >= len - used) {
                        return;
                    }
                    used += (size_t)n;
                }
                break;
            }
        }
        x += tok;
        x += strspn(x, " ");
    }
}

static void draw_detail(struct ui *ui, const struct diff_screen *ds, const struct diff_row *row,
                        int y)
{
    char left[1024] = "", right[1024] = "", line[1200];
    static const char *const what[] = {
        [ROW_SAME] = "alike", [ROW_POLL] = "a poll that ran another number of times (a note, "
        "not a divergence)", [ROW_CHANGED] = "differs", [ROW_ONLY_LEFT] = "only run 1 makes "
        "this access", [ROW_ONLY_RIGHT] = "only the run on the right makes this access",
    };
    const char *lf, *rf;
    char changes[512] = "";

    screen_fill_line(y, screen_attr(ROLE_HEADER));
    snprintf(line, sizeof(line), " at the cursor: %s", what[row->kind]);
    screen_put(y, 0, line, screen_attr(ROLE_HEADER));
    if (row->a != NONE) {
        format_item(ds->d, 0, row->a, true, left, sizeof(left));
    }
    if (row->b != NONE) {
        format_item(ds->d, ds->run, row->b, true, right, sizeof(right));
    }
    snprintf(line, sizeof(line), " run 1 %s", row->a != NONE ? left : "-");
    screen_put(y + 1, 0, line, A_NORMAL);
    snprintf(line, sizeof(line), " run %zu %s", ds->run + 1, row->b != NONE ? right : "-");
    screen_put(y + 2, 0, line, A_NORMAL);
    lf = strstr(left, "  ");
    rf = strstr(right, "  ");
    if (row->kind == ROW_CHANGED && lf && rf) {
        field_changes(lf + 2, rf + 2, changes, sizeof(changes));
    }
    if (changes[0]) {
        snprintf(line, sizeof(line), " %s", changes);
        screen_put(y + 3, 0, line, screen_attr(ROLE_CHANGED));
    }
    (void)ui;
}

static void diff_draw(struct ui *ui)
{
    struct diff_screen *ds = ui->diff;
    struct view_state *vs = &ui->vs[VIEW_DIFF];
    int list_rows = vs->rows - 1 - DETAIL_ROWS;
    int half = (vs->cols - 3) / 2;
    char left[1024], right[1024], line[2200];

    if (!ds || list_rows < 1) {
        return;
    }
    /* the runs' names over their columns */
    snprintf(left, sizeof(left), " run 1: %s", ds->paths[0]);
    snprintf(right, sizeof(right), "run %zu: %s", ds->run + 1, ds->paths[ds->run]);
    snprintf(line, sizeof(line), "%-*.*s | %s", half, half, left, right);
    screen_fill_line(VIEW_TOP, screen_attr(ROLE_HEADER));
    screen_put(VIEW_TOP, 0, line, screen_attr(ROLE_HEADER));
    vs->rows = list_rows;
    list_clamp(vs, ds->n_rows);
    vs->rows = list_rows + 1 + DETAIL_ROWS;
    for (int i = 0; i < list_rows && vs->top + (uint64_t)i < ds->n_rows; i++) {
        uint64_t at = vs->top + (uint64_t)i;
        const struct diff_row *row = &ds->rows[at];
        static const char marks[] = { [ROW_SAME] = ' ', [ROW_POLL] = '~', [ROW_CHANGED] = '|',
                                      [ROW_ONLY_LEFT] = '<', [ROW_ONLY_RIGHT] = '>' };
        int y = VIEW_TOP + 1 + i;

        left[0] = right[0] = '\0';
        if (row->a != NONE) {
            format_item(ds->d, 0, row->a, true, left, sizeof(left));
        }
        if (row->b != NONE) {
            format_item(ds->d, ds->run, row->b, true, right, sizeof(right));
        }
        snprintf(line, sizeof(line), "%-*.*s %c %s", half, half, left, marks[row->kind], right);
        if (at == vs->cursor) {
            screen_fill_line(y, screen_attr(ROLE_CURSOR));
            screen_put(y, 0, line, screen_attr(ROLE_CURSOR));
        } else {
            screen_put(y, 0, line, screen_attr(row_role(ds, row)));
        }
    }
    if (ds->n_rows) {
        draw_detail(ui, ds, &ds->rows[vs->cursor], VIEW_TOP + 1 + list_rows);
    }
}

static enum action diff_request(struct ui *ui, enum action req)
{
    struct view_state *vs = &ui->vs[VIEW_DIFF];
    int rows = vs->rows;
    enum action a;

    if (!ui->diff) {
        return ACT_NONE;
    }
    vs->rows = rows - 1 - DETAIL_ROWS;
    a = list_scroll_cursor(vs, req, ui->diff->n_rows);
    vs->rows = rows;
    return a;
}

static void diff_resize(struct ui *ui, int rows, int cols)
{
    ui->vs[VIEW_DIFF].rows = rows;
    ui->vs[VIEW_DIFF].cols = cols;
}

const struct view_ops diff_view_ops = {
    .name = "diff",
    .draw = diff_draw,
    .request = diff_request,
    .resize = diff_resize,
};

/* ---- the loop ----------------------------------------------------------------------------- */

static void status_line(struct ui *ui)
{
    struct diff_screen *ds = ui->diff;
    const struct diff_pairing *p = &ds->d->pairings[ds->run];
    uint64_t cur = ui->vs[VIEW_DIFF].cursor;
    char where[48] = "";
    size_t at = 0;

    for (size_t h = 0; h < ds->n_hunks && ds->hunks[h] <= cur; h++) {
        at = h + 1;
    }
    if (at) {
        snprintf(where, sizeof(where), " (at %zu)", at);
    }
    snprintf(ui->status_text, sizeof(ui->status_text), " regdbg diff  |  run 1 vs run %zu of "
             "%zu%s  |  %zu divergence%s%s%s  |  %zu poll%s of other lengths  |  %s",
             ds->run + 1, ds->d->n_runs, ds->d->n_runs > 2 ? " (Tab: next)" : "", ds->n_hunks,
             ds->n_hunks == 1 ? "" : "s", where, p->status != DIFF_ALIGNED ?
             " (too different to align)" : "", ds->n_polls, ds->n_polls == 1 ? "" : "s",
             ds->d->map ? ds->d->map->name : "no register map");
}

static void jump(struct ui *ui, int direction)
{
    struct diff_screen *ds = ui->diff;
    struct view_state *vs = &ui->vs[VIEW_DIFF];

    ui->notice[0] = '\0';
    if (direction > 0) {
        for (size_t h = 0; h < ds->n_hunks; h++) {
            if (ds->hunks[h] > vs->cursor) {
                vs->cursor = ds->hunks[h];
                return;
            }
        }
        ui_notice(ui, false, ds->n_hunks ? "no divergence after this one (N goes back)"
                                         : "the runs agree: no divergence");
        return;
    }
    for (size_t h = ds->n_hunks; h-- > 0;) {
        if (ds->hunks[h] < vs->cursor) {
            vs->cursor = ds->hunks[h];
            return;
        }
    }
    ui_notice(ui, false, ds->n_hunks ? "no divergence before this one" :
              "the runs agree: no divergence");
}

static void perform(struct ui *ui, enum action a)
{
    struct diff_screen *ds = ui->diff;

    switch (a) {
    case ACT_QUIT:
        ds->quit = true;
        break;
    case ACT_VIEW_HELP:
        if (ui->view != VIEW_HELP) {
            ui->prev_view = ui->view;
            ui->view = VIEW_HELP;
        }
        break;
    case ACT_VIEW_BACK:
        ui->notice[0] = '\0';
        if (ui->view == VIEW_HELP) {
            ui->view = ui->prev_view;
        }
        break;
    case ACT_MOVE_UP:
    case ACT_MOVE_DOWN:
    case ACT_PAGE_UP:
    case ACT_PAGE_DOWN:
    case ACT_MOVE_FIRST:
    case ACT_MOVE_LAST:
        ui_view_ops(ui->view)->request(ui, a);
        break;
    case ACT_DIFF_NEXT:
    case ACT_DIFF_PREV:
        if (ui->view == VIEW_DIFF) {
            jump(ui, a == ACT_DIFF_NEXT ? 1 : -1);
        }
        break;
    case ACT_DIFF_NEXT_RUN:
        if (ds->d->n_runs < 3) {
            ui_notice(ui, false, "two runs: run 2 is the only other one");
            break;
        }
        ds->run = ds->run + 1 < ds->d->n_runs ? ds->run + 1 : 1;
        if (build_rows(ds) < 0) {
            ui_notice(ui, true, "out of memory");
            ds->quit = true;
        }
        ui->vs[VIEW_DIFF].top = ui->vs[VIEW_DIFF].cursor = 0;
        break;
    default:
        break;      /* the debugger's keys mean nothing here */
    }
}

int tui_diff(const struct trace_diff *d, const char *const *paths)
{
    static struct diff_screen ds;
    static struct ui ui;
    int key;

    ds = (struct diff_screen){ .d = d, .paths = paths, .run = 1 };
    if (build_rows(&ds) < 0) {
        fprintf(stderr, "regdbg diff: out of memory\n");
        return 2;
    }
    memset(&ui, 0, sizeof(ui));
    ui.diff = &ds;
    ui.view = ui.prev_view = VIEW_DIFF;
    if (screen_init(&ui) < 0) {
        fprintf(stderr, "regdbg diff: cannot initialise the terminal (TERM=%s)\n",
                getenv("TERM") ? getenv("TERM") : "unset");
        free(ds.rows);
        free(ds.hunks);
        return 2;
    }
    if (ds.n_hunks) {
        ui.vs[VIEW_DIFF].cursor = ds.hunks[0];
        ui_notice(&ui, false, "at the first divergence: n/] the next, N/[ the previous, ? help");
    }
    /* nodelay: wait for keys instead (nothing changes by itself here) */
    nodelay(stdscr, FALSE);
    while (!ds.quit) {
        status_line(&ui);
        screen_draw(&ui);
        key = screen_getkey(&ui);
        if (key != SCREEN_NO_KEY) {
            perform(&ui, ui_key(&ui, key));
        }
    }
    screen_end();
    free(ds.rows);
    free(ds.hunks);
    return 0;
}
