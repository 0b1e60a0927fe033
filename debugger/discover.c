/*
 * Finding regdbg-proxy devices over QMP: qom-list on the two containers where -device puts
 * devices, then qom-get of each proxy's resolved "shm" property; and a device's place on the
 * guest's PCI bus from query-pci.
 */
#include "discover.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QMP_TIMEOUT_MS 5000

static int list_container(struct qmp *q, const char *container, struct proxy_info *out,
                          size_t max, int n, char *err, size_t errlen)
{
    json_t *ret = qmp_execute(q, "qom-list", json_pack("{s:s}", "path", container),
                              QMP_TIMEOUT_MS, err, errlen);
    size_t i;
    json_t *item;

    if (!ret) {
        return -1;
    }
    if (!json_is_array(ret)) {
        snprintf(err, errlen, "qom-list %s: QEMU returned something other than a list", container);
        json_decref(ret);
        return -1;
    }
    json_array_foreach(ret, i, item) {
        const char *name, *type;
        json_error_t jerr;

        if (json_unpack_ex(item, &jerr, 0, "{s:s, s:s}", "name", &name, "type", &type) < 0) {
            continue; /* tolerate entries of another shape */
        }
        if (strcmp(type, "child<regdbg-proxy>") != 0) {
            continue;
        }
        if ((size_t)n == max) {
            break;
        }
        snprintf(out[n].id, sizeof(out[n].id), "%s", name);
        snprintf(out[n].qom_path, sizeof(out[n].qom_path), "%s/%s", container, name);
        out[n].shm[0] = '\0';
        n++;
    }
    json_decref(ret);
    return n;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const struct proxy_info *)a)->id, ((const struct proxy_info *)b)->id);
}

int discover_proxies(struct qmp *q, struct proxy_info *out, size_t max, char *err, size_t errlen)
{
    int n = 0;

    n = list_container(q, "/machine/peripheral", out, max, n, err, errlen);
    if (n < 0) {
        return -1;
    }
    n = list_container(q, "/machine/peripheral-anon", out, max, n, err, errlen);
    if (n < 0) {
        return -1;
    }
    /* QOM lists children in hash order: sort, so that devices come in the same order */
    qsort(out, (size_t)n, sizeof(out[0]), by_id);
    for (int i = 0; i < n; i++) {
        json_t *ret = qmp_execute(q, "qom-get",
                                  json_pack("{s:s, s:s}", "path", out[i].qom_path,
                                            "property", "shm"),
                                  QMP_TIMEOUT_MS, err, errlen);
        if (!ret) {
            return -1;
        }
        if (!json_is_string(ret)) {
            snprintf(err, errlen, "qom-get %s shm: QEMU returned no path", out[i].qom_path);
            json_decref(ret);
            return -1;
        }
        snprintf(out[i].shm, sizeof(out[i].shm), "%s", json_string_value(ret));
        json_decref(ret);
    }
    return n;
}

int discover_choose(const struct proxy_info *list, int n, const char *id, const char *where,
                    char *err, size_t errlen)
{
    char names[512] = "";
    size_t used = 0;

    for (int i = 0; i < n; i++) {
        if (id && strcmp(list[i].id, id) == 0) {
            return i;
        }
        int k = snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "", list[i].id);
        if (k > 0 && (size_t)k < sizeof(names) - used) {
            used += (size_t)k;
        }
    }
    if (n == 0) {
        snprintf(err, errlen, "no regdbg-proxy device in the VM at %s; start QEMU with "
                 "-device regdbg-proxy,id=NAME,...", where);
    } else if (id) {
        snprintf(err, errlen, "no regdbg-proxy with id '%s' at %s; the VM has: %s", id, where,
                 names);
    } else if (n == 1) {
        return 0;
    } else {
        snprintf(err, errlen, "the VM at %s has %d regdbg-proxy devices (%s); choose one with "
                 "--device ID", where, n, names);
    }
    return -1;
}

static bool find_in(json_t *devices, const char *qdev_id, struct pci_place *out)
{
    size_t i, j;
    json_t *dev, *region;

    json_array_foreach(devices, i, dev) {
        const char *id = json_string_value(json_object_get(dev, "qdev_id"));
        json_t *bridge = json_object_get(dev, "pci_bridge");

        if (bridge && find_in(json_object_get(bridge, "devices"), qdev_id, out)) {
            return true;
        }
        if (!id || strcmp(id, qdev_id) != 0) {
            continue;
        }
        out->bus = (int)json_integer_value(json_object_get(dev, "bus"));
        out->slot = (int)json_integer_value(json_object_get(dev, "slot"));
        out->function = (int)json_integer_value(json_object_get(dev, "function"));
        for (unsigned b = 0; b < REGDBG_NUM_BARS; b++) {
            out->bar_addr[b] = UINT64_MAX;
        }
        json_array_foreach(json_object_get(dev, "regions"), j, region) {
            json_int_t bar, addr;
            json_error_t jerr;

            if (json_unpack_ex(region, &jerr, 0, "{s:I, s:I}", "bar", &bar, "address",
                               &addr) == 0 && bar >= 0 && bar < REGDBG_NUM_BARS) {
                /* QEMU reports an unmapped BAR as all ones */
                out->bar_addr[bar] = (uint64_t)addr;
            }
        }
        return true;
    }
    return false;
}

bool discover_pci_find(json_t *query_pci, const char *qdev_id, struct pci_place *out)
{
    size_t i;
    json_t *bus;

    if (!qdev_id || !qdev_id[0]) {
        return false;
    }
    json_array_foreach(query_pci, i, bus) {
        if (find_in(json_object_get(bus, "devices"), qdev_id, out)) {
            return true;
        }
    }
    return false;
}

int discover_pci_place(struct qmp *q, const char *qdev_id, int timeout_ms,
                       struct pci_place *out, char *err, size_t errlen)
{
    json_t *ret = qmp_execute(q, "query-pci", NULL, timeout_ms, err, errlen);
    bool found;

    if (!ret) {
        return -1;
    }
    found = discover_pci_find(ret, qdev_id, out);
    json_decref(ret);
    return found ? 0 : 1;
}
