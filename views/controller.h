/*
 * The interactive program's state, shared by its loop (views/tui.c) and its prompt
 * (views/prompt.c): the session it drives, the screen's state, the QEMU it launched, and the
 * measurements `make bench` reads; and the few functions one of them offers the other.
 */
#ifndef REGDBG_CONTROLLER_H
#define REGDBG_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "launch.h"
#include "session.h"
#include "ui.h"

#define MAX_KEY_SAMPLES 4096

struct tui {
    struct session s;
    struct ui ui;
    bool quit;
    bool detach_only;           /* leave a launched QEMU running */
    struct launch launch;       /* launch: the QEMU regdbg started (s.launched_pid while it runs) */
    /* measurements for `make bench` (REGDBG_TUI_STATS=FILE) */
    const char *stats_path;
    uint64_t key_t[MAX_KEY_SAMPLES];
    uint64_t key_latency[MAX_KEY_SAMPLES];
    int n_keys, n_latency;
    uint64_t frames, max_frame_gap_ns, last_frame_ns;
    uint64_t max_fill_at_draw;  /* events published but not yet shown when a frame was drawn */
    uint64_t park_shown_t;      /* device time of a park not yet drawn, or 0 */
    uint64_t park_latency[256]; /* from an access parking to the screen showing it */
    int n_park_latency;
};

/* views/prompt.c: carry out what the prompt holds (a : command, a search, a filter, a value for
   the parked access, a rewritten rule); an error becomes the notice. */
void prompt_submit(struct tui *t);
/* Move the stream's cursor to the next (1) or previous (-1) match of the search. 0, or -1. */
int prompt_search_step(struct tui *t, int direction, char *err, size_t errlen);

/* views/tui.c: answer the parked access shown, and bring up the next one. */
void tui_answer_park(struct tui *t, uint32_t verdict, uint64_t value);

#endif /* REGDBG_CONTROLLER_H */
