/* tests/guest/irq_asm.S: the interrupt entry stubs of the regdbg test guest (mode=eduirq): one
 * 16-byte stub per vector 0..255 at irq_stubs + 16 * vector, each pushing a dummy error code
 * (where the CPU pushes none) and its vector, then irq_common, which saves the registers and calls
 * irq_dispatch(frame) (irq.c) with the frame of struct irq_frame. */
#include "guest.h"

        .text
        .code32
        .align 16
        .globl irq_stubs
irq_stubs:
        .set .Lvec, 0
        .rept 256
        .align 16
        .if (.Lvec == 8) || ((.Lvec >= 10) && (.Lvec <= 14)) || (.Lvec == 17) || \
            (.Lvec == 21) || (.Lvec == 29) || (.Lvec == 30)
        /* the CPU pushed an error code */
        .else
        pushl   $0
        .endif
        pushl   $.Lvec
        jmp     irq_common
        .set .Lvec, .Lvec + 1
        .endr
        .align 16
        .globl irq_stubs_end
irq_stubs_end:                          /* irq.c checks that each stub took 16 bytes */

irq_common:
        pushal
        cld
        movl    %esp, %eax
        pushl   %eax                    /* struct irq_frame * */
        call    irq_dispatch
        addl    $4, %esp
        popal
        addl    $8, %esp                /* the vector and the error code */
        iret

        .section .note.GNU-stack, "", @progbits
