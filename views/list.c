/*
 * Scrolling for the views that are plain lists of lines (registers, devices, help).
 */
#include <curses.h>

#include "list.h"

void list_clamp(struct view_state *vs, uint64_t n)
{
    uint64_t rows = vs->rows > 0 ? (uint64_t)vs->rows : 1;

    if (n == 0) {
        vs->top = vs->cursor = 0;
        return;
    }
    if (vs->cursor >= n) {
        vs->cursor = n - 1;
    }
    if (vs->cursor < vs->top) {
        vs->top = vs->cursor;
    }
    if (vs->cursor >= vs->top + rows) {
        vs->top = vs->cursor + 1 - rows;
    }
}

enum action list_scroll_cursor(struct view_state *vs, enum action req, uint64_t n)
{
    uint64_t page = vs->rows > 1 ? (uint64_t)vs->rows - 1 : 1;

    switch (req) {
    case ACT_MOVE_UP:
        vs->cursor = vs->cursor ? vs->cursor - 1 : 0;
        break;
    case ACT_MOVE_DOWN:
        vs->cursor++;
        break;
    case ACT_PAGE_UP:
        vs->cursor = vs->cursor > page ? vs->cursor - page : 0;
        break;
    case ACT_PAGE_DOWN:
        vs->cursor += page;
        break;
    case ACT_MOVE_FIRST:
        vs->cursor = 0;
        break;
    case ACT_MOVE_LAST:
        vs->cursor = n ? n - 1 : 0;
        break;
    default:
        return ACT_NONE;
    }
    list_clamp(vs, n);
    return ACT_REDRAW;
}

enum action list_scroll_window(struct view_state *vs, enum action req, uint64_t n)
{
    uint64_t rows = vs->rows > 0 ? (uint64_t)vs->rows : 1;
    uint64_t last = n > rows ? n - rows : 0;     /* the last useful top */
    uint64_t page = rows > 1 ? rows - 1 : 1;

    switch (req) {
    case ACT_MOVE_UP:
        vs->top = vs->top ? vs->top - 1 : 0;
        break;
    case ACT_MOVE_DOWN:
        vs->top++;
        break;
    case ACT_PAGE_UP:
        vs->top = vs->top > page ? vs->top - page : 0;
        break;
    case ACT_PAGE_DOWN:
        vs->top += page;
        break;
    case ACT_MOVE_FIRST:
        vs->top = 0;
        break;
    case ACT_MOVE_LAST:
        vs->top = last;
        break;
    default:
        return ACT_NONE;
    }
    if (vs->top > last) {
        vs->top = last;
    }
    vs->cursor = vs->top;
    return ACT_REDRAW;
}
