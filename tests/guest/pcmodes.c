/* tests/guest/pcmodes.c: mode=pcmodes of the regdbg test guest: runs the accesses of pcmodes_asm.S in
 * each CPU mode (32-bit and 16-bit protected, real, 64-bit long) plus one from plain C, and owns the
 * identity map (first 4 GiB, 2 MiB pages) that long mode runs on; and mode=copies: one store copied
 * to many places and run from each, so that QEMU's translation cache fills and is flushed. */
#include "guest.h"

#define PTE_P   0x01ull
#define PTE_RW  0x02ull
#define PTE_PS  0x80ull     /* page directory entry: 2 MiB page */

void pcmodes_prot32(uint32_t bar0);
void pcmodes_prot16(uint32_t bar0);
void pcmodes_real(uint32_t bar0);
void pcmodes_long64(uint32_t bar0, uint32_t pml4);
void pcmodes_c_write_con(uint32_t bar0);
extern char pc_real_write[];

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[4][512] __attribute__((aligned(4096)));

/* The access made from C: the test finds this function's store, and its source line, through
 * the ELF's symbols and DWARF line table. noipa: no clone, no inlining, one store. */
__attribute__((noipa)) void pcmodes_c_write_con(uint32_t bar0)
{
    *(volatile uint32_t *)(uintptr_t)bar0 = 0xc0;   /* pcmodes: the C access */
}

static int has_long_mode(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000u));
    if (a < 0x80000001u)
        return 0;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000001u));
    return (d >> 29) & 1;
}

void pcmodes_main(uint32_t bar0)
{
    if (!has_long_mode()) {
        say("error: pcmodes needs a CPU with long mode");
        guest_exit(EXIT_BAD_ARGS);
    }
    uint32_t real_pc = (uint32_t)(uintptr_t)pc_real_write;
    say("pcmodes real code at 0x%x (cs=0x%x ip=0x%x)", real_pc, PCM16_BASE >> 4, real_pc - PCM16_BASE);

    pcmodes_prot32(bar0);
    pcmodes_c_write_con(bar0);
    pcmodes_prot16(bar0);
    pcmodes_real(bar0);

    for (uint32_t i = 0; i < 4; i++) {
        for (uint32_t j = 0; j < 512; j++)
            pd[i][j] = (uint64_t)(i * 512 + j) << 21 | PTE_PS | PTE_RW | PTE_P;
        pdpt[i] = (uint32_t)(uintptr_t)pd[i] | PTE_RW | PTE_P;
    }
    pml4[0] = (uint32_t)(uintptr_t)pdpt | PTE_RW | PTE_P;
    pcmodes_long64(bar0, (uint32_t)(uintptr_t)pml4);

    say("pcmodes done");
}

/* mode=copies: COPY_MAX places COPY_STRIDE bytes apart, each a copy of copy_template */
/* Called before each copy runs: a place for a debugger's breakpoint (a gdbstub breakpoint hit
   flushes QEMU's translation cache: the next copy's code is translated where the last one's was) */
__attribute__((noipa)) void copies_mark(uint32_t i)
{
    __asm__ volatile("" : : "r"(i) : "memory");
}

extern char copy_template[], copy_template_store[], copy_template_end[];
static uint8_t copies[COPY_MAX * COPY_STRIDE] __attribute__((aligned(4096)));

void copies_main(uint32_t bar0, uint32_t count)
{
    uint32_t len = (uint32_t)(copy_template_end - copy_template);

    if (count > COPY_MAX) {
        say("error: mode=copies count=%u: at most %u", count, COPY_MAX);
        guest_exit(EXIT_BAD_ARGS);
    }
    say("copies at 0x%x stride %u store at +%u", (uint32_t)(uintptr_t)copies, COPY_STRIDE,
        (uint32_t)(copy_template_store - copy_template));
    for (uint32_t i = 0; i < count; i++) {
        uint8_t *p = copies + i * COPY_STRIDE;

        for (uint32_t k = 0; k < len; k++)
            p[k] = (uint8_t)copy_template[k];
        copies_mark(i);
        ((void (*)(uint32_t, uint32_t))(uintptr_t)p)(bar0, i);
    }
    say("copies done");
}
