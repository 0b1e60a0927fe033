/*
 * regdbg-proxy: a PCI device that takes the identity and BAR layout of a real
 * device, forwards every register access to a backend and publishes each one
 * into a shared-memory ring (include/regdbg/) for the regdbg debugger.
 *
 * The MMIO/PIO handlers are the hot path: no system call, no allocation and
 * no text formatting while tracing. Only a full ring in lossless mode leaves
 * that path, and then it drops the BQL while it waits, as
 * hw/remote/mpqemu-link.c does, so that QMP and the other vCPUs go on.
 *
 * Copyright (c) 2026 The regdbg authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/mman.h>
#include "qemu/cutils.h"
#include "qemu/memfd.h"
#include "qemu/log.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qapi/error.h"
#include "hw/core/cpu.h"
#include "hw/core/qdev-prop-internal.h"
#include "hw/pci/pci.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "system/kvm.h"
#include "system/system.h"
#include "hw/misc/regdbg/trace-hw_misc_regdbg.h"
#include "regdbg-proxy.h"

#define REGDBG_DEFAULT_RING_ENTRIES 65536
#define REGDBG_DEFAULT_CONSUMER_TIMEOUT_MS 1000
/* A parked access outlives its debugger by this much */
#define REGDBG_DEFAULT_PARK_TIMEOUT_MS 5000

/*
 * Slow path: the ring is full in lossless mode. The wait
 * (regdbg_ring_wait_for_slot() in regdbg/ring.h, the code the tests run too)
 * drops the BQL, as hw/remote/mpqemu-link.c does, so that QMP and the other
 * vCPUs go on.
 */
typedef struct RegdbgProxyWait {
    RegdbgProxyState *s;
    bool had_bql;
} RegdbgProxyWait;

static uint64_t regdbg_proxy_wait_now(void *opaque)
{
    return regdbg_clock_ns();
}

static void regdbg_proxy_wait_begin(void *opaque)
{
    RegdbgProxyWait *w = opaque;

    trace_regdbg_proxy_ring_full(w->s->ring.hdr->dev_id);
    w->had_bql = bql_locked();
    if (w->had_bql) {
        w->s->unlocked++;
        bql_unlock();
    }
}

static int regdbg_proxy_wait_abandon(void *opaque)
{
    RegdbgProxyWait *w = opaque;

    return qatomic_read(&w->s->gone);
}

static void regdbg_proxy_wait_pause(void *opaque, unsigned n)
{
    if (n < 64) {
        sched_yield();
    } else {
        g_usleep(50);
    }
}

static void regdbg_proxy_wait_end(void *opaque, int reserved)
{
    RegdbgProxyWait *w = opaque;

    if (!reserved && !qatomic_read(&w->s->gone)) {
        trace_regdbg_proxy_consumer_stalled(w->s->ring.hdr->dev_id);
    }
    if (w->had_bql) {
        bql_lock();
        w->s->unlocked--;
    }
}

void regdbg_proxy_publish(RegdbgProxyState *s, const RegdbgAccess *a)
{
    struct regdbg_event *ev;
    uint64_t pos;

    if (!regdbg_ring_reserve(&s->ring, &pos, &ev)) {
        RegdbgProxyWait w = { .s = s };
        const struct regdbg_ring_waiter waiter = {
            .now_ns = regdbg_proxy_wait_now,
            .begin = regdbg_proxy_wait_begin,
            .pause = regdbg_proxy_wait_pause,
            .end = regdbg_proxy_wait_end,
            .abandon = regdbg_proxy_wait_abandon,
            .ctx = &w,
        };

        if (!regdbg_ring_wait_for_slot(&s->ring, s->lossy, &waiter, &pos,
                                       &ev)) {
            return;
        }
    }
    ev->t_ns = a->t_ns;
    ev->offset = a->addr;
    ev->value = a->value;
    ev->orig_value = a->orig;
    ev->guest_pc = a->guest_pc;
    ev->cpu = a->cpu;
    ev->flags = a->flags;
    ev->rule = a->rule;
    ev->bar = a->bar;
    ev->size = a->size;
    ev->dir = a->dir;
    ev->cpu_mode = a->cpu_mode;
    ev->irq_source = a->irq_source;
    ev->dma_what = a->dma_what;
    ev->dma_why = a->dma_why;
    regdbg_ring_publish(ev, pos);
}

static void regdbg_proxy_access_init(RegdbgAccess *a, RegdbgProxyBar *bar,
                                     hwaddr addr, unsigned size, uint8_t dir,
                                     uint64_t value)
{
    a->t_ns = regdbg_access_clock_ns_bql();
    a->addr = addr;
    a->value = a->orig = value;
    a->guest_pc = 0;
    a->cpu_mode = REGDBG_MODE_UNKNOWN;
    a->post_read = a->inject = a->irq = 0;
    a->irq_source = REGDBG_IRQ_SRC_NONE;
    a->dma_what = a->dma_why = 0;
    a->cpu = current_cpu ? current_cpu->cpu_index : REGDBG_CPU_NONE;
    a->flags = 0;
    a->pc_tried = false;
    a->rule = REGDBG_RULE_NONE;
    a->bar = bar->index;
    a->size = size;
    a->dir = dir;
    a->skip_backend = false;
    a->forced = false;
    a->forced_value = 0;
    if (bar->proxy->guest_pc && current_cpu) {
        regdbg_access_find_pc(a, bar->type == REGDBG_BAR_IO);
    }
}

/*
 * The hot path: one index load decides that no rule concerns the access
 * (the common case); only then are rules evaluated.
 */
static uint64_t regdbg_proxy_bar_read(void *opaque, hwaddr addr, unsigned size)
{
    RegdbgProxyBar *bar = opaque;
    RegdbgProxyState *s = bar->proxy;
    RegdbgAccess a REGDBG_UNINITIALIZED, post REGDBG_UNINITIALIZED;
    uint64_t candidates;


    if (addr + size > bar->size) {
        if (s->gone) {
            return UINT64_MAX;  /* unplugged (its BARs sized 0): not there */
        }
        qemu_log_mask(LOG_GUEST_ERROR,
                      "%s: BAR%u read of %u bytes at 0x%" HWADDR_PRIx
                      " runs past the BAR's end\n",
                      __func__, bar->index, size, addr);
        return s->default_read;
    }
    regdbg_proxy_access_init(&a, bar, addr, size, REGDBG_DIR_READ, 0);
    candidates = regdbg_rules_candidates(s, bar->index, addr, size,
                                          REGDBG_DIR_READ);
    if (candidates ||
        atomic_load_explicit(&s->ring.hdr->step_left, memory_order_relaxed)) {
        regdbg_rules_before(s, &a, candidates);
    }
    post.dma_what = 0;
    if (!a.skip_backend) {
        a.value = a.orig = s->backend->read(s, bar, addr, size);
        if (unlikely(s->dma)) {
            regdbg_dma_read(s, bar, &a, &post);
        }
        if (a.post_read || a.inject || a.forced) {
            regdbg_rules_after_read(s, &a);
        }
    }
    trace_regdbg_proxy_read(bar->index, addr, size, a.value);
    regdbg_proxy_publish(s, &a);
    if (unlikely(post.dma_what)) {
        regdbg_proxy_publish(s, &post);
    }
    if (unlikely(a.irq)) {
        regdbg_rules_fire_irq(s, &a);
    }
    regdbg_hostirq_access(s, false);
    return a.value;
}

static void regdbg_proxy_bar_write(void *opaque, hwaddr addr, uint64_t val,
                                   unsigned size)
{
    RegdbgProxyBar *bar = opaque;
    RegdbgProxyState *s = bar->proxy;
    RegdbgAccess a REGDBG_UNINITIALIZED, post REGDBG_UNINITIALIZED;
    uint64_t candidates;


    if (addr + size > bar->size) {
        if (s->gone) {
            return;
        }
        qemu_log_mask(LOG_GUEST_ERROR,
                      "%s: BAR%u write of %u bytes at 0x%" HWADDR_PRIx
                      " runs past the BAR's end\n",
                      __func__, bar->index, size, addr);
        return;
    }
    regdbg_proxy_access_init(&a, bar, addr, size, REGDBG_DIR_WRITE, val);
    candidates = regdbg_rules_candidates(s, bar->index, addr, size,
                                          REGDBG_DIR_WRITE);
    if (candidates ||
        atomic_load_explicit(&s->ring.hdr->step_left, memory_order_relaxed)) {
        regdbg_rules_before(s, &a, candidates);
    }
    post.dma_what = 0;
    if (unlikely(s->dma) && !a.skip_backend) {
        regdbg_dma_write(s, bar, &a, &post);
    }
    trace_regdbg_proxy_write(bar->index, addr, size, a.value);
    if (!a.skip_backend) {
        s->backend->write(s, bar, addr, a.value, size);
    }
    regdbg_proxy_publish(s, &a);
    if (unlikely(post.dma_what)) {
        regdbg_proxy_publish(s, &post);
    }
    if (unlikely(a.irq)) {
        regdbg_rules_fire_irq(s, &a);
    }
    regdbg_hostirq_access(s, true);
}

/*
 * Accesses reach the handler exactly as the guest made them: any size 1..8,
 * any alignment.
 */
static const MemoryRegionOps regdbg_proxy_mem_ops = {
    .read = regdbg_proxy_bar_read,
    .write = regdbg_proxy_bar_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
        .unaligned = true,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
        .unaligned = true,
    },
};

static const MemoryRegionOps regdbg_proxy_io_ops = {
    .read = regdbg_proxy_bar_read,
    .write = regdbg_proxy_bar_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 4,
        .unaligned = true,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 4,
        .unaligned = true,
    },
};

static bool regdbg_proxy_parse_bars(RegdbgProxyState *s, Error **errp)
{
    for (unsigned i = 0; i < REGDBG_NUM_BARS; i++) {
        RegdbgProxyBar *bar = &s->bars[i];
        uint64_t size = s->bar_size[i];

        bar->proxy = s;
        bar->index = i;
        bar->size = size;
        /* the choices mem32, mem64, io are the ABI's types less 1 */
        bar->type = s->bar_type[i] + REGDBG_BAR_MEM32;
        if (i > 0 && s->bars[i - 1].type == REGDBG_BAR_MEM64 &&
            s->bars[i - 1].size) {
            if (size || s->bar_type[i] || s->bar_file[i]) {
                error_setg(errp, "bar%u-size: slot %u holds the upper half of "
                           "64-bit BAR %u; use bar%u for the next BAR",
                           i, i, i - 1, i + 1);
                return false;
            }
            bar->type = REGDBG_BAR_ABSENT;
            continue;
        }
        if (!size) {
            bar->type = REGDBG_BAR_ABSENT;
            continue;
        }
        if (!is_power_of_2(size)) {
            error_setg(errp, "bar%u-size=%" PRIu64 " (0x%" PRIx64
                       "): not a power of two", i, size, size);
            return false;
        }
        if (bar->type == REGDBG_BAR_IO && (size < 4 || size > 256)) {
            error_setg(errp, "bar%u-size=0x%" PRIx64
                       ": an I/O BAR is 4 to 256 bytes", i, size);
            return false;
        }
        if (bar->type != REGDBG_BAR_IO && size < 16) {
            error_setg(errp, "bar%u-size=0x%" PRIx64
                       ": a memory BAR is at least 16 bytes", i, size);
            return false;
        }
        if (bar->type == REGDBG_BAR_MEM32 && size > (1ULL << 31)) {
            error_setg(errp, "bar%u-size=0x%" PRIx64
                       ": too large for a 32-bit BAR; use bar%u-type=mem64",
                       i, size, i);
            return false;
        }
        if (bar->type == REGDBG_BAR_MEM64 && i == REGDBG_NUM_BARS - 1) {
            error_setg(errp, "bar%u-type=mem64: a 64-bit BAR needs two slots; "
                       "BAR 5 is the last", i);
            return false;
        }
        if (bar->type == REGDBG_BAR_IO && s->bar_prefetch[i]) {
            error_setg(errp,
                       "bar%u-prefetch=on: an I/O BAR cannot be prefetchable",
                       i);
            return false;
        }
    }
    return true;
}

static char *regdbg_proxy_ring_name(RegdbgProxyState *s)
{
    DeviceState *dev = DEVICE(s);

    if (dev->id) {
        return g_strdup_printf("regdbg-%s", dev->id);
    }
    return g_strdup_printf("regdbg-%02x.%x", PCI_SLOT(PCI_DEVICE(s)->devfn),
                           PCI_FUNC(PCI_DEVICE(s)->devfn));
}

/*
 * An existing name at shm=PATH may be replaced only if it is a link we made
 * for a QEMU that is gone: "/proc/PID/fd/N" with PID dead, owned by us.
 */
static bool regdbg_proxy_is_stale_link(const char *path)
{
    g_autofree char *target = g_file_read_link(path, NULL);
    struct stat st;
    int pid, fd, end = 0;

    if (!target || lstat(path, &st) < 0 || st.st_uid != geteuid() ||
        sscanf(target, "/proc/%d/fd/%d%n", &pid, &fd, &end) != 2 ||
        target[end] || pid <= 0 || pid == getpid()) {
        return false;
    }
    return kill(pid, 0) < 0 && errno == ESRCH;
}

/* shm=PATH: publish the ring under a name, as a link to its memfd */
static bool regdbg_proxy_link_shm(RegdbgProxyState *s, Error **errp)
{
    int err;

    if (symlink(s->shm_fd_path, s->shm_path) == 0) {
        return true;
    }
    err = errno;
    if (err == EEXIST && regdbg_proxy_is_stale_link(s->shm_path)) {
        if (unlink(s->shm_path) == 0 &&
            symlink(s->shm_fd_path, s->shm_path) == 0) {
            return true;
        }
        err = errno;
    }
    if (err == EEXIST) {
        error_setg(errp, "shm=%s: the file exists and is not a ring left "
                   "by a dead QEMU; remove it or choose another path",
                   s->shm_path);
    } else {
        error_setg_errno(errp, err, "shm=%s: cannot create the ring",
                         s->shm_path);
    }
    return false;
}

/* Remove shm=PATH if it is still the link to this ring */
static void regdbg_proxy_unlink_shm(RegdbgProxyState *s)
{
    g_autofree char *target = NULL;

    if (!s->shm_linked) {
        return;
    }
    target = g_file_read_link(s->shm_path, NULL);
    if (target && !strcmp(target, s->shm_fd_path)) {
        unlink(s->shm_path);
    }
    s->shm_linked = false;
}

/*
 * The ring is a memfd sealed against shrinking and growing: no other process
 * can truncate it under the vCPUs (which would kill QEMU with SIGBUS), and it
 * has no name in a shared folder that another user could take first. Clients
 * open it as /proc/QEMU_PID/fd/N, which only QEMU's own user (or root) can;
 * qom-get of "shm" gives that path, or shm=PATH, a link to it.
 */
static bool regdbg_proxy_create_shm(RegdbgProxyState *s, Error **errp)
{
    struct regdbg_shm_header *h;
    size_t size = regdbg_shm_size_for(s->ring_entries);
    const char *id = DEVICE(s)->id;
    g_autofree char *name = regdbg_proxy_ring_name(s);
    Error *err = NULL;

    s->shm_fd = qemu_memfd_create(name, size, false, 0,
                                  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL,
                                  &err);
    if (s->shm_fd < 0) {
        error_propagate_prepend(errp, err, "cannot create the ring: ");
        return false;
    }
    if (fchmod(s->shm_fd, 0600) < 0) {
        error_setg_errno(errp, errno, "cannot make the ring private");
        goto fail;
    }
    s->shm = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, s->shm_fd,
                  0);
    if (s->shm == MAP_FAILED) {
        s->shm = NULL;
        error_setg_errno(errp, errno, "cannot map the ring");
        goto fail;
    }
    s->shm_size = size;
    s->shm_fd_path = g_strdup_printf("/proc/%d/fd/%d", (int)getpid(),
                                     s->shm_fd);
    if (s->shm_path) {
        if (!regdbg_proxy_link_shm(s, errp)) {
            goto fail;
        }
        s->shm_linked = true;
    } else {
        s->shm_path = g_strdup(s->shm_fd_path);
    }

    h = s->shm;
    h->abi_version = REGDBG_ABI_VERSION;
    h->header_size = REGDBG_HEADER_SIZE;
    h->event_size = sizeof(struct regdbg_event);
    h->ring_entries = s->ring_entries;
    h->events_offset = REGDBG_EVENTS_OFFSET;
    h->rules_offset = REGDBG_RULES_OFFSET;
    h->shm_size = size;
    h->ring_mode = s->lossy ? REGDBG_RING_LOSSY : REGDBG_RING_LOSSLESS;
    h->qemu_pid = getpid();
    pstrcpy(h->dev_id, sizeof(h->dev_id), id ? id : "");
    h->vendor_id = s->vendor_id;
    h->device_id = s->device_id;
    h->subsystem_vendor_id = s->subsystem_vendor_id;
    h->subsystem_id = s->subsystem_id;
    h->class_code = s->class_code;
    h->revision = s->revision;
    h->backend = s->backend->kind;
    for (unsigned i = 0; i < REGDBG_NUM_BARS; i++) {
        h->bars[i].size = s->bars[i].type == REGDBG_BAR_ABSENT ?
                          0 : s->bars[i].size;
        h->bars[i].type = s->bars[i].type;
        h->bars[i].prefetch = s->bar_prefetch[i];
    }
    h->consumer_timeout_ns = (uint64_t)s->consumer_timeout_ms * 1000000ULL;
    h->guest_pc = s->guest_pc;
    regdbg_dma_fill_header(s, h);
    h->park_timeout_ns = s->park_timeout_ns =
        (uint64_t)s->park_timeout_ms * 1000000ULL;
    /* A new memfd is zeroed: no rule, no index bit, slots FREE */
    s->rules = (struct regdbg_rules_area *)((char *)s->shm +
                                            REGDBG_RULES_OFFSET);
    regdbg_rules_reset_cache(s);

    regdbg_ring_init_view(&s->ring, s->shm, s->ring_entries,
                          h->consumer_timeout_ns);
    regdbg_ring_format_slots(&s->ring);
    /* The magic last: a reader that sees it sees a complete header. */
    /* [H1: the magic last] */
    atomic_store_explicit((_Atomic uint64_t *)&h->magic, REGDBG_SHM_MAGIC,
                          memory_order_release);
    trace_regdbg_proxy_realize(id ? id : "", s->shm_path, s->ring_entries);
    return true;

fail:
    if (s->shm) {
        munmap(s->shm, size);
        s->shm = NULL;
    }
    close(s->shm_fd);
    s->shm_fd = -1;
    return false;
}

static void regdbg_proxy_destroy_shm(RegdbgProxyState *s)
{
    regdbg_proxy_unlink_shm(s);
    if (s->shm) {
        munmap(s->shm, s->shm_size);
        s->shm = NULL;
    }
    if (s->shm_fd >= 0) {
        close(s->shm_fd);
        s->shm_fd = -1;
    }
}

static void regdbg_proxy_exit_notify(Notifier *n, void *data)
{
    RegdbgProxyState *s = container_of(n, RegdbgProxyState, exit_notifier);

    /* Leave the mapping to consumers still draining; remove only the name. */
    regdbg_proxy_unlink_shm(s);
    /*
     * QEMU does not unrealize its devices when it exits: put the host device
     * back here (the BARs stay mapped for a vCPU still running), its
     * interrupt's thread first.
     */
    regdbg_hostirq_stop(s);
    if (s->backend->release) {
        s->backend->release(s);
    }
}

static void regdbg_proxy_set_identity(RegdbgProxyState *s)
{
    uint8_t *conf = PCI_DEVICE(s)->config;

    pci_config_set_vendor_id(conf, s->vendor_id);
    pci_config_set_device_id(conf, s->device_id);
    pci_config_set_revision(conf, s->revision);
    pci_config_set_prog_interface(conf, s->class_code & 0xff);
    pci_config_set_class(conf, s->class_code >> 8);
    pci_set_word(conf + PCI_SUBSYSTEM_VENDOR_ID, s->subsystem_vendor_id);
    pci_set_word(conf + PCI_SUBSYSTEM_ID, s->subsystem_id);
    pci_config_set_interrupt_pin(conf, 1);
}

static void regdbg_proxy_register_bars(RegdbgProxyState *s)
{
    for (unsigned i = 0; i < REGDBG_NUM_BARS; i++) {
        RegdbgProxyBar *bar = &s->bars[i];
        g_autofree char *name = NULL;
        uint8_t attr;

        if (bar->type == REGDBG_BAR_ABSENT) {
            continue;
        }
        name = g_strdup_printf("regdbg-proxy-bar%u", i);
        memory_region_init_io(&bar->mr, OBJECT(s),
                              bar->type == REGDBG_BAR_IO ?
                                  &regdbg_proxy_io_ops : &regdbg_proxy_mem_ops,
                              bar, name, bar->size);
        /*
         * A parked or waiting access drops the BQL; another vCPU may then
         * access this device. The device's DMA is its MSI, which the guest
         * may aim at a BAR of the device: regdbg-irq.c sends no MSI while its
         * thread is sending one, so that cannot recurse; and with dma=bounce
         * the copies between the guest's RAM and its buffers, which never
         * touch a device's registers.
         */
        bar->mr.disable_reentrancy_guard = true;
        if (bar->type == REGDBG_BAR_IO) {
            attr = PCI_BASE_ADDRESS_SPACE_IO;
        } else {
            attr = PCI_BASE_ADDRESS_SPACE_MEMORY |
                   (bar->type == REGDBG_BAR_MEM64 ?
                    PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) |
                   (s->bar_prefetch[i] ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
        }
        pci_register_bar(PCI_DEVICE(s), i, attr, &bar->mr);
    }
}

static void regdbg_proxy_realize(PCIDevice *pdev, Error **errp)
{
    RegdbgProxyState *s = REGDBG_PROXY(pdev);

    s->backend = regdbg_backend_find(s->backend_kind);
    s->lossy = s->ring_mode == REGDBG_RING_LOSSY;
    if (!is_power_of_2(s->ring_entries) ||
        s->ring_entries < REGDBG_RING_MIN_ENTRIES ||
        s->ring_entries > REGDBG_RING_MAX_ENTRIES) {
        error_setg(errp,
                   "ring-entries=%u: expected a power of two from %u to %u",
                   s->ring_entries, REGDBG_RING_MIN_ENTRIES,
                   REGDBG_RING_MAX_ENTRIES);
        return;
    }
    if (s->class_code > 0xffffff) {
        error_setg(errp, "class-code=0x%x: a class code has 24 bits",
                   s->class_code);
        return;
    }
    if (!s->consumer_timeout_ms) {
        error_setg(errp, "consumer-timeout=0: expected at least 1 ms");
        return;
    }
    if (!s->park_timeout_ms) {
        error_setg(errp, "park-timeout=0: expected at least 1 ms");
        return;
    }
    if (s->guest_pc && kvm_enabled() && !regdbg_cpu_where_cheap()) {
        warn_report("regdbg-proxy: this KVM does not store a vCPU's registers "
                    "on exit (KVM_CAP_SYNC_REGS), and reading them on every "
                    "access would cost two system calls: guest-pc=off, the PC "
                    "is only known at breakpoints");
        s->guest_pc = false;
    }
    if (s->host_irq != REGDBG_HOST_IRQ_OFF &&
        s->backend_kind != REGDBG_BACKEND_HW) {
        error_setg(errp, "host-irq=uio: only backend=hw has a host device "
                   "whose interrupt could reach the guest");
        return;
    }
    if (!regdbg_proxy_parse_bars(s, errp)) {
        return;
    }
    regdbg_clock_init();
    /* the DMA engines and their buffers: before anything on the host */
    if (!regdbg_dma_realize(s, errp)) {
        return;
    }
    if (!s->backend->realize(s, errp)) {
        regdbg_dma_unrealize(s);
        return;
    }
    if (!regdbg_proxy_create_shm(s, errp)) {
        regdbg_dma_unrealize(s);
        s->backend->unrealize(s);
        return;
    }
    regdbg_proxy_set_identity(s);
    if (!regdbg_proxy_irq_realize(s, errp)) {
        regdbg_proxy_destroy_shm(s);
        regdbg_dma_unrealize(s);
        s->backend->unrealize(s);
        return;
    }
    /* the host's interrupt: its thread publishes into the ring */
    if (!regdbg_hostirq_start(s, errp)) {
        regdbg_proxy_irq_exit(s);
        regdbg_proxy_destroy_shm(s);
        regdbg_dma_unrealize(s);
        s->backend->unrealize(s);
        return;
    }
    regdbg_proxy_register_bars(s);
    s->exit_notifier.notify = regdbg_proxy_exit_notify;
    qemu_add_exit_notifier(&s->exit_notifier);
}

/*
 * Unplugged: no access may be inside the handler when the device is taken
 * apart. The ones that let the BQL go (parked in the debugger, waiting for
 * ring space: s->unlocked) see gone and end; they need the BQL to, so it is
 * let go here until they have (as regdbg_hostirq_stop() does to join its
 * thread).
 */
static void regdbg_proxy_drain(RegdbgProxyState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    bool had_bql = bql_locked();

    qatomic_set(&s->gone, true);
    if (!s->unlocked) {
        return;
    }
    /*
     * pci_qdev_unrealize() took the BARs out of the address space before
     * calling exit, but left their addresses: a reset while the BQL is let
     * go (pci_do_device_reset) would take them out again, and abort. They
     * are unmapped; config writes are ignored meanwhile (gone).
     */
    for (int i = 0; i < PCI_NUM_REGIONS; i++) {
        pdev->io_regions[i].addr = PCI_BAR_UNMAPPED;
    }
    trace_regdbg_proxy_drain(DEVICE(s)->id ? DEVICE(s)->id : "", s->unlocked);
    while (s->unlocked) {
        regdbg_rules_wake_parked(s);
        if (had_bql) {
            bql_unlock();
        }
        g_usleep(1000);
        if (had_bql) {
            bql_lock();
        }
    }
}

static void regdbg_proxy_exit(PCIDevice *pdev)
{
    RegdbgProxyState *s = REGDBG_PROXY(pdev);

    regdbg_proxy_drain(s);
    qemu_remove_exit_notifier(&s->exit_notifier);
    regdbg_hostirq_stop(s);
    regdbg_proxy_irq_exit(s);
    regdbg_proxy_destroy_shm(s);
    g_free(s->shm_fd_path);
    s->shm_fd_path = NULL;
    regdbg_dma_unrealize(s);
    s->backend->unrealize(s);
    /*
     * A vCPU whose TLB still maps a BAR may reach the handler after this:
     * every access is then past a BAR of size 0, and gone makes it read all
     * ones. (The hot path's own bounds check: no load of its own.)
     */
    for (int i = 0; i < REGDBG_NUM_BARS; i++) {
        s->bars[i].size = 0;
    }
}

/*
 * The guest's command register is the proxy's own. With dma=bounce its Bus
 * Master Enable reaches the host device too (not the hot path: a config
 * write, and one system call); else the host's bus master stays off. The
 * rest of a config write is the interrupt's (regdbg-irq.c).
 */
static void regdbg_proxy_write_config(PCIDevice *pdev, uint32_t addr,
                                      uint32_t val, int len)
{
    RegdbgProxyState *s = REGDBG_PROXY(pdev);
    uint16_t old = pci_get_word(pdev->config + PCI_COMMAND);
    uint16_t cmd;
    Error *err = NULL;

    if (s->gone) {
        return;                 /* unplugged, its last accesses ending */
    }
    regdbg_proxy_config_write(pdev, addr, val, len);
    cmd = pci_get_word(pdev->config + PCI_COMMAND);
    if (s->dma_mode != REGDBG_DMA_MODE_BOUNCE ||
        !((old ^ cmd) & PCI_COMMAND_MASTER)) {
        return;
    }
    if (!regdbg_backend_hw_master(s, cmd & PCI_COMMAND_MASTER, &err) && err) {
        error_report_err(err);
    }
}

/* A reset: interrupt lowered, DMA engines idle, the host's bus master off */
static void regdbg_proxy_reset(DeviceState *dev)
{
    RegdbgProxyState *s = REGDBG_PROXY(dev);
    Error *err = NULL;

    regdbg_proxy_irq_reset(s);
    regdbg_hostirq_reset(s);
    regdbg_dma_reset(s);
    if (s->dma_mode == REGDBG_DMA_MODE_BOUNCE &&
        !regdbg_backend_hw_master(s, false, &err) && err) {
        error_report_err(err);
    }
}

/*
 * Enum-valued properties: `-device regdbg-proxy,help` lists their choices and
 * QEMU refuses any other value by itself. Each table's order is its value.
 */
static const QEnumLookup regdbg_backend_lookup = {
    .array = (const char *const[]) { "none", "file", "hw" },
    .size = 3,                  /* enum regdbg_backend_kind, remote aside */
};

static const QEnumLookup regdbg_bar_type_lookup = {
    .array = (const char *const[]) { "mem32", "mem64", "io" },
    .size = 3,                  /* enum regdbg_bar_type less 1 */
};

static const QEnumLookup regdbg_ring_mode_lookup = {
    .array = (const char *const[]) { "lossless", "lossy" },
    .size = 2,                  /* enum regdbg_ring_mode */
};

static const QEnumLookup regdbg_dma_lookup = {
    .array = (const char *const[]) { "off", "bounce" },
    .size = 2,                  /* enum regdbg_dma_mode */
};

static const QEnumLookup regdbg_host_access_lookup = {
    .array = (const char *const[]) { "sysfs", "devmem" },
    .size = 2,                  /* enum regdbg_host_access */
};

static const QEnumLookup regdbg_host_irq_lookup = {
    .array = (const char *const[]) { "off", "uio" },
    .size = 2,                  /* enum regdbg_host_irq */
};

static const PropertyInfo regdbg_prop_backend = {
    .type = "RegdbgBackend",
    .description = "where accesses go (none/file/hw)",
    .enum_table = &regdbg_backend_lookup,
    .get = qdev_propinfo_get_enum,
    .set = qdev_propinfo_set_enum,
    .set_default_value = qdev_propinfo_set_default_value_enum,
};

static const PropertyInfo regdbg_prop_bar_type = {
    .type = "RegdbgBarType",
    .description = "BAR type (mem32/mem64/io)",
    .enum_table = &regdbg_bar_type_lookup,
    .get = qdev_propinfo_get_enum,
    .set = qdev_propinfo_set_enum,
    .set_default_value = qdev_propinfo_set_default_value_enum,
};

static const PropertyInfo regdbg_prop_ring_mode = {
    .type = "RegdbgRingMode",
    .description = "full ring: the guest waits, or events drop "
                   "(lossless/lossy)",
    .enum_table = &regdbg_ring_mode_lookup,
    .get = qdev_propinfo_get_enum,
    .set = qdev_propinfo_set_enum,
    .set_default_value = qdev_propinfo_set_default_value_enum,
};

static const PropertyInfo regdbg_prop_host_access = {
    .type = "RegdbgHostAccess",
    .description = "backend=hw: BARs through sysfs or /dev/mem "
                   "(sysfs/devmem)",
    .enum_table = &regdbg_host_access_lookup,
    .get = qdev_propinfo_get_enum,
    .set = qdev_propinfo_set_enum,
    .set_default_value = qdev_propinfo_set_default_value_enum,
};

static const PropertyInfo regdbg_prop_host_irq = {
    .type = "RegdbgHostIrq",
    .description = "backend=hw: the host device's interrupt to the guest, "
                   "through uio_pci_generic (off/uio)",
    .enum_table = &regdbg_host_irq_lookup,
    .get = qdev_propinfo_get_enum,
    .set = qdev_propinfo_set_enum,
    .set_default_value = qdev_propinfo_set_default_value_enum,
};

static const PropertyInfo regdbg_prop_dma = {
    .type = "RegdbgDma",
    .description = "backend=hw: DMA of the engines dma-map= describes: the "
                   "host's bus master stays off, or transfers go through "
                   "bounce buffers (off/bounce)",
    .enum_table = &regdbg_dma_lookup,
    .get = qdev_propinfo_get_enum,
    .set = qdev_propinfo_set_enum,
    .set_default_value = qdev_propinfo_set_default_value_enum,
};

/* The four properties of BAR n, one macro each (checkpatch wants one value) */
#define REGDBG_BAR_SIZE(n) \
    DEFINE_PROP_SIZE("bar" #n "-size", RegdbgProxyState, bar_size[n], 0)
#define REGDBG_BAR_TYPE(n) \
    DEFINE_PROP_SIGNED("bar" #n "-type", RegdbgProxyState, bar_type[n], 0, \
                       regdbg_prop_bar_type, int)
#define REGDBG_BAR_PREFETCH(n) \
    DEFINE_PROP_BOOL("bar" #n "-prefetch", RegdbgProxyState, \
                     bar_prefetch[n], false)
#define REGDBG_BAR_FILE(n) \
    DEFINE_PROP_STRING("bar" #n "-file", RegdbgProxyState, bar_file[n])

static const Property regdbg_proxy_properties[] = {
    DEFINE_PROP_UINT16("vendor-id", RegdbgProxyState, vendor_id,
                       PCI_VENDOR_ID_REDHAT),
    DEFINE_PROP_UINT16("device-id", RegdbgProxyState, device_id, 0x00ff),
    DEFINE_PROP_UINT16("subsystem-vendor-id", RegdbgProxyState,
                       subsystem_vendor_id, PCI_SUBVENDOR_ID_REDHAT_QUMRANET),
    DEFINE_PROP_UINT16("subsystem-id", RegdbgProxyState, subsystem_id,
                       PCI_SUBDEVICE_ID_QEMU),
    DEFINE_PROP_UINT32("class-code", RegdbgProxyState, class_code, 0xff0000),
    DEFINE_PROP_UINT8("revision", RegdbgProxyState, revision, 0),
    REGDBG_BAR_SIZE(0), REGDBG_BAR_TYPE(0), REGDBG_BAR_PREFETCH(0),
    REGDBG_BAR_FILE(0),
    REGDBG_BAR_SIZE(1), REGDBG_BAR_TYPE(1), REGDBG_BAR_PREFETCH(1),
    REGDBG_BAR_FILE(1),
    REGDBG_BAR_SIZE(2), REGDBG_BAR_TYPE(2), REGDBG_BAR_PREFETCH(2),
    REGDBG_BAR_FILE(2),
    REGDBG_BAR_SIZE(3), REGDBG_BAR_TYPE(3), REGDBG_BAR_PREFETCH(3),
    REGDBG_BAR_FILE(3),
    REGDBG_BAR_SIZE(4), REGDBG_BAR_TYPE(4), REGDBG_BAR_PREFETCH(4),
    REGDBG_BAR_FILE(4),
    REGDBG_BAR_SIZE(5), REGDBG_BAR_TYPE(5), REGDBG_BAR_PREFETCH(5),
    REGDBG_BAR_FILE(5),
    DEFINE_PROP_SIGNED("backend", RegdbgProxyState, backend_kind,
                       REGDBG_BACKEND_NONE, regdbg_prop_backend, int),
    DEFINE_PROP_STRING("host", RegdbgProxyState, host),
    DEFINE_PROP_STRING("sysfs-path", RegdbgProxyState, sysfs_path),
    DEFINE_PROP_SIGNED("host-access", RegdbgProxyState, host_access,
                       REGDBG_HOST_ACCESS_SYSFS, regdbg_prop_host_access, int),
    DEFINE_PROP_STRING("devmem-path", RegdbgProxyState, devmem_path),
    DEFINE_PROP_BOOL("force", RegdbgProxyState, force, false),
    DEFINE_PROP_SIGNED("host-irq", RegdbgProxyState, host_irq,
                       REGDBG_HOST_IRQ_OFF, regdbg_prop_host_irq, int),
    DEFINE_PROP_SIGNED("dma", RegdbgProxyState, dma_mode, REGDBG_DMA_MODE_OFF,
                       regdbg_prop_dma, int),
    DEFINE_PROP_STRING("dma-map", RegdbgProxyState, dma_map),
    DEFINE_PROP_UINT64("default-read", RegdbgProxyState, default_read, 0),
    DEFINE_PROP_STRING("shm", RegdbgProxyState, shm_path),
    DEFINE_PROP_UINT32("ring-entries", RegdbgProxyState, ring_entries,
                       REGDBG_DEFAULT_RING_ENTRIES),
    DEFINE_PROP_SIGNED("ring-mode", RegdbgProxyState, ring_mode,
                       REGDBG_RING_LOSSLESS, regdbg_prop_ring_mode, int),
    DEFINE_PROP_UINT32("consumer-timeout", RegdbgProxyState,
                       consumer_timeout_ms, REGDBG_DEFAULT_CONSUMER_TIMEOUT_MS),
    DEFINE_PROP_UINT32("park-timeout", RegdbgProxyState, park_timeout_ms,
                       REGDBG_DEFAULT_PARK_TIMEOUT_MS),
    DEFINE_PROP_BOOL("guest-pc", RegdbgProxyState, guest_pc, true),
    /*
     * Off by default: a capability changes config space (the status
     * register's capability bit, the capability pointer), and the proxy shows
     * the guest the real device's config space unless asked.
     */
    DEFINE_PROP_BOOL("msi", RegdbgProxyState, msi, false),
};

static const VMStateDescription vmstate_regdbg_proxy = {
    .name = TYPE_REGDBG_PROXY,
    .unmigratable = 1,
};

/* What the device holds before realize, whatever its properties say */
static void regdbg_proxy_instance_init(Object *obj)
{
    RegdbgProxyState *s = REGDBG_PROXY(obj);

    s->shm_fd = -1;
    for (unsigned i = 0; i < REGDBG_NUM_BARS; i++) {
        s->bars[i].io_fd = -1;
    }
}

static void regdbg_proxy_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = regdbg_proxy_realize;
    k->exit = regdbg_proxy_exit;
    k->config_write = regdbg_proxy_write_config;
    k->vendor_id = PCI_VENDOR_ID_REDHAT;
    k->device_id = 0x00ff;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "Register-debugger proxy: traces, and forwards to a backend, "
               "every BAR access";
    dc->vmsd = &vmstate_regdbg_proxy;
    device_class_set_props(dc, regdbg_proxy_properties);
    device_class_set_legacy_reset(dc, regdbg_proxy_reset);
    regdbg_proxy_irq_class_init(klass);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo regdbg_proxy_info = {
    .name = TYPE_REGDBG_PROXY,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(RegdbgProxyState),
    .instance_init = regdbg_proxy_instance_init,
    .class_init = regdbg_proxy_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void regdbg_proxy_register_types(void)
{
    type_register_static(&regdbg_proxy_info);
}

type_init(regdbg_proxy_register_types)
