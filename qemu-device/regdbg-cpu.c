/*
 * regdbg-proxy: which guest instruction made the access in progress, and in
 * which CPU mode: the linear PC (CS base + rIP) and the mode recorded with
 * every access. Target-specific (built per target, x86 only; elsewhere it
 * knows nothing); called on the vCPU thread inside an MMIO/PIO handler.
 *
 * TCG: the vCPU's registers are not synchronised inside a translation block.
 * As target/i386/helper.c does for TPR accesses (get_memio_eip()), the PC is
 * recovered from the host return address that the softmmu slow path keeps
 * for the access (cs->mem_io_pc), through the translation block's unwind
 * data: the instruction's own address, not a stale EIP. I/O port accesses
 * (IN/OUT) go through a helper that keeps no return address; the helper's
 * own return address into the block, on this thread's stack, serves instead.
 *
 * KVM: the kernel stores the registers into the vCPU's kvm_run page on every
 * exit once kvm_valid_regs asks for them (KVM_CAP_SYNC_REGS): reading them
 * costs no system call. The first access of a vCPU sets that up and reads
 * its registers with two ioctls, once. KVM completes a write (to memory or
 * to a port) before it exits: rIP is then past the instruction, and the
 * access says so (REGDBG_EV_PC_AFTER) rather than guess its length.
 *
 * Copyright (c) 2026 The regdbg authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/core/cpu.h"
#include "system/kvm.h"
#include "system/tcg.h"
#include "regdbg-proxy.h"

#ifdef TARGET_I386
#include "cpu.h"
#ifdef CONFIG_TCG
#include "accel/tcg/tb-context.h"
#include "exec/translation-block.h"
#include "qemu/main-loop.h"
#include "tcg/insn-start-words.h"
#include "tcg/tcg.h"
#endif
#ifdef CONFIG_KVM
#include <linux/kvm.h>
#include <sys/ioctl.h>
#endif

#define REGDBG_SYNC_REGS (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)

#define REGDBG_EFLAGS_VM (1u << 17)

static uint8_t regdbg_cpu_mode(bool pe, bool lma, bool cs64, bool cs32,
                               bool vm86)
{
    if (lma) {
        return cs64 ? REGDBG_MODE_LONG64
             : cs32 ? REGDBG_MODE_COMPAT32 : REGDBG_MODE_COMPAT16;
    }
    if (!pe) {
        return REGDBG_MODE_REAL;
    }
    if (vm86) {
        return REGDBG_MODE_VM86;
    }
    return cs32 ? REGDBG_MODE_PROT32 : REGDBG_MODE_PROT16;
}

#ifdef CONFIG_TCG
/*
 * The unwind data of a host return address, cached: looking a translation
 * block up (a locked tree search) and decoding its unwind data costs more
 * than the rest of the access. The code at a host address does not change
 * until the next flush of the translation cache (invalidated blocks' code is
 * not reused before one), so an entry holds while tb_flush_count does. Under
 * the BQL, which serialises this device's accesses.
 */
#define REGDBG_PC_CACHE_SIZE 256

typedef struct RegdbgPcCacheEntry {
    uintptr_t ra;
    unsigned flushes;
    uint64_t insn;              /* unwind data[0]: the PC, or its page offset */
} RegdbgPcCacheEntry;

static RegdbgPcCacheEntry regdbg_pc_cache[REGDBG_PC_CACHE_SIZE];

static bool regdbg_cpu_unwind(CPUState *cs, uintptr_t ra, uint64_t *insn)
{
    uint64_t data[TARGET_INSN_START_WORDS];
    unsigned flushes = qatomic_read(&tb_ctx.tb_flush_count);
    RegdbgPcCacheEntry *e =
        &regdbg_pc_cache[(ra ^ (ra >> 10)) % REGDBG_PC_CACHE_SIZE];
    bool locked = bql_locked();

    if (locked && e->ra == ra && e->flushes == flushes) {
        *insn = e->insn;
        return true;
    }
    if (!cpu_unwind_state_data(cs, ra, data)) {
        return false;
    }
    if (locked) {
        e->ra = ra;
        e->flushes = flushes;
        e->insn = data[0];
    }
    *insn = data[0];
    return true;
}

/*
 * An I/O port access (IN/OUT) reaches the device through a helper called
 * from the translated code (helper_inb() and its kin), which passes no
 * return address on. The helper's own return address into the block is on
 * this thread's stack, a few frames up, and it is the first word above this
 * frame that lies in translated code and unwinds: the frames in between are
 * the memory API's, which hold no pointer into translated code. The scan is
 * bounded, and runs for port accesses only.
 */
#define REGDBG_STACK_SCAN_WORDS 512

static bool regdbg_cpu_unwind_helper(CPUState *cs, uint64_t *insn)
{
    uintptr_t *sp = __builtin_frame_address(0);

    for (unsigned i = 0; i < REGDBG_STACK_SCAN_WORDS; i++) {
        uintptr_t word = sp[i];

        if (in_code_gen_buffer((const void *)(word - tcg_splitwx_diff)) &&
            regdbg_cpu_unwind(cs, word, insn)) {
            return true;
        }
    }
    return false;
}

static bool regdbg_cpu_where_tcg(CPUState *cs, bool pio, RegdbgWhere *w)
{
    CPUX86State *env = cpu_env(cs);
    uint64_t insn;
    uintptr_t ra = cs->mem_io_pc;
    uint32_t hf = env->hflags;

    /*
     * Taken once: a later access that does not come through the softmmu
     * slow path (an I/O port, a helper without a return address) must not
     * find this access's return address and claim its instruction.
     */
    cs->mem_io_pc = 0;
    if (pio ? !regdbg_cpu_unwind_helper(cs, &insn)
            : !ra || !regdbg_cpu_unwind(cs, ra, &insn)) {
        return false;
    }
    /* As x86_restore_state_to_opc() reads the unwind data */
    if (tcg_cflags_has(cs, CF_PCREL)) {
        w->pc = ((env->eip + env->segs[R_CS].base) & TARGET_PAGE_MASK) | insn;
    } else {
        w->pc = insn;
    }
    if (!(hf & HF_CS64_MASK)) {
        w->pc = (uint32_t)w->pc;
    }
    w->mode = regdbg_cpu_mode(hf & HF_PE_MASK, hf & HF_LMA_MASK,
                              hf & HF_CS64_MASK, hf & HF_CS32_MASK,
                              hf & HF_VM_MASK);
    w->after = false;
    return true;
}
#endif

#ifdef CONFIG_KVM
static void regdbg_cpu_where_regs(RegdbgWhere *w, const struct kvm_regs *r,
                                  const struct kvm_sregs *sr, bool write)
{
    bool lma = sr->efer & (1u << 10);
    bool cs64 = lma && sr->cs.l;

    w->pc = sr->cs.base + r->rip;
    if (!cs64) {
        w->pc = (uint32_t)w->pc;
    }
    w->mode = regdbg_cpu_mode(sr->cr0 & 1, lma, cs64, sr->cs.db,
                              r->rflags & REGDBG_EFLAGS_VM);
    w->after = write;
}

static bool regdbg_cpu_where_kvm(CPUState *cs, bool write, RegdbgWhere *w)
{
    struct kvm_run *run = cs->kvm_run;
    struct kvm_regs regs;
    struct kvm_sregs sregs;

    if (!run) {
        return false;
    }
    if ((run->kvm_valid_regs & REGDBG_SYNC_REGS) == REGDBG_SYNC_REGS) {
        regdbg_cpu_where_regs(w, &run->s.regs.regs, &run->s.regs.sregs, write);
        return true;
    }
    /* This vCPU's first access: from its next exit on, KVM fills kvm_run */
    if (kvm_check_extension(kvm_state, KVM_CAP_SYNC_REGS) & REGDBG_SYNC_REGS) {
        run->kvm_valid_regs |= REGDBG_SYNC_REGS;
    }
    /*
     * Not cpu_synchronize_state(): it would mark the registers dirty, and
     * QEMU would write them back over the completion of this very access.
     */
    if (ioctl(cs->kvm_fd, KVM_GET_REGS, &regs) < 0 ||
        ioctl(cs->kvm_fd, KVM_GET_SREGS, &sregs) < 0) {
        return false;
    }
    regdbg_cpu_where_regs(w, &regs, &sregs, write);
    return true;
}
#endif

bool regdbg_cpu_where(CPUState *cs, bool pio, bool write, RegdbgWhere *w)
{
#ifdef CONFIG_TCG
    if (tcg_enabled()) {
        return regdbg_cpu_where_tcg(cs, pio, w);
    }
#endif
#ifdef CONFIG_KVM
    if (kvm_enabled()) {
        return regdbg_cpu_where_kvm(cs, write, w);
    }
#endif
    return false;
}

bool regdbg_cpu_where_cheap(void)
{
#ifdef CONFIG_KVM
    if (kvm_enabled()) {
        return (kvm_check_extension(kvm_state, KVM_CAP_SYNC_REGS) &
                REGDBG_SYNC_REGS) == REGDBG_SYNC_REGS;
    }
#endif
    return tcg_enabled();
}

#else /* !TARGET_I386 */

bool regdbg_cpu_where(CPUState *cs, bool pio, bool write, RegdbgWhere *w)
{
    return false;
}

bool regdbg_cpu_where_cheap(void)
{
    return false;
}

#endif
