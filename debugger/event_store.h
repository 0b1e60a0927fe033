/*
 * The debugger's scrollback: a fixed-capacity history of accesses and interrupt events from every
 * proxy, oldest evicted first, addressed by a never-reused absolute index, plus a filtered view of
 * it (device, BAR, register, direction or interrupts, value under a mask, kind of interrupt event)
 * that is kept up to date as events arrive.
 */
#ifndef REGDBG_EVENT_STORE_H
#define REGDBG_EVENT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stored_event {
    uint64_t seq;               /* ring sequence number of its device */
    uint64_t t_ns;
    uint64_t offset;
    uint64_t value;
    uint64_t orig_value;
    uint64_t guest_pc;          /* with REGDBG_EV_PC in flags (REGDBG_EV_PC_AFTER: the next one) */
    int32_t cpu;
    uint16_t flags;
    uint8_t dev;                /* index of the proxy in the session */
    uint8_t bar;
    uint8_t size;               /* REGDBG_DIR_DMA: the engine's index */
    uint8_t dir;                /* enum regdbg_dir: REGDBG_DIR_IRQ for an interrupt event,
                                   REGDBG_DIR_DMA for a DMA event */
    uint16_t reg;               /* index of the register in the device's map, or NO_REG */
    uint16_t rule;              /* the rule that touched it or fired it, or REGDBG_RULE_NONE */
    uint8_t irq_source;         /* REGDBG_DIR_IRQ: enum regdbg_irq_source */
    uint8_t dma_what;           /* REGDBG_DIR_DMA: enum regdbg_dma_what (guest_pc holds the
                                   copy's ns, offset the guest's address, value the buffer's,
                                   orig_value the length) */
    uint8_t dma_why;
};

#define NO_REG 0xffffu
#define ANY (-1)

/* An interrupt event has no BAR, register or value: bar, reg, reg_name and value select
   accesses only. */
struct event_filter {
    int dev;                    /* ANY or a device index */
    int bar;                    /* ANY or 0..5 */
    int dir;                    /* ANY, 0 read, 1 write, 2 interrupt events (REGDBG_DIR_IRQ) */
    int reg;                    /* ANY or a register index (meaningful with dev) */
    char reg_name[64];          /* "" or a register name, matched on any device */
    bool has_value;
    uint64_t value, mask;       /* (event.value & mask) == value */
    uint8_t irq_what;           /* 0: any; else interrupt events of this enum regdbg_irq_what */
};

struct event_store {
    struct stored_event *ring;
    size_t capacity;
    uint64_t begin;             /* absolute index of the oldest stored event */
    uint64_t end;               /* absolute index one past the newest */
    /* the filtered view: absolute indices, ascending */
    uint64_t *match;
    size_t match_cap, match_first, match_count;   /* a ring of indices too */
    struct event_filter filter;
    bool filtering;
    /* resolves reg_name filters; set by the session */
    bool (*reg_name_is)(void *opaque, const struct stored_event *ev, const char *name);
    void *opaque;
};

int event_store_init(struct event_store *st, size_t capacity);
void event_store_free(struct event_store *st);

/* Append (evicting the oldest when full). */
void event_store_add(struct event_store *st, const struct stored_event *ev);
static inline const struct stored_event *event_store_at(const struct event_store *st,
                                                         uint64_t abs)
{
    return &st->ring[abs % st->capacity];
}

/* Replace the filter and rebuild the filtered view over the whole history. */
void event_store_set_filter(struct event_store *st, const struct event_filter *f);
void event_store_clear_filter(struct event_store *st);
bool event_filter_matches(const struct event_store *st, const struct stored_event *ev);

/* The filtered view (all events when no filter): count and i-th absolute index. */
uint64_t event_store_view_count(const struct event_store *st);
uint64_t event_store_view_at(const struct event_store *st, uint64_t i);

#endif /* REGDBG_EVENT_STORE_H */
