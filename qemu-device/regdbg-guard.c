/*
 * regdbg-proxy guarded mappings: BAR files (backend=file, and the resourceN
 * files of backend=hw) are shared mappings of files that another process can
 * truncate while the guest uses them. Touching a page past the new end of
 * such a file raises SIGBUS, which would kill QEMU. A guarded mapping turns
 * that into wrong values for the guest: the SIGBUS handler replaces the pages
 * from the faulting one to the end of the mapping with anonymous zero pages
 * and the access is retried on them; the device then logs a guest error.
 *
 * The handler chains to the one it replaced (QEMU's machine-check handler,
 * system/cpus.c) for every SIGBUS that is not ours, as qemu_prealloc_mem()
 * in util/oslib-posix.c does. QEMU blocks SIGBUS in the main thread and in
 * the threads it creates, and the kernel kills a process whose thread faults
 * with SIGBUS blocked; so each thread that touches a guarded mapping unblocks
 * SIGBUS once, on its first access (as do_touch_pages() does).
 *
 * Copyright (c) 2026 The regdbg authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/mman.h>
#include "qemu/thread.h"
#include "regdbg-proxy.h"

#define REGDBG_GUARD_MAX 128

/* Read by the signal handler: entries are published and retired atomically */
static RegdbgGuard *regdbg_guards[REGDBG_GUARD_MAX];
static struct sigaction regdbg_guard_oldact;
static QemuMutex regdbg_guard_lock;
static bool regdbg_guard_installed;
__thread bool regdbg_guard_thread_ready;

static void regdbg_guard_chain(int sig, siginfo_t *info, void *ctx)
{
    if (regdbg_guard_oldact.sa_flags & SA_SIGINFO) {
        regdbg_guard_oldact.sa_sigaction(sig, info, ctx);
        return;
    }
    if (regdbg_guard_oldact.sa_handler != SIG_DFL &&
        regdbg_guard_oldact.sa_handler != SIG_IGN) {
        regdbg_guard_oldact.sa_handler(sig);
        return;
    }
    /* Default action: die of this SIGBUS when the access is retried */
    signal(SIGBUS, SIG_DFL);
}

static void regdbg_guard_sigbus(int sig, siginfo_t *info, void *ctx)
{
    uintptr_t addr = (uintptr_t)info->si_addr;
    uintptr_t page = qemu_real_host_page_size();

    if (info->si_code != BUS_ADRERR) {
        regdbg_guard_chain(sig, info, ctx);   /* e.g. a machine check */
        return;
    }
    for (unsigned i = 0; i < REGDBG_GUARD_MAX; i++) {
        RegdbgGuard *g = qatomic_read(&regdbg_guards[i]);
        uintptr_t start, end, from;

        if (!g) {
            continue;
        }
        start = (uintptr_t)g->base;
        end = start + g->len;
        if (addr < start || addr >= end) {
            continue;
        }
        from = addr & ~(page - 1);
        /* mmap is async-signal-safe: it is a plain system call */
        if (mmap((void *)from, end - from, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
            MAP_FAILED) {
            break;
        }
        qatomic_set(&g->truncated, true);
        return;
    }
    regdbg_guard_chain(sig, info, ctx);
}

static void regdbg_guard_install(void)
{
    struct sigaction act;

    if (regdbg_guard_installed) {
        return;
    }
    qemu_mutex_init(&regdbg_guard_lock);
    memset(&act, 0, sizeof(act));
    act.sa_sigaction = regdbg_guard_sigbus;
    act.sa_flags = SA_SIGINFO;
    sigemptyset(&act.sa_mask);
    sigaction(SIGBUS, &act, &regdbg_guard_oldact);
    regdbg_guard_installed = true;
}

bool regdbg_guard_map(RegdbgGuard *g, int fd, uint64_t offset, size_t len,
                      Error **errp)
{
    void *base;
    unsigned i;

    g->base = NULL;
    g->len = 0;
    g->truncated = false;
    g->reported = false;
    base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset);
    if (base == MAP_FAILED) {
        error_setg_errno(errp, errno, "cannot map it");
        return false;
    }
    /* Realize runs with the BQL held: no two devices install at once */
    regdbg_guard_install();
    qemu_mutex_lock(&regdbg_guard_lock);
    for (i = 0; i < REGDBG_GUARD_MAX && regdbg_guards[i]; i++) {
        continue;
    }
    if (i == REGDBG_GUARD_MAX) {
        qemu_mutex_unlock(&regdbg_guard_lock);
        munmap(base, len);
        error_setg(errp, "more than %d BAR mappings in one QEMU",
                   REGDBG_GUARD_MAX);
        return false;
    }
    g->base = base;
    g->len = len;
    qatomic_set(&regdbg_guards[i], g);
    qemu_mutex_unlock(&regdbg_guard_lock);
    return true;
}

void regdbg_guard_unmap(RegdbgGuard *g)
{
    if (!g->base) {
        return;
    }
    qemu_mutex_lock(&regdbg_guard_lock);
    for (unsigned i = 0; i < REGDBG_GUARD_MAX; i++) {
        if (regdbg_guards[i] == g) {
            qatomic_set(&regdbg_guards[i], NULL);
        }
    }
    qemu_mutex_unlock(&regdbg_guard_lock);
    munmap(g->base, g->len);
    g->base = NULL;
    g->len = 0;
}

void regdbg_guard_thread_init_slow(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGBUS);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    regdbg_guard_thread_ready = true;
}
