/*
 * The stream view's cursor and search, used by the main loop to carry out actions.
 */
#ifndef REGDBG_STREAM_H
#define REGDBG_STREAM_H

#include <stdbool.h>
#include <stdint.h>

struct ui;

/* The cursor's position in the (filtered) history; the newest while following. */
uint64_t stream_cursor_pos(const struct ui *ui);
/* Put the cursor at a position and stop following. */
void stream_set_cursor(struct ui *ui, uint64_t pos);
/*
 * Move the cursor to the next (direction 1) or previous (-1) match of ui->search; past the newest
 * (oldest) line the search goes on from the oldest (newest), and *wrapped says so. -1: no line
 * matches.
 */
int stream_search(struct ui *ui, int direction, bool *wrapped);

#endif /* REGDBG_STREAM_H */
