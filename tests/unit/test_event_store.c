/*
 * Unit tests of the debugger's scrollback (debugger/event_store.c): a filter set afterwards
 * covers the whole history, the oldest event included; the view follows new events; eviction
 * keeps the view in step.
 */
#include "check.h"
#include "event_store.h"
#include "regdbg/abi.h"

static struct stored_event ev(uint8_t dir, uint64_t value)
{
    struct stored_event e = { .offset = 0x10, .value = value, .orig_value = value, .size = 4,
                              .dir = dir, .reg = NO_REG };

    return e;
}

static struct event_filter writes_only(void)
{
    struct event_filter f = { .dev = ANY, .bar = ANY, .dir = 1, .reg = ANY };

    return f;
}

static void test_filter_covers_the_whole_history(void)
{
    struct event_store st;
    struct event_filter f = writes_only();

    CHECK(event_store_init(&st, 16) == 0, "init");
    {
        struct stored_event a = ev(1, 0xA), b = ev(0, 0xB), c = ev(1, 0xC);

        event_store_add(&st, &a);       /* the oldest event matches */
        event_store_add(&st, &b);
        event_store_add(&st, &c);
    }
    event_store_set_filter(&st, &f);
    CHECK(event_store_view_count(&st) == 2, "view has %llu events, expected 2",
          (unsigned long long)event_store_view_count(&st));
    CHECK(event_store_at(&st, event_store_view_at(&st, 0))->value == 0xA,
          "first match is 0x%llx, expected the oldest event 0xa",
          (unsigned long long)event_store_at(&st, event_store_view_at(&st, 0))->value);
    CHECK(event_store_at(&st, event_store_view_at(&st, 1))->value == 0xC, "second match");
    {
        struct stored_event d = ev(1, 0xD), e = ev(0, 0xE);

        event_store_add(&st, &d);       /* the view follows new events */
        event_store_add(&st, &e);
    }
    CHECK(event_store_view_count(&st) == 3, "after two more events: %llu",
          (unsigned long long)event_store_view_count(&st));
    event_store_clear_filter(&st);
    CHECK(event_store_view_count(&st) == 5, "without a filter: %llu",
          (unsigned long long)event_store_view_count(&st));
    event_store_free(&st);
}

static void test_eviction_keeps_the_view_in_step(void)
{
    struct event_store st;
    struct event_filter f = writes_only();

    CHECK(event_store_init(&st, 4) == 0, "init");
    event_store_set_filter(&st, &f);
    for (uint64_t v = 0; v < 10; v++) {
        struct stored_event e = ev(v & 1, v);

        event_store_add(&st, &e);
    }
    /* the last 4 events are 6..9; of those, the writes are 7 and 9 */
    CHECK(event_store_view_count(&st) == 2, "view has %llu events, expected 2",
          (unsigned long long)event_store_view_count(&st));
    CHECK(event_store_at(&st, event_store_view_at(&st, 0))->value == 7 &&
          event_store_at(&st, event_store_view_at(&st, 1))->value == 9, "the writes kept");
    event_store_free(&st);
}

/* The values of the events the filter f keeps, in order, as a number in base 16 (one digit per
   event: the test events' values are 1 to 0xf). */
static uint64_t kept(struct event_store *st, const struct event_filter *f)
{
    uint64_t out = 0;

    event_store_set_filter(st, f);
    for (uint64_t i = 0; i < event_store_view_count(st); i++) {
        out = out << 4 | event_store_at(st, event_store_view_at(st, i))->value;
    }
    return out;
}

/* Interrupt events: dir=irq keeps them, irq=WHAT one kind of them; a BAR, register or value
   filter keeps accesses only (an interrupt has none), even where the numbers would agree. */
static void test_irq_events_filter(void)
{
    struct event_store st;
    struct event_filter any = { .dev = ANY, .bar = ANY, .dir = ANY, .reg = ANY };
    struct event_filter f;
    struct stored_event in[] = {
        ev(1, 0x1), ev(REGDBG_DIR_IRQ, REGDBG_IRQ_RAISED), ev(0, 0x3),
        ev(REGDBG_DIR_IRQ, REGDBG_IRQ_LOWERED), ev(REGDBG_DIR_IRQ, REGDBG_IRQ_MSI), ev(1, 0x2),
    };

    CHECK(event_store_init(&st, 16) == 0, "init");
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        if (in[i].dir == REGDBG_DIR_IRQ) {
            in[i].bar = 0;
            in[i].size = 0;
            in[i].offset = 1;
        }
        event_store_add(&st, &in[i]);
    }
    f = any;
    f.dir = REGDBG_DIR_IRQ;
    CHECK(kept(&st, &f) == 0x123, "dir=irq kept 0x%llx", (unsigned long long)kept(&st, &f));
    f = any;
    f.irq_what = REGDBG_IRQ_LOWERED;
    CHECK(kept(&st, &f) == 0x2, "irq=lowered kept 0x%llx", (unsigned long long)kept(&st, &f));
    f = any;
    f.bar = 0;
    CHECK(kept(&st, &f) == 0x132, "bar=0 kept 0x%llx", (unsigned long long)kept(&st, &f));
    f = any;
    f.has_value = true;
    f.value = 2;                        /* REGDBG_IRQ_LOWERED's number, and an access's value */
    f.mask = UINT64_MAX;
    CHECK(kept(&st, &f) == 0x2 && event_store_at(&st, event_store_view_at(&st, 0))->dir == 1,
          "value=2 kept 0x%llx", (unsigned long long)kept(&st, &f));
    f = any;
    f.dir = 1;
    CHECK(kept(&st, &f) == 0x12, "dir=w kept 0x%llx", (unsigned long long)kept(&st, &f));
    event_store_free(&st);
}

int main(void)
{
    RUN_TEST(test_filter_covers_the_whole_history);
    RUN_TEST(test_eviction_keeps_the_view_in_step);
    RUN_TEST(test_irq_events_filter);
    return TEST_SUMMARY();
}
