/*
 * The rules view: every rule of every proxy, as written, with its number, state and hit count
 * (what `info rules` shows).
 */
#include <stdio.h>

#include "list.h"
#include "screen.h"
#include "ui.h"

static uint64_t rule_lines(const struct ui *ui)
{
    return (uint64_t)ui->s->n_proxies * REGDBG_MAX_RULES;
}

static void rules_draw(struct ui *ui)
{
    struct view_state *vs = &ui->vs[VIEW_RULES];
    char line[512];
    int row = 1, shown = 0;

    snprintf(line, sizeof(line), "%5s %-8s %-9s %10s  %s", "NUM", "DEVICE", "STATE", "HITS",
             "RULE");
    screen_put(VIEW_TOP, 0, line, screen_attr(ROLE_HEADER));
    list_clamp(vs, rule_lines(ui));
    for (uint64_t i = vs->top; i < rule_lines(ui) && row < vs->rows; i++) {
        int dev = (int)(i / REGDBG_MAX_RULES), slot = (int)(i % REGDBG_MAX_RULES);
        struct rule_info ri;

        rule_get(&ui->s->proxies[dev].rr, slot, &ri);
        if (!ri.used) {
            continue;
        }
        snprintf(line, sizeof(line), "%5d %-8.8s %-9s %10llu  %s", SESSION_RULE_ID(dev, slot),
                 ui->s->proxies[dev].id, ri.enabled ? "enabled" : "disabled",
                 (unsigned long long)ri.hits, ri.text);
        screen_put(VIEW_TOP + row++, 0, line, ri.enabled ? A_NORMAL : screen_attr(ROLE_DIM));
        shown++;
    }
    if (!shown) {
        screen_put(VIEW_TOP + 2, 2, "No rules. :break w IC_DATA_CMD, :edit w REG set 0x1, "
                   ":inject r REG = 0, :drop w REG (see :help)", A_DIM);
    }
}

static enum action rules_key(struct ui *ui, int key)
{
    return list_scroll_key(&ui->vs[VIEW_RULES], key, rule_lines(ui));
}

static void rules_resize(struct ui *ui, int rows, int cols)
{
    ui->vs[VIEW_RULES].rows = rows;
    ui->vs[VIEW_RULES].cols = cols;
}

const struct view_ops rules_view_ops = {
    .name = "rules",
    .draw = rules_draw,
    .key = rules_key,
    .resize = rules_resize,
};
