/*
 * The key table of the TUI, and key dispatch: the prompt takes keys first, then the table, which
 * maps every key to a request. The controller (views/tui.c) performs them and hands the movement
 * requests to the current view: views never see raw keys. The help screen, the key bar and
 * `regdbg help --keys` are generated from the same table, so they cannot drift from the keys.
 */
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tui.h"
#include "ui.h"

#define KEY_ESC 27
#define CTRL(c) ((c) & 0x1f)

const struct ui_command ui_commands[] = {
    { 'c', 0, "c", "Continue", "parked: let the access go on unmodified", SCOPE_PARKED,
      ACT_PARK_CONTINUE },
    { 'v', 0, "v", "Value", "parked: go on with another value (a write reaches the device "
      "changed; a read returns it)", SCOPE_PARKED, ACT_PARK_VALUE },
    { 'k', 0, "k", "Skip", "parked: skip it (the write never happens; the read returns a value "
      "without touching the device)", SCOPE_PARKED, ACT_PARK_SKIP },
    { 'n', 0, "n", "Step", "parked: go on and park the next access of the device", SCOPE_PARKED,
      ACT_PARK_STEP },
    { 'S', 0, "S", "StopVM", "parked: go on and stop the whole VM", SCOPE_PARKED,
      ACT_PARK_STOP_VM },
    { 'G', 0, "G", "gdb", "parked: go on, stop the VM right after the access (under TCG: at the "
      "end of its translation block) and show how gdb attaches there", SCOPE_PARKED,
      ACT_PARK_GDB },
    { 'e', 0, "e", "EditRule", "parked: rewrite the rule that hit", SCOPE_PARKED,
      ACT_PARK_EDIT_RULE },
    { '?', KEY_F(1), "? F1", "Help", "this help: every key and command", SCOPE_GLOBAL | SCOPE_DIFF,
      ACT_VIEW_HELP },
    { 'q', 0, "q", "Quit", "quit (the VM goes on; a VM regdbg launched is shut down after "
      "asking; the diff screen just ends)", SCOPE_GLOBAL | SCOPE_DIFF, ACT_QUIT },
    { 'n', ']', "n ]", "NextDiff", "the next divergence: the next hunk where the run on the "
      "right differs from run 1", SCOPE_DIFF, ACT_DIFF_NEXT },
    { 'N', '[', "N [", "PrevDiff", "the previous divergence", SCOPE_DIFF, ACT_DIFF_PREV },
    { '\t', 0, "Tab", "NextRun", "with three runs or more: the next run on the right, against "
      "run 1", SCOPE_DIFF, ACT_DIFF_NEXT_RUN },
    { '1', 0, "1", "Stream", "the live stream of accesses", SCOPE_GLOBAL, ACT_VIEW_STREAM },
    { '2', 0, "2", "Regs", "registers: last values, counts, fields", SCOPE_GLOBAL,
      ACT_VIEW_REGS },
    { '3', 0, "3", "Devices", "every proxy: identity, BARs, ring", SCOPE_GLOBAL,
      ACT_VIEW_DEVICES },
    { '4', 0, "4", "Rules", "breakpoints, edits, injections, drops, with their hit counts",
      SCOPE_GLOBAL, ACT_VIEW_RULES },
    { 's', 0, "s", "Stop/Cont", "stop the VM, or let it continue", SCOPE_GLOBAL,
      ACT_VM_STOP_CONT },
    { 'R', 0, "R", "Reset", "system reset of the VM (asks first)", SCOPE_GLOBAL, ACT_VM_RESET },
    { ' ', 0, "Space", "Pause", "pause the stream (keep the cursor) or follow the newest",
      SCOPE_STREAM, ACT_FOLLOW },
    { '/', 0, "/", "Search", "search the history: a register name or a value (0x55); it wraps "
      "around; Up in the prompt brings back the last search", SCOPE_STREAM, ACT_PROMPT_SEARCH },
    { 'n', 0, "n", NULL, "next search match (older to newer)", SCOPE_STREAM, ACT_SEARCH_NEXT },
    { 'N', 0, "N", NULL, "previous search match", SCOPE_STREAM, ACT_SEARCH_PREV },
    { 'f', 0, "f", "Filter", "filter: dev=ID bar=N reg=NAME dir=r|w|irq value=V[/MASK] irq=WHAT; "
      "Up in the prompt brings back the filter in force", SCOPE_STREAM, ACT_PROMPT_FILTER },
    { 'F', 0, "F", NULL, "clear the filter", SCOPE_STREAM, ACT_CLEAR_FILTER },
    { 'w', 0, "w", "Who", "who made each access: function+offset, then file:line (--symbols), "
      "then hidden", SCOPE_STREAM, ACT_WHO },
    { '\t', 0, "Tab", NULL, "registers of the next device", SCOPE_REGS, ACT_NEXT_DEVICE },
    { ':', 0, ":", "Cmd", "command prompt (:help lists the commands; Up brings back the last "
      "one)", SCOPE_GLOBAL, ACT_PROMPT_COMMAND },
    { KEY_UP, 'k', "Up k", NULL, "move up one line", SCOPE_SCROLL, ACT_MOVE_UP },
    { KEY_DOWN, 'j', "Down j", NULL, "move down one line", SCOPE_SCROLL, ACT_MOVE_DOWN },
    { KEY_PPAGE, CTRL('b'), "PgUp ^B", NULL, "one page up", SCOPE_SCROLL, ACT_PAGE_UP },
    { KEY_NPAGE, CTRL('f'), "PgDn ^F", NULL, "one page down", SCOPE_SCROLL, ACT_PAGE_DOWN },
    { KEY_HOME, 'g', "Home g", NULL, "jump to the oldest line", SCOPE_SCROLL, ACT_MOVE_FIRST },
    { KEY_END, 'G', "End G", NULL, "jump to the newest line (the stream follows again)",
      SCOPE_SCROLL, ACT_MOVE_LAST },
    { KEY_ESC, 0, "Esc", NULL, "leave help, a prompt or a question", SCOPE_GLOBAL | SCOPE_DIFF,
      ACT_VIEW_BACK },
    { 'd', 0, "d", NULL, "detach: leave the VM running, even one regdbg launched", SCOPE_GLOBAL,
      ACT_DETACH },
};
const int ui_n_commands = (int)(sizeof(ui_commands) / sizeof(ui_commands[0]));

static unsigned view_scope(enum view_id v)
{
    switch (v) {
    case VIEW_DIFF:
        return SCOPE_DIFF | SCOPE_SCROLL;
    case VIEW_STREAM:
        return SCOPE_GLOBAL | SCOPE_STREAM | SCOPE_SCROLL;
    case VIEW_REGS:
        return SCOPE_GLOBAL | SCOPE_SCROLL | SCOPE_REGS;
    case VIEW_DEVICES:
    case VIEW_RULES:
    case VIEW_HELP:
        return SCOPE_GLOBAL | SCOPE_SCROLL;
    default:
        return SCOPE_GLOBAL;
    }
}

static enum action prompt_key(struct ui *ui, int key)
{
    if (ui->prompt == PROMPT_CONFIRM) {
        return key == 'y' || key == 'Y' ? ACT_CONFIRM_YES : ACT_CONFIRM_NO;
    }
    switch (key) {
    case KEY_ESC:
    case CTRL('g'):
    case CTRL('c'):
        return ACT_PROMPT_CANCEL;
    case '\n':
    case '\r':
    case KEY_ENTER:
        return ACT_PROMPT_SUBMIT;
    case KEY_BACKSPACE:
    case 127:
    case CTRL('h'):
        if (ui->prompt_len > 0) {
            ui->prompt_text[--ui->prompt_len] = '\0';
        }
        return ACT_REDRAW;
    case CTRL('u'):
        ui->prompt_len = 0;
        ui->prompt_text[0] = '\0';
        return ACT_REDRAW;
    case KEY_UP: {
        /* The prompts start empty; Up brings back the filter in force, the last search or the
           last command, to change it. */
        const char *old = ui->prompt == PROMPT_FILTER ? ui->filter_text
                        : ui->prompt == PROMPT_SEARCH ? ui->search
                        : ui->prompt == PROMPT_COMMAND ? ui->last_command : NULL;

        if (!old) {
            return ACT_NONE;
        }
        snprintf(ui->prompt_text, sizeof(ui->prompt_text), "%s", old);
        ui->prompt_len = (int)strlen(ui->prompt_text);
        return ACT_REDRAW;
    }
    default:
        if (key >= 32 && key < 127 && ui->prompt_len < (int)sizeof(ui->prompt_text) - 1) {
            ui->prompt_text[ui->prompt_len++] = (char)key;
            ui->prompt_text[ui->prompt_len] = '\0';
            return ACT_REDRAW;
        }
        return ACT_NONE;
    }
}

unsigned ui_scope(const struct ui *ui)
{
    /* the diff screen's help is still the diff screen: its keys only */
    if (ui->diff) {
        return SCOPE_DIFF | SCOPE_SCROLL;
    }
    return view_scope(ui->view) | (ui->parked ? SCOPE_PARKED : 0);
}

enum action ui_key(struct ui *ui, int key)
{
    unsigned scope = ui_scope(ui);

    if (key == KEY_RESIZE) {
        return ACT_REDRAW;
    }
    if (ui->prompt != PROMPT_NONE) {
        return prompt_key(ui, key);
    }
    for (int i = 0; i < ui_n_commands; i++) {
        const struct ui_command *c = &ui_commands[i];

        if ((c->key == key || (c->alt_key && c->alt_key == key)) && (c->scope & scope)) {
            return c->action;   /* views/tui.c performs it; movement goes on to the view */
        }
    }
    return ACT_NONE;
}

const char *ui_action_name(enum action a)
{
    static const char *const names[ACT_COUNT] = {
        [ACT_NONE] = "none", [ACT_REDRAW] = "redraw", [ACT_QUIT] = "quit",
        [ACT_DETACH] = "detach", [ACT_VM_STOP_CONT] = "vm-stop-cont", [ACT_VM_RESET] = "vm-reset",
        [ACT_VIEW_STREAM] = "view-stream", [ACT_VIEW_REGS] = "view-regs",
        [ACT_VIEW_DEVICES] = "view-devices", [ACT_VIEW_HELP] = "view-help",
        [ACT_VIEW_BACK] = "view-back", [ACT_PROMPT_COMMAND] = "prompt-command",
        [ACT_PROMPT_SEARCH] = "prompt-search", [ACT_PROMPT_FILTER] = "prompt-filter",
        [ACT_SEARCH_NEXT] = "search-next", [ACT_SEARCH_PREV] = "search-prev",
        [ACT_CLEAR_FILTER] = "clear-filter", [ACT_FOLLOW] = "follow",
        [ACT_PROMPT_SUBMIT] = "prompt-submit", [ACT_PROMPT_CANCEL] = "prompt-cancel",
        [ACT_CONFIRM_YES] = "confirm-yes", [ACT_CONFIRM_NO] = "confirm-no",
        [ACT_NEXT_DEVICE] = "next-device", [ACT_VIEW_RULES] = "view-rules",
        [ACT_PARK_CONTINUE] = "park-continue", [ACT_PARK_VALUE] = "park-value",
        [ACT_PARK_SKIP] = "park-skip", [ACT_PARK_STEP] = "park-step",
        [ACT_PARK_STOP_VM] = "park-stop-vm", [ACT_PARK_GDB] = "park-gdb", [ACT_PARK_EDIT_RULE] = "park-edit-rule",
        [ACT_MOVE_UP] = "move-up", [ACT_MOVE_DOWN] = "move-down", [ACT_PAGE_UP] = "page-up",
        [ACT_PAGE_DOWN] = "page-down", [ACT_MOVE_FIRST] = "move-first",
        [ACT_MOVE_LAST] = "move-last", [ACT_DIFF_NEXT] = "diff-next",
        [ACT_DIFF_PREV] = "diff-prev", [ACT_DIFF_NEXT_RUN] = "diff-next-run",
    };

    return a >= 0 && a < ACT_COUNT && names[a] ? names[a] : "?";
}

void ui_keys_print(FILE *f)
{
    static const struct { unsigned scope; const char *name; } scopes[] = {
        { SCOPE_GLOBAL, "global" }, { SCOPE_STREAM, "stream" }, { SCOPE_SCROLL, "scroll" },
        { SCOPE_REGS, "registers" }, { SCOPE_PARKED, "parked" }, { SCOPE_DIFF, "diff" },
    };

    fputs("# the TUI's keys, in the order they are looked up (the first that fits wins)\n"
          "# keys\trequest\tscope\thelp\n", f);
    for (int i = 0; i < ui_n_commands; i++) {
        const struct ui_command *c = &ui_commands[i];
        char scope[64] = "";
        size_t used = 0;

        /* a key of several scopes names each: global,diff */
        for (size_t k = 0; k < sizeof(scopes) / sizeof(scopes[0]); k++) {
            if (c->scope & scopes[k].scope) {
                used += (size_t)snprintf(scope + used, sizeof(scope) - used, "%s%s",
                                         used ? "," : "", scopes[k].name);
            }
        }
        fprintf(f, "%s\t%s\t%s\t%s\n", c->keyname, ui_action_name(c->action), scope, c->help);
    }
}

const struct view_ops *ui_view_ops(enum view_id id)
{
    switch (id) {
    case VIEW_REGS:
        return &regs_view_ops;
    case VIEW_DEVICES:
        return &devices_view_ops;
    case VIEW_HELP:
        return &help_view_ops;
    case VIEW_RULES:
        return &rules_view_ops;
    case VIEW_DIFF:
        return &diff_view_ops;
    default:
        return &stream_view_ops;
    }
}

void ui_notice(struct ui *ui, bool error, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ui->notice, sizeof(ui->notice), fmt, ap);
    va_end(ap);
    ui->notice_is_error = error;
}
