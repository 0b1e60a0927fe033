/*
 * The stream view: the accesses and interrupt events of every proxy, newest at the bottom while
 * following, accesses decoded by register name and fields. Paused, a cursor stays on the event it
 * was on while new events arrive; scrolling, jumping and search work on the (filtered) history.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "screen.h"
#include "stream.h"
#include "ui.h"

void ui_format_who(const struct ui *ui, uint16_t flags, uint64_t pc, bool by_line, char *buf,
                   size_t len)
{
    if (!(flags & REGDBG_EV_PC)) {
        snprintf(buf, len, "-");
    } else if (ui->s->symbols) {
        symbols_format(ui->s->symbols, pc, flags & REGDBG_EV_PC_AFTER, by_line, buf, len);
    } else {
        snprintf(buf, len, "%s0x%llx", flags & REGDBG_EV_PC_AFTER ? "<" : "",
                 (unsigned long long)pc);
    }
}

/* "IRQ INTA" or "IRQ MSI0": where an interrupt event happened, for the stream and its search */
static void irq_where(const struct stored_event *ev, char *buf, size_t len)
{
    if (ev->flags & REGDBG_EV_IRQ_MSI) {
        snprintf(buf, len, "IRQ MSI%llu", (unsigned long long)ev->offset);
    } else {
        snprintf(buf, len, "IRQ INT%c", (char)('A' + (ev->offset - 1) % 4));
    }
}

/* "raised    by rule 3 (pulse)", "msi       by debugger (assert)", "lowered   by device" */
static void irq_what(const struct stored_event *ev, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%-9s by %s", trace_irq_what_name((uint8_t)ev->value),
                     trace_irq_source_name(ev->irq_source));

    if (n > 0 && (size_t)n < len && ev->rule != REGDBG_RULE_NONE) {
        n += snprintf(buf + n, len - (size_t)n, " %u", ev->rule);
    }
    if (n > 0 && (size_t)n < len && ev->orig_value) {
        n += snprintf(buf + n, len - (size_t)n, " (%s)",
                      trace_irq_action_name((uint8_t)ev->orig_value));
    }
    if (n > 0 && (size_t)n < len && (ev->flags & REGDBG_EV_IRQ_BLOCKED)) {
        snprintf(buf + n, len - (size_t)n, " blocked by the guest's command register");
    }
}

/*
 * A DMA event (regdbg/abi.h): "D" and the engine (its name in the device's map, else dmaN) where
 * an access has its width and register, then what the proxy did.
 */
static void format_dma(const struct ui *ui, const struct stored_event *ev, char *buf, size_t len,
                       int *dir_col)
{
    const struct proxy *p = &ui->s->proxies[ev->dev];
    int64_t rel = (int64_t)(ev->t_ns - ui->session_start_ns);
    uint64_t mag = rel < 0 ? (uint64_t)-rel : (uint64_t)rel;
    struct regdbg_trace_record r = {
        .offset = ev->offset, .value = ev->value, .orig_value = ev->orig_value,
        .guest_pc = ev->guest_pc, .flags = ev->flags, .dma_what = ev->dma_what,
        .dma_why = ev->dma_why,
    };
    char engine[48], cpu[16];
    int n;

    if (p->map && p->map->dma && ev->size < p->map->dma->n_engines) {
        snprintf(engine, sizeof(engine), "%s", p->map->dma->engines[ev->size].name);
    } else {
        snprintf(engine, sizeof(engine), "dma%u", ev->size);
    }
    if (ev->cpu < 0) {
        snprintf(cpu, sizeof(cpu), "-");
    } else {
        snprintf(cpu, sizeof(cpu), "c%d", ev->cpu);
    }
    n = snprintf(buf, len, "%s%5llu.%06llu %-3s %-8.8s D  %-20.20s ", rel < 0 ? "-" : " ",
                 (unsigned long long)(mag / 1000000000u),
                 (unsigned long long)(mag % 1000000000u / 1000u), cpu, p->id, engine);
    if (ui->who != WHO_HIDDEN && n > 0 && (size_t)n < len) {
        n += snprintf(buf + n, len - (size_t)n, "%-28.28s ", "-");
    }
    if (dir_col) {
        *dir_col = n > 0 ? n : 0;
    }
    if (n > 0 && (size_t)n < len) {
        trace_dma_format(&r, buf + n, len - (size_t)n);
    }
}

void ui_format_event(const struct ui *ui, const struct stored_event *ev, char *buf, size_t len,
                     int *dir_col)
{
    const struct session *s = ui->s;
    const struct proxy *p = &s->proxies[ev->dev];
    const struct regmap_reg *reg = session_event_reg(s, ev);
    int64_t rel = (int64_t)(ev->t_ns - ui->session_start_ns);
    uint64_t mag = rel < 0 ? (uint64_t)-rel : (uint64_t)rel;
    char where[48], cpu[16], fields[256] = "";
    int n;

    if (ev->dir == REGDBG_DIR_DMA) {
        format_dma(ui, ev, buf, len, dir_col);
        return;
    }
    if (ev->dir == REGDBG_DIR_IRQ) {
        irq_where(ev, where, sizeof(where));
    } else if (reg) {
        snprintf(where, sizeof(where), "%s", reg->name);
        if (ev->offset != reg->offset || ev->size != reg->width) {
            size_t w = strlen(where);
            snprintf(where + w, sizeof(where) - w, "+%llu",
                     (unsigned long long)(ev->offset - reg->offset));
        }
        regmap_decode(reg, ev->offset, ev->size, ev->value, fields, sizeof(fields));
    } else {
        snprintf(where, sizeof(where), "bar%u+0x%04llx", ev->bar, (unsigned long long)ev->offset);
    }
    if (ev->cpu < 0) {
        snprintf(cpu, sizeof(cpu), "-");
    } else {
        snprintf(cpu, sizeof(cpu), "c%d", ev->cpu);
    }
    if (ev->dir == REGDBG_DIR_IRQ) {
        /* the interrupt takes the columns of the direction, width and register */
        n = snprintf(buf, len, "%s%5llu.%06llu %-3s %-8.8s %-23s ", rel < 0 ? "-" : " ",
                     (unsigned long long)(mag / 1000000000u),
                     (unsigned long long)(mag % 1000000000u / 1000u), cpu, p->id, where);
    } else {
        n = snprintf(buf, len, "%s%5llu.%06llu %-3s %-8.8s %c%u %-20s ", rel < 0 ? "-" : " ",
                     (unsigned long long)(mag / 1000000000u),
                     (unsigned long long)(mag % 1000000000u / 1000u), cpu, p->id,
                     ev->dir ? 'W' : 'R', ev->size, where);
    }
    if (ui->who != WHO_HIDDEN && n > 0 && (size_t)n < len) {
        char who[128];

        ui_format_who(ui, ev->flags, ev->guest_pc, ui->who == WHO_LINE, who, sizeof(who));
        n += snprintf(buf + n, len - (size_t)n, "%-28.28s ", who);
    }
    if (dir_col) {
        *dir_col = n > 0 ? n : 0;
    }
    if (n > 0 && (size_t)n < len && ev->dir == REGDBG_DIR_IRQ) {
        irq_what(ev, buf + n, len - (size_t)n);
    } else if (n > 0 && (size_t)n < len) {
        snprintf(buf + n, len - (size_t)n, "%s 0x%0*llx  %s", ev->dir ? "<-" : "->",
                 ev->size * 2, (unsigned long long)ev->value, fields);
    }
}

/* Position of absolute index abs in the view (the first position >= abs). */
static uint64_t view_pos_of(const struct event_store *st, uint64_t abs)
{
    uint64_t lo = 0, hi = event_store_view_count(st);

    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (event_store_view_at(st, mid) < abs) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

uint64_t stream_cursor_pos(const struct ui *ui)
{
    const struct event_store *st = &ui->s->store;
    uint64_t count = event_store_view_count(st);

    if (count == 0) {
        return 0;
    }
    if (ui->follow) {
        return count - 1;
    }
    {
        uint64_t pos = view_pos_of(st, ui->stream_anchor);
        return pos < count ? pos : count - 1;
    }
}

void stream_set_cursor(struct ui *ui, uint64_t pos)
{
    const struct event_store *st = &ui->s->store;
    uint64_t count = event_store_view_count(st);

    if (count == 0) {
        return;
    }
    if (pos >= count) {
        pos = count - 1;
    }
    ui->follow = false;
    ui->stream_anchor = event_store_view_at(st, pos);
}

static bool event_matches_search(const struct ui *ui, const struct stored_event *ev,
                                 bool numeric, uint64_t number)
{
    const struct regmap_reg *reg;

    if (ev->dir == REGDBG_DIR_IRQ) {
        char where[32], what[96];

        /* no value to find; its words are: IRQ INTA raised by rule ... */
        irq_where(ev, where, sizeof(where));
        irq_what(ev, what, sizeof(what));
        return !numeric && (strcasestr(where, ui->search) || strcasestr(what, ui->search));
    }
    if (numeric && ev->value == number) {
        return true;
    }
    reg = session_event_reg(ui->s, ev);
    return reg && strcasestr(reg->name, ui->search) != NULL;
}

int stream_search(struct ui *ui, int direction, bool *wrapped)
{
    const struct event_store *st = &ui->s->store;
    uint64_t count = event_store_view_count(st);
    /* following, the newest event is a candidate too: start just past it */
    uint64_t pos = ui->follow && direction < 0 ? count : stream_cursor_pos(ui);
    uint64_t number = 0;
    /* a number by the debugger's one rule (rules_parse.h): 010 is ten, 0x10 sixteen */
    bool numeric = rules_parse_number(ui->search, strlen(ui->search), &number) == RULES_NUMBER_OK;

    *wrapped = false;
    if (!ui->search[0] || count == 0) {
        return -1;
    }
    /* Every line once, the one at the cursor last; past either end, on from the other (as less
       and vim do). */
    for (uint64_t step = 1; step <= count; step++) {
        uint64_t i;
        bool wrap;

        if (direction > 0) {
            wrap = pos + step >= count;
            i = wrap ? pos + step - count : pos + step;
        } else {
            wrap = step > pos;
            i = wrap ? pos + count - step : pos - step;
        }
        if (event_matches_search(ui, event_store_at(st, event_store_view_at(st, i)), numeric,
                                 number)) {
            stream_set_cursor(ui, i);
            *wrapped = wrap;
            return 0;
        }
    }
    return -1;
}

static void stream_draw(struct ui *ui)
{
    struct view_state *vs = &ui->vs[VIEW_STREAM];
    const struct event_store *st = &ui->s->store;
    uint64_t count = event_store_view_count(st);
    uint64_t cursor = stream_cursor_pos(ui);
    char line[512];

    if (count == 0) {
        screen_put(VIEW_TOP + 1, 2, st->filtering ? "No event matches the filter yet."
                                                  : "No register access yet.", A_DIM);
        return;
    }
    /* Keep the cursor visible; following, the newest line is the last one. */
    if (ui->follow || cursor >= vs->top + (uint64_t)vs->rows) {
        vs->top = cursor + 1 >= (uint64_t)vs->rows ? cursor + 1 - (uint64_t)vs->rows : 0;
    } else if (cursor < vs->top) {
        vs->top = cursor;
    }
    for (int row = 0; row < vs->rows && vs->top + (uint64_t)row < count; row++) {
        uint64_t pos = vs->top + (uint64_t)row;
        const struct stored_event *ev = event_store_at(st, event_store_view_at(st, pos));
        /* a DMA event that did not happen stands out */
        enum role role = ev->dir == REGDBG_DIR_IRQ ? ROLE_CHANGED
                       : ev->dir == REGDBG_DIR_DMA ? (ev->dma_why ? ROLE_ERROR : ROLE_CHANGED)
                       : ev->dir ? ROLE_WRITE : ROLE_READ;
        int dir_col = 0;

        ui_format_event(ui, ev, line, sizeof(line), &dir_col);
        if (!ui->follow && pos == cursor) {
            screen_fill_line(VIEW_TOP + row, screen_attr(ROLE_CURSOR));
            screen_put(VIEW_TOP + row, 0, line, screen_attr(ROLE_CURSOR));
            continue;
        }
        screen_put(VIEW_TOP + row, 0, line, A_NORMAL);
        if (dir_col < vs->cols) {
            screen_put(VIEW_TOP + row, dir_col, line + dir_col,
                       screen_attr(ev->flags && ev->dir != REGDBG_DIR_IRQ &&
                                   ev->dir != REGDBG_DIR_DMA ? ROLE_EDITED : role));
        }
    }
}

static enum action stream_request(struct ui *ui, enum action req)
{
    const struct event_store *st = &ui->s->store;
    uint64_t count = event_store_view_count(st);
    uint64_t pos = stream_cursor_pos(ui);
    uint64_t page = (uint64_t)(ui->vs[VIEW_STREAM].rows > 1 ? ui->vs[VIEW_STREAM].rows - 1 : 1);

    if (count == 0) {
        return ACT_NONE;
    }
    switch (req) {
    case ACT_MOVE_UP:
        stream_set_cursor(ui, pos ? pos - 1 : 0);
        return ACT_REDRAW;
    case ACT_MOVE_DOWN:
        stream_set_cursor(ui, pos + 1);
        return ACT_REDRAW;
    case ACT_PAGE_UP:
        stream_set_cursor(ui, pos > page ? pos - page : 0);
        return ACT_REDRAW;
    case ACT_PAGE_DOWN:
        stream_set_cursor(ui, pos + page);
        return ACT_REDRAW;
    case ACT_MOVE_FIRST:
        stream_set_cursor(ui, 0);
        return ACT_REDRAW;
    case ACT_MOVE_LAST:
        ui->follow = true;
        return ACT_REDRAW;
    default:
        return ACT_NONE;
    }
}

static void stream_resize(struct ui *ui, int rows, int cols)
{
    ui->vs[VIEW_STREAM].rows = rows;
    ui->vs[VIEW_STREAM].cols = cols;
}

const struct view_ops stream_view_ops = {
    .name = "stream",
    .draw = stream_draw,
    .request = stream_request,
    .resize = stream_resize,
};
