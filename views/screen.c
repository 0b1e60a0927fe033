/*
 * The screen: curses set-up and tear-down (also on signals and crashes), colours by meaning with a
 * monochrome fallback, and the frame every view is drawn in: status line on top, the view, a
 * notice/prompt line and the key bar at the bottom.
 */
#include <curses.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "screen.h"
#include "ui.h"

static bool screen_active;
static bool has_colour;

static const struct {
    short fg, bg;
    attr_t colour_attr;
    attr_t mono_attr;
} roles[ROLE_COUNT] = {
    [ROLE_NORMAL] = { -1, -1, A_NORMAL, A_NORMAL },
    [ROLE_STATUS] = { COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_REVERSE },
    [ROLE_KEY] = { COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_REVERSE },
    [ROLE_READ] = { COLOR_GREEN, -1, A_NORMAL, A_NORMAL },
    [ROLE_WRITE] = { COLOR_YELLOW, -1, A_BOLD, A_BOLD },
    [ROLE_CHANGED] = { COLOR_RED, -1, A_BOLD, A_BOLD | A_UNDERLINE },
    [ROLE_ERROR] = { COLOR_WHITE, COLOR_RED, A_BOLD, A_REVERSE | A_BOLD },
    [ROLE_DIM] = { COLOR_BLUE, -1, A_BOLD, A_DIM },
    [ROLE_HEADER] = { -1, -1, A_BOLD | A_UNDERLINE, A_BOLD | A_UNDERLINE },
    [ROLE_CURSOR] = { COLOR_BLACK, COLOR_WHITE, A_NORMAL, A_REVERSE },
    [ROLE_EDITED] = { COLOR_MAGENTA, -1, A_BOLD, A_BOLD },
};

attr_t screen_attr(enum role r)
{
    if (!has_colour) {
        return roles[r].mono_attr;
    }
    return COLOR_PAIR(r) | roles[r].colour_attr;
}

void screen_end(void)
{
    if (screen_active) {
        screen_active = false;
        endwin();
    }
}

/* A crash must not leave the terminal in raw mode: restore it, then die as we would have. */
static void on_fatal_signal(int sig)
{
    screen_end();
    signal(sig, SIG_DFL);
    raise(sig);
}

int screen_init(struct ui *ui)
{
    static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };

    setlocale(LC_ALL, "");
    if (!initscr()) {
        return -1;
    }
    screen_active = true;
    for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
        signal(fatal[i], on_fatal_signal);
    }
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    has_colour = has_colors() && getenv("NO_COLOR") == NULL;
    if (has_colour) {
        start_color();
        use_default_colors();
        for (int r = 1; r < ROLE_COUNT; r++) {
            init_pair((short)r, roles[r].fg, roles[r].bg);
        }
    }
    ui->color = has_colour;
    screen_resize(ui);
    return 0;
}

void screen_resize(struct ui *ui)
{
    int rows, cols;

    getmaxyx(stdscr, rows, cols);
    for (int v = 0; v < VIEW_COUNT; v++) {
        const struct view_ops *ops = ui_view_ops((enum view_id)v);
        /* status line on top; notice/prompt and key bar at the bottom */
        ops->resize(ui, rows > 3 ? rows - 3 : 1, cols);
    }
}

int screen_getkey(struct ui *ui)
{
    int key = getch();

    if (key == KEY_RESIZE) {
        screen_resize(ui);
    }
    return key == ERR ? SCREEN_NO_KEY : key;
}

/* Print s at (y, x), cut to the screen width. */
void screen_put(int y, int x, const char *s, attr_t attr)
{
    int cols = getmaxx(stdscr);

    if (x >= cols || y < 0 || y >= getmaxy(stdscr)) {
        return;
    }
    attron(attr);
    mvaddnstr(y, x, s, cols - x);
    attroff(attr);
}

void screen_fill_line(int y, attr_t attr)
{
    int cols = getmaxx(stdscr);

    attron(attr);
    mvhline(y, 0, ' ', cols);
    attroff(attr);
}

static void human_rate(double r, char *buf, size_t len)
{
    if (r >= 1e6) {
        snprintf(buf, len, "%.2fM", r / 1e6);
    } else if (r >= 1e3) {
        snprintf(buf, len, "%.1fk", r / 1e3);
    } else {
        snprintf(buf, len, "%.0f", r);
    }
}

static void draw_status(struct ui *ui)
{
    struct session *s = ui->s;
    char line[512], rate[32];
    uint64_t drops = 0, fill = 0, entries = 0;
    int n;

    for (int i = 0; i < s->n_proxies; i++) {
        const struct proxy *p = &s->proxies[i];
        drops += ring_reader_dropped(&p->rr);
        fill += ring_reader_fill(&p->rr);
        entries += p->rr.info.ring_entries;
    }
    human_rate(s->events_per_s, rate, sizeof(rate));
    n = snprintf(line, sizeof(line), " regdbg  VM: %s  |  %d device%s  |  %s ev/s  |  drops %llu"
                 "  |  ring %llu%%", s->run_state, s->n_proxies, s->n_proxies == 1 ? "" : "s",
                 rate, (unsigned long long)drops,
                 (unsigned long long)(entries ? fill * 100 / entries : 0));
    if (session_recording(s) && n > 0 && (size_t)n < sizeof(line)) {
        n += snprintf(line + n, sizeof(line) - (size_t)n, "  |  REC %s (%llu)",
                      session_recording(s)->path,
                      (unsigned long long)session_recording(s)->written);
    }
    if (s->store.filtering && n > 0 && (size_t)n < sizeof(line)) {
        snprintf(line + n, sizeof(line) - (size_t)n, "  |  FILTER %s", ui->filter_text);
    }
    screen_fill_line(0, screen_attr(ROLE_STATUS));
    screen_put(0, 0, line, screen_attr(ROLE_STATUS));
}

static void draw_bottom(struct ui *ui)
{
    int rows = getmaxy(stdscr), cols = getmaxx(stdscr);
    int x = 0;

    move(rows - 2, 0);
    clrtoeol();
    if (ui->prompt != PROMPT_NONE) {
        static const char *const prefix[] = {
            [PROMPT_COMMAND] = ":", [PROMPT_SEARCH] = "search: ", [PROMPT_FILTER] = "filter: ",
            [PROMPT_CONFIRM] = "", [PROMPT_PARK_VALUE] = "continue with value: ",
            [PROMPT_PARK_SKIP] = "skip, the read returns: ", [PROMPT_EDIT_RULE] = "rule: ",
        };
        char line[512];

        if (ui->prompt == PROMPT_CONFIRM) {
            snprintf(line, sizeof(line), "%s [y/N] ", ui->confirm_question);
        } else {
            snprintf(line, sizeof(line), "%s%s", prefix[ui->prompt], ui->prompt_text);
        }
        screen_put(rows - 2, 0, line, A_BOLD);
    } else if (ui->notice[0]) {
        screen_put(rows - 2, 0, ui->notice,
                   ui->notice_is_error ? screen_attr(ROLE_ERROR) : A_NORMAL);
    }
    /* The key bar, from the command table. */
    move(rows - 1, 0);
    clrtoeol();
    for (int i = 0; i < ui_n_commands && x < cols; i++) {
        const struct ui_command *c = &ui_commands[i];
        char key[16];
        int klen, llen;

        if (!c->label || (ui->parked != !!(c->scope & SCOPE_PARKED) && c->key != '?')) {
            continue;       /* parked: the park keys; otherwise the rest */
        }
        if (ui->diff ? !(c->scope & SCOPE_DIFF) : !(c->scope & ~SCOPE_DIFF)) {
            continue;       /* the diff screen's keys there, the debugger's here */
        }
        snprintf(key, sizeof(key), "%s", c->keyname);
        if (strchr(key, ' ')) {
            *strchr(key, ' ') = '\0';
        }
        klen = (int)strlen(key);
        llen = (int)strlen(c->label);
        if (x + klen + llen + 1 > cols) {
            break;
        }
        screen_put(rows - 1, x, key, A_BOLD);
        screen_put(rows - 1, x + klen, c->label, screen_attr(ROLE_KEY));
        x += klen + llen + 1;
    }
}

static void draw_gone_box(struct ui *ui)
{
    int rows = getmaxy(stdscr), cols = getmaxx(stdscr);
    char line[320];
    int w, y = rows / 2 - 2;

    snprintf(line, sizeof(line), " %s ", ui->s->qemu_gone_why);
    w = (int)strlen(line);
    if (w < 60) {
        w = 60;
    }
    if (w > cols - 2) {
        w = cols - 2;
    }
    for (int i = 0; i < 4; i++) {
        move(y + i, (cols - w) / 2);
        attron(screen_attr(ROLE_ERROR));
        for (int k = 0; k < w; k++) {
            addch(' ');
        }
        attroff(screen_attr(ROLE_ERROR));
    }
    screen_put(y + 1, (cols - w) / 2, line, screen_attr(ROLE_ERROR));
    screen_put(y + 2, (cols - w) / 2, " The history stays here to browse. q quits.",
               screen_attr(ROLE_ERROR));
}

void screen_draw(struct ui *ui)
{
    erase();
    if (ui->s) {
        draw_status(ui);
    } else {
        /* the diff screen: no VM; its view says what it shows */
        screen_fill_line(0, screen_attr(ROLE_STATUS));
        screen_put(0, 0, ui->status_text, screen_attr(ROLE_STATUS));
    }
    ui_view_ops(ui->view)->draw(ui);
    if (ui->parked) {
        park_panel_draw(ui);
    }
    if (ui->s && ui->s->qemu_gone) {
        draw_gone_box(ui);
    }
    draw_bottom(ui);
    wnoutrefresh(stdscr);
    doupdate();
}
