/*
 * The registers view: every register in the selected proxy's map with its last value read and
 * written, access counts, time since the last access, the code that wrote it last and the last
 * value decoded into fields; values that changed in the last two seconds are highlighted.
 */
#include <stdio.h>

#include "list.h"
#include "screen.h"
#include "ui.h"

#define CHANGED_NS 2000000000ull

static void format_ago(uint64_t now, uint64_t then, char *buf, size_t len)
{
    uint64_t d;

    if (!then) {
        snprintf(buf, len, "-");
        return;
    }
    d = now > then ? now - then : 0;
    if (d < 1000000000ull) {
        snprintf(buf, len, "%llums", (unsigned long long)(d / 1000000));
    } else if (d < 600000000000ull) {
        snprintf(buf, len, "%.1fs", (double)d / 1e9);
    } else {
        snprintf(buf, len, "%llum", (unsigned long long)(d / 60000000000ull));
    }
}

static const struct proxy *current(struct ui *ui)
{
    if (ui->s->n_proxies == 0) {
        return NULL;
    }
    if (ui->cur_dev >= ui->s->n_proxies) {
        ui->cur_dev = 0;
    }
    return &ui->s->proxies[ui->cur_dev];
}

static void regs_draw(struct ui *ui)
{
    struct view_state *vs = &ui->vs[VIEW_REGS];
    const struct proxy *p = current(ui);
    uint64_t now = session_now_ns();
    char line[512];

    if (!p) {
        return;
    }
    if (!p->map) {
        snprintf(line, sizeof(line), "%s (%04x:%04x) has no register map: load one with "
                 "--map FILE (docs/register-maps.md)", p->id, p->rr.info.vendor_id,
                 p->rr.info.device_id);
        screen_put(VIEW_TOP + 1, 2, line, A_NORMAL);
        return;
    }
    snprintf(line, sizeof(line), "%s: %s  (Tab: next device)", p->id, p->map->name);
    screen_put(VIEW_TOP, 0, line, A_BOLD);
    snprintf(line, sizeof(line), "%-18s %-10s %-12s %-12s %7s %7s %6s  %-24s  %s", "REGISTER",
             "BAR+OFF", "LAST READ", "LAST WRITE", "READS", "WRITES", "AGO", "LAST WRITER",
             "FIELDS (last value)");
    screen_put(VIEW_TOP + 1, 0, line, screen_attr(ROLE_HEADER));
    vs->rows -= 2;
    list_clamp(vs, p->map->n_regs);
    for (int row = 0; row < vs->rows && vs->top + (uint64_t)row < p->map->n_regs; row++) {
        uint64_t i = vs->top + (uint64_t)row;
        const struct regmap_reg *reg = &p->map->regs[i];
        const struct reg_stats *st = &p->stats[i];
        char rd[24] = "-", wr[24] = "-", ago[16], fields[256] = "", where[24], who[128] = "-";
        bool changed = st->changed_t_ns && now - st->changed_t_ns < CHANGED_NS;
        int y = VIEW_TOP + 2 + row;

        if (st->reads) {
            snprintf(rd, sizeof(rd), "0x%0*llx", reg->width * 2,
                     (unsigned long long)st->last_read);
        }
        if (st->writes) {
            snprintf(wr, sizeof(wr), "0x%0*llx", reg->width * 2,
                     (unsigned long long)st->last_write);
        }
        if (st->has_value) {
            regmap_decode(reg, reg->offset, reg->width, st->last_value, fields, sizeof(fields));
        }
        format_ago(now, st->last_t_ns, ago, sizeof(ago));
        if (st->writer_known) {
            ui_format_who(ui, REGDBG_EV_PC | (st->writer_after ? REGDBG_EV_PC_AFTER : 0),
                          st->writer_pc, false, who, sizeof(who));
        }
        snprintf(where, sizeof(where), "%u+0x%llx", reg->bar, (unsigned long long)reg->offset);
        snprintf(line, sizeof(line), "%-18.18s %-10s %-12s %-12s %7llu %7llu %6s  %-24.24s  %s",
                 reg->name, where, rd, wr, (unsigned long long)st->reads,
                 (unsigned long long)st->writes, ago, who, fields);
        if (i == vs->cursor) {
            screen_fill_line(y, screen_attr(ROLE_CURSOR));
            screen_put(y, 0, line, screen_attr(ROLE_CURSOR));
        } else {
            screen_put(y, 0, line, changed ? screen_attr(ROLE_CHANGED)
                                           : st->last_t_ns ? A_NORMAL : screen_attr(ROLE_DIM));
        }
    }
    vs->rows += 2;
}

static enum action regs_request(struct ui *ui, enum action req)
{
    const struct proxy *p = current(ui);
    struct view_state *vs = &ui->vs[VIEW_REGS];
    enum action a;

    if (!p || !p->map) {
        return ACT_NONE;
    }
    vs->rows -= 2;
    a = list_scroll_cursor(vs, req, p->map->n_regs);
    vs->rows += 2;
    return a;
}

static void regs_resize(struct ui *ui, int rows, int cols)
{
    ui->vs[VIEW_REGS].rows = rows;
    ui->vs[VIEW_REGS].cols = cols;
}

const struct view_ops regs_view_ops = {
    .name = "registers",
    .draw = regs_draw,
    .request = regs_request,
    .resize = regs_resize,
};
