/* tests/guest/irq.c: interrupts in the regdbg test guest, and mode=eduirq: QEMU's edu device asked
 * for interrupts (0x60 raises status bits, 0x24 reads them, 0x64 acknowledges), taken by a handler
 * as INTx through the 8259 PIC (the line the BIOS put in config 0x3c, level-triggered in the
 * ELCR) or as MSI through the local APIC (the device's MSI capability). Owns the IDT (stubs in
 * irq_asm.S), the PIC and LAPIC set-up, and the handler's bookkeeping. */
#include "guest.h"

#define EDU_ID          0x00
#define EDU_ID_VALUE    0x010000ed
#define EDU_IRQ_STATUS  0x24
#define EDU_IRQ_RAISE   0x60
#define EDU_IRQ_ACK     0x64

#define PIC_BASE        0x20        /* vectors of IRQ 0..15 */
#define MSI_VECTOR      0x41
#define SPURIOUS_VECTOR 0xff
#define WAIT_MS         5000        /* for one interrupt, TCG inside TCG */
#define MAX_RUNS_LOG    64

#define LAPIC_TPR       0x80
#define LAPIC_EOI       0xb0
#define LAPIC_SVR       0xf0
#define LAPIC_LINT0     0x350
#define LAPIC_LINT1     0x360

struct irq_frame {      /* irq_asm.S: pushal, then the vector and the error code */
    uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;
    uint32_t vector, error, eip, cs, eflags;
};

struct idt_entry {
    uint16_t off_lo, sel;
    uint8_t zero, type;
    uint16_t off_hi;
} __attribute__((packed));

extern char irq_stubs[], irq_stubs_end[];
static struct idt_entry idt[256] __attribute__((aligned(8)));
static uint32_t failures;

/* What the handler saw; written by it, read by the main code */
static struct {
    uint32_t vector;        /* the vector the device's interrupt comes on */
    uint32_t line;          /* INTx: the PIC's IRQ; MSI: none */
    int msi;
    volatile uint32_t runs;         /* handler runs that found status bits */
    volatile uint32_t spurious;     /* handler runs that found none */
    volatile uint32_t unexpected;   /* other vectors */
    volatile uint32_t last_unexpected;
    volatile uint64_t first_entry;  /* TSC at the first run's entry since reset */
    volatile uint32_t seen[MAX_RUNS_LOG], acked[MAX_RUNS_LOG];
} h;

static void lapic_write(uint32_t reg, uint32_t v) { mmio_write32(LAPIC_BASE + reg, v); }

static void pic_eoi(uint32_t line)
{
    if (line >= 8)
        outb(0xa0, 0x20);
    outb(0x20, 0x20);
}

/* The device's interrupt: one status bit (the lowest) acknowledged per run, so that a request of
 * two bits needs the interrupt delivered twice. The status read is the first access: through
 * regdbg-proxy with host-irq=uio it is the end of interrupt that lowers the line. */
static void edu_handler(void)
{
    uint64_t t = rdtsc_fenced();
    uint32_t st = dev_read(EDU_IRQ_STATUS);

    if (!h.first_entry)
        h.first_entry = t;
    if (st) {
        uint32_t bit = st & (~st + 1);
        dev_write(EDU_IRQ_ACK, bit);
        if (h.runs < MAX_RUNS_LOG) {
            h.seen[h.runs] = st;
            h.acked[h.runs] = bit;
        }
        h.runs++;
    } else {
        h.spurious++;
    }
    if (h.msi)
        lapic_write(LAPIC_EOI, 0);
    else
        pic_eoi(h.line);
}

void irq_dispatch(struct irq_frame *f);
void irq_dispatch(struct irq_frame *f)
{
    if (f->vector < 32) {
        say("eduirq FAIL exception %u at eip 0x%x (error 0x%x)", f->vector, f->eip, f->error);
        guest_exit(EXIT_CHECK_FAILED);
    }
    if (f->vector == h.vector) {
        edu_handler();
        return;
    }
    if (f->vector == SPURIOUS_VECTOR || f->vector == PIC_BASE + 7 || f->vector == PIC_BASE + 15)
        return;     /* spurious: no EOI */
    h.unexpected++;
    h.last_unexpected = f->vector;
    if (f->vector >= PIC_BASE && f->vector < PIC_BASE + 16)
        pic_eoi(f->vector - PIC_BASE);
    else
        lapic_write(LAPIC_EOI, 0);
}

static void idt_init(void)
{
    struct { uint16_t limit; uint32_t base; } __attribute__((packed)) desc = {
        sizeof(idt) - 1, (uint32_t)(uintptr_t)idt };

    if (irq_stubs_end - irq_stubs != 256 * 16) {
        say("eduirq FAIL irq_asm.S: the stubs take %d bytes, not 16 each",
            (int)(irq_stubs_end - irq_stubs));
        guest_exit(EXIT_CHECK_FAILED);
    }
    for (uint32_t v = 0; v < 256; v++) {
        uint32_t a = (uint32_t)(uintptr_t)(irq_stubs + 16 * v);
        idt[v].off_lo = (uint16_t)a;
        idt[v].sel = GDT_CODE_SEL;
        idt[v].zero = 0;
        idt[v].type = 0x8e;             /* present, ring 0, 32-bit interrupt gate */
        idt[v].off_hi = (uint16_t)(a >> 16);
    }
    __asm__ volatile("lidt %0" : : "m"(desc));
}

/* Both PICs at PIC_BASE, every IRQ masked but the cascade; the line level-triggered in the ELCR
 * (a PCI interrupt is a level) and unmasked */
static void pic_init(uint32_t line)
{
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, PIC_BASE);
    outb(0xa1, PIC_BASE + 8);
    outb(0x21, 0x04);
    outb(0xa1, 0x02);
    outb(0x21, 0x01);
    outb(0xa1, 0x01);
    outb(0x21, (uint8_t)~0x04);
    outb(0xa1, 0xff);
    outb((uint16_t)(0x4d0 + (line >> 3)), (uint8_t)(inb((uint16_t)(0x4d0 + (line >> 3))) |
                                                   1u << (line & 7)));
    if (line >= 8)
        outb(0xa1, (uint8_t)~(1u << (line - 8)));
    else
        outb(0x21, (uint8_t)(~0x04 & ~(1u << line)));
}

/* The local APIC on, accepting everything; LINT0 takes the PIC (ExtINT) as the BIOS sets it */
static void lapic_init(void)
{
    lapic_write(LAPIC_SVR, 0x100 | SPURIOUS_VECTOR);
    lapic_write(LAPIC_TPR, 0);
    lapic_write(LAPIC_LINT0, 0x8700);
    lapic_write(LAPIC_LINT1, 0x8400);
}

/* The device's MSI capability aimed at this CPU's LAPIC with MSI_VECTOR, enabled; 0 if none */
static int msi_init(void)
{
    uint32_t cap = dev_config_read(0x34) & 0xfc;

    if (!(dev_config_read(0x04) >> 16 & 0x10))     /* status: capabilities list */
        cap = 0;
    for (int n = 0; cap && n < 48; n++) {
        uint32_t head = dev_config_read(cap);
        if ((head & 0xff) == 0x05) {
            int is64 = head >> 16 & 0x80;
            dev_config_write(cap + 4, LAPIC_BASE);          /* destination: APIC id 0 */
            if (is64)
                dev_config_write(cap + 8, 0);
            dev_config_write16(cap + (is64 ? 12 : 8), MSI_VECTOR);  /* fixed, edge */
            dev_config_write16(cap + 2, (uint16_t)((head >> 16 & ~0x70u) | 1));  /* 1 vector, on */
            say("eduirq msi capability at 0x%x (%s), vector 0x%x", cap, is64 ? "64-bit" : "32-bit",
                MSI_VECTOR);
            return 1;
        }
        cap = head >> 8 & 0xfc;
    }
    return 0;
}

static uint32_t per_us = 1;     /* TSC ticks per microsecond, measured on the PIT */

/* Waits until the handler has run `runs` times in all; 0 if it has not within WAIT_MS. It spins
 * on the TSC: a wait on the PIT's ports would make the vCPU take QEMU's big lock over and over,
 * which the thread that raises the proxy's line needs too. */
static int wait_runs(uint32_t runs)
{
    uint64_t t0 = rdtsc_fenced(), limit = (uint64_t)WAIT_MS * 1000 * per_us;

    while (h.runs < runs) {
        if (rdtsc_fenced() - t0 > limit)
            return 0;
        cpu_relax();
    }
    return 1;
}

static void expect(int ok, const char *what, uint32_t v)
{
    if (ok) {
        say("eduirq %s 0x%x ok", what, v);
    } else {
        failures++;
        say("eduirq FAIL %s 0x%x", what, v);
    }
}

/* One request of `bits`; the handler must acknowledge each, one run per bit */
static int request(uint32_t bits, uint32_t nbits, uint64_t *latency)
{
    uint32_t before = h.runs;
    uint64_t t0;

    h.first_entry = 0;
    t0 = rdtsc_fenced();
    dev_write(EDU_IRQ_RAISE, bits);
    if (!wait_runs(before + nbits))
        return 0;
    if (latency)
        *latency = h.first_entry - t0;
    return 1;
}

static uint32_t tsc_per_us(void)
{
    uint64_t t0 = rdtsc_fenced();
    delay_ms(100);
    uint32_t r = (uint32_t)udiv64(rdtsc_fenced() - t0, 100000, 0);
    return r ? r : 1;
}

/* mode=eduirq irq=intx|msi: single, repeated and still-pending interrupts; with bench, `runs`
 * single interrupts timed from the raising write to the handler's entry */
/* The handler's runs that found status bits, and what the i-th of them found */
uint32_t eduirq_runs(void) { return h.runs; }
uint32_t eduirq_seen(uint32_t i) { return i < MAX_RUNS_LOG ? h.seen[i] : 0; }
int eduirq_wait(uint32_t runs) { return wait_runs(runs); }

/* The IDT, the PIC or the device's MSI, the handler: interrupts on (edu's DMA, mode=edu dma=irq,
 * shares it). Exits on failure. */
void eduirq_setup(int msi)
{
    uint16_t cmd = dev_command();

    if (dev_read(EDU_ID) != EDU_ID_VALUE) {
        say("eduirq FAIL identity 0x%08x", dev_read(EDU_ID));
        guest_exit(EXIT_CHECK_FAILED);
    }
    h.line = dev_config_read(0x3c) & 0xff;
    h.msi = msi;
    idt_init();
    lapic_init();
    if (msi) {
        h.vector = MSI_VECTOR;
        /* MSI is a memory write of the device: bus master on; INTx off */
        dev_set_command((uint16_t)(cmd | PCI_CMD_MASTER | PCI_CMD_INTX_DISABLE));
        if (!msi_init()) {
            say("eduirq FAIL the device has no MSI capability (msi=on on the proxy?)");
            guest_exit(EXIT_CHECK_FAILED);
        }
        pic_init(2);    /* every PIC line masked but the cascade */
    } else {
        if (h.line == 0 || h.line >= 16 || h.line == 2) {
            say("eduirq FAIL config 0x3c: line %u is no PIC line", h.line);
            guest_exit(EXIT_CHECK_FAILED);
        }
        h.vector = PIC_BASE + h.line;
        dev_set_command((uint16_t)(cmd & ~PCI_CMD_INTX_DISABLE));
        pic_init(h.line);
    }
    say("eduirq via %s line %u pin %u vector 0x%x command 0x%04x", msi ? "msi" : "intx", h.line,
        dev_config_read(0x3c) >> 8 & 0xff, h.vector, dev_command());
    per_us = tsc_per_us();
    __asm__ volatile("sti");
}

void eduirq_main(int msi, int bench, uint32_t runs)
{
    static uint32_t ns[101];
    uint32_t spurious_before;

    eduirq_setup(msi);

    if (bench) {
        uint32_t n = runs > 101 ? 101 : runs;
        for (uint32_t i = 0; i < n; i++) {
            uint64_t lat;
            if (!request(1, 1, &lat)) {
                say("eduirq FAIL bench: interrupt %u never came", i);
                guest_exit(EXIT_CHECK_FAILED);
            }
            ns[i] = (uint32_t)udiv64(lat * 1000, per_us, 0);
            delay_ms(1);    /* the line settles: a late duplicate is not the next one's */
        }
        uint32_t med = median(ns, n);   /* sorts ns */
        say("eduirq bench via=%s runs=%u median_ns=%u min_ns=%u max_ns=%u spurious=%u", msi ?
            "msi" : "intx", n, med, ns[0], ns[n - 1], h.spurious);
        __asm__ volatile("cli");
        return;
    }

    /* 1. one interrupt */
    uint64_t lat = 0;
    if (request(0x1, 1, &lat))
        expect(h.seen[0] == 0x1 && dev_read(EDU_IRQ_STATUS) == 0, "single: handled, status",
               dev_read(EDU_IRQ_STATUS));
    else
        expect(0, "single: the handler never ran, status", dev_read(EDU_IRQ_STATUS));
    say("eduirq single latency %u ns", (uint32_t)udiv64(lat * 1000, per_us, 0));

    /* 2. several in a row, each bit in turn */
    uint32_t ok = 0;
    for (uint32_t i = 0; i < 8; i++)
        if (request(1u << i, 1, 0) && h.acked[h.runs - 1] == 1u << i)
            ok++;
    expect(ok == 8 && dev_read(EDU_IRQ_STATUS) == 0, "repeated: 8 of 8 handled, status",
           dev_read(EDU_IRQ_STATUS));

    /* 3. two bits in one request: the handler acknowledges one per run, so the interrupt must
     *    come again for the other */
    uint32_t first = h.runs;
    int came = request(0x30, 2, 0);
    expect(came && h.seen[first] == 0x30 && h.acked[first] == 0x10 &&
           h.seen[first + 1] == 0x20 && h.acked[first + 1] == 0x20 &&
           dev_read(EDU_IRQ_STATUS) == 0,
           "pending: both bits handled, one run each, status", dev_read(EDU_IRQ_STATUS));
    if (!came || h.seen[first] != 0x30)
        say("eduirq pending: %u runs since the request, first saw 0x%x", h.runs - first,
            h.seen[first]);

    /* 4. nothing more comes: the line is low */
    spurious_before = h.spurious;
    delay_ms(200);
    __asm__ volatile("cli");
    expect(h.runs == 1 + 8 + 2 && h.spurious - spurious_before <= 1 && h.unexpected == 0,
           "quiet: runs, spurious", h.runs << 16 | h.spurious);
    say("eduirq done failures=%u runs=%u spurious=%u unexpected=%u", failures, h.runs,
        h.spurious, h.unexpected);
    if (failures)
        guest_exit(EXIT_CHECK_FAILED);
}
