/* tests/guest/boot.S: multiboot v1 header, BSP entry, GDT (flat 32-bit code and data, and the 16-
 * and 64-bit code segments of mode=pcmodes), per-CPU stacks and the 32-bit AP entry of the regdbg
 * test guest. */
#include "guest.h"

#define MB_MAGIC  0x1BADB002
#define MB_FLAGS  0x00000003      /* bit 0: page-align modules, bit 1: memory info; no bit 16: ELF load */

        .section .multiboot, "a"
        .align 4
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)

        .text
        .code32
/* Multiboot entry: EAX = 0x2BADB002, EBX = multiboot info, flat CS/DS, interrupts off, no stack. */
        .globl _start
_start:
        cli
        cld
        lgdt    gdt_desc
        ljmp    $GDT_CODE_SEL, $1f
1:      movw    $GDT_DATA_SEL, %cx
        movw    %cx, %ds
        movw    %cx, %es
        movw    %cx, %fs
        movw    %cx, %gs
        movw    %cx, %ss
        movl    %eax, %esi              /* keep magic and info pointer across the BSS clear */
        movl    %ebx, %ebp
        movl    $__bss_start, %edi
        movl    $__bss_end, %ecx
        subl    %edi, %ecx
        xorl    %eax, %eax
        rep stosb
        movl    $(cpu_stacks + STACK_SIZE), %esp   /* the BSP (APIC id 0) uses stack slot 0 */
        subl    $8, %esp                /* keep the stack 16-byte aligned at the call */
        pushl   %ebp
        pushl   %esi
        call    guest_main
        jmp     halt

/* Reached from the real-mode trampoline with CS = GDT_CODE_SEL, protected mode, interrupts off. */
        .globl ap_entry32
ap_entry32:
        movw    $GDT_DATA_SEL, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %fs
        movw    %ax, %gs
        movw    %ax, %ss
        cld
        movl    LAPIC_BASE + 0x20, %ebx  /* local APIC id register, id in bits 31:24 */
        shrl    $24, %ebx
        cmpl    $MAX_CPUS, %ebx
        jae     halt
        leal    1(%ebx), %eax
        shll    $STACK_SHIFT, %eax
        addl    $cpu_stacks, %eax
        movl    %eax, %esp              /* top of stack slot [apic id] */
        subl    $12, %esp
        pushl   %ebx
        call    ap_main
halt:
        cli
        hlt
        jmp     halt

        .data
        .align 8
        .globl gdt
gdt:
        .quad   0                       /* null */
        .quad   0x00CF9A000000FFFF      /* 0x08: code, base 0, limit 4 GiB, 32-bit */
        .quad   0x00CF92000000FFFF      /* 0x10: data, base 0, limit 4 GiB */
        .quad   0x00009A0FFFF0FFFF      /* 0x18: code, base 0xffff0 (PCM16_BASE), limit 64 KiB, 16-bit */
        .quad   0x00AF9A000000FFFF      /* 0x20: code, 64-bit (L) */
gdt_end:
        .align 4
        .word   0
gdt_desc:
        .word   gdt_end - gdt - 1
        .long   gdt

        .bss
        .align 16
        .globl cpu_stacks
cpu_stacks:
        .skip   MAX_CPUS * STACK_SIZE

        .section .note.GNU-stack, "", @progbits
