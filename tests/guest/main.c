/* tests/guest/main.c: C entry of the regdbg test guest: multiboot command-line parsing, device lookup,
 * mode dispatch, and the i2c (DesignWare I2C register sequence), bench (rdtsc timing), script (the
 * 32-bit accesses listed in ops=) and ab (two devices timed in alternating rounds) modes. */
#include "guest.h"

#define MB_BOOTLOADER_MAGIC 0x2BADB002
#define MB_INFO_CMDLINE     (1u << 2)
#define MAX_RUNS            101

static struct {
    uint16_t vendor, device;
    const char *mode;
    uint32_t loops, cpus, count, iters, runs, off, delay;
    const char *ops;    /* script mode: "w10=0x5,r40,..." */
    int ops_len;
    uint16_t vendor2, device2;  /* ab mode: device B (dev=, A, is the baseline) */
    uint32_t off2;
    uint32_t speed;     /* i2c: IC_CON's SPEED field, 1 std, 2 fast, 3 high */
    uint32_t tar;       /* i2c: the target address written to IC_TAR */
    uint32_t polls;     /* i2c: reads of IC_STATUS at least, per transfer */
    const char *dma;    /* edu mode: poll, refuse, blocked, bench or irq; NULL: no DMA */
    uint32_t canary;    /* edu mode, dma=blocked: where the transfer from the device goes */
    uint32_t irq_msi;   /* eduirq: 0 INTx, 1 MSI (irq=) */
    uint32_t irq_bench; /* eduirq: timed interrupts instead of the checks (bench=) */
} args = { 0x8086, 0x0f41, "i2c", 0, 2, 1000, 10000, 7, 0x4, 0, "", 0, 0, 0, 0x4, 1, 0x50, 1,
           0, 0, 0, 0 };

static char cmdline[1024];

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses s[0..n) as a number: hex with a 0x prefix (or when base is 16), decimal otherwise. */
static int parse_num(const char *s, int n, uint32_t base, uint32_t *out)
{
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        n -= 2;
    }
    if (n <= 0)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < n; i++) {
        int d = hexval(s[i]);
        if (d < 0 || (uint32_t)d >= base)
            return 0;
        v = v * base + (uint32_t)d;
        if (v > 0xffffffffu)
            return 0;
    }
    *out = (uint32_t)v;
    return 1;
}

static int key_is(const char *k, int kn, const char *name)
{
    int i = 0;
    for (; i < kn && name[i]; i++)
        if (k[i] != name[i])
            return 0;
    return i == kn && !name[i];
}

/* One key=value word; returns 0 if it is not a valid argument. */
static int parse_arg(const char *w, int n)
{
    int eq = 0;
    while (eq < n && w[eq] != '=')
        eq++;
    if (eq == n || eq == 0)
        return 0;
    const char *v = w + eq + 1;
    int vn = n - eq - 1;

    if (key_is(w, eq, "dev") || key_is(w, eq, "dev2")) {
        int colon = 0;
        uint32_t ven, dev;
        while (colon < vn && v[colon] != ':')
            colon++;
        if (colon < 1 || colon > 4 || vn - colon - 1 < 1 || vn - colon - 1 > 4 ||
            !parse_num(v, colon, 16, &ven) || !parse_num(v + colon + 1, vn - colon - 1, 16, &dev))
            return 0;
        if (eq == 3) {
            args.vendor = (uint16_t)ven;
            args.device = (uint16_t)dev;
        } else {
            args.vendor2 = (uint16_t)ven;
            args.device2 = (uint16_t)dev;
        }
        return 1;
    }
    if (key_is(w, eq, "mode")) {
        static const char *const modes[] = { "i2c", "hammer", "bench", "script", "ab", "pcmodes",
                                             "edu", "copies", "eduirq" };
        for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
            if (key_is(v, vn, modes[i])) {
                args.mode = modes[i];
                return 1;
            }
        return 0;
    }
    if (key_is(w, eq, "speed")) {
        /* the names of the DesignWare IC_CON SPEED field (maps/dw-i2c-baytrail.json) */
        static const char *const speeds[] = { "std", "fast", "high" };
        for (unsigned i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++)
            if (key_is(v, vn, speeds[i])) {
                args.speed = i + 1;
                return 1;
            }
        return 0;
    }
    if (key_is(w, eq, "dma")) {
        static const char *const dmas[] = { "poll", "refuse", "blocked", "bench", "irq" };
        for (unsigned i = 0; i < sizeof(dmas) / sizeof(dmas[0]); i++)
            if (key_is(v, vn, dmas[i])) {
                args.dma = dmas[i];
                return 1;
            }
        return 0;
    }
    if (key_is(w, eq, "irq")) {
        if (key_is(v, vn, "intx") || key_is(v, vn, "msi")) {
            args.irq_msi = v[0] == 'm';
            return 1;
        }
        return 0;
    }
    if (key_is(w, eq, "ops")) {
        args.ops = v;
        args.ops_len = vn;
        return 1;
    }
    static const struct { const char *name; uint32_t *dst; uint32_t base; } nums[] = {
        { "loops", &args.loops, 10 }, { "cpus", &args.cpus, 10 },   { "count", &args.count, 10 },
        { "iters", &args.iters, 10 }, { "runs", &args.runs, 10 },   { "off", &args.off, 16 },
        { "delay", &args.delay, 10 }, { "off2", &args.off2, 16 },
        { "tar", &args.tar, 16 },     { "polls", &args.polls, 10 },
        { "canary", &args.canary, 16 }, { "bench", &args.irq_bench, 10 },
    };
    for (unsigned i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
        if (key_is(w, eq, nums[i].name))
            return parse_num(v, vn, nums[i].base, nums[i].dst);
    return 0;
}

static int mode_is(const char *name)
{
    int i = 0;
    while (args.mode[i] && args.mode[i] == name[i])
        i++;
    return args.mode[i] == name[i];
}

/* QEMU's multiboot loader passes "KERNEL-PATH ARGS": a first word that is not a valid argument is
 * the kernel path and is skipped; any other invalid word is an error. */
static int parse_cmdline(void)
{
    const char *p = cmdline;
    for (int first = 1;; first = 0) {
        while (is_space(*p))
            p++;
        if (!*p)
            break;
        const char *w = p;
        while (*p && !is_space(*p))
            p++;
        int n = (int)(p - w);
        if (!parse_arg(w, n) && !first) {
            char word[64];
            int len = n < (int)sizeof(word) - 1 ? n : (int)sizeof(word) - 1;
            memcpy(word, w, (size_t)len);
            word[len] = 0;
            say("error: bad argument '%s'", word);
            return 0;
        }
    }
    if (args.cpus < 1 || args.cpus > MAX_CPUS) {
        say("error: cpus=%u out of range 1..%u", args.cpus, MAX_CPUS);
        return 0;
    }
    if (args.count > 0x1000000) {
        say("error: count=%u does not fit in 24 bits", args.count);
        return 0;
    }
    if (args.iters < 1 || args.runs < 1 || args.runs > MAX_RUNS) {
        say("error: need iters>=1 and 1<=runs<=%u", MAX_RUNS);
        return 0;
    }
    if (args.off & 3) {
        say("error: off=0x%x is not 32-bit aligned", args.off);
        return 0;
    }
    if (args.tar > 0x3ff) {
        say("error: tar=0x%x does not fit IC_TAR's 10 address bits", args.tar);
        return 0;
    }
    if (args.polls < 1 || args.polls > 10000) {
        say("error: polls=%u out of range 1..10000", args.polls);
        return 0;
    }
    return 1;
}

/* Waits about ms milliseconds on PIT channel 2 (mode 0, gated through port 0x61), which QEMU
 * runs on its virtual clock: the same pace under TCG and KVM, whatever the TSC does. */
void delay_ms(uint32_t ms)
{
    while (ms) {
        uint32_t chunk = ms > 50 ? 50 : ms;
        uint32_t count = chunk * 1193182u / 1000u; /* <= 59659: fits the 16-bit counter */
        uint8_t gate = (uint8_t)(inb(0x61) & ~0x03);

        outb(0x61, gate);
        outb(0x43, 0xb0); /* channel 2, lobyte/hibyte, mode 0, binary */
        outb(0x42, (uint8_t)count);
        outb(0x42, (uint8_t)(count >> 8));
        outb(0x61, (uint8_t)(gate | 0x01));
        for (uint32_t spins = 0; !(inb(0x61) & 0x20) && spins < 100000000u; spins++)
            ;
        ms -= chunk;
    }
}

static void i2c_main(uint32_t loops)
{
    for (uint32_t i = 0; loops == 0 || i < loops; i++) {
        (void)dev_read(0xfc);                    /* IC_COMP_TYPE */
        dev_write(0x6c, 0);                      /* IC_ENABLE */
        for (int n = 0; n < 8; n++)              /* IC_ENABLE_STATUS */
            if ((dev_read(0x9c) & 1) == 0)
                break;
        /* IC_CON: master, SPEED, restart enabled, slave disabled */
        dev_write(0x00, 0x61 | args.speed << 1);
        dev_write(0x04, args.tar);               /* IC_TAR */
        dev_write(0x14, 0x190);                  /* IC_SS_SCL_HCNT */
        dev_write(0x18, 0x1d6);                  /* IC_SS_SCL_LCNT */
        dev_write(0x30, 0);                      /* IC_INTR_MASK */
        dev_write(0x6c, 1);                      /* IC_ENABLE */
        dev_write(0x10, i & 0xff);               /* IC_DATA_CMD: write byte */
        dev_write(0x10, 0x300);                  /* IC_DATA_CMD: read + stop */
        /* IC_STATUS.TFE, read polls times at least (a firmware that waits out a settle time) */
        for (uint32_t n = 0; n < 16 || n < args.polls; n++)
            if ((dev_read(0x70) & 0x4) && n + 1 >= args.polls)
                break;
        for (int n = 0; n < 16; n++)             /* IC_RAW_INTR_STAT.RX_FULL */
            if (dev_read(0x34) & 0x4)
                break;
        (void)dev_read(0x10);                    /* IC_DATA_CMD */
        (void)dev_read(0x40);                    /* IC_CLR_INTR */
        dev_write(0x6c, 0);                      /* IC_ENABLE */
        if (args.delay)
            delay_ms(args.delay);                /* pace a demo so that a person can follow */
    }
    say("done loops=%u", loops);
}

static uint32_t per_access(uint64_t cycles, uint32_t n)
{
    uint64_t q = udiv64(cycles, n, 0);
    return q > 0xffffffffu ? 0xffffffffu : (uint32_t)q;
}

uint32_t median(uint32_t *v, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++)   /* insertion sort */
        for (uint32_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint32_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    if (n & 1)
        return v[n / 2];
    return (uint32_t)(((uint64_t)v[n / 2 - 1] + v[n / 2]) >> 1);
}

static void bench_main(uint32_t iters, uint32_t runs, uint32_t off)
{
    uint32_t rd[MAX_RUNS], wr[MAX_RUNS];
    for (int r = -1; r < (int)runs; r++) {   /* r = -1: warm-up, not reported */
        uint64_t t0 = rdtsc_fenced();
        for (uint32_t i = 0; i < iters; i++)
            (void)dev_read(off);
        uint64_t t1 = rdtsc_fenced();
        for (uint32_t i = 0; i < iters; i++)
            dev_write(off, i);
        uint64_t t2 = rdtsc_fenced();
        if (r < 0)
            continue;
        rd[r] = per_access(t1 - t0, iters);
        wr[r] = per_access(t2 - t1, iters);
        say("bench run=%d read_cycles=%u write_cycles=%u", r, rd[r], wr[r]);
    }
    uint32_t mr = median(rd, runs), mw = median(wr, runs);
    say("bench median read_cycles=%u write_cycles=%u", mr, mw);
}

/* ab mode: device A (dev=, the baseline) and device B (dev2=) in one VM, timed in alternating
 * rounds (A then B in even rounds, B then A in odd ones), so that a machine whose speed drifts
 * moves both alike; the host takes the median of the per-round ratios. */
static uint32_t time_reads(uint32_t base, uint32_t off, uint32_t iters)
{
    uint64_t t0 = rdtsc_fenced();
    for (uint32_t i = 0; i < iters; i++)
        (void)mmio_read32(base + off);
    return per_access(rdtsc_fenced() - t0, iters);
}

static uint32_t time_writes(uint32_t base, uint32_t off, uint32_t iters)
{
    uint64_t t0 = rdtsc_fenced();
    for (uint32_t i = 0; i < iters; i++)
        mmio_write32(base + off, i);
    return per_access(rdtsc_fenced() - t0, iters);
}

static void ab_main(uint32_t bar_a, uint32_t bar_b)
{
    for (int r = -1; r < (int)args.runs; r++) {   /* r = -1: warm-up, not reported */
        uint32_t ar, br, aw, bw;
        if (r & 1) {
            br = time_reads(bar_b, args.off2, args.iters);
            ar = time_reads(bar_a, args.off, args.iters);
            bw = time_writes(bar_b, args.off2, args.iters);
            aw = time_writes(bar_a, args.off, args.iters);
        } else {
            ar = time_reads(bar_a, args.off, args.iters);
            br = time_reads(bar_b, args.off2, args.iters);
            aw = time_writes(bar_a, args.off, args.iters);
            bw = time_writes(bar_b, args.off2, args.iters);
        }
        if (r >= 0)
            say("ab round=%d a_read=%u b_read=%u a_write=%u b_write=%u", r, ar, br, aw, bw);
    }
    say("ab done rounds=%u", args.runs);
}

/* One op of script mode: "wOFF=VALUE" (a 32-bit write) or "rOFF" (a 32-bit read, printed);
 * OFF is hexadecimal, VALUE hexadecimal with 0x or decimal. Returns 0 if malformed. */
static int script_op(const char *op, int n)
{
    int eq = 1;
    uint32_t off, val;
    while (eq < n && op[eq] != '=')
        eq++;
    if (n < 2 || (op[0] != 'w' && op[0] != 'r') || !parse_num(op + 1, eq - 1, 16, &off) ||
        (off & 3) || (dev_bar0_size && off > dev_bar0_size - 4))
        return 0;
    if (op[0] == 'r') {
        if (eq != n)
            return 0;
        say("script r 0x%x = 0x%08x", off, dev_read(off));
        return 1;
    }
    if (eq == n || !parse_num(op + eq + 1, n - eq - 1, 10, &val))
        return 0;
    dev_write(off, val);
    return 1;
}

static void script_main(void)
{
    const char *p = args.ops, *end = args.ops + args.ops_len;
    while (p < end) {
        const char *op = p;
        while (p < end && *p != ',')
            p++;
        if (!script_op(op, (int)(p - op))) {
            say("error: bad op in ops= at '%c' (offset %d)", *op, (int)(op - args.ops));
            guest_exit(EXIT_BAD_ARGS);
        }
        p++;
    }
    say("script done");
}

void guest_main(uint32_t magic, uint32_t mbi_addr)
{
    serial_init();
    if (magic == MB_BOOTLOADER_MAGIC) {
        const volatile uint32_t *mbi = (const volatile uint32_t *)(uintptr_t)mbi_addr;
        if (mbi[0] & MB_INFO_CMDLINE) {
            const char *s = (const char *)(uintptr_t)mbi[4];
            for (unsigned i = 0; i < sizeof(cmdline) - 1 && s[i]; i++)
                cmdline[i] = s[i];
        }
    } else {
        say("warning: not started by a multiboot loader (eax=0x%08x), using defaults", magic);
    }
    say("cmdline: %s", cmdline);
    if (!parse_cmdline())
        guest_exit(EXIT_BAD_ARGS);

    uint32_t bar_b = 0;
    if (args.mode[0] == 'a') {
        if (!args.vendor2 || pci_find_and_setup(args.vendor2, args.device2, args.mode) < 0 ||
            dev_bar0_is_io || args.off2 > dev_bar0_size - 4) {
            say("error: ab mode needs dev2= a device with a memory BAR0 holding off2=0x%x", args.off2);
            guest_exit(EXIT_NO_DEVICE);
        }
        bar_b = dev_bar0;
    }
    if (pci_find_and_setup(args.vendor, args.device, args.mode) < 0) {
        say("error: device %04x:%04x not found", args.vendor, args.device);
        guest_exit(EXIT_NO_DEVICE);
    }
    /* offset of the last register the mode touches must lie inside BAR0 */
    uint32_t last = args.mode[0] == 'i' ? 0xfc : args.mode[0] == 'h' ? 0x100 + 4 * (args.cpus - 1) :
                    args.mode[0] == 's' ? 0 : args.mode[0] == 'p' ? 0x4c :
                    mode_is("eduirq") ? 0x64 : args.mode[0] == 'e' ? (args.dma ? 0x98 : 0x20) :
                    args.mode[0] == 'c' ? 0x10 : args.off;
    if (dev_bar0_size != 0 && (dev_bar0_size < 4 || last > dev_bar0_size - 4)) {
        say("error: mode=%s accesses offset 0x%x, beyond BAR0 (size 0x%x)", args.mode, last, dev_bar0_size);
        guest_exit(EXIT_BAD_ARGS);
    }
    if ((args.mode[0] == 'a' || args.mode[0] == 'p' || args.mode[0] == 'e' ||
         args.mode[0] == 'c') && dev_bar0_is_io) {
        say("error: mode=%s needs a memory BAR0 on dev=", args.mode);
        guest_exit(EXIT_BAD_ARGS);
    }
    if (args.mode[0] == 'i')
        i2c_main(args.loops);
    else if (args.mode[0] == 'h')
        hammer_main(args.cpus, args.count);   /* does not return */
    else if (args.mode[0] == 's')
        script_main();
    else if (args.mode[0] == 'a')
        ab_main(dev_bar0, bar_b);
    else if (args.mode[0] == 'p')
        pcmodes_main(dev_bar0);
    else if (mode_is("eduirq"))
        eduirq_main(args.irq_msi, args.irq_bench != 0, args.irq_bench);
    else if (args.mode[0] == 'e' && args.dma)
        edu_dma_main(args.dma, args.canary, args.runs, args.irq_msi);
    else if (args.mode[0] == 'e')
        edu_main(args.delay);
    else if (args.mode[0] == 'c')
        copies_main(dev_bar0, args.count);
    else
        bench_main(args.iters, args.runs, args.off);
    guest_exit(EXIT_OK);
}
