/* tests/guest/smp.c: mode=hammer of the regdbg test guest: starts the APs (xAPIC INIT-SIPI-SIPI through
 * the trampoline at TRAMP_BASE) and has every CPU k write (k << 24) | j to BAR0 + 0x100 + 4*k. */
#include "guest.h"

#define LAPIC_ID      0x20
#define LAPIC_SVR     0xf0
#define LAPIC_ICR_LO  0x300
#define LAPIC_ICR_HI  0x310
#define ICR_INIT      0x00004500u   /* INIT, level assert */
#define ICR_STARTUP   0x00004600u   /* start-up IPI, vector in bits 7:0 */
#define ICR_PENDING   (1u << 12)

/* TSC ticks; QEMU's TSC runs at the host TSC rate (GHz), so this is several seconds. */
#define TIMEOUT_CYCLES 20000000000ull

extern char tramp_start[], tramp_end[];

static volatile uint32_t aps_checked_in;   /* lock-incremented by each AP when it runs C code */
static volatile uint32_t cpus_done;        /* lock-incremented by each CPU after its writes */
static volatile uint32_t go;               /* set by the BSP once every AP checked in */
static uint32_t hammer_count;

/* Per-CPU progress (writes done), one cache line each; lets the BSP tell "slow" from "stuck". */
static volatile struct { uint32_t n; uint32_t pad[15]; } progress[MAX_CPUS] __attribute__((aligned(64)));

static uint32_t lapic_read(uint32_t reg) { return mmio_read32(LAPIC_BASE + reg); }
static void lapic_write(uint32_t reg, uint32_t v) { mmio_write32(LAPIC_BASE + reg, v); }

static void send_ipi(uint32_t apic_id, uint32_t icr)
{
    lapic_write(LAPIC_ICR_HI, apic_id << 24);
    lapic_write(LAPIC_ICR_LO, icr);
    for (int i = 0; i < 100000 && (lapic_read(LAPIC_ICR_LO) & ICR_PENDING); i++)
        cpu_relax();
}

static int wait_checked_in(uint32_t n, uint64_t cycles)
{
    uint64_t t0 = rdtsc_fenced();
    while (aps_checked_in < n)
        if (rdtsc_fenced() - t0 > cycles)
            return 0;
    return 1;
}

/* Delays assume a TSC of at least ~1 GHz (they are only needed on real hardware anyway). */
static int start_ap(uint32_t apic_id, uint32_t expect)
{
    send_ipi(apic_id, ICR_INIT);
    delay_cycles(10000000);                          /* ~10 ms */
    for (int i = 0; i < 2; i++) {
        send_ipi(apic_id, ICR_STARTUP | (TRAMP_BASE >> 12));
        if (wait_checked_in(expect, 200000))         /* ~200 us */
            return 1;
    }
    return wait_checked_in(expect, TIMEOUT_CYCLES);
}

static void hammer_run(uint32_t k)
{
    uint32_t off = 0x100 + 4 * k;
    for (uint32_t j = 0; j < hammer_count; j++) {
        dev_write(off, k << 24 | j);
        progress[k].n = j + 1;
    }
}

void ap_main(uint32_t apic_id)
{
    atomic_inc(&aps_checked_in);
    while (!go)
        cpu_relax();
    hammer_run(apic_id);
    atomic_inc(&cpus_done);
    halt_forever();
}

void hammer_main(uint32_t cpus, uint32_t count)
{
    hammer_count = count;
    if (cpus > 1) {
        if ((lapic_read(LAPIC_ID) >> 24) != 0)
            say("warning: BSP APIC id is %u, not 0", lapic_read(LAPIC_ID) >> 24);
        lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | 0x1ff);   /* software-enable, spurious 0xff */
        memcpy((void *)TRAMP_BASE, tramp_start, (size_t)(tramp_end - tramp_start));
        for (uint32_t k = 1; k < cpus; k++) {
            if (!start_ap(k, k)) {
                say("error: AP with APIC id %u did not start (is -smp %u given?)", k, cpus);
                guest_exit(EXIT_AP_TIMEOUT);
            }
        }
    }
    barrier();
    go = 1;
    hammer_run(0);
    atomic_inc(&cpus_done);

    uint64_t last_change = rdtsc_fenced();
    uint32_t last_sum = 0;
    while (cpus_done < cpus) {
        uint32_t sum = 0;
        for (uint32_t k = 0; k < cpus; k++)
            sum += progress[k].n;
        uint64_t now = rdtsc_fenced();
        if (sum != last_sum) {
            last_sum = sum;
            last_change = now;
        } else if (now - last_change > TIMEOUT_CYCLES) {
            for (uint32_t k = 0; k < cpus; k++)
                if (progress[k].n < count)
                    say("error: cpu %u stuck after %u of %u writes", k, progress[k].n, count);
            say("error: hammer timeout, %u of %u cpus done", cpus_done, cpus);
            guest_exit(EXIT_AP_TIMEOUT);
        }
        cpu_relax();
    }
    say("hammer done cpus=%u count=%u", cpus, count);
    guest_exit(EXIT_OK);
}
