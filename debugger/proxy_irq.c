/*
 * A regdbg-proxy's interrupt driven over QMP (see proxy_irq.h).
 */
#include "proxy_irq.h"

#include <stdio.h>
#include <string.h>

#include "trace_file.h"

#define IRQ_QMP_TIMEOUT_MS 3000

int proxy_irq(struct qmp *q, const char *qom_path, const char *id, uint8_t action, char *err,
              size_t errlen)
{
    const char *name = trace_irq_action_name(action);
    char why[384];
    json_t *ret;

    if (!*name) {
        snprintf(err, errlen, "irq: action %u is not assert, deassert or pulse", action);
        return -1;
    }
    if (!q) {
        snprintf(err, errlen, "irq %s: no QMP connection to QEMU (give --qmp)", name);
        return -1;
    }
    ret = qmp_execute(q, "qom-set", json_pack("{s:s, s:s, s:s}", "path", qom_path, "property",
                                              "irq", "value", name),
                      IRQ_QMP_TIMEOUT_MS, why, sizeof(why));
    if (!ret) {
        if (strstr(why, "not found")) {
            snprintf(err, errlen, "irq %s on %s: this QEMU's regdbg-proxy has no interrupt "
                     "control (%.200s); use the QEMU built with this regdbg", name, id, why);
        } else {
            snprintf(err, errlen, "irq %s on %s: %.300s", name, id, why);
        }
        return -1;
    }
    json_decref(ret);
    return 0;
}
