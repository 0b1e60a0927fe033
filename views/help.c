/*
 * The help view, generated from the table that binds the keys (views/commands.c) and from the
 * library's command table (debugger/command_table.c, the `:` commands), so that it cannot drift
 * from either.
 * Long lines wrap to the width of the screen.
 */
#include <stdio.h>
#include <string.h>

#include "list.h"
#include "screen.h"
#include "ui.h"

#define HELP_MAX_LINES 512

struct help_text {
    char line[HELP_MAX_LINES][256];
    enum role role[HELP_MAX_LINES];
    int n;
};

static void add(struct help_text *h, enum role role, const char *s)
{
    if (h->n < HELP_MAX_LINES) {
        snprintf(h->line[h->n], sizeof(h->line[0]), "%s", s);
        h->role[h->n++] = role;
    }
}

/* "  NAME      text", the text wrapped at cols under its own column. */
static void add_entry(struct help_text *h, int name_width, const char *name, const char *text,
                      int cols)
{
    int indent = 2 + name_width + 1;
    int width = cols - indent > 20 ? cols - indent : 20;
    char buf[256];
    bool first = true;

    while (*text || first) {
        int n = (int)strlen(text);

        if (n > width) {
            n = width;
            while (n > 0 && text[n] != ' ') {
                n--;
            }
            if (n == 0) {
                n = width;
            }
        }
        snprintf(buf, sizeof(buf), "  %-*s %.*s", name_width, first ? name : "", n, text);
        add(h, ROLE_NORMAL, buf);
        text += n;
        while (*text == ' ') {
            text++;
        }
        first = false;
    }
}

static void build(struct help_text *h, const struct ui *ui, int cols)
{
    unsigned scope = ui_scope(ui);

    h->n = 0;
    add(h, ROLE_HEADER, ui->diff ? "Keys of the diff screen" : "Keys");
    for (int i = 0; i < ui_n_commands; i++) {
        const struct ui_command *c = &ui_commands[i];
        char text[300];

        if (ui->diff && !(c->scope & scope)) {
            continue;       /* the diff screen has its keys only */
        }
        snprintf(text, sizeof(text), "%s%s", c->help,
                 c->scope & SCOPE_STREAM ? " (stream)" : c->scope & SCOPE_REGS ? " (registers)"
                 : c->scope == SCOPE_DIFF ? " (regdbg diff --tui)" : "");
        add_entry(h, 10, c->keyname, text, cols);
    }
    if (ui->diff) {
        return;             /* no : prompt there */
    }
    add(h, ROLE_NORMAL, "");
    add(h, ROLE_HEADER, "Commands (type : first)");
    for (int i = 0; i < CMD_COUNT; i++) {
        if (command_table[i].where & CMDW_PROMPT) {
            add_entry(h, 10, command_table[i].name, command_table[i].usage, cols);
            add_entry(h, 10, "", command_table[i].help, cols);
        }
    }
}

static void help_draw(struct ui *ui)
{
    static struct help_text h;
    struct view_state *vs = &ui->vs[VIEW_HELP];

    build(&h, ui, vs->cols);
    if (vs->top + (uint64_t)vs->rows > (uint64_t)h.n) {
        vs->top = (uint64_t)h.n > (uint64_t)vs->rows ? (uint64_t)h.n - (uint64_t)vs->rows : 0;
    }
    for (int row = 0; row < vs->rows && vs->top + (uint64_t)row < (uint64_t)h.n; row++) {
        int i = (int)vs->top + row;
        screen_put(VIEW_TOP + row, 0, h.line[i], screen_attr(h.role[i]));
    }
}

static enum action help_request(struct ui *ui, enum action req)
{
    static struct help_text h;

    build(&h, ui, ui->vs[VIEW_HELP].cols);
    return list_scroll_window(&ui->vs[VIEW_HELP], req, (uint64_t)h.n);
}

static void help_resize(struct ui *ui, int rows, int cols)
{
    ui->vs[VIEW_HELP].rows = rows;
    ui->vs[VIEW_HELP].cols = cols;
}

const struct view_ops help_view_ops = {
    .name = "help",
    .draw = help_draw,
    .request = help_request,
    .resize = help_resize,
};
