/*
 * Drawing helpers shared by the views: colour roles (by meaning, with a monochrome fallback) and
 * clipped text output. Only files in views/ include curses.
 */
#ifndef REGDBG_SCREEN_H
#define REGDBG_SCREEN_H

#include <curses.h>

enum role {
    ROLE_NORMAL,
    ROLE_STATUS,
    ROLE_KEY,
    ROLE_READ,
    ROLE_WRITE,
    ROLE_CHANGED,
    ROLE_ERROR,
    ROLE_DIM,
    ROLE_HEADER,
    ROLE_CURSOR,
    ROLE_EDITED,
    ROLE_COUNT
};

attr_t screen_attr(enum role r);
void screen_put(int y, int x, const char *s, attr_t attr);
void screen_fill_line(int y, attr_t attr);

/* The first screen line a view draws on. */
#define VIEW_TOP 1

#endif /* REGDBG_SCREEN_H */
