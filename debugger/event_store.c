/*
 * The debugger's scrollback and its filtered view (see event_store.h). Both are rings, so adding
 * an event costs O(1) whatever the history's size, and a new filter costs one pass over it.
 */
#include "event_store.h"

#include <stdlib.h>
#include <string.h>

#include "regdbg/abi.h"

int event_store_init(struct event_store *st, size_t capacity)
{
    memset(st, 0, sizeof(*st));
    st->ring = malloc(capacity * sizeof(*st->ring));
    st->match = malloc(capacity * sizeof(*st->match));
    if (!st->ring || !st->match) {
        free(st->ring);
        free(st->match);
        return -1;
    }
    st->capacity = st->match_cap = capacity;
    event_store_clear_filter(st);
    return 0;
}

void event_store_free(struct event_store *st)
{
    free(st->ring);
    free(st->match);
    memset(st, 0, sizeof(*st));
}

bool event_filter_matches(const struct event_store *st, const struct stored_event *ev)
{
    const struct event_filter *f = &st->filter;
    bool irq = ev->dir == REGDBG_DIR_IRQ;

    if (f->dev != ANY && ev->dev != f->dev) {
        return false;
    }
    if (f->irq_what && (!irq || ev->value != f->irq_what)) {
        return false;
    }
    if (irq && (f->bar != ANY || f->reg != ANY || f->reg_name[0] || f->has_value)) {
        return false;
    }
    if (f->bar != ANY && ev->bar != f->bar) {
        return false;
    }
    if (f->dir != ANY && ev->dir != f->dir) {
        return false;
    }
    if (f->reg != ANY && ev->reg != f->reg) {
        return false;
    }
    if (f->has_value && (ev->value & f->mask) != f->value) {
        return false;
    }
    if (f->reg_name[0] && !(st->reg_name_is && st->reg_name_is(st->opaque, ev, f->reg_name))) {
        return false;
    }
    return true;
}

static void match_push(struct event_store *st, uint64_t abs)
{
    st->match[(st->match_first + st->match_count) % st->match_cap] = abs;
    st->match_count++;
}

void event_store_add(struct event_store *st, const struct stored_event *ev)
{
    if (st->end - st->begin == st->capacity) {
        /* Evict the oldest; matches are ascending, so only the first can refer to it. */
        if (st->filtering && st->match_count && st->match[st->match_first] == st->begin) {
            st->match_first = (st->match_first + 1) % st->match_cap;
            st->match_count--;
        }
        st->begin++;
    }
    st->ring[st->end % st->capacity] = *ev;
    if (st->filtering && event_filter_matches(st, ev)) {
        match_push(st, st->end);
    }
    st->end++;
}

void event_store_set_filter(struct event_store *st, const struct event_filter *f)
{
    st->filter = *f;
    st->filtering = true;
    st->match_first = 0;
    st->match_count = 0;
    for (uint64_t abs = st->begin; abs < st->end; abs++) {
        if (event_filter_matches(st, event_store_at(st, abs))) {
            match_push(st, abs);
        }
    }
}

void event_store_clear_filter(struct event_store *st)
{
    memset(&st->filter, 0, sizeof(st->filter));
    st->filter.dev = st->filter.bar = st->filter.dir = st->filter.reg = ANY;
    st->filtering = false;
    st->match_first = st->match_count = 0;
}

uint64_t event_store_view_count(const struct event_store *st)
{
    return st->filtering ? st->match_count : st->end - st->begin;
}

uint64_t event_store_view_at(const struct event_store *st, uint64_t i)
{
    if (st->filtering) {
        return st->match[(st->match_first + i) % st->match_cap];
    }
    return st->begin + i;
}
