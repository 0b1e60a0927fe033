/*
 * regdbg-proxy's interrupt: INTx pin A (advertised in config space), and with
 * msi=on an MSI capability (one vector, 64-bit addresses); the guest's choice
 * decides which one a request drives. Requests come from the debugger (the
 * "irq" property, set over QMP), from rules (REGDBG_RULE_IRQ, applied by
 * regdbg-rules.c after the access went through) and later from the host's
 * device; each publishes what the guest's interrupt controller saw as
 * interrupt events into the ring (include/regdbg/abi.h, REGDBG_DIR_IRQ).
 *
 * Copyright (c) 2026 The regdbg authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qapi/error.h"
#include "hw/pci/msi.h"
#include "hw/pci/pci.h"
#include "hw/misc/regdbg/trace-hw_misc_regdbg.h"
#include "regdbg-proxy.h"

/* The one MSI vector */
#define REGDBG_MSI_VECTOR 0

/*
 * regdbg_proxy_irq() runs on this thread (of any proxy): an MSI it sends that
 * comes back into a proxy's BAR, whose rule asks for an interrupt, would
 * recurse. Per thread, not per device: the ring's wait may drop the BQL in
 * the middle, and another thread's request is no recursion.
 */
static __thread bool regdbg_irq_running;

static const char *const regdbg_irq_action_names[] = {
    [REGDBG_IRQ_ASSERT] = "assert",
    [REGDBG_IRQ_DEASSERT] = "deassert",
    [REGDBG_IRQ_PULSE] = "pulse",
};

static const char *regdbg_proxy_id(RegdbgProxyState *s)
{
    return DEVICE(s)->id ? DEVICE(s)->id : "";
}

/* Is INTx high where QEMU's PCI core keeps it? */
static bool regdbg_irq_pin_high(PCIDevice *pdev)
{
    return (pdev->irq_state >> pci_intx(pdev)) & 1;
}

static void regdbg_irq_publish(RegdbgProxyState *s, unsigned what,
                               unsigned action, unsigned source,
                               uint16_t rule, const RegdbgAccess *by,
                               uint16_t flags)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    RegdbgAccess a = {
        .t_ns = regdbg_access_clock_ns(),  /* as accesses: in order with them */
        .addr = flags & REGDBG_EV_IRQ_MSI ? REGDBG_MSI_VECTOR
                                          : pci_intx(pdev) + 1,
        .value = what,
        .orig = action,
        .cpu = REGDBG_CPU_NONE,
        .flags = flags,
        .rule = rule,
        .dir = REGDBG_DIR_IRQ,
        .cpu_mode = REGDBG_MODE_UNKNOWN,
        .irq_source = source,
    };

    if (by && (by->flags & REGDBG_EV_PC)) {
        a.guest_pc = by->guest_pc;
        a.cpu_mode = by->cpu_mode;
        a.flags |= by->flags & (REGDBG_EV_PC | REGDBG_EV_PC_AFTER);
    }
    if (by) {
        a.cpu = by->cpu;
    }
    trace_regdbg_proxy_irq(regdbg_proxy_id(s), what, action, source, rule);
    regdbg_proxy_publish(s, &a);
}

void regdbg_proxy_irq_note(RegdbgProxyState *s, unsigned what,
                           unsigned source)
{
    regdbg_irq_publish(s, what, 0, source, REGDBG_RULE_NONE, NULL,
                       msi_enabled(PCI_DEVICE(s)) ? REGDBG_EV_IRQ_MSI : 0);
}

void regdbg_proxy_irq(RegdbgProxyState *s, unsigned action, unsigned source,
                      uint16_t rule, const RegdbgAccess *by)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    uint8_t owner = source == REGDBG_IRQ_SRC_HOST ? REGDBG_IRQ_OWNER_HOST
                                                  : REGDBG_IRQ_OWNER_INJECT;
    uint16_t command = pci_get_word(pdev->config + PCI_COMMAND);
    unsigned what[2], n = 0;
    uint16_t flags;
    bool pin, now;

    assert(bql_locked());
    if (action < REGDBG_IRQ_ASSERT || action > REGDBG_IRQ_ACTION_MAX) {
        return;                         /* a malformed rule only fails */
    }
    if (regdbg_irq_running) {
        /*
         * The MSI this device sent came back into it (the guest gave it one
         * of the device's own BAR addresses as MSI address): a rule there
         * would send it again, and again.
         */
        qemu_log_mask(LOG_GUEST_ERROR,
                      "regdbg-proxy '%s': its MSI reached the device itself "
                      "(is the MSI address inside one of its BARs?); "
                      "the interrupt it asked for there is not sent\n",
                      regdbg_proxy_id(s));
        return;
    }
    regdbg_irq_running = true;
    /*
     * The line first, the events after: publishing may drop the BQL (a full
     * lossless ring), and the line must not change under a half-done request.
     */
    if (msi_enabled(pdev)) {
        /* MSI has no level: the guest enabled it, INTx is off (see below) */
        s->irq_level &= ~owner;
        flags = REGDBG_EV_IRQ_MSI |
                (command & PCI_COMMAND_MASTER ? 0 : REGDBG_EV_IRQ_BLOCKED);
        if (action == REGDBG_IRQ_DEASSERT) {
            what[n++] = REGDBG_IRQ_UNCHANGED;
        } else {
            msi_notify(pdev, REGDBG_MSI_VECTOR);
            what[n++] = REGDBG_IRQ_MSI;
        }
    } else {
        flags = command & PCI_COMMAND_INTX_DISABLE ? REGDBG_EV_IRQ_BLOCKED : 0;
        pin = regdbg_irq_pin_high(pdev);
        if (action == REGDBG_IRQ_ASSERT) {
            s->irq_level |= owner;
        } else {
            s->irq_level &= ~owner;
        }
        now = s->irq_level != 0;
        if (action == REGDBG_IRQ_PULSE && !pin) {
            pci_set_irq(pdev, 1);
            what[n++] = REGDBG_IRQ_RAISED;
            pin = true;
        } else if (now == pin) {
            what[n++] = REGDBG_IRQ_UNCHANGED;
        }
        if (now != pin) {
            pci_set_irq(pdev, now);
            what[n++] = now ? REGDBG_IRQ_RAISED : REGDBG_IRQ_LOWERED;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        regdbg_irq_publish(s, what[i], action, source, rule, by, flags);
    }
    regdbg_irq_running = false;
}

/*
 * Config space writes: QEMU's MSI code lowers INTx whenever the guest writes
 * the MSI capability with MSI enabled (the PCI spec makes them exclusive).
 * The device forgets its INTx levels then too, and says so.
 */
void regdbg_proxy_config_write(PCIDevice *pdev, uint32_t addr, uint32_t val,
                               int len)
{
    RegdbgProxyState *s = REGDBG_PROXY(pdev);

    pci_default_write_config(pdev, addr, val, len);
    if (s->irq_level && msi_enabled(pdev)) {
        s->irq_level = 0;
        regdbg_irq_publish(s, REGDBG_IRQ_LOWERED, 0, REGDBG_IRQ_SRC_DEVICE,
                           REGDBG_RULE_NONE, NULL, 0);
    }
}

/* A reset lowers the pin (QEMU's PCI core does it too) and says so */
void regdbg_proxy_irq_reset(RegdbgProxyState *s)
{
    if (s->irq_level) {
        s->irq_level = 0;
        pci_set_irq(PCI_DEVICE(s), 0);
        regdbg_irq_publish(s, REGDBG_IRQ_LOWERED, 0, REGDBG_IRQ_SRC_DEVICE,
                           REGDBG_RULE_NONE, NULL, 0);
    }
}

bool regdbg_proxy_irq_realize(RegdbgProxyState *s, Error **errp)
{
    Error *err = NULL;

    s->irq_level = 0;
    if (!s->msi) {
        return true;
    }
    /* one vector, 64-bit addresses, no per-vector mask: as hw/misc/edu.c */
    if (msi_init(PCI_DEVICE(s), 0, 1, true, false, &err)) {
        error_propagate_prepend(errp, err, "msi=on: ");
        return false;
    }
    return true;
}

void regdbg_proxy_irq_exit(RegdbgProxyState *s)
{
    msi_uninit(PCI_DEVICE(s));
}

/*
 * The "irq" property: the debugger's control of the interrupt over QMP
 * (qom-set PATH irq assert|deassert|pulse), run on the main loop with the
 * BQL. Reading it says whether the debugger and the rules hold INTx high.
 */
static char *regdbg_irq_prop_get(Object *obj, Error **errp)
{
    RegdbgProxyState *s = REGDBG_PROXY(obj);

    return g_strdup(s->irq_level & REGDBG_IRQ_OWNER_INJECT ? "assert"
                                                          : "deassert");
}

static void regdbg_irq_prop_set(Object *obj, const char *value, Error **errp)
{
    RegdbgProxyState *s = REGDBG_PROXY(obj);

    if (!DEVICE(obj)->realized) {
        error_setg(errp, "irq=%s: the interrupt can be driven once the "
                   "device exists (qom-set), not as a -device option", value);
        return;
    }
    for (unsigned a = REGDBG_IRQ_ASSERT; a <= REGDBG_IRQ_ACTION_MAX; a++) {
        if (!strcmp(value, regdbg_irq_action_names[a])) {
            regdbg_proxy_irq(s, a, REGDBG_IRQ_SRC_DEBUGGER, REGDBG_RULE_NONE,
                             NULL);
            return;
        }
    }
    error_setg(errp, "irq=%s: expected assert, deassert or pulse", value);
}

void regdbg_proxy_irq_class_init(ObjectClass *klass)
{
    object_class_property_add_str(klass, "irq", regdbg_irq_prop_get,
                                  regdbg_irq_prop_set);
    object_class_property_set_description(klass, "irq",
        "the interrupt as the debugger drives it: set assert, deassert or "
        "pulse (qom-set); reads whether it holds INTx high");
}
