/*
 * Driving a regdbg-proxy's interrupt over QMP (the irq command of the rules language): qom-set of
 * the device's "irq" property, which the device runs on QEMU's main loop (qemu-device/
 * regdbg-irq.c). What the guest's interrupt controller then saw comes back through the ring as
 * interrupt events (regdbg/abi.h, REGDBG_DIR_IRQ), not through this answer.
 */
#ifndef REGDBG_PROXY_IRQ_H
#define REGDBG_PROXY_IRQ_H

#include <stddef.h>
#include <stdint.h>

#include "qmp.h"

/*
 * Assert, deassert or pulse the interrupt of the proxy at qom_path (id names it in messages).
 * 0, or -1 with a message in err.
 */
int proxy_irq(struct qmp *q, const char *qom_path, const char *id, uint8_t action, char *err,
              size_t errlen);

#endif /* REGDBG_PROXY_IRQ_H */
