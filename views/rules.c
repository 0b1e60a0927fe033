/*
 * The rules view: every rule of every proxy, as written, with its number, state and hit count
 * (what `info rules` shows).
 */
#include <stdio.h>

#include "list.h"
#include "screen.h"
#include "ui.h"

/* The rules in use, as (device, slot) pairs. */
static int used_rules(const struct ui *ui, int *dev, int *slot, struct rule_info *info, int max)
{
    int n = 0;

    for (int d = 0; d < ui->s->n_proxies; d++) {
        for (int k = 0; k < (int)REGDBG_MAX_RULES && n < max; k++) {
            rule_get((struct ring_reader *)&ui->s->proxies[d].rr, k, &info[n]);
            if (info[n].used) {
                dev[n] = d;
                slot[n] = k;
                n++;
            }
        }
    }
    return n;
}

#define RULES_SHOWN (SESSION_MAX_PROXIES * REGDBG_MAX_RULES)

static void rules_draw(struct ui *ui)
{
    static struct rule_info info[RULES_SHOWN];
    static int dev[RULES_SHOWN], slot[RULES_SHOWN];
    struct view_state *vs = &ui->vs[VIEW_RULES];
    int n = used_rules(ui, dev, slot, info, RULES_SHOWN);
    char line[512];

    snprintf(line, sizeof(line), "%5s %-8s %-9s %10s  %s", "NUM", "DEVICE", "STATE", "HITS",
             "RULE");
    screen_put(VIEW_TOP, 0, line, screen_attr(ROLE_HEADER));
    if (vs->top + (uint64_t)vs->rows - 1 > (uint64_t)n) {
        vs->top = n > vs->rows - 1 ? (uint64_t)(n - vs->rows + 1) : 0;
    }
    for (int row = 1; row < vs->rows && vs->top + (uint64_t)row - 1 < (uint64_t)n; row++) {
        int i = (int)vs->top + row - 1;

        snprintf(line, sizeof(line), "%5d %-8.8s %-9s %10llu  %s",
                 SESSION_RULE_ID(dev[i], slot[i]), ui->s->proxies[dev[i]].id,
                 info[i].enabled ? "enabled" : "disabled", (unsigned long long)info[i].hits,
                 info[i].text);
        screen_put(VIEW_TOP + row, 0, line, info[i].enabled ? A_NORMAL : screen_attr(ROLE_DIM));
    }
    if (!n) {
        screen_put(VIEW_TOP + 2, 2, "No rules. :break w IC_DATA_CMD, :edit w REG set 0x1, "
                   ":inject r REG = 0, :drop w REG (see :help)", A_DIM);
    }
}

static enum action rules_request(struct ui *ui, enum action req)
{
    static struct rule_info info[RULES_SHOWN];
    static int dev[RULES_SHOWN], slot[RULES_SHOWN];
    int n = used_rules(ui, dev, slot, info, RULES_SHOWN);

    return list_scroll_window(&ui->vs[VIEW_RULES], req, (uint64_t)n + 1);
}

static void rules_resize(struct ui *ui, int rows, int cols)
{
    ui->vs[VIEW_RULES].rows = rows;
    ui->vs[VIEW_RULES].cols = cols;
}

const struct view_ops rules_view_ops = {
    .name = "rules",
    .draw = rules_draw,
    .request = rules_request,
    .resize = rules_resize,
};
