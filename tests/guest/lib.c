/* tests/guest/lib.c: runtime support of the regdbg test guest: COM1 serial output with a small printf,
 * isa-debug-exit, 64-by-32 division (no libgcc), TSC delay and the mem* functions gcc may call. */
#include "guest.h"

#define COM1        0x3f8
#define DEBUG_EXIT  0xf4

void serial_init(void)
{
    outb(COM1 + 1, 0x00);   /* no interrupts */
    outb(COM1 + 3, 0x80);   /* DLAB */
    outb(COM1 + 0, 0x01);   /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);   /* 8N1 */
    outb(COM1 + 2, 0xc7);   /* FIFO on, cleared */
    outb(COM1 + 4, 0x03);   /* DTR, RTS */
}

static void serial_putc(char c)
{
    for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)   /* bounded wait for THR empty */
        cpu_relax();
    outb(COM1, (uint8_t)c);
}

static void puts_n(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        serial_putc(s[i]);
}

uint64_t udiv64(uint64_t n, uint32_t d, uint32_t *rem)
{
    uint32_t hi = (uint32_t)(n >> 32), lo = (uint32_t)n;
    uint32_t qhi = hi / d, r = hi % d, qlo;
    /* r < d, so the quotient of (r:lo) / d fits in 32 bits: one divl, no overflow. */
    __asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(d));
    if (rem)
        *rem = r;
    return ((uint64_t)qhi << 32) | qlo;
}

/* Formats one number into buf (filled from the end); returns the start. */
static char *fmt_num(char *end, uint64_t v, uint32_t base, int upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char *p = end;
    do {
        uint32_t r;
        v = udiv64(v, base, &r);
        *--p = digits[r];
    } while (v);
    return p;
}

/* Subset of printf: %s %c %d %u %x %X %%, flags '0' and '-', width, length l and ll. */
static void vprint(const char *fmt, va_list ap)
{
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            serial_putc(*f);
            continue;
        }
        f++;
        int zero = 0, left = 0, width = 0, longs = 0;
        for (;; f++) {
            if (*f == '0')
                zero = 1;
            else if (*f == '-')
                left = 1;
            else
                break;
        }
        while (*f >= '0' && *f <= '9')
            width = width * 10 + (*f++ - '0');
        while (*f == 'l') {
            longs++;
            f++;
        }
        char buf[24], *end = buf + sizeof(buf), *s = end;
        int neg = 0;
        switch (*f) {
        case 's':
            s = va_arg(ap, char *);
            if (!s)
                s = "(null)";
            end = s;
            while (*end)
                end++;
            zero = 0;
            break;
        case 'c':
            buf[0] = (char)va_arg(ap, int);
            s = buf;
            end = buf + 1;
            zero = 0;
            break;
        case 'd': {
            int64_t v = longs >= 2 ? va_arg(ap, int64_t) : (int64_t)va_arg(ap, int32_t);
            neg = v < 0;
            s = fmt_num(end, neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, 10, 0);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v = longs >= 2 ? va_arg(ap, uint64_t) : (uint64_t)va_arg(ap, uint32_t);
            s = fmt_num(end, v, *f == 'u' ? 10 : 16, *f == 'X');
            break;
        }
        case '%':
            buf[0] = '%';
            s = buf;
            end = buf + 1;
            break;
        default:   /* unknown conversion: print it verbatim */
            serial_putc('%');
            if (!*f)
                return;
            serial_putc(*f);
            continue;
        }
        int len = (int)(end - s) + neg, pad = width > len ? width - len : 0;
        if (!left && !zero)
            while (pad-- > 0)
                serial_putc(' ');
        if (neg)
            serial_putc('-');
        if (!left && zero)
            while (pad-- > 0)
                serial_putc('0');
        puts_n(s, (int)(end - s));
        if (left)
            while (pad-- > 0)
                serial_putc(' ');
    }
}

void say(const char *fmt, ...)
{
    va_list ap;
    puts_n("regdbg-guest: ", 14);
    va_start(ap, fmt);
    vprint(fmt, ap);
    va_end(ap);
    serial_putc('\n');
}

void halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

void guest_exit(uint32_t code)
{
    outl(DEBUG_EXIT, code);   /* QEMU exits with status (code << 1) | 1 ... */
    delay_cycles(3000000000ull);   /* ... asynchronously: give it ~1 s before concluding it is absent */
    say("isa-debug-exit not present (exit code %u), halting", code);
    halt_forever();
}

void delay_cycles(uint64_t cycles)
{
    uint64_t t0 = rdtsc_fenced();
    while (rdtsc_fenced() - t0 < cycles)
        cpu_relax();
}

/* String instructions rather than loops: gcc could turn a copy loop back into a memcpy call. */
void *memcpy(void *dst, const void *src, size_t n)
{
    void *d = dst;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    if ((uintptr_t)dst <= (uintptr_t)src || (uintptr_t)dst >= (uintptr_t)src + n)
        return memcpy(dst, src, n);
    void *d = (uint8_t *)dst + n - 1;
    const void *s = (const uint8_t *)src + n - 1;
    __asm__ volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    void *d = dst;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *x = a, *y = b;   /* volatile: keep gcc from calling memcmp here */
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}
