/*
 * Scrolling for the views that are plain lists of lines (registers, devices, help).
 */
#ifndef REGDBG_LIST_H
#define REGDBG_LIST_H

#include <stdint.h>

#include "ui.h"

/* Move the cursor of a list of n lines by a movement request; ACT_NONE when it is not one. */
enum action list_scroll_cursor(struct view_state *vs, enum action req, uint64_t n);
/* Scroll a list of n lines that has no cursor (help, devices): requests move the window itself. */
enum action list_scroll_window(struct view_state *vs, enum action req, uint64_t n);

/* Keep top and cursor inside a list of n lines with the cursor visible. */
void list_clamp(struct view_state *vs, uint64_t n);

#endif /* REGDBG_LIST_H */
