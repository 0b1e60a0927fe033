/*
 * The TUI's shape: the state of the screen (which view, scroll positions, the prompt), the requests
 * (enum action) that keys map to, the small ops table every view implements, and the key table
 * that binds every key to a request and generates the help screen, the key bar and
 * `regdbg help --keys`.
 *
 * Views receive requests, never raw keys; their request handlers change only view state and
 * return an action; they never draw. Views draw only from
 * the session (debugger/session.h) and their own state; nothing here talks QMP or touches a ring.
 */
#ifndef REGDBG_UI_H
#define REGDBG_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"

enum action {
    ACT_NONE,
    ACT_REDRAW,
    ACT_QUIT,               /* detach; with a launched QEMU, ask, then kill it */
    ACT_DETACH,             /* leave the VM running, whatever started it */
    ACT_VM_STOP_CONT,
    ACT_VM_RESET,
    ACT_VIEW_STREAM,
    ACT_VIEW_REGS,
    ACT_VIEW_DEVICES,
    ACT_VIEW_HELP,
    ACT_VIEW_BACK,
    ACT_PROMPT_COMMAND,
    ACT_PROMPT_SEARCH,
    ACT_PROMPT_FILTER,
    ACT_SEARCH_NEXT,
    ACT_SEARCH_PREV,
    ACT_CLEAR_FILTER,
    ACT_FOLLOW,             /* toggle pause/follow of the stream */
    ACT_WHO,                /* the stream's who column: function+offset, file:line, hidden */
    ACT_PROMPT_SUBMIT,      /* the prompt's text is ready */
    ACT_PROMPT_CANCEL,
    ACT_CONFIRM_YES,
    ACT_CONFIRM_NO,
    ACT_NEXT_DEVICE,        /* the registers view shows the next proxy */
    ACT_VIEW_RULES,
    ACT_PARK_CONTINUE,      /* the parked access goes on unmodified */
    ACT_PARK_VALUE,         /* ... with another value (asks for it) */
    ACT_PARK_SKIP,          /* the write never happens / the read returns a value (asks) */
    ACT_PARK_STEP,          /* go on, and park the next access of the device */
    ACT_PARK_STOP_VM,       /* go on, and stop the whole VM */
    ACT_PARK_GDB,           /* go on, stop the VM right after, and hand it to gdb */
    ACT_PARK_EDIT_RULE,     /* rewrite the rule that hit (asks) */
    /* movement: requests the current view receives (view_ops.request) */
    ACT_MOVE_UP,            /* one line up */
    ACT_MOVE_DOWN,
    ACT_PAGE_UP,
    ACT_PAGE_DOWN,
    ACT_MOVE_FIRST,         /* the oldest / first line */
    ACT_MOVE_LAST,          /* the newest / last line (the stream follows again) */
    /* the diff screen (regdbg diff --tui) */
    ACT_DIFF_NEXT,          /* the next divergence */
    ACT_DIFF_PREV,          /* the previous one */
    ACT_DIFF_NEXT_RUN,      /* the next run on the right side */
    ACT_COUNT
};

/* The request's name, as `regdbg help --keys` prints it ("move-up", "park-continue"). */
const char *ui_action_name(enum action a);

enum view_id { VIEW_STREAM, VIEW_REGS, VIEW_DEVICES, VIEW_RULES, VIEW_HELP, VIEW_DIFF,
               VIEW_COUNT };

enum prompt_kind {
    PROMPT_NONE, PROMPT_COMMAND, PROMPT_SEARCH, PROMPT_FILTER, PROMPT_CONFIRM,
    PROMPT_PARK_VALUE, PROMPT_PARK_SKIP, PROMPT_EDIT_RULE,
};

/* Scope of a command in the table. */
#define SCOPE_GLOBAL  0x1u
#define SCOPE_STREAM  0x2u
#define SCOPE_SCROLL  0x4u  /* every view that scrolls */
#define SCOPE_REGS    0x8u
#define SCOPE_PARKED  0x10u /* only while an access is parked (these keys come first) */
#define SCOPE_DIFF    0x20u /* the diff screen (regdbg diff --tui), which has only these keys and
                               the scrolling ones */

struct ui_command {
    int key;                /* curses key code */
    int alt_key;            /* a second key for the same thing, or 0 */
    const char *keyname;    /* as shown in help and the key bar */
    const char *label;      /* short, for the key bar; NULL to leave it out */
    const char *help;
    unsigned scope;
    enum action action;     /* the request the key makes */
};

extern const struct ui_command ui_commands[];
extern const int ui_n_commands;

/* The `:` commands are the library's command table (command_table.h) marked CMDW_PROMPT. */

struct view_state {
    uint64_t top;           /* first line shown (view index) */
    uint64_t cursor;        /* selected line */
    int rows, cols;         /* of the area the view draws in */
};

struct diff_screen;

struct ui {
    struct session *s;          /* NULL on the diff screen, which has no VM */
    struct diff_screen *diff;   /* the diff screen's model (views/diff_view.c), or NULL */
    enum view_id view, prev_view;
    struct view_state vs[VIEW_COUNT];
    bool follow;            /* the stream keeps the newest line at the bottom */
    bool parked;            /* an access waits for an answer: the park panel is up */
    struct session_park park;
    int cur_dev;            /* the proxy the registers view shows */
    uint64_t stream_anchor; /* absolute event index at the cursor while paused */

    enum prompt_kind prompt;
    char prompt_text[256];
    int prompt_len;
    char confirm_question[160];
    enum action confirm_action;

    char search[128];
    char filter_text[256];
    char last_command[256]; /* the last line run at the : prompt (Up brings it back) */
    char notice[512];       /* one line at the bottom, e.g. an error from a command */
    char status_text[512];  /* the top line when there is no session (the diff screen) */
    bool notice_is_error;
    uint64_t session_start_ns;
    bool color;
    enum { WHO_HIDDEN, WHO_FUNC, WHO_LINE } who;  /* the stream's column of who made an access */
};

struct view_ops {
    const char *name;
    void (*draw)(struct ui *ui);
    /* a movement request (ACT_MOVE_UP ... ACT_MOVE_LAST); views never see raw keys */
    enum action (*request)(struct ui *ui, enum action req);
    void (*resize)(struct ui *ui, int rows, int cols);
};

extern const struct view_ops stream_view_ops, regs_view_ops, devices_view_ops, rules_view_ops,
    help_view_ops, diff_view_ops;

/* The scopes of the keys that work where the screen is now (SCOPE_*). */
unsigned ui_scope(const struct ui *ui);

/* The parked-access panel (views/park.c), drawn over the bottom of the view. */
void park_panel_draw(struct ui *ui);
#define PARK_PANEL_ROWS 5

/* Key dispatch: prompt first, then the command table, then the current view. */
enum action ui_key(struct ui *ui, int key);

/* Drawing entry points (views/screen.c). */
int screen_init(struct ui *ui);
void screen_end(void);
void screen_draw(struct ui *ui);
void screen_resize(struct ui *ui);
/* The next key typed, or SCREEN_NO_KEY; a terminal resize is handled here and returned too. */
int screen_getkey(struct ui *ui);
#define SCREEN_NO_KEY (-1)

/* Helpers shared by the views. */
const struct view_ops *ui_view_ops(enum view_id id);
/* Who made an access (flags: REGDBG_EV_*): func+offset, or file:line when by_line; its PC when
   no symbols name it; "-" when it carries none. */
void ui_format_who(const struct ui *ui, uint16_t flags, uint64_t pc, bool by_line, char *buf,
                   size_t len);
void ui_format_event(const struct ui *ui, const struct stored_event *ev, char *buf, size_t len,
                     int *dir_col);
void ui_notice(struct ui *ui, bool error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* REGDBG_UI_H */
