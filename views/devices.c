/*
 * The devices view: every regdbg-proxy in the VM with its identity, register map, PCI address,
 * BARs with their guest addresses, and its ring: size, mode, fill, drops.
 */
#include <stdio.h>
#include <string.h>

#include "list.h"
#include "screen.h"
#include "ui.h"

#define LINES_PER_DEVICE 10

static const char *const bar_types[] = { "absent", "mem32", "mem64", "io" };

/* Line k (0-based) of device d, into buf; returns the role to draw it with. */
static enum role device_line(const struct proxy *p, int k, char *buf, size_t len)
{
    const struct regdbg_shm_header *h = &p->rr.info;
    int shown = 0;

    buf[0] = '\0';
    switch (k) {
    case 0:
        snprintf(buf, len, "%s  %04x:%04x  class %06x rev %02x  subsystem %04x:%04x  %s", p->id,
                 h->vendor_id, h->device_id, h->class_code, h->revision, h->subsystem_vendor_id,
                 h->subsystem_id, p->map ? p->map->name : "(no register map)");
        return ROLE_HEADER;
    case 1:
        if (p->pci_bus >= 0) {
            snprintf(buf, len, "  PCI %02x:%02x.%x   backend %s", p->pci_bus, p->pci_slot,
                     p->pci_func, h->backend == REGDBG_BACKEND_FILE ? "file"
                     : h->backend == REGDBG_BACKEND_HW ? "hw"
                     : h->backend == REGDBG_BACKEND_REMOTE ? "remote" : "none");
        } else {
            snprintf(buf, len, "  PCI address unknown (anonymous device)");
        }
        return ROLE_NORMAL;
    case 8: {
        uint64_t fill = ring_reader_fill(&p->rr);

        if (p->unplugged) {
            snprintf(buf, len, "  unplugged (device_del): %llu events drained from its ring",
                     (unsigned long long)p->events);
            return ROLE_CHANGED;
        }
        snprintf(buf, len, "  ring %s: %u entries, %s, fill %llu%%, dropped %llu, drained %llu",
                 p->shm, h->ring_entries, h->ring_mode == REGDBG_RING_LOSSY ? "lossy" : "lossless",
                 (unsigned long long)(fill * 100 / (h->ring_entries ? h->ring_entries : 1)),
                 (unsigned long long)ring_reader_dropped(&p->rr), (unsigned long long)p->events);
        return ring_reader_dropped(&p->rr) ? ROLE_CHANGED : ROLE_NORMAL;
    }
    case 9:
        return ROLE_NORMAL;
    default:
        break;
    }
    /* lines 2..7: BARs 0..5 */
    {
        unsigned b = (unsigned)(k - 2);
        const struct regdbg_bar_info *bi = &h->bars[b];
        char addr[32];

        if (bi->type == REGDBG_BAR_ABSENT || bi->type > REGDBG_BAR_IO) {
            return ROLE_DIM;
        }
        if (p->bar_addr[b] == UINT64_MAX || p->bar_addr[b] == 0) {
            snprintf(addr, sizeof(addr), "not mapped");
        } else {
            snprintf(addr, sizeof(addr), "at 0x%llx", (unsigned long long)p->bar_addr[b]);
        }
        shown = snprintf(buf, len, "  BAR%u %-5s%s %10llu bytes  %s", b, bar_types[bi->type],
                         bi->prefetch ? " pf" : "   ", (unsigned long long)bi->size, addr);
        (void)shown;
        return ROLE_NORMAL;
    }
}

static void devices_draw(struct ui *ui)
{
    struct view_state *vs = &ui->vs[VIEW_DEVICES];
    uint64_t n = (uint64_t)ui->s->n_proxies * LINES_PER_DEVICE;
    int row = 0;

    if (vs->top + (uint64_t)vs->rows > n) {
        vs->top = n > (uint64_t)vs->rows ? n - (uint64_t)vs->rows : 0;
    }
    for (uint64_t i = vs->top; i < n && row < vs->rows; i++) {
        const struct proxy *p = &ui->s->proxies[i / LINES_PER_DEVICE];
        char line[512];
        enum role role = device_line(p, (int)(i % LINES_PER_DEVICE), line, sizeof(line));

        if (!line[0]) {
            if (role != ROLE_DIM) {
                row++;
            }
            continue;
        }
        screen_put(VIEW_TOP + row, 0, line, screen_attr(role));
        row++;
    }
}

static enum action devices_request(struct ui *ui, enum action req)
{
    return list_scroll_window(&ui->vs[VIEW_DEVICES], req,
                           (uint64_t)ui->s->n_proxies * LINES_PER_DEVICE);
}

static void devices_resize(struct ui *ui, int rows, int cols)
{
    ui->vs[VIEW_DEVICES].rows = rows;
    ui->vs[VIEW_DEVICES].cols = cols;
}

const struct view_ops devices_view_ops = {
    .name = "devices",
    .draw = devices_draw,
    .request = devices_request,
    .resize = devices_resize,
};
