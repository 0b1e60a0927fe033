/*
 * The help view, generated from the command table that binds the keys (views/commands.c) and from
 * the table of `:` commands that runs them, so that it cannot drift from either.
 */
#include <stdio.h>

#include "list.h"
#include "screen.h"
#include "ui.h"

/* Line i of the help text into buf; false past the end. */
static bool help_line(uint64_t i, char *buf, size_t len, enum role *role)
{
    uint64_t keys = (uint64_t)ui_n_commands;

    *role = ROLE_NORMAL;
    if (i == 0) {
        snprintf(buf, len, "Keys");
        *role = ROLE_HEADER;
        return true;
    }
    if (i <= keys) {
        const struct ui_command *c = &ui_commands[i - 1];
        snprintf(buf, len, "  %-10s %s%s", c->keyname, c->help,
                 c->scope & SCOPE_STREAM ? "  (stream)" : c->scope & SCOPE_REGS ? "  (registers)"
                                                                                 : "");
        return true;
    }
    i -= keys + 1;
    if (i == 0) {
        buf[0] = '\0';
        return true;
    }
    if (i == 1) {
        snprintf(buf, len, "Commands (after :)");
        *role = ROLE_HEADER;
        return true;
    }
    i -= 2;
    if (i < (uint64_t)prompt_command_count) {
        snprintf(buf, len, "  %-28s %s", prompt_commands[i].usage, prompt_commands[i].help);
        return true;
    }
    return false;
}

static uint64_t help_lines(void)
{
    return (uint64_t)ui_n_commands + 3 + (uint64_t)prompt_command_count;
}

static void help_draw(struct ui *ui)
{
    struct view_state *vs = &ui->vs[VIEW_HELP];
    char line[256];
    enum role role;

    list_clamp(vs, help_lines());
    for (int row = 0; row < vs->rows; row++) {
        if (!help_line(vs->top + (uint64_t)row, line, sizeof(line), &role)) {
            break;
        }
        screen_put(VIEW_TOP + row, 0, line, screen_attr(role));
    }
}

static enum action help_key(struct ui *ui, int key)
{
    return list_scroll_key(&ui->vs[VIEW_HELP], key, help_lines());
}

static void help_resize(struct ui *ui, int rows, int cols)
{
    ui->vs[VIEW_HELP].rows = rows;
    ui->vs[VIEW_HELP].cols = cols;
}

const struct view_ops help_view_ops = {
    .name = "help",
    .draw = help_draw,
    .key = help_key,
    .resize = help_resize,
};
