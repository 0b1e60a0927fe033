/* tests/guest/pcmodes_asm.S: the register accesses of mode=pcmodes made from 32-bit protected, 16-bit
 * protected, real (big real) and 64-bit long mode, each access instruction at a global pc_MODE_write
 * or pc_MODE_read label whose link address is the linear PC the device must record. Each entry
 * point is called from pcmodes.c with BAR0 as its first argument, returns in 32-bit protected
 * mode, and keeps the callee-saved registers. Interrupts are off throughout the guest. */
#include "guest.h"

#define CR0_PE     0x00000001
#define CR0_PG     0x80000000
#define CR4_PAE    0x00000020
#define MSR_EFER   0xc0000080
#define EFER_LME   0x00000100

/* 16-bit code: IP = linear address - PCM16_BASE, both in 16-bit protected mode (CS =
 * GDT_CODE16_SEL, whose descriptor base is PCM16_BASE) and in real mode (CS = PCM16_BASE >> 4). */
#define IP16(label) ((label) - PCM16_BASE)

        .section .text16, "ax", @progbits
        .code16
        .globl pcmodes16_end            /* guest.ld checks that real mode reaches it */

/* 16-bit protected mode, EDX = BAR0; DS is still the flat 4 GiB data segment: 32-bit addresses
 * (address-size prefix) reach BAR0. */
prot16_entry:
        movl    $0x16, %eax
        .globl  pc_prot16_write
pc_prot16_write:
        movl    %eax, 0x14(%edx)
        .globl  pc_prot16_read
pc_prot16_read:
        movl    0x44(%edx), %eax
        ljmpl   $GDT_CODE_SEL, $prot16_back

/* Entered in 16-bit protected mode, EDX = BAR0: clears CR0.PE. DS keeps its cached 4 GiB limit
 * (big real mode), as firmware does; no segment register is loaded in real mode. */
real_entry:
        movl    %cr0, %eax
        andl    $~CR0_PE, %eax
        movl    %eax, %cr0
        ljmpl   $(PCM16_BASE >> 4), $IP16(real_code)   /* real-mode CS: base = CS << 4 */
real_code:
        movl    $0x11, %eax
        .globl  pc_real_write
pc_real_write:
        movl    %eax, 0x1c(%edx)
        .globl  pc_real_read
pc_real_read:
        movl    0x4c(%edx), %eax
        movl    %cr0, %eax
        orl     $CR0_PE, %eax
        movl    %eax, %cr0
        ljmpl   $GDT_CODE_SEL, $real_back
pcmodes16_end:

        .text
        .code32
/* void pcmodes_prot32(uint32_t bar0) */
        .globl  pcmodes_prot32
pcmodes_prot32:
        movl    4(%esp), %edx
        movl    $0x32, %eax
        .globl  pc_prot32_write
pc_prot32_write:
        movl    %eax, 0x10(%edx)
        .globl  pc_prot32_read
pc_prot32_read:
        movl    0x40(%edx), %eax
        ret

/* void pcmodes_prot16(uint32_t bar0) */
        .globl  pcmodes_prot16
pcmodes_prot16:
        movl    4(%esp), %edx
        ljmp    $GDT_CODE16_SEL, $IP16(prot16_entry)
prot16_back:
        ret

/* void pcmodes_real(uint32_t bar0) */
        .globl  pcmodes_real
pcmodes_real:
        movl    4(%esp), %edx
        ljmp    $GDT_CODE16_SEL, $IP16(real_entry)
real_back:
        movw    $GDT_DATA_SEL, %ax      /* reload the selectors real mode left untouched */
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        ret

/* void pcmodes_long64(uint32_t bar0, uint32_t pml4): enters long mode with the identity map whose
 * PML4 is at pml4, and leaves it again (paging off, EFER.LME clear, CR4.PAE clear). */
        .globl  pcmodes_long64
pcmodes_long64:
        movl    8(%esp), %eax
        movl    %eax, %cr3
        movl    %cr4, %eax
        orl     $CR4_PAE, %eax
        movl    %eax, %cr4
        movl    $MSR_EFER, %ecx
        rdmsr
        orl     $EFER_LME, %eax
        wrmsr
        movl    4(%esp), %edx           /* after rdmsr, which writes EDX */
        movl    %cr0, %eax
        orl     $CR0_PG, %eax
        movl    %eax, %cr0              /* long mode active, still in a 32-bit code segment */
        ljmp    $GDT_CODE64_SEL, $long64_code
        .code64
long64_code:
        movl    %edx, %edx              /* upper halves are undefined after compatibility mode */
        movl    $0x64, %eax
        .globl  pc_long64_write
pc_long64_write:
        movl    %eax, 0x18(%rdx)
        .globl  pc_long64_read
pc_long64_read:
        movl    0x48(%rdx), %eax
        ljmpl   *long64_back_ptr(%rip)  /* m16:32: back to the 32-bit code segment */
        .code32
long64_back:                            /* compatibility mode */
        movl    %cr0, %eax
        andl    $~CR0_PG, %eax
        movl    %eax, %cr0              /* long mode inactive: 32-bit protected mode */
        movl    $MSR_EFER, %ecx
        rdmsr
        andl    $~EFER_LME, %eax
        wrmsr
        movl    %cr4, %eax
        andl    $~CR4_PAE, %eax
        movl    %eax, %cr4
        ret

/* mode=copies: the template copied COPY_STRIDE bytes apart and called as
 * void copy(uint32_t bar0, uint32_t value): one store of value to BAR0 + 0x10. */
        .code32
        .globl  copy_template, copy_template_store, copy_template_end
copy_template:
        movl    4(%esp), %edx
        movl    8(%esp), %eax
copy_template_store:
        movl    %eax, 0x10(%edx)
        ret
copy_template_end:

        .section .rodata
        .align 4
long64_back_ptr:
        .long   long64_back
        .word   GDT_CODE_SEL

        .section .note.GNU-stack, "", @progbits
