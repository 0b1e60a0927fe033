/*
 * The debugger's model of one attached VM (see session.h): QMP run state and events, the proxies'
 * rings drained into the scrollback, register statistics, BAR addresses from query-pci, and the
 * optional recording.
 */
#include "session.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "discover.h"
#include "gdb_handoff.h"
#include "proxy_irq.h"
#include "rule_file.h"
#include "symbols.h"

#define QMP_TIMEOUT_MS 3000
#define PCI_REFRESH_NS 1000000000ull
/* The periodic refresh must never hold up the screen: a short wait, and a miss is harmless. */
#define PCI_REFRESH_TIMEOUT_MS 250
/* The gdb hand-off: the first port tried for a gdbstub regdbg starts (gdb's usual one), and how
   long a VM stop may take */
#define GDB_FIRST_PORT 1234
#define GDB_STOP_WAIT_MS 5000

uint64_t session_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool reg_name_is(void *opaque, const struct stored_event *ev, const char *name)
{
    const struct regmap_reg *reg = session_event_reg(opaque, ev);

    return reg && strcmp(reg->name, name) == 0;
}

int session_init(struct session *s, size_t scrollback, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    s->rec_dev = -1;
    s->park_fd = -1;
    snprintf(s->run_state, sizeof(s->run_state), "unknown");
    if (event_store_init(&s->store, scrollback) < 0) {
        snprintf(err, errlen, "out of memory for a scrollback of %zu events", scrollback);
        return -1;
    }
    s->store.reg_name_is = reg_name_is;
    s->store.opaque = s;
    return 0;
}

void session_free(struct session *s)
{
    char err[256];

    if (s->rec_dev >= 0) {
        session_record_stop(s, err, sizeof(err));
    }
    session_detach(s);
    for (int i = 0; i < s->n_maps; i++) {
        regmap_free(s->maps[i]);
    }
    symbols_free(s->symbols);
    s->symbols = NULL;
    event_store_free(&s->store);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int session_load_map(struct session *s, const char *path, char *err, size_t errlen)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *de;
        char *names[SESSION_MAX_MAPS];
        int n = 0, ret = 0;

        if (!d) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return -1;
        }
        while ((de = readdir(d)) && n < SESSION_MAX_MAPS) {
            size_t len = strlen(de->d_name);
            if (len > 5 && strcmp(de->d_name + len - 5, ".json") == 0) {
                names[n++] = strdup(de->d_name);
            }
        }
        closedir(d);
        qsort(names, (size_t)n, sizeof(names[0]), name_cmp);
        for (int i = 0; i < n; i++) {
            char full[PATH_MAX];
            snprintf(full, sizeof(full), "%s/%s", path, names[i]);
            if (ret == 0 && session_load_map(s, full, err, errlen) < 0) {
                ret = -1;
            }
            free(names[i]);
        }
        return ret;
    }
    if (s->n_maps == SESSION_MAX_MAPS) {
        snprintf(err, errlen, "%s: too many register maps (at most %d)", path, SESSION_MAX_MAPS);
        return -1;
    }
    s->maps[s->n_maps] = regmap_load(path, err, errlen);
    if (!s->maps[s->n_maps]) {
        return -1;
    }
    s->n_maps++;
    return 0;
}

int session_load_default_maps(struct session *s, char **extra, int n_extra, char *err,
                              size_t errlen)
{
    const char *dir = getenv("REGDBG_MAPS") ? getenv("REGDBG_MAPS") : regdbg_maps_dir;
    struct stat st;

    if (stat(dir, &st) == 0 && session_load_map(s, dir, err, errlen) < 0) {
        return -1;
    }
    for (int i = 0; i < n_extra; i++) {
        if (session_load_map(s, extra[i], err, errlen) < 0) {
            return -1;
        }
    }
    return 0;
}

const struct regmap *session_map_for(const struct session *s, uint16_t vendor, uint16_t device)
{
    /* Later maps (--map) win over the shipped ones. */
    for (int i = s->n_maps - 1; i >= 0; i--) {
        if (regmap_matches(s->maps[i], vendor, device)) {
            return s->maps[i];
        }
    }
    return NULL;
}

static int refresh_pci(struct session *s, int timeout_ms, char *err, size_t errlen);

static int update_run_state(struct session *s, char *err, size_t errlen)
{
    json_t *ret = qmp_execute(s->qmp, "query-status", NULL, QMP_TIMEOUT_MS, err, errlen);
    const char *status;
    json_error_t jerr;

    if (!ret) {
        return -1;
    }
    if (json_unpack_ex(ret, &jerr, 0, "{s:s}", "status", &status) < 0) {
        snprintf(err, errlen, "query-status: unexpected reply: %s", jerr.text);
        json_decref(ret);
        return -1;
    }
    snprintf(s->run_state, sizeof(s->run_state), "%s", status);
    json_decref(ret);
    return 0;
}

int session_attach(struct session *s, const char *qmp_path, char *err, size_t errlen)
{
    struct proxy_info found[DISCOVER_MAX_PROXIES];
    int n;

    snprintf(s->qmp_path, sizeof(s->qmp_path), "%s", qmp_path);
    s->qmp = qmp_connect(qmp_path, QMP_TIMEOUT_MS, err, errlen);
    if (!s->qmp) {
        return -1;
    }
    n = discover_proxies(s->qmp, found, DISCOVER_MAX_PROXIES, err, errlen);
    if (n < 0) {
        return -1;
    }
    if (n == 0) {
        snprintf(err, errlen, "no regdbg-proxy device in the VM at %s; start QEMU with "
                 "-device regdbg-proxy,id=NAME,...", qmp_path);
        return -1;
    }
    for (int i = 0; i < n && i < SESSION_MAX_PROXIES; i++) {
        struct proxy *p = &s->proxies[i];

        memset(p, 0, sizeof(*p));
        snprintf(p->id, sizeof(p->id), "%.127s", found[i].id);
        snprintf(p->qom_path, sizeof(p->qom_path), "%s", found[i].qom_path);
        snprintf(p->shm, sizeof(p->shm), "%s", found[i].shm);
        p->pci_bus = p->pci_slot = p->pci_func = -1;
        for (unsigned b = 0; b < REGDBG_NUM_BARS; b++) {
            p->bar_addr[b] = UINT64_MAX;
        }
        if (ring_reader_attach(&p->rr, p->shm, err, errlen) < 0) {
            s->n_proxies = i;
            return -1;
        }
        p->attached = true;
        p->dropped_at_attach = ring_reader_dropped(&p->rr);
        p->map = session_map_for(s, p->rr.info.vendor_id, p->rr.info.device_id);
        if (p->map) {
            p->stats = calloc(p->map->n_regs ? p->map->n_regs : 1, sizeof(*p->stats));
        }
        s->n_proxies = i + 1;
    }
    if (update_run_state(s, err, errlen) < 0 || session_refresh_pci(s, err, errlen) < 0) {
        return -1;
    }
    {
        struct ring_reader *rings[SESSION_MAX_PROXIES];
        uint64_t now = session_now_ns();

        for (int i = 0; i < s->n_proxies; i++) {
            rings[i] = &s->proxies[i].rr;
            rule_heartbeat(rings[i], now);
        }
        s->park_fd = park_watch_start(&s->watch, rings, s->n_proxies);
    }
    s->rate_t_ns = s->pci_refresh_t_ns = session_now_ns();
    s->gdb_port = gdb_stub_from_cmdline(s->proxies[0].rr.info.qemu_pid);
    if (s->gdb_port < 0) {
        s->gdb_port = 0;
    }
    if (s->gdb_port) {
        snprintf(s->message, sizeof(s->message), "QEMU's gdbstub listens on :%d", s->gdb_port);
    }
    return 0;
}

void session_detach(struct session *s)
{
    if (s->park_fd >= 0) {
        park_watch_stop(&s->watch);
        s->park_fd = -1;
    }
    for (int i = 0; i < s->n_proxies; i++) {
        if (s->proxies[i].attached) {
            /* Nobody will answer them: say so to the device, and let parked accesses go on. */
            rule_heartbeat(&s->proxies[i].rr, 0);
            park_release_all(&s->proxies[i].rr);
        }
    }
    for (int i = 0; i < s->n_proxies; i++) {
        if (s->proxies[i].attached) {
            ring_reader_detach(&s->proxies[i].rr);
            s->proxies[i].attached = false;
        }
        free(s->proxies[i].stats);
        s->proxies[i].stats = NULL;
    }
    s->n_proxies = 0;
    if (s->qmp) {
        qmp_close(s->qmp);
        s->qmp = NULL;
    }
}

const struct regmap_reg *session_event_reg(const struct session *s, const struct stored_event *ev)
{
    const struct proxy *p = &s->proxies[ev->dev];

    if (!p->map || ev->reg == NO_REG || ev->reg >= p->map->n_regs) {
        return NULL;
    }
    return &p->map->regs[ev->reg];
}

int session_find_proxy(const struct session *s, const char *id)
{
    for (int i = 0; i < s->n_proxies; i++) {
        if (strcmp(s->proxies[i].id, id) == 0) {
            return i;
        }
    }
    return -1;
}

static void account(struct proxy *p, struct stored_event *se)
{
    const struct regmap_reg *reg = p->map && se->dir != REGDBG_DIR_IRQ && se->dir != REGDBG_DIR_DMA
                                   ? regmap_find(p->map, se->bar, se->offset, se->size) : NULL;
    struct reg_stats *st;

    if (se->dir == REGDBG_DIR_IRQ) {
        se->reg = NO_REG;           /* an interrupt touches no register */
        return;
    }
    se->reg = reg ? (uint16_t)(reg - p->map->regs) : NO_REG;
    if (!reg) {
        return;
    }
    st = &p->stats[se->reg];
    if (se->dir == REGDBG_DIR_WRITE) {
        st->writes++;
        st->last_write = se->value;
        if (se->flags & REGDBG_EV_PC) {
            st->writer_pc = se->guest_pc;
            st->writer_known = true;
            st->writer_after = se->flags & REGDBG_EV_PC_AFTER;
        }
    } else {
        st->reads++;
        st->last_read = se->value;
    }
    if (st->has_value && st->last_value != se->value) {
        st->changed_t_ns = se->t_ns;
    }
    st->has_value = true;
    st->last_value = se->value;
    st->last_t_ns = se->t_ns;
}

/* The recording went wrong: it stops, and the status line says why. */
static void record_failed(struct session *s, const char *err)
{
    char cerr[256];

    snprintf(s->message, sizeof(s->message), "recording stopped: %.200s", err);
    recorder_abandon(&s->rec, cerr, sizeof(cerr));
    s->rec_dev = -1;
}

size_t session_drain(struct session *s, size_t max)
{
    size_t total = 0;
    char err[512];

    for (int d = 0; d < s->n_proxies && total < max; d++) {
        struct proxy *p = &s->proxies[d];
        struct regdbg_event ev;
        size_t n = 0;
        size_t lap = p->rr.info.ring_entries / 2 ? p->rr.info.ring_entries / 2 : 1;
        size_t before = total;
        bool recording = s->rec_dev == d;
        uint64_t now = session_now_ns();

        if (!p->attached) {
            continue;
        }
        while (total + n < max && ring_reader_peek(&p->rr, n, &ev)) {
            struct stored_event se = {
                .seq = atomic_load_explicit(&ev.seq, memory_order_relaxed), .t_ns = ev.t_ns,
                .offset = ev.offset, .value = ev.value, .orig_value = ev.orig_value,
                .guest_pc = ev.guest_pc, .cpu = ev.cpu, .flags = ev.flags, .dev = (uint8_t)d,
                .bar = ev.bar < REGDBG_NUM_BARS ? ev.bar : 0, .size = ev.size, .dir = ev.dir,
                .rule = ev.rule, .irq_source = ev.irq_source,
                .dma_what = ev.dma_what, .dma_why = ev.dma_why,
            };

            account(p, &se);
            event_store_add(&s->store, &se);
            if (recording && recorder_add(&s->rec, p->rr.tail + n, &ev, &now, err,
                                          sizeof(err)) < 0) {
                record_failed(s, err);
                recording = false;
            }
            n++;
            if (n % lap == 0) {
                ring_reader_consume(&p->rr, lap);
                n -= lap;
                total += lap;
            }
        }
        ring_reader_consume(&p->rr, n);
        total += n;
        p->events += total - before;
        if (recording && recorder_check_ring(&s->rec, err, sizeof(err)) < 0) {
            record_failed(s, err);
        }
    }
    s->events_total += total;
    s->rate_events += total;
    return total;
}

void session_qmp_readable(struct session *s)
{
    char err[256];
    bool dead;

    if (!s->qmp || s->qemu_gone) {
        return;
    }
    dead = qmp_pump(s->qmp, err, sizeof(err)) < 0 || qmp_is_dead(s->qmp);
    /* What QEMU said before it went (its SHUTDOWN, say) first: "gone" is the last word. */
    session_process_events(s);
    if (dead) {
        s->qemu_gone = true;
        snprintf(s->qemu_gone_why, sizeof(s->qemu_gone_why), "QEMU closed the QMP connection "
                 "(it exited or was killed)");
        snprintf(s->run_state, sizeof(s->run_state), "gone");
    }
}

/* path unplugged (QMP's DEVICE_DELETED): is it one of ours? */
static void note_unplug(struct session *s, const char *path)
{
    for (int i = 0; i < s->n_proxies; i++) {
        struct proxy *p = &s->proxies[i];

        if (!p->unplugged && !strcmp(p->qom_path, path)) {
            p->unplugged = true;
            snprintf(s->message, sizeof(s->message), "device %s was unplugged: its stream "
                     "ends here", p->id);
        }
    }
}

void session_process_events(struct session *s)
{
    json_t *ev;

    if (!s->qmp) {
        return;
    }
    while ((ev = qmp_next_event(s->qmp))) {
        const char *name = json_string_value(json_object_get(ev, "event"));
        const char *deleted;

        if (!name) {
            json_decref(ev);
            continue;
        }
        if (!strcmp(name, "STOP")) {
            snprintf(s->run_state, sizeof(s->run_state), "paused");
        } else if (!strcmp(name, "RESUME")) {
            snprintf(s->run_state, sizeof(s->run_state), "running");
        } else if (!strcmp(name, "RESET")) {
            snprintf(s->message, sizeof(s->message), "the VM was reset");
        } else if (!strcmp(name, "SHUTDOWN")) {
            snprintf(s->message, sizeof(s->message), "the guest shut down");
            snprintf(s->run_state, sizeof(s->run_state), "shutdown");
        } else if ((deleted = qmp_event_deleted_path(ev))) {
            note_unplug(s, deleted);
        }
        json_decref(ev);
    }
}

void session_tick(struct session *s, uint64_t now_ns)
{
    char err[256];

    for (int i = 0; i < s->n_proxies; i++) {
        if (s->proxies[i].attached) {
            rule_heartbeat(&s->proxies[i].rr, now_ns);
        }
    }
    if (now_ns - s->rate_t_ns >= 500000000ull) {
        s->events_per_s = (double)s->rate_events * 1e9 / (double)(now_ns - s->rate_t_ns);
        s->rate_events = 0;
        s->rate_t_ns = now_ns;
    }
    if (!s->qemu_gone && s->n_proxies && !ring_reader_qemu_alive(&s->proxies[0].rr)) {
        s->qemu_gone = true;
        snprintf(s->qemu_gone_why, sizeof(s->qemu_gone_why), "QEMU (pid %u) is gone",
                 s->proxies[0].rr.info.qemu_pid);
        snprintf(s->run_state, sizeof(s->run_state), "gone");
    }
    if (!s->qemu_gone && !s->no_pci_refresh && now_ns - s->pci_refresh_t_ns >= PCI_REFRESH_NS) {
        s->pci_refresh_t_ns = now_ns;
        /* The guest may have moved its BARs. */
        if (refresh_pci(s, PCI_REFRESH_TIMEOUT_MS, err, sizeof(err)) < 0 && s->qmp &&
            qmp_is_dead(s->qmp)) {
            s->qemu_gone = true;
            snprintf(s->qemu_gone_why, sizeof(s->qemu_gone_why), "%s", err);
            snprintf(s->run_state, sizeof(s->run_state), "gone");
        } else if (s->rec_dev >= 0) {
            const struct proxy *p = &s->proxies[s->rec_dev];
            uint64_t pci = p->pci_bus >= 0 ? (uint64_t)p->pci_bus << 8 |
                                             (uint64_t)(p->pci_slot << 3 | p->pci_func)
                                           : REGDBG_PCI_UNKNOWN;

            /* the trace follows a BAR the guest moved; a write error shows at the next add */
            recorder_place_bars(&s->rec, p->bar_addr, pci, err, sizeof(err));
        }
    }
}

static int simple_command(struct session *s, const char *cmd, char *err, size_t errlen)
{
    json_t *ret;

    if (!s->qmp || s->qemu_gone) {
        snprintf(err, errlen, "QEMU is gone");
        return -1;
    }
    ret = qmp_execute(s->qmp, cmd, NULL, QMP_TIMEOUT_MS, err, errlen);
    session_process_events(s);
    if (!ret) {
        return -1;
    }
    json_decref(ret);
    return 0;
}

int session_vm_stop(struct session *s, char *err, size_t errlen)
{
    return simple_command(s, "stop", err, errlen);
}

int session_vm_cont(struct session *s, char *err, size_t errlen)
{
    return simple_command(s, "cont", err, errlen);
}

int session_vm_reset(struct session *s, char *err, size_t errlen)
{
    return simple_command(s, "system_reset", err, errlen);
}

int session_vm_quit(struct session *s, char *err, size_t errlen)
{
    int ret = simple_command(s, "quit", err, errlen);

    if (ret == 0 || (s->qmp && qmp_is_dead(s->qmp))) {
        s->qemu_gone = true;
        snprintf(s->qemu_gone_why, sizeof(s->qemu_gone_why), "QEMU was told to quit");
        return 0;
    }
    return ret;
}

/* Each proxy's place from a query-pci reply. */
static void pci_places(struct session *s, json_t *reply)
{
    for (int i = 0; i < s->n_proxies; i++) {
        struct proxy *p = &s->proxies[i];
        struct pci_place place;

        if (!discover_pci_find(reply, p->id, &place)) {
            continue;
        }
        p->pci_bus = place.bus;
        p->pci_slot = place.slot;
        p->pci_func = place.function;
        memcpy(p->bar_addr, place.bar_addr, sizeof(p->bar_addr));
    }
}

static int refresh_pci(struct session *s, int timeout_ms, char *err, size_t errlen)
{
    json_t *ret;

    if (!s->qmp || s->qemu_gone) {
        snprintf(err, errlen, "QEMU is gone");
        return -1;
    }
    ret = qmp_execute(s->qmp, "query-pci", NULL, timeout_ms, err, errlen);
    if (!ret) {
        return -1;
    }
    pci_places(s, ret);
    json_decref(ret);
    return 0;
}

int session_refresh_pci(struct session *s, char *err, size_t errlen)
{
    return refresh_pci(s, QMP_TIMEOUT_MS, err, errlen);
}

/* The recording's BAR placements (recorder_bar_query): the recorded proxy's, asked of QEMU
   (not while QMP may wait behind a parked access that no vCPU made, as in a batch). */
static int session_bar_query(void *opaque, uint64_t addr[REGDBG_NUM_BARS], uint64_t *pci,
                             char *err, size_t errlen)
{
    struct session *s = opaque;
    const struct proxy *p;

    if (s->rec_dev < 0 || s->no_pci_refresh || s->qemu_gone ||
        refresh_pci(s, PCI_REFRESH_TIMEOUT_MS, err, errlen) < 0) {
        snprintf(err, errlen, "QEMU cannot be asked now");
        return -1;
    }
    p = &s->proxies[s->rec_dev];
    memcpy(addr, p->bar_addr, sizeof(p->bar_addr));
    *pci = p->pci_bus >= 0 ? (uint64_t)p->pci_bus << 8 | (uint64_t)(p->pci_slot << 3 | p->pci_func)
                           : REGDBG_PCI_UNKNOWN;
    return 0;
}

int session_record_start(struct session *s, const char *path, int dev, char *err,
                         size_t errlen)
{
    if (s->rec_dev >= 0) {
        snprintf(err, errlen, "already recording to %s", s->rec.path);
        return -1;
    }
    if (dev < 0 || dev >= s->n_proxies) {
        snprintf(err, errlen, "no such device");
        return -1;
    }
    if (recorder_start(&s->rec, &s->proxies[dev].rr, path, RECORDER_FROM_NOW, err, errlen) < 0) {
        return -1;
    }
    s->rec_dev = dev;
    if (recorder_set_bar_source(&s->rec, session_bar_query, s, err, errlen) < 0) {
        char why[256];

        s->rec_dev = -1;
        recorder_abandon(&s->rec, why, sizeof(why));
        return -1;
    }
    return 0;
}

int session_record_stop(struct session *s, char *err, size_t errlen)
{
    if (s->rec_dev < 0) {
        snprintf(err, errlen, "not recording");
        return -1;
    }
    s->rec_dev = -1;
    return recorder_finish(&s->rec, session_now_ns(), err, errlen);
}

const struct recorder *session_recording(const struct session *s)
{
    return s->rec_dev >= 0 ? &s->rec : NULL;
}

bool session_next_park(struct session *s, struct session_park *out)
{
    bool found = false;

    for (int d = 0; d < s->n_proxies; d++) {
        struct regdbg_park_slot slot;
        int i = 0;

        if (!s->proxies[d].attached) {
            continue;
        }
        while ((i = park_next(&s->proxies[d].rr, i, &slot)) >= 0) {
            if (!found || slot.t_ns < out->park.t_ns) {
                out->dev = d;
                out->slot = i;
                out->park = slot;
                found = true;
            }
            i++;
        }
    }
    return found;
}

int session_answer_park(struct session *s, const struct session_park *p, uint32_t verdict,
                        uint64_t value, char *err, size_t errlen)
{
    if (p->dev < 0 || p->dev >= s->n_proxies) {
        snprintf(err, errlen, "no such device");
        return -1;
    }
    return park_answer(&s->proxies[p->dev].rr, p->slot, p->park.park_id, verdict, value, err,
                       errlen);
}

int session_add_symbols(struct session *s, const char *spec, char *err, size_t errlen)
{
    const char *at = strrchr(spec, '@');
    size_t len = at ? (size_t)(at - spec) : strlen(spec);
    char magic[4];
    FILE *f;

    if (!s->symbols && !(s->symbols = symbols_new())) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (symbols_add(s->symbols, spec, err, errlen) < 0) {
        return -1;
    }
    /* gdb takes the ELF as linked: only one loaded where it was linked (no bias) will do */
    if (!s->symbols_elf[0] && !at && len < sizeof(s->symbols_elf) &&
        (f = fopen(spec, "rb")) != NULL) {
        if (fread(magic, 1, 4, f) == 4 && memcmp(magic, "\177ELF", 4) == 0) {
            snprintf(s->symbols_elf, sizeof(s->symbols_elf), "%s", spec);
        }
        fclose(f);
    }
    return 0;
}

/* Wait for the VM to be paused (a VM-stop verdict takes effect in QEMU's main loop) */
static int wait_paused(struct session *s, char *err, size_t errlen)
{
    for (int i = 0; i < GDB_STOP_WAIT_MS / 10; i++) {
        json_t *st = qmp_execute(s->qmp, "query-status", NULL, QMP_TIMEOUT_MS, err, errlen);
        const char *status = st ? json_string_value(json_object_get(st, "status")) : NULL;
        bool paused = status && strcmp(status, "running") != 0;

        if (!st) {
            return -1;
        }
        if (paused) {
            snprintf(s->run_state, sizeof(s->run_state), "%s", status);
        }
        json_decref(st);
        if (paused) {
            return 0;
        }
        usleep(10 * 1000);
    }
    snprintf(err, errlen, "the VM did not stop within %d ms", GDB_STOP_WAIT_MS);
    return -1;
}

int session_gdb_handoff(struct session *s, const struct session_park *p, const char *file,
                        struct session_gdb *out, char *err, size_t errlen)
{
    struct gdb_cpu_state cpu;

    memset(out, 0, sizeof(*out));
    if (!s->qmp || s->qemu_gone) {
        snprintf(err, errlen, "QEMU is gone");
        return -1;
    }
    if (p->park.cpu < 0) {
        snprintf(err, errlen, "no vCPU made this access: there is no code to hand to gdb");
        return -1;
    }
    if (!s->gdb_port) {
        int port = gdb_stub_start(s->qmp, GDB_FIRST_PORT, err, errlen);

        if (port < 0) {
            return -1;
        }
        s->gdb_port = port;
        out->started = true;
    }
    out->port = s->gdb_port;
    out->park_pc_known = p->park.pc_known;
    out->park_pc_after = p->park.pc_after;
    out->park_pc = p->park.guest_pc;
    if (session_answer_park(s, p, REGDBG_VERDICT_STOP_VM, 0, err, errlen) < 0 ||
        wait_paused(s, err, errlen) < 0 ||
        gdb_cpu_state(s->qmp, p->park.cpu, &cpu, err, errlen) < 0) {
        return -1;
    }
    out->stop_pc = cpu.pc;
    if (!file && s->symbols_elf[0]) {
        file = s->symbols_elf;
    }
    gdb_command_line(out->port, file, out->command, sizeof(out->command));
    return 0;
}

void session_park_ack(struct session *s)
{
    if (s->park_fd >= 0) {
        park_watch_ack(&s->watch);
    }
}

void session_rules_ctx(const struct session *s, struct rules_device *devs, struct rules_ctx *ctx)
{
    for (int d = 0; d < s->n_proxies; d++) {
        devs[d].id = s->proxies[d].id;
        devs[d].map = s->proxies[d].map;
        for (unsigned b = 0; b < REGDBG_NUM_BARS; b++) {
            devs[d].bar_size[b] = s->proxies[d].rr.info.bars[b].size;
        }
    }
    ctx->devs = devs;
    ctx->n_devs = s->n_proxies;
    ctx->symbols = s->symbols;
}

static int session_fire_irq(void *opaque, int dev, uint8_t action, char *err, size_t errlen)
{
    return session_irq(opaque, dev, action, err, errlen);
}

int session_apply_rules_file(struct session *s, const char *path, char *err, size_t errlen)
{
    struct rules_device devs[SESSION_MAX_PROXIES];
    struct ring_reader *rings[SESSION_MAX_PROXIES];
    struct rule_file_irq irq = { session_fire_irq, s };
    struct rules_ctx ctx;

    session_rules_ctx(s, devs, &ctx);
    for (int d = 0; d < s->n_proxies; d++) {
        rings[d] = &s->proxies[d].rr;
    }
    return rule_file_apply(path, &ctx, rings, true, &irq, err, errlen);
}

bool session_is_rule_command(const char *line)
{
    const struct command_def *c;

    while (*line == ' ') {
        line++;
    }
    c = command_find(line, strcspn(line, " "));
    return c && c->rules_language && (c->where & CMDW_PROMPT);
}

int session_rule_command(struct session *s, const char *line, int cur_dev, struct rules_cmd *cmd,
                         char *err, size_t errlen)
{
    struct rules_device devs[SESSION_MAX_PROXIES];
    struct ring_reader *rings[SESSION_MAX_PROXIES];
    struct rules_ctx ctx;
    struct rules_error perr;
    int n;

    session_rules_ctx(s, devs, &ctx);
    if (rules_parse(line, &ctx, cmd, &perr) < 0) {
        snprintf(err, errlen, "column %d: %.200s", perr.column, perr.message);
        return -1;
    }
    switch (cmd->kind) {
    case RCMD_STEP:
        if (cur_dev < 0 || cur_dev >= s->n_proxies) {
            snprintf(err, errlen, "no device to step");
            return -1;
        }
        rule_step(&s->proxies[cur_dev].rr, cmd->count ? cmd->count : 1);
        return 0;
    case RCMD_INFO_RULES:
        return 0;
    case RCMD_IRQ:
        return session_irq(s, cmd->spec.dev >= 0 ? cmd->spec.dev : cur_dev, cmd->irq_action, err,
                           errlen);
    case RCMD_WAIT:
    case RCMD_CONTINUE:
    case RCMD_SKIP:
    case RCMD_PRINT:
    case RCMD_EXPECT:
    case RCMD_GDB:
        snprintf(err, errlen, "that command is for regdbg batch");
        return -1;
    default:
        break;
    }
    for (int d = 0; d < s->n_proxies; d++) {
        rings[d] = &s->proxies[d].rr;
    }
    n = rules_cmd_apply(cmd, &ctx, rings, true, err, errlen);
    if (n >= 0 && cmd->kind == RCMD_RULE) {
        snprintf(s->message, sizeof(s->message), "rule %d: %.200s",
                 SESSION_RULE_ID(cmd->spec.dev, n), cmd->spec.text);
    }
    return n < 0 ? -1 : cmd->kind == RCMD_RULE ? n : 0;
}

int session_irq(struct session *s, int dev, uint8_t action, char *err, size_t errlen)
{
    if (dev < 0 || dev >= s->n_proxies) {
        snprintf(err, errlen, "irq %s: which device? name it (irq %s ID)",
                 trace_irq_action_name(action), trace_irq_action_name(action));
        return -1;
    }
    if (!s->qmp || s->qemu_gone) {
        snprintf(err, errlen, "irq %s: QEMU is gone", trace_irq_action_name(action));
        return -1;
    }
    if (proxy_irq(s->qmp, s->proxies[dev].qom_path, s->proxies[dev].id, action, err,
                  errlen) < 0) {
        return -1;
    }
    snprintf(s->message, sizeof(s->message), "irq %s: %.100s", trace_irq_action_name(action),
             s->proxies[dev].id);
    return 0;
}

bool session_park_alive(struct session *s, const struct session_park *p)
{
    struct regdbg_park_slot slot;

    return p->dev >= 0 && p->dev < s->n_proxies &&
           park_next(&s->proxies[p->dev].rr, p->slot, &slot) == p->slot &&
           slot.park_id == p->park.park_id;
}
