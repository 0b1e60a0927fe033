/*
 * regdbg-proxy, backend=hw with host-irq=uio: the host device's own
 * interrupt, delivered to the guest. The host device is bound to
 * uio_pci_generic, the one way a stock kernel without an IOMMU gives a PCI
 * device's interrupt to userspace. This file owns its /dev/uioN, the thread
 * that waits on it, and the host's INTx mask (the command register's
 * Interrupt Disable bit, through the sysfs config file).
 *
 * Level-triggered, as QEMU's vfio-pci INTx ("EOI by access", hw/vfio/pci.c):
 *   - the device interrupts; uio_pci_generic's handler masks it on the host
 *     (sets Interrupt Disable) and counts an event; the thread wakes, says
 *     so (host-masked), and raises the guest's line (or sends its MSI);
 *   - the guest's next access to the device, read or write, is taken as
 *     its end of interrupt: the proxy lowers the guest's line and unmasks the
 *     host's (host-unmasked). A device that still asserts its interrupt
 *     (the guest acknowledged only part of it) interrupts again at once.
 * With MSI enabled by the guest, each host interrupt is one message, and a
 * message has no level to lower: a read that leaves the device asserting
 * (the handler reading its status, before it acknowledges) does not end it,
 * or the level would send a second message the handler finds empty; the
 * PCI status's Interrupt Status bit says whether it still asserts. A write
 * ends it whatever the level: a device still asserting after the handler's
 * acknowledgment (another cause) must send the next message; so does a
 * while without a write (REGDBG_HOSTIRQ_MSI_EOI_US).
 * The hot path pays one load for this while no interrupt is outstanding
 * (regdbg_hostirq_access()); the unmask, and with MSI the status read, are
 * system calls, made only when an interrupt is.
 *
 * Copyright (c) 2026 The regdbg authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <poll.h>
#include "qapi/error.h"
#include "qemu/bswap.h"
#include "qemu/error-report.h"
#include "qemu/event_notifier.h"
#include "qemu/main-loop.h"
#include "qemu/rcu.h"
#include "qemu/thread.h"
#include "qemu/timer.h"
#include "hw/pci/msi.h"
#include "hw/pci/pci_regs.h"
#include "hw/misc/regdbg/trace-hw_misc_regdbg.h"
#include "regdbg-proxy.h"

#define REGDBG_HOSTIRQ_DRIVER "uio_pci_generic"

struct RegdbgHostIrq {
    RegdbgProxyState *s;
    char *uio_path;             /* /dev/uioN */
    char *config_path;          /* the host device's sysfs config file */
    int uio_fd;
    int config_fd;
    EventNotifier stop;
    QemuThread thread;
    bool running;               /* the thread was created and not joined */
    bool stopping;              /* the thread must raise nothing more */
    bool failed;                /* an error was reported: one report only */
    uint16_t intx_found;        /* Interrupt Disable as found at start */
    QEMUTimer *msi_eoi;         /* ends an MSI interrupt a read left pending */
};

/*
 * How long a read may leave an MSI interrupt pending (see the top). A
 * handler acknowledges within microseconds on hardware virtualisation, and
 * took 1.3 ms on its first run under TCG in TCG here (translating itself);
 * one that acknowledges by the read itself (read to clear) while a second
 * cause came meanwhile would wait for its next access: the interrupt ends
 * at the latest then, and a device still asserting sends its next message.
 */
#define REGDBG_HOSTIRQ_MSI_EOI_US (20 * 1000)

static const char *regdbg_hostirq_id(RegdbgProxyState *s)
{
    return DEVICE(s)->id ? DEVICE(s)->id : "";
}

/*
 * One report per device, whatever fails and however often: an error here
 * cannot stop anything, and must not flood the log once per interrupt.
 */
static void regdbg_hostirq_fail(RegdbgHostIrq *h, int err, const char *what)
{
    if (qatomic_xchg(&h->failed, true)) {
        return;
    }
    error_report("regdbg-proxy '%s': host-irq=uio: %s: %s; the host device's "
                 "interrupts may no longer reach the guest (is the device "
                 "still bound to " REGDBG_HOSTIRQ_DRIVER "?)",
                 regdbg_hostirq_id(h->s), what, g_strerror(err));
}

/* The host's command register through its config file: errno on failure */
static int regdbg_hostirq_command(RegdbgHostIrq *h, uint16_t *cmd, bool write)
{
    uint8_t le[2];
    ssize_t n;

    if (write) {
        stw_le_p(le, *cmd);
        n = pwrite(h->config_fd, le, 2, PCI_COMMAND);
    } else {
        n = pread(h->config_fd, le, 2, PCI_COMMAND);
    }
    if (n != 2) {
        return n < 0 ? errno : EIO;
    }
    if (!write) {
        *cmd = lduw_le_p(le);
    }
    return 0;
}

/* Sets the host's Interrupt Disable bit to mask (on) or clears it */
static int regdbg_hostirq_set_mask(RegdbgHostIrq *h, bool mask)
{
    uint16_t cmd, want;
    int err = regdbg_hostirq_command(h, &cmd, false);

    if (err) {
        return err;
    }
    want = mask ? cmd | PCI_COMMAND_INTX_DISABLE
                : cmd & ~PCI_COMMAND_INTX_DISABLE;
    return want == cmd ? 0 : regdbg_hostirq_command(h, &want, true);
}

/*
 * Unmask the host's interrupt, and say so first: the device may interrupt
 * again at once, and the events of that must come after this one.
 */
static void regdbg_hostirq_unmask(RegdbgHostIrq *h)
{
    int err;

    regdbg_proxy_irq_note(h->s, REGDBG_IRQ_HOST_UNMASKED, REGDBG_IRQ_SRC_HOST);
    err = regdbg_hostirq_set_mask(h, false);
    trace_regdbg_hostirq_unmask(regdbg_hostirq_id(h->s), err);
    if (err) {
        g_autofree char *what = g_strdup_printf("%s: unmasking its interrupt",
                                                h->config_path);

        regdbg_hostirq_fail(h, err, what);
    }
}

/*
 * The thread: an interrupt of the host device (count: uio's event count),
 * masked on the host by uio_pci_generic; raise the guest's line. The device
 * may have stopped asserting it by the time the BQL is ours (the guest's
 * handler unmasked it with its first access and acknowledged it with the
 * next): the guest then finds nothing pending, as with vfio-pci. Asking the
 * device first (its PCI status) would cost a config read per interrupt.
 */
static void regdbg_hostirq_interrupt(RegdbgHostIrq *h, uint32_t count)
{
    RegdbgProxyState *s = h->s;

    trace_regdbg_hostirq_interrupt(regdbg_hostirq_id(s), count);
    regdbg_proxy_irq_note(s, REGDBG_IRQ_HOST_MASKED, REGDBG_IRQ_SRC_HOST);
    bql_lock();
    if (!qatomic_read(&h->stopping)) {
        qatomic_set(&s->host_irq_pending, true);
        /* a DMA completion, copied back before the guest is told */
        regdbg_dma_host_irq(s);
        regdbg_proxy_irq(s, REGDBG_IRQ_ASSERT, REGDBG_IRQ_SRC_HOST,
                         REGDBG_RULE_NONE, NULL);
    }
    bql_unlock();
}

/*
 * Waits on /dev/uioN (each read gives uio's event count) and on the stop
 * notifier. It ends when asked to, or at the first error, which it reports.
 */
static void *regdbg_hostirq_thread(void *opaque)
{
    RegdbgHostIrq *h = opaque;
    struct pollfd fds[2] = {
        { .fd = h->uio_fd, .events = POLLIN },
        { .fd = event_notifier_get_fd(&h->stop), .events = POLLIN },
    };
    uint32_t count;
    ssize_t n;

    /* the guest's memory (a DMA completion's copy, an MSI) is read under RCU */
    rcu_register_thread();
    while (!qatomic_read(&h->stopping)) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            regdbg_hostirq_fail(h, errno, "waiting for its interrupt");
            break;
        }
        if (fds[1].revents || qatomic_read(&h->stopping)) {
            break;
        }
        if (!fds[0].revents) {
            continue;
        }
        n = read(h->uio_fd, &count, sizeof(count));
        if (n == sizeof(count)) {
            regdbg_hostirq_interrupt(h, count);
        } else if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        } else {
            g_autofree char *what = g_strdup_printf("%s: reading its event "
                                                    "count", h->uio_path);

            regdbg_hostirq_fail(h, n < 0 ? errno : EIO, what);
            break;
        }
    }
    rcu_unregister_thread();
    return NULL;
}

/* Does the host device still assert INTx (PCI status, Interrupt Status)? */
static bool regdbg_hostirq_asserted(RegdbgHostIrq *h)
{
    uint8_t le[2];

    /* unreadable: taken as deasserted, so that the host is unmasked */
    return pread(h->config_fd, le, 2, PCI_STATUS) == 2 &&
           (lduw_le_p(le) & PCI_STATUS_INTERRUPT);
}

/*
 * End of interrupt by access: the guest accessed the device while the host's
 * interrupt was pending. Lower the guest's line, unmask the host's; with MSI,
 * not after a read that left the device asserting (see the top). On the
 * accessing thread, with the BQL, after the access went through.
 */
void regdbg_hostirq_eoi(RegdbgProxyState *s, bool write)
{
    RegdbgHostIrq *h = s->hostirq;

    if (!qatomic_read(&s->host_irq_pending) || !h) {
        return;
    }
    if (!write && msi_enabled(PCI_DEVICE(s)) && regdbg_hostirq_asserted(h)) {
        trace_regdbg_hostirq_still_asserted(regdbg_hostirq_id(s));
        if (!timer_pending(h->msi_eoi)) {
            timer_mod(h->msi_eoi, qemu_clock_get_us(QEMU_CLOCK_REALTIME) +
                      REGDBG_HOSTIRQ_MSI_EOI_US);
        }
        return;
    }
    timer_del(h->msi_eoi);
    qatomic_set(&s->host_irq_pending, false);
    /* the host stays masked until here: nothing can raise the line again */
    regdbg_proxy_irq(s, REGDBG_IRQ_DEASSERT, REGDBG_IRQ_SRC_HOST,
                     REGDBG_RULE_NONE, NULL);
    regdbg_hostirq_unmask(h);
}

/* The MSI interrupt a read left pending ends now, whatever the device does */
static void regdbg_hostirq_msi_eoi(void *opaque)
{
    RegdbgProxyState *s = opaque;

    trace_regdbg_hostirq_msi_eoi_late(regdbg_hostirq_id(s));
    regdbg_hostirq_eoi(s, true);
}

/*
 * A reset of the proxy lowered its line (regdbg_proxy_irq_reset): an
 * interrupt of the host still pending is ended as by an access, so that a
 * device that still asserts it says so again.
 */
void regdbg_hostirq_reset(RegdbgProxyState *s)
{
    regdbg_hostirq_eoi(s, true);
}

/* The uio device of the host device in dir: /dev/uioN, or NULL */
static char *regdbg_hostirq_find_uio(RegdbgProxyState *s, const char *dir,
                                     Error **errp)
{
    g_autofree char *uio = g_build_filename(dir, "uio", NULL);
    g_autoptr(GError) gerr = NULL;
    GDir *d = g_dir_open(uio, 0, &gerr);
    const char *name;
    char *found = NULL;
    unsigned n = 0;

    if (!d) {
        error_setg(errp, "host=%s: host-irq=uio: %s: the host device has no "
                   "uio device (%s); is it bound to " REGDBG_HOSTIRQ_DRIVER
                   "?", s->host, uio, gerr->message);
        return NULL;
    }
    while ((name = g_dir_read_name(d))) {
        if (g_str_has_prefix(name, "uio") && name[3] &&
            strspn(name + 3, "0123456789") == strlen(name + 3)) {
            if (!found) {
                found = g_strdup_printf("/dev/%s", name);
            }
            n++;
        }
    }
    g_dir_close(d);
    if (n != 1) {
        error_setg(errp, "host=%s: host-irq=uio: %s holds %u uio devices; "
                   "expected one", s->host, uio, n);
        g_free(found);
        return NULL;
    }
    return found;
}

static void regdbg_hostirq_free(RegdbgHostIrq *h)
{
    if (h->uio_fd >= 0) {
        close(h->uio_fd);
    }
    if (h->config_fd >= 0) {
        close(h->config_fd);
    }
    if (h->msi_eoi) {
        timer_free(h->msi_eoi);
    }
    g_free(h->uio_path);
    g_free(h->config_path);
    g_free(h);
}

bool regdbg_hostirq_start(RegdbgProxyState *s, Error **errp)
{
    RegdbgHostIrq *h;
    uint16_t cmd;
    struct stat st;
    int err;

    if (s->host_irq == REGDBG_HOST_IRQ_OFF) {
        return true;
    }
    /* regdbg_backend_hw_realize() took the device: host_dir is its folder */
    assert(s->host_dir);
    h = g_new0(RegdbgHostIrq, 1);
    h->s = s;
    h->uio_fd = h->config_fd = -1;
    h->msi_eoi = timer_new_us(QEMU_CLOCK_REALTIME, regdbg_hostirq_msi_eoi, s);
    h->uio_path = regdbg_hostirq_find_uio(s, s->host_dir, errp);
    if (!h->uio_path) {
        goto fail;
    }
    h->uio_fd = open(h->uio_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (h->uio_fd < 0) {
        error_setg_errno(errp, errno, "host=%s: host-irq=uio: %s: QEMU must "
                         "be able to read the host device's uio device "
                         "(run it as root, or give its user %s)", s->host,
                         h->uio_path, h->uio_path);
        goto fail;
    }
    if (fstat(h->uio_fd, &st) < 0 || !S_ISCHR(st.st_mode)) {
        error_setg(errp, "host=%s: host-irq=uio: %s: not a character device",
                   s->host, h->uio_path);
        goto fail;
    }
    h->config_path = g_build_filename(s->host_dir, "config", NULL);
    h->config_fd = open(h->config_path, O_RDWR | O_CLOEXEC);
    if (h->config_fd < 0) {
        error_setg_errno(errp, errno, "host=%s: host-irq=uio: %s: cannot "
                         "open the host device's config space to unmask its "
                         "interrupt", s->host, h->config_path);
        goto fail;
    }
    /*
     * Unmask the host's interrupt, after uio counts our events (open): an
     * interrupt that was pending already (masked by uio_pci_generic, or by
     * a QEMU that ended before the guest's access) is delivered then.
     */
    err = regdbg_hostirq_command(h, &cmd, false);
    if (!err) {
        h->intx_found = cmd & PCI_COMMAND_INTX_DISABLE;
        err = regdbg_hostirq_set_mask(h, false);
    }
    if (err) {
        error_setg_errno(errp, err, "host=%s: host-irq=uio: %s: cannot "
                         "unmask the host device's interrupt", s->host,
                         h->config_path);
        goto fail;
    }
    if (event_notifier_init(&h->stop, false) < 0) {
        error_setg_errno(errp, errno, "host-irq=uio: cannot create the "
                         "notifier that stops its thread");
        goto fail_unmasked;
    }
    s->hostirq = h;
    h->running = true;
    qemu_thread_create(&h->thread, "regdbg-hostirq", regdbg_hostirq_thread,
                       h, QEMU_THREAD_JOINABLE);
    trace_regdbg_hostirq_start(regdbg_hostirq_id(s), h->uio_path, cmd);
    return true;

fail_unmasked:
    regdbg_hostirq_set_mask(h, h->intx_found);
fail:
    regdbg_hostirq_free(h);
    return false;
}

/*
 * Stop and join the thread, put the host's Interrupt Disable bit back as
 * found, close. Idempotent. Called when the device goes away (with the BQL)
 * and when QEMU exits (with or without it: exit() may come from a vCPU in a
 * device, such as isa-debug-exit). The thread may be waiting for the BQL: a
 * caller that holds it lets it go while joining, as migration's cleanup does.
 */
void regdbg_hostirq_stop(RegdbgProxyState *s)
{
    RegdbgHostIrq *h = s->hostirq;
    int err;

    if (!h) {
        return;
    }
    qatomic_set(&h->stopping, true);
    qatomic_set(&s->host_irq_pending, false);
    if (h->running) {
        bool locked = bql_locked();

        event_notifier_set(&h->stop);
        if (locked) {
            bql_unlock();
        }
        qemu_thread_join(&h->thread);
        if (locked) {
            bql_lock();
        }
        h->running = false;
        event_notifier_cleanup(&h->stop);
    }
    err = regdbg_hostirq_set_mask(h, h->intx_found);
    if (err) {
        error_report("regdbg-proxy '%s': host=%s: host-irq=uio: %s: cannot "
                     "put the host device's Interrupt Disable bit back: %s",
                     regdbg_hostirq_id(s), s->host, h->config_path,
                     g_strerror(err));
    }
    trace_regdbg_hostirq_stop(regdbg_hostirq_id(s), h->intx_found);
    s->hostirq = NULL;
    regdbg_hostirq_free(h);
}
