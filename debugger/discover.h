/*
 * Finding regdbg-proxy devices in a running QEMU over QMP: their ids, QOM paths and ring paths,
 * and where the guest has placed them on its PCI bus (query-pci): address and BARs.
 */
#ifndef REGDBG_DISCOVER_H
#define REGDBG_DISCOVER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qmp.h"
#include "regdbg/abi.h"

#define DISCOVER_MAX_PROXIES 32

struct proxy_info {
    char id[128];               /* the qdev id, or the QOM name ("device[3]") of an anonymous one */
    char qom_path[256];
    char shm[PATH_MAX];
};

/* Fill out[] with every proxy (up to max). Returns the count, or -1 with a message in err. */
int discover_proxies(struct qmp *q, struct proxy_info *out, size_t max, char *err, size_t errlen);

/*
 * Choose the proxy named id (NULL: the only one). Returns its index, or -1 with a message that
 * lists the choices.
 */
int discover_choose(const struct proxy_info *list, int n, const char *id, const char *where,
                    char *err, size_t errlen);

/* Where the guest has placed a PCI device, as QEMU's query-pci says. */
struct pci_place {
    int bus, slot, function;
    uint64_t bar_addr[REGDBG_NUM_BARS];     /* guest-physical; UINT64_MAX: unmapped or absent */
};

/* The device with this qdev id in a query-pci reply (behind bridges too): true when found. */
bool discover_pci_find(json_t *query_pci, const char *qdev_id, struct pci_place *out);

/* Ask QEMU (query-pci) where the device with this qdev id is. 0, 1 when QEMU does not list it
   (an anonymous device has no qdev id), or -1 with a message in err. */
int discover_pci_place(struct qmp *q, const char *qdev_id, int timeout_ms,
                       struct pci_place *out, char *err, size_t errlen);

#endif /* REGDBG_DISCOVER_H */
