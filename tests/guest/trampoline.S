/* tests/guest/trampoline.S: real-mode AP startup trampoline of the regdbg test guest. smp.c copies
 * tramp_start..tramp_end to TRAMP_BASE; the SIPI vector TRAMP_BASE >> 12 starts each AP here with
 * CS = TRAMP_BASE >> 4, IP = 0, so CS-relative offsets (label - tramp_start) address the copy. */
#include "guest.h"

        .text
        .code16
        .globl tramp_start, tramp_end
tramp_start:
        cli
        movw    %cs, %ax
        movw    %ax, %ds                 /* DS base = TRAMP_BASE */
        lgdtl   (tramp_gdtr - tramp_start)
        movl    %cr0, %eax
        orl     $1, %eax                 /* PE */
        movl    %eax, %cr0
        ljmpl   $GDT_CODE_SEL, $ap_entry32  /* 32-bit offset: straight into the kernel image */
        .align 4
tramp_gdtr:
        .word   3 * 8 - 1                /* the first three entries of boot.S's GDT */
        .long   gdt
tramp_end:
        .code32

        .section .note.GNU-stack, "", @progbits
