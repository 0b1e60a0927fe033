/* tests/guest/guest.h: shared constants and declarations of the bare-metal regdbg test guest
 * (port I/O, serial output, device access helpers, PCI, SMP, edu); also included by the .S files. */
#ifndef REGDBG_GUEST_H
#define REGDBG_GUEST_H

#define GDT_CODE_SEL   0x08
#define GDT_DATA_SEL   0x10
#define GDT_CODE16_SEL 0x18        /* 16-bit code, base PCM16_BASE (mode=pcmodes) */
#define GDT_CODE64_SEL 0x20        /* 64-bit code (mode=pcmodes) */

#define PCM16_BASE     0xffff0     /* base of the 16-bit code: real-mode CS 0xffff, A20 on */

#define MAX_CPUS       64          /* per-CPU stacks are allocated for APIC ids 0..MAX_CPUS-1 */
#define STACK_SHIFT    13
#define STACK_SIZE     (1 << STACK_SHIFT)

#define TRAMP_BASE     0x8000      /* AP real-mode trampoline is copied here (SIPI vector 0x08) */
#define LAPIC_BASE     0xfee00000

#ifndef __ASSEMBLER__

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes written to isa-debug-exit (QEMU's exit status becomes (code << 1) | 1). */
enum { EXIT_OK = 0, EXIT_NO_DEVICE = 2, EXIT_BAD_ARGS = 3, EXIT_AP_TIMEOUT = 4, EXIT_CHECK_FAILED = 5 };

/* ---- port I/O and CPU helpers ---- */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void atomic_inc(volatile uint32_t *p) { __asm__ volatile("lock incl %0" : "+m"(*p) : : "memory"); }

/* TSC read fenced on both sides so it neither passes earlier nor lets later instructions pass it. */
static inline uint64_t rdtsc_fenced(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

static inline uint32_t mmio_read32(uint32_t addr) { return *(volatile uint32_t *)(uintptr_t)addr; }
static inline void mmio_write32(uint32_t addr, uint32_t v) { *(volatile uint32_t *)(uintptr_t)addr = v; }

/* ---- the device under test: BAR0 is either memory (MMIO) or I/O ports ---- */
extern uint32_t dev_bar0;    /* BAR0 base address */
extern uint32_t dev_bar0_size;   /* BAR0 size in bytes from the all-ones probe, 0: 4 GiB or more */
extern int dev_bar0_is_io;   /* 1: I/O BAR, accessed with inl/outl */

/* The only two functions that touch the device; every mode goes through them. */
static inline uint32_t dev_read(uint32_t off)
{
    if (dev_bar0_is_io)
        return inl((uint16_t)(dev_bar0 + off));
    return mmio_read32(dev_bar0 + off);
}
static inline void dev_write(uint32_t off, uint32_t v)
{
    if (dev_bar0_is_io)
        outl((uint16_t)(dev_bar0 + off), v);
    else
        mmio_write32(dev_bar0 + off, v);
}

/* ---- lib.c ---- */
void serial_init(void);
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* "regdbg-guest: ...\n" */
void guest_exit(uint32_t code) __attribute__((noreturn));
void halt_forever(void) __attribute__((noreturn));
uint64_t udiv64(uint64_t n, uint32_t d, uint32_t *rem);
void delay_cycles(uint64_t cycles);
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* ---- pci.c ---- */
#define PCI_CMD_MEMORY       0x0002
#define PCI_CMD_MASTER       0x0004
#define PCI_CMD_INTX_DISABLE 0x0400
int pci_find_and_setup(uint16_t vendor, uint16_t device, const char *mode);
uint16_t dev_command(void);             /* the device's command register */
void dev_set_command(uint16_t cmd);
uint32_t dev_config_read(uint32_t reg);         /* a dword of its config space */
void dev_config_write(uint32_t reg, uint32_t v);
void dev_config_write16(uint32_t reg, uint16_t v);

/* ---- edu.c ---- */
void edu_main(uint32_t hold_ms);
void edu_dma_main(const char *what, uint32_t canary, uint32_t runs, int msi);

/* ---- irq.c ---- */
void eduirq_main(int msi, int bench, uint32_t runs);
void eduirq_setup(int msi);
int eduirq_wait(uint32_t runs);
uint32_t eduirq_runs(void);
uint32_t eduirq_seen(uint32_t i);

/* ---- smp.c ---- */
void hammer_main(uint32_t cpus, uint32_t count) __attribute__((noreturn));
void ap_main(uint32_t apic_id) __attribute__((noreturn));

/* ---- pcmodes.c ---- */
void pcmodes_main(uint32_t bar0);
#define COPY_MAX    16384
#define COPY_STRIDE 128
void copies_main(uint32_t bar0, uint32_t count);
void copies_mark(uint32_t i);

/* ---- main.c ---- */
void delay_ms(uint32_t ms);             /* PIT channel 2: QEMU's virtual clock */
uint32_t median(uint32_t *v, uint32_t n);   /* sorts v */
void guest_main(uint32_t magic, uint32_t mbi_addr) __attribute__((noreturn));

#endif /* !__ASSEMBLER__ */
#endif
