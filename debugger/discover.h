/*
 * Finding regdbg-proxy devices in a running QEMU over QMP: their ids, QOM paths and ring paths.
 */
#ifndef REGDBG_DISCOVER_H
#define REGDBG_DISCOVER_H

#include <limits.h>
#include <stddef.h>

#include "qmp.h"

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

#endif /* REGDBG_DISCOVER_H */
