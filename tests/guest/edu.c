/* tests/guest/edu.c: mode=edu: checks QEMU's edu device (1234:11e8, docs/specs/edu.rst in QEMU's
 * source) through BAR0, whatever stands between (the test bed puts a real edu behind regdbg-proxy):
 * its identity, liveness and factorial registers; then that the device's command register is the
 * guest's own: decoding off (with bus master and INTx disable on) for `delay` ms, and on again.
 * With dma=: its DMA engine instead (edu_dma_main): a pattern to the device and back by polling
 * (poll), the transfers the proxy must refuse (refuse), a transfer into memory that is not the
 * guest's (blocked: canary=ADDRESS), or timed transfers (bench); irq: the round trip with the
 * completion interrupt (command bit 2, irq=intx|msi), the data checked when the handler has run
 * and before any read of the command register. */
#include "guest.h"

#define EDU_ID          0x00
#define EDU_LIVENESS    0x04
#define EDU_FACTORIAL   0x08
#define EDU_STATUS      0x20
#define EDU_STATUS_BUSY 0x01        /* the factorial is being computed */
#define EDU_ID_VALUE    0x010000ed  /* major 1, minor 0, 0xed */
#define EDU_MAX_POLLS   100000
#define EDU_DMA_SRC     0x80        /* 64-bit registers; the guest writes their low halves */
#define EDU_DMA_DST     0x88
#define EDU_DMA_CNT     0x90
#define EDU_DMA_CMD     0x98
#define EDU_DMA_RUN     0x1
#define EDU_DMA_FROM_DEVICE 0x2     /* else toward the device (RAM -> edu) */
#define EDU_DMA_IRQ     0x4         /* interrupt when done (status bit EDU_IRQ_DMA) */
#define EDU_IRQ_DMA     0x100
#define EDU_DMA_BUF     0x40000     /* the device's 4 KiB buffer, in its own address space */
#define EDU_DMA_SIZE    4096
#define EDU_DMA_WAIT_MS 3000        /* edu takes 100 ms of virtual time per transfer */

static uint32_t failures;

static void expect(const char *what, uint32_t got, uint32_t want)
{
    if (got == want) {
        say("edu %s 0x%08x ok", what, got);
    } else {
        failures++;
        say("edu FAIL %s 0x%08x, expected 0x%08x", what, got, want);
    }
}

void edu_main(uint32_t hold_ms)
{
    static const uint32_t live[] = { 0x12345678, 0x00000000, 0xa5a5a5a5 };
    static const uint32_t fact_n[] = { 5, 10, 12 };   /* 12! is the last that fits 32 bits */

    expect("identity", dev_read(EDU_ID), EDU_ID_VALUE);
    for (unsigned i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
        dev_write(EDU_LIVENESS, live[i]);
        expect("liveness", dev_read(EDU_LIVENESS), ~live[i]);
    }
    for (unsigned i = 0; i < sizeof(fact_n) / sizeof(fact_n[0]); i++) {
        uint32_t n = fact_n[i], want = 1, polls = 0;
        for (uint32_t k = 2; k <= n; k++)
            want *= k;
        dev_write(EDU_FACTORIAL, n);
        while ((dev_read(EDU_STATUS) & EDU_STATUS_BUSY) && polls < EDU_MAX_POLLS)
            polls++;
        if (polls == EDU_MAX_POLLS) {
            failures++;
            say("edu FAIL factorial %u: still busy after %u polls", n, polls);
            continue;
        }
        expect(n == 5 ? "factorial 5" : n == 10 ? "factorial 10" : "factorial 12",
               dev_read(EDU_FACTORIAL), want);
    }

    /* The guest's command register: decoding off, bus master and INTx disable on, for a while */
    uint16_t cmd = dev_command();
    dev_set_command((uint16_t)((cmd & ~PCI_CMD_MEMORY) | PCI_CMD_MASTER | PCI_CMD_INTX_DISABLE));
    say("edu decoding off: command 0x%04x", dev_command());
    uint32_t v = mmio_read32(dev_bar0 + EDU_ID);       /* nothing answers at the BAR's address */
    if (v == EDU_ID_VALUE) {
        failures++;
        say("edu FAIL the device answered with its decoding off");
    }
    delay_ms(hold_ms);
    dev_set_command(cmd);
    say("edu decoding on: command 0x%04x", dev_command());
    expect("identity again", dev_read(EDU_ID), EDU_ID_VALUE);
    say("edu done failures=%u", failures);
    if (failures)
        guest_exit(EXIT_CHECK_FAILED);
}

/* ---- the DMA engine (dma=) ---------------------------------------------------------------- */

static uint8_t ram_src[EDU_DMA_SIZE] __attribute__((aligned(4096)));
static uint8_t ram_dst[EDU_DMA_SIZE] __attribute__((aligned(4096)));

static uint8_t pattern(uint32_t i, uint32_t seed)
{
    return (uint8_t)(i * 7u + seed + (i >> 8));
}

/* Programs one transfer and starts it (the start write is the last) */
static void dma_start(uint32_t src, uint32_t dst, uint32_t len, uint32_t cmd)
{
    dev_write(EDU_DMA_SRC, src);
    dev_write(EDU_DMA_DST, dst);
    dev_write(EDU_DMA_CNT, len);
    dev_write(EDU_DMA_CMD, cmd | EDU_DMA_RUN);
}

/* Polls the command register, 1 ms apart, until RUN clears; 0 when it never did. The cycles of
   the read that saw it clear go to *last_read. */
static int dma_wait(uint64_t *last_read)
{
    for (uint32_t ms = 0; ms < EDU_DMA_WAIT_MS; ms++) {
        uint64_t t0 = rdtsc_fenced();
        uint32_t cmd = dev_read(EDU_DMA_CMD);
        uint64_t t1 = rdtsc_fenced();

        if (!(cmd & EDU_DMA_RUN)) {
            if (last_read)
                *last_read = t1 - t0;
            return 1;
        }
        delay_ms(1);
    }
    return 0;
}

/* The first byte where buf differs from the pattern, or EDU_DMA_SIZE */
static uint32_t first_difference(const uint8_t *buf, uint32_t seed)
{
    uint32_t i = 0;

    while (i < EDU_DMA_SIZE && buf[i] == pattern(i, seed))
        i++;
    return i;
}

/* A pattern into the device and back into other memory: both must arrive */
static void dma_round_trip(uint32_t seed)
{
    uint32_t at;

    for (uint32_t i = 0; i < EDU_DMA_SIZE; i++) {
        ram_src[i] = pattern(i, seed);
        ram_dst[i] = 0xee;
    }
    dma_start((uint32_t)(uintptr_t)ram_src, EDU_DMA_BUF, EDU_DMA_SIZE, 0);
    if (!dma_wait(0)) {
        failures++;
        say("edu FAIL dma to-device: RUN never cleared");
        return;
    }
    say("edu dma to-device %u bytes from 0x%x done", EDU_DMA_SIZE,
        (uint32_t)(uintptr_t)ram_src);
    dma_start(EDU_DMA_BUF, (uint32_t)(uintptr_t)ram_dst, EDU_DMA_SIZE, EDU_DMA_FROM_DEVICE);
    if (!dma_wait(0)) {
        failures++;
        say("edu FAIL dma from-device: RUN never cleared");
        return;
    }
    at = first_difference(ram_dst, seed);
    if (at == EDU_DMA_SIZE) {
        say("edu dma from-device %u bytes to 0x%x: the pattern ok", EDU_DMA_SIZE,
            (uint32_t)(uintptr_t)ram_dst);
    } else {
        failures++;
        say("edu FAIL dma from-device: byte %u is 0x%02x, expected 0x%02x", at, ram_dst[at],
            pattern(at, seed));
    }
}

/* One transfer with the completion interrupt: 1 when the handler ran and saw edu's DMA bit
   (and acknowledged it, 0x64). The command register is not read: the interrupt alone says done */
static int dma_irq_transfer(const char *what, uint32_t src, uint32_t dst, uint32_t cmd)
{
    uint32_t before = eduirq_runs(), seen;

    dma_start(src, dst, EDU_DMA_SIZE, cmd | EDU_DMA_IRQ);
    if (!eduirq_wait(before + 1)) {
        failures++;
        say("edu FAIL dma irq %s: no interrupt", what);
        return 0;
    }
    seen = eduirq_seen(before);
    if (!(seen & EDU_IRQ_DMA)) {
        failures++;
        say("edu FAIL dma irq %s: the handler saw status 0x%x, not the DMA bit", what, seen);
        return 0;
    }
    say("edu dma irq %s %u bytes: interrupt, status 0x%x acknowledged", what, EDU_DMA_SIZE, seen);
    return 1;
}

/* The round trip of dma_round_trip, completed by interrupts */
static void dma_irq_round_trip(uint32_t seed)
{
    uint32_t at;

    for (uint32_t i = 0; i < EDU_DMA_SIZE; i++) {
        ram_src[i] = pattern(i, seed);
        ram_dst[i] = 0xee;
    }
    if (!dma_irq_transfer("to-device", (uint32_t)(uintptr_t)ram_src, EDU_DMA_BUF, 0) ||
        !dma_irq_transfer("from-device", EDU_DMA_BUF, (uint32_t)(uintptr_t)ram_dst,
                          EDU_DMA_FROM_DEVICE))
        return;
    at = first_difference(ram_dst, seed);
    if (at == EDU_DMA_SIZE) {
        say("edu dma irq from-device %u bytes to 0x%x: the pattern ok", EDU_DMA_SIZE,
            (uint32_t)(uintptr_t)ram_dst);
    } else {
        failures++;
        say("edu FAIL dma irq from-device: byte %u is 0x%02x, expected 0x%02x", at, ram_dst[at],
            pattern(at, seed));
    }
}

/* Transfers the proxy must refuse: the start write never reaches the device, which therefore
   never moves anything (RUN reads clear at once, the memory is untouched) */
static void dma_refused(const char *what, uint32_t src, uint32_t dst, uint32_t len, uint32_t cmd)
{
    for (uint32_t i = 0; i < EDU_DMA_SIZE; i++)
        ram_dst[i] = 0xee;
    dma_start(src, dst, len, cmd);
    if (dev_read(EDU_DMA_CMD) & EDU_DMA_RUN) {
        failures++;
        say("edu FAIL dma %s: the device runs it", what);
        dma_wait(0);
        return;
    }
    if (ram_dst[0] != 0xee || ram_dst[EDU_DMA_SIZE - 1] != 0xee) {
        failures++;
        say("edu FAIL dma %s: the memory changed", what);
        return;
    }
    say("edu dma %s: not started", what);
}

/* dma=bench: runs timed transfers each way; cycles of the start write, of the read that saw the
   completion, and of the whole transfer (start to completion, polls 1 ms apart included) */
static void dma_bench(uint32_t runs)
{
    static uint32_t start_cy[2][64], done_cy[2][64];
    uint64_t total[2] = { 0, 0 };

    if (runs > 64)
        runs = 64;
    for (uint32_t i = 0; i < EDU_DMA_SIZE; i++)
        ram_src[i] = pattern(i, 1);
    for (uint32_t r = 0; r < runs; r++) {
        for (int dir = 0; dir < 2; dir++) {
            uint64_t last = 0, t0, t1, t2;

            dev_write(EDU_DMA_SRC, dir ? EDU_DMA_BUF : (uint32_t)(uintptr_t)ram_src);
            dev_write(EDU_DMA_DST, dir ? (uint32_t)(uintptr_t)ram_dst : EDU_DMA_BUF);
            dev_write(EDU_DMA_CNT, EDU_DMA_SIZE);
            t0 = rdtsc_fenced();
            dev_write(EDU_DMA_CMD, EDU_DMA_RUN | (dir ? EDU_DMA_FROM_DEVICE : 0));
            t1 = rdtsc_fenced();
            if (!dma_wait(&last)) {
                failures++;
                say("edu FAIL dma bench: RUN never cleared");
                return;
            }
            t2 = rdtsc_fenced();
            start_cy[dir][r] = (uint32_t)(t1 - t0);
            done_cy[dir][r] = (uint32_t)last;
            total[dir] += t2 - t0;
        }
        if (first_difference(ram_dst, 1) != EDU_DMA_SIZE) {
            failures++;
            say("edu FAIL dma bench: the pattern did not come back");
            return;
        }
    }
    for (int dir = 0; dir < 2; dir++) {
        say("edu dma bench %s runs=%u start_cycles=%u done_read_cycles=%u transfer_cycles=%u",
            dir ? "from-device" : "to-device", runs, median(start_cy[dir], runs),
            median(done_cy[dir], runs), (uint32_t)udiv64(total[dir], runs, 0));
    }
}

void edu_dma_main(const char *what, uint32_t canary, uint32_t runs, int msi)
{
    uint16_t cmd = dev_command();

    expect("identity", dev_read(EDU_ID), EDU_ID_VALUE);
    dev_set_command((uint16_t)(cmd | PCI_CMD_MASTER));
    say("edu dma %s: bus master on, command 0x%04x", what, dev_command());
    if (what[0] == 'p') {               /* poll */
        dma_round_trip(0x11);
        dma_round_trip(0x5a);           /* and again: the engine is free after the first */
    } else if (what[0] == 'r') {        /* refuse */
        dma_refused("length 4097", (uint32_t)(uintptr_t)ram_src, EDU_DMA_BUF, EDU_DMA_SIZE + 1, 0);
        dma_refused("from-device outside RAM", EDU_DMA_BUF, 0x2000000, EDU_DMA_SIZE,
                    EDU_DMA_FROM_DEVICE);
        dma_refused("to-device from the LAPIC", LAPIC_BASE, EDU_DMA_BUF, 16, 0);
        dma_round_trip(0x77);           /* the engine still works */
    } else if (what[0] == 'b' && what[1] == 'l') {  /* blocked: into canary= */
        dma_start(EDU_DMA_BUF, canary, EDU_DMA_SIZE, EDU_DMA_FROM_DEVICE);
        if (dma_wait(0))
            say("edu dma from-device %u bytes to 0x%x: the device says done", EDU_DMA_SIZE,
                canary);
        else {
            failures++;
            say("edu FAIL dma blocked: RUN never cleared");
        }
    } else if (what[0] == 'i') {        /* irq: completion by interrupt */
        eduirq_setup(msi);
        dma_irq_round_trip(0x3c);
        dma_irq_round_trip(0xa5);       /* and again: the engine is free after the first */
    } else {                            /* bench */
        dma_bench(runs);
    }
    say("edu done failures=%u", failures);
    if (failures)
        guest_exit(EXIT_CHECK_FAILED);
}
