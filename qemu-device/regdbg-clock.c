/*
 * regdbg-proxy: the time stamp of each access, in CLOCK_MONOTONIC
 * nanoseconds, without a clock call per access.
 *
 * clock_gettime() through the vDSO costs about twice a TSC read here, and
 * it was the largest single cost of an access in the handler. When the
 * kernel itself keeps CLOCK_MONOTONIC on the TSC (its clocksource is "tsc":
 * invariant, and synchronised across CPUs), an access reads the TSC and
 * scales it from the last point where both clocks were read together. That
 * point is taken again at least every millisecond. The scale is measured
 * first over a millisecond (until then every stamp is a clock read), then
 * over windows ten times longer up to a second, between points read close
 * together; waiting a second for the first scale cost a clock read per access
 * through a firmware's first second, most of a short run. A stamp stays
 * within about a microsecond of CLOCK_MONOTONIC (REGDBG_STAMP_AHEAD_NS in
 * regdbg/abi.h bounds how far ahead) and never goes backwards. Otherwise,
 * and outside the BQL that serialises the device's accesses, every stamp is a
 * clock_gettime().
 *
 * Copyright (c) 2026 The regdbg authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "regdbg-proxy.h"
#include "hw/misc/regdbg/trace-hw_misc_regdbg.h"

#define REGDBG_CLOCK_RESYNC_NS   (1000 * 1000)           /* 1 ms */
#define REGDBG_CLOCK_CAL_FIRST_NS (1000 * 1000)           /* 1 ms */
#define REGDBG_CLOCK_CAL_LAST_NS (1000 * 1000 * 1000)     /* 1 s */
#define REGDBG_CLOCK_CAL_MAX_NS (1ULL << 31)    /* ns << 32 stays below 2^63 */
/*
 * A clock read between two TSC reads this close (a microsecond at a 2 GHz
 * TSC, less above; a vDSO read takes a few hundred ticks) pins the pair to
 * within that: over the first 1 ms window, a scale error of about 10^-3, a
 * stamp off by about a microsecond at most, far less once the windows grow.
 */
#define REGDBG_CLOCK_PAIR_TICKS 2000

RegdbgClock regdbg_clock;

static bool regdbg_clock_tsc_is_the_kernels(void)
{
    g_autofree char *src = NULL;

    if (!g_file_get_contents("/sys/devices/system/clocksource/clocksource0/"
                             "current_clocksource", &src, NULL, NULL)) {
        return false;
    }
    return g_str_equal(g_strstrip(src), "tsc");
}

/*
 * Both clocks read together: the TSC read after CLOCK_MONOTONIC, so that a
 * stamp scaled from this point errs late, never early. false when the two
 * reads were far apart (preempted, an interrupt): the point is good enough
 * to stamp from, not to measure the scale with.
 */
static bool regdbg_clock_pair(uint64_t *ns, uint64_t *tsc)
{
    uint64_t before = cpu_get_host_ticks();

    *ns = regdbg_clock_ns();
    *tsc = cpu_get_host_ticks();
    return *tsc - before < REGDBG_CLOCK_PAIR_TICKS;
}

void regdbg_clock_init(void)
{
    RegdbgClock *c = &regdbg_clock;

    if (c->checked) {
        return;
    }
    c->checked = true;
    c->usable = regdbg_clock_tsc_is_the_kernels();
    for (int i = 0; i < 3 && !c->cal_tight; i++) {
        c->cal_tight = regdbg_clock_pair(&c->cal_ns, &c->cal_tsc);
    }
    c->base_ns = c->cal_ns;
    c->base_tsc = c->cal_tsc;
    c->cal_window_ns = REGDBG_CLOCK_CAL_FIRST_NS;
}

uint64_t regdbg_clock_resync(RegdbgClock *c)
{
    uint64_t ns, tsc;
    bool tight = regdbg_clock_pair(&ns, &tsc);

    if (!c->usable || !bql_locked()) {
        return ns;
    }
    if (tight && c->cal_tight && ns - c->cal_ns >= c->cal_window_ns &&
        tsc > c->cal_tsc) {
        /*
         * ns per tick, 32.32 fixed point, over the last window or more; a
         * window stretched by an idle device past REGDBG_CLOCK_CAL_MAX_NS
         * would overflow the shift: the next one begins here instead
         */
        if (ns - c->cal_ns < REGDBG_CLOCK_CAL_MAX_NS) {
            c->mult = ((ns - c->cal_ns) << 32) / (tsc - c->cal_tsc);
            trace_regdbg_clock_scale(ns - c->cal_ns, c->cal_window_ns, c->mult);
            if (c->cal_window_ns < REGDBG_CLOCK_CAL_LAST_NS) {
                c->cal_window_ns *= 10;
            }
        }
        c->cal_ns = ns;
        c->cal_tsc = tsc;
    } else if (tight && !c->cal_tight) {
        /* the window begins at the first point both clocks agree on */
        c->cal_ns = ns;
        c->cal_tsc = tsc;
        c->cal_tight = true;
    }
    c->base_ns = ns;
    c->base_tsc = tsc;
    c->resync_ticks = 0;
    if (c->mult) {
        c->resync_ticks = ((uint64_t)REGDBG_CLOCK_RESYNC_NS << 32) / c->mult;
    }
    if (ns < c->last_ns) {
        ns = c->last_ns;        /* an extrapolation ran ahead: never go back */
    }
    c->last_ns = ns;
    return ns;
}
