/*
 * The parked-access panel: when a breakpoint or a step parks an access, it shows the access
 * decoded, the rule that hit, who made it (the guest PC and CPU mode, the function, file:line and
 * that line of the source when --symbols name it) and the keys that answer it, over the bottom of
 * whatever view is up.
 */
#include <stdio.h>
#include <string.h>

#include "screen.h"
#include "ui.h"

/* "in i2c_init+0x1c at i2c.c:42:   writel(con, base + IC_CON);" as far as the symbols know */
static void park_source(const struct ui *ui, const struct regdbg_park_slot *p, char *buf,
                        size_t len)
{
    struct symbol_where w;
    const char *text = NULL;
    size_t n;

    if (!ui->s->symbols || !symbols_lookup(ui->s->symbols, p->guest_pc, p->pc_after, &w)) {
        return;
    }
    n = (size_t)snprintf(buf, len, "in %s+0x%llx", w.func ? w.func : "?",
                         (unsigned long long)w.func_offset);
    if (w.file && w.line && n < len) {
        const char *base = strrchr(w.file, '/');

        n += (size_t)snprintf(buf + n, len - n, " at %s:%d", base ? base + 1 : w.file, w.line);
        if (w.source) {
            text = symbols_source_line(ui->s->symbols, w.source, w.line);
        }
    }
    if (text && n < len) {
        while (*text == ' ' || *text == '\t') {
            text++;
        }
        snprintf(buf + n, len - n, ":   %s", text);
    }
}

void park_panel_draw(struct ui *ui)
{
    const struct regdbg_park_slot *p = &ui->park.park;
    int rows = getmaxy(stdscr);
    int top = rows - 2 - PARK_PANEL_ROWS;
    struct stored_event ev = {
        .t_ns = p->t_ns, .offset = p->offset, .value = p->value, .orig_value = p->value,
        .cpu = p->cpu, .dev = (uint8_t)ui->park.dev, .bar = p->bar, .size = p->size,
        .dir = p->dir, .reg = NO_REG, .rule = p->rule,
    };
    const struct proxy *px = &ui->s->proxies[ui->park.dev];
    char line[512], what[160], pc[80], src[400] = "";

    if (top < 1) {
        top = 1;
    }
    if (px->map) {
        const struct regmap_reg *reg = regmap_find(px->map, p->bar, p->offset, p->size);
        ev.reg = reg ? (uint16_t)(reg - px->map->regs) : NO_REG;
    }
    for (int i = 0; i < PARK_PANEL_ROWS; i++) {
        screen_fill_line(top + i, screen_attr(ROLE_ERROR));
    }
    if (p->rule == REGDBG_RULE_NONE) {
        snprintf(what, sizeof(what), "a step");
    } else {
        struct rule_info ri;
        rule_get((struct ring_reader *)&px->rr, p->rule, &ri);
        snprintf(what, sizeof(what), "rule %d: %.120s",
                 SESSION_RULE_ID(ui->park.dev, p->rule), ri.used ? ri.text : "(deleted)");
    }
    if (p->pc_known) {
        static const char *const modes[] = { "?", "real", "vm86", "prot16", "prot32", "compat16",
                                             "compat32", "long64" };

        snprintf(pc, sizeof(pc), "guest PC 0x%llx%s %s", (unsigned long long)p->guest_pc,
                 p->pc_after ? " (after the instruction)" : "",
                 p->cpu_mode <= REGDBG_MODE_MAX ? modes[p->cpu_mode] : "?");
        park_source(ui, p, src, sizeof(src));
    } else {
        snprintf(pc, sizeof(pc), "guest PC unknown%s", p->cpu < 0 ? ": no vCPU" : "");
    }
    snprintf(line, sizeof(line), " PARKED by %s   (%s)", what, pc);
    screen_put(top, 0, line, screen_attr(ROLE_ERROR));
    ui_format_event(ui, &ev, line, sizeof(line), NULL);
    screen_put(top + 1, 1, line, screen_attr(ROLE_ERROR));
    screen_put(top + 2, 1, src[0] ? src : "(no --symbols name this code)",
               screen_attr(ROLE_ERROR));
    screen_put(top + 3, 1, p->dir == REGDBG_DIR_READ && p->before_read
               ? "The read has not reached the device yet."
               : p->dir == REGDBG_DIR_READ ? "The device has been read; the guest waits."
                                           : "The write has not reached the device yet.",
               screen_attr(ROLE_ERROR));
    screen_put(top + 4, 1, "c continue   v another value   k skip   n step   S stop the VM   "
               "G gdb   e edit the rule", screen_attr(ROLE_ERROR) | A_BOLD);
}
