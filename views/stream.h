/*
 * The stream view's cursor and search, used by the main loop to carry out actions.
 */
#ifndef REGDBG_STREAM_H
#define REGDBG_STREAM_H

#include <stdint.h>

struct ui;

/* The cursor's position in the (filtered) history; the newest while following. */
uint64_t stream_cursor_pos(const struct ui *ui);
/* Put the cursor at a position and stop following. */
void stream_set_cursor(struct ui *ui, uint64_t pos);
/* Move the cursor to the next (direction 1) or previous (-1) match of ui->search; -1: none. */
int stream_search(struct ui *ui, int direction);

#endif /* REGDBG_STREAM_H */
