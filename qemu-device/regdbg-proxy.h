/*
 * regdbg-proxy: device state and the interfaces shared by regdbg-proxy.c
 * (the PCI device, its MMIO/PIO handlers and the event ring),
 * regdbg-backend.c (where accesses go after the rules), regdbg-rules.c (the
 * rules and parking), regdbg-irq.c (the device's interrupt) and
 * regdbg-hostirq.c (the host device's interrupt, host-irq=uio).
 *
 * Copyright (c) 2026 The regdbg authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_REGDBG_PROXY_H
#define HW_MISC_REGDBG_PROXY_H

#include "hw/core/cpu.h"
#include "hw/pci/pci_device.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "qom/object.h"
#include "hw/misc/regdbg/regdbg-config.h"

#include "regdbg/ring.h"

#define TYPE_REGDBG_PROXY "regdbg-proxy"

enum regdbg_host_access {
    REGDBG_HOST_ACCESS_SYSFS = 0,       /* BARs through sysfs resourceN */
    REGDBG_HOST_ACCESS_DEVMEM = 1,      /* memory BARs through /dev/mem */
};

/* backend=hw: where the host device's interrupt comes from (host-irq=) */
enum regdbg_host_irq {
    REGDBG_HOST_IRQ_OFF = 0,            /* nowhere: the guest gets none */
    REGDBG_HOST_IRQ_UIO = 1,            /* /dev/uioN of uio_pci_generic */
};

/* The host device's interrupt, host-irq=uio (regdbg-hostirq.c) */
typedef struct RegdbgHostIrq RegdbgHostIrq;

/*
 * The one clock of the device: CLOCK_MONOTONIC, the clock the debugger stamps
 * its heartbeat with (a vDSO call: no kernel entry).
 */
static inline uint64_t regdbg_clock_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}
/*
 * The time stamp of an access (regdbg-clock.c): CLOCK_MONOTONIC scaled from
 * the TSC between resyncs, one state for every device, under the BQL.
 */
typedef struct RegdbgClock {
    uint64_t base_tsc, base_ns; /* the last point read on both clocks */
    uint64_t resync_ticks;      /* ticks until the next resync; 0 = now */
    uint64_t mult;              /* ns per tick, 32.32; 0 = not measured yet */
    uint64_t cal_tsc, cal_ns;   /* where the scale's measurement began */
    uint64_t cal_window_ns;     /* its length: 1 ms, 10 ms, ... 1 s */
    bool cal_tight;             /* cal_* is a pair of reads close together */
    uint64_t last_ns;           /* the last stamp given: never go back */
    bool usable;                /* the kernel keeps its clock on the TSC */
    bool checked;
} RegdbgClock;

extern RegdbgClock regdbg_clock;
void regdbg_clock_init(void);
uint64_t regdbg_clock_resync(RegdbgClock *c);

/*
 * The stamp of an access whose caller holds the BQL, as every MMIO and port
 * access of the proxy does (its regions keep QEMU's global locking): the
 * check a function call would cost is left out of the hot path.
 */
static inline uint64_t regdbg_access_clock_ns_bql(void)
{
    RegdbgClock *c = &regdbg_clock;
    uint64_t ticks = cpu_get_host_ticks() - c->base_tsc;

    /* ticks < resync_ticks (a millisecond) and mult < 2^33: no overflow */
    if (likely(ticks < c->resync_ticks)) {
        uint64_t t = c->base_ns + ((ticks * c->mult) >> 32);

        if (t > c->last_ns) {
            c->last_ns = t;
        }
        return c->last_ns;
    }
    return regdbg_clock_resync(c);
}

/* The stamp of an event from any thread (a host-interrupt thread has no BQL) */
static inline uint64_t regdbg_access_clock_ns(void)
{
    return bql_locked() ? regdbg_access_clock_ns_bql() : regdbg_clock_ns();
}

/*
 * QEMU builds with -ftrivial-auto-var-init=zero: a local the hot path fills
 * itself is marked with this, or its memset shows in the handler's profile
 * (meson.build checks that the compiler has the attribute).
 */
#ifdef REGDBG_HAVE_ATTR_UNINITIALIZED
#define REGDBG_UNINITIALIZED __attribute__((uninitialized))
#else
#define REGDBG_UNINITIALIZED
#endif

OBJECT_DECLARE_SIMPLE_TYPE(RegdbgProxyState, REGDBG_PROXY)

/* The DMA engines of dma-map= and their bounce buffers (regdbg-dma.c) */
typedef struct RegdbgDma RegdbgDma;

/*
 * A shared mapping of a file that another process may truncate
 * (regdbg-guard.c): a fault past the file's end gives zero pages, sets
 * truncated, and never kills QEMU.
 */
typedef struct RegdbgGuard {
    void *base;
    size_t len;
    bool truncated;             /* set by the SIGBUS handler */
    bool reported;              /* the guest error has been logged */
} RegdbgGuard;

typedef struct RegdbgProxyBar {
    RegdbgProxyState *proxy;
    MemoryRegion mr;
    uint8_t index;
    uint8_t type;               /* enum regdbg_bar_type */
    uint64_t size;
    /* file and hw backends: the BAR's bytes, mapped shared */
    void *map;
    RegdbgGuard guard;          /* the page-aligned mapping behind map */
    char *map_what;             /* names the file in guest errors */
    /* hw backend, I/O BAR: the sysfs resource file, accessed by pread/pwrite */
    int io_fd;
} RegdbgProxyBar;

typedef struct RegdbgBackendOps {
    const char *name;
    uint8_t kind;               /* enum regdbg_backend_kind */
    bool (*realize)(RegdbgProxyState *s, Error **errp);
    void (*unrealize)(RegdbgProxyState *s);
    /*
     * QEMU is exiting (or the device goes away): put back what realize
     * changed outside QEMU. Idempotent; the BARs stay mapped. May be NULL.
     */
    void (*release)(RegdbgProxyState *s);
    uint64_t (*read)(RegdbgProxyState *s, RegdbgProxyBar *bar, hwaddr addr,
                     unsigned size);
    void (*write)(RegdbgProxyState *s, RegdbgProxyBar *bar, hwaddr addr,
                  uint64_t val, unsigned size);
} RegdbgBackendOps;

/*
 * A rule as the device last took it from shared memory (regdbg-rules.c). What
 * every candidate access looks at sits in the first cache line; the copy of
 * the whole rule after it is read only when the rule acts.
 */
/*
 * The rules of one direction whose condition is "(v >> shift) & fmask == k",
 * for one (shift, fmask): their k sorted, so that one search decides them
 * all, however many rules watch the register for different values.
 */
#define REGDBG_EQ_GROUPS 4

typedef struct RegdbgEqGroup {
    uint64_t rules;             /* the group's rules, as a mask */
    uint64_t fmask;
    uint8_t shift;
    uint8_t n;
    uint8_t rule[REGDBG_MAX_RULES];     /* by k, ascending */
    uint64_t k[REGDBG_MAX_RULES];
} RegdbgEqGroup;

typedef struct RegdbgRuleCache {
    uint32_t seq;               /* the rule's seqlock when taken; odd: none */
    bool simple;                /* the condition is (v >> shift) & fmask OP k */
    uint8_t op;                 /* REGDBG_INSN_EQ..GE, or 0: no condition */
    uint8_t shift;
    uint8_t kind;               /* copies of r's fields, see above */
    uint8_t bar;
    uint8_t uses_value;
    uint64_t fmask;
    uint64_t k;
    uint64_t start, end;
    struct regdbg_rule r QEMU_ALIGNED(64);
} RegdbgRuleCache;

struct RegdbgProxyState {
    PCIDevice parent_obj;

    /* Properties: identity */
    uint16_t vendor_id;
    uint16_t device_id;
    uint16_t subsystem_vendor_id;
    uint16_t subsystem_id;
    uint32_t class_code;
    uint8_t revision;

    /* Properties: BAR layout and backend */
    uint64_t bar_size[REGDBG_NUM_BARS];
    int bar_type[REGDBG_NUM_BARS];  /* mem32, mem64, io: bar_type - 1 */
    bool bar_prefetch[REGDBG_NUM_BARS];
    char *bar_file[REGDBG_NUM_BARS];
    int backend_kind;           /* enum regdbg_backend_kind */
    /* backend=hw */
    char *host;                 /* bus address or vendor:device */
    char *sysfs_path;           /* the folder that holds devices/ */
    int host_access;            /* enum regdbg_host_access */
    char *devmem_path;
    bool force;
    int host_irq;               /* enum regdbg_host_irq */
    /*
     * backend=hw, the host device as the backend found and changed it
     * (regdbg-backend.c), so that release puts back exactly that: sysfs
     * "enable" written 1 by us, and the command register's I/O and memory
     * decoding and bus master bits as found.
     */
    char *host_dir;             /* sysfs folder; NULL: nothing to put back */
    bool host_enabled;          /* we wrote 1 to enable */
    uint16_t host_cmd_found;    /* the command register before we came */
    bool guest_pc;              /* record the PC of every access */
    uint64_t default_read;
    bool msi;                   /* offer an MSI capability (regdbg-irq.c) */
    /* dma= (enum regdbg_dma_mode) and dma-map=: regdbg-dma.c */
    int dma_mode;
    char *dma_map;
    RegdbgDma *dma;             /* NULL: no dma-map */

    /* Properties: ring */
    /* shm=PATH, a link to the ring; else, after realize, shm_fd_path */
    char *shm_path;
    uint32_t ring_entries;
    int ring_mode;              /* enum regdbg_ring_mode */
    uint32_t consumer_timeout_ms;
    uint32_t park_timeout_ms;

    /* Run time */
    RegdbgProxyBar bars[REGDBG_NUM_BARS];
    const RegdbgBackendOps *backend;
    bool lossy;
    void *shm;
    size_t shm_size;
    int shm_fd;                 /* the ring's sealed memfd */
    char *shm_fd_path;          /* /proc/PID/fd/N: how clients open it */
    bool shm_linked;            /* shm_path is our link to shm_fd_path */
    struct regdbg_ring ring;
    struct regdbg_rules_area *rules;
    RegdbgRuleCache rule_cache[REGDBG_MAX_RULES];
    uint64_t rules_gen;         /* the rules generation the cache holds */
    uint64_t rules_for_dir[2];  /* enabled cached rules, by enum regdbg_dir */
    uint64_t rules_use_value;   /* those whose condition reads the value */
    RegdbgEqGroup eq[2][REGDBG_EQ_GROUPS];      /* by enum regdbg_dir */
    uint8_t n_eq[2];
    uint64_t park_timeout_ns;
    Notifier exit_notifier;
    /* The interrupt (regdbg-irq.c), under the BQL */
    uint8_t irq_level;          /* REGDBG_IRQ_OWNER_* that hold INTx high */
    /*
     * host-irq=uio (regdbg-hostirq.c): the host's interrupt is masked and
     * the guest told, until the guest's next access; set and cleared under
     * the BQL, read without it by regdbg_hostirq_access().
     */
    bool host_irq_pending;
    RegdbgHostIrq *hostirq;     /* NULL: host-irq=off, or stopped */
    /*
     * Unplugged (exit): nothing parks or waits for ring space any more, and
     * an access that still reaches the handler (a vCPU whose TLB still maps
     * the BAR) reads all ones, its write is dropped (the BARs are sized 0 at
     * the end of exit: the hot path reads gone only past its bounds check).
     * unlocked counts the accesses inside the handler that let the BQL go
     * (parked in the debugger, waiting for ring space; changed with the BQL
     * held): exit waits until they are done before it takes the device
     * apart.
     */
    bool gone;
    unsigned unlocked;
};

/* An access on its way through the rules (regdbg-rules.c) */
typedef struct RegdbgAccess {
    uint64_t t_ns;
    hwaddr addr;
    uint64_t value;             /* what reaches the backend / the guest */
    uint64_t orig;              /* what the guest wrote / the backend read */
    uint64_t guest_pc;          /* with REGDBG_EV_PC in flags */
    uint64_t post_read;         /* rules to decide after a read */
    uint64_t inject;            /* injections to apply to a read */
    uint64_t forced_value;
    uint64_t irq;               /* REGDBG_RULE_IRQ rules whose condition held */
    int32_t cpu;
    uint16_t flags;             /* REGDBG_EV_* */
    uint16_t rule;
    uint8_t bar;
    uint8_t size;
    uint8_t dir;
    uint8_t cpu_mode;           /* enum regdbg_cpu_mode */
    uint8_t irq_source;         /* REGDBG_DIR_IRQ: enum regdbg_irq_source */
    uint8_t dma_what;           /* REGDBG_DIR_DMA: enum regdbg_dma_what */
    uint8_t dma_why;            /* REGDBG_DIR_DMA: enum regdbg_dma_why */
    bool pc_tried;              /* regdbg_cpu_where() was asked already */
    bool skip_backend;
    bool forced;                /* a parked read continues with forced_value */
} RegdbgAccess;

const RegdbgBackendOps *regdbg_backend_find(int kind);
/*
 * backend=hw: turn the host device's bus master on or off (the guest's Bus
 * Master Enable, with dma=bounce). false when the host's command register
 * is not ours (force=on) or cannot be written (errp says why).
 */
bool regdbg_backend_hw_master(RegdbgProxyState *s, bool on, Error **errp);

/* regdbg-dma.c: dma=, dma-map= */
bool regdbg_dma_realize(RegdbgProxyState *s, Error **errp);
void regdbg_dma_unrealize(RegdbgProxyState *s);
void regdbg_dma_reset(RegdbgProxyState *s);
/*
 * host-irq=uio: the host device interrupted; complete the transfers whose
 * completion is the interrupt. With the BQL, before the guest's line rises.
 */
void regdbg_dma_host_irq(RegdbgProxyState *s);
void regdbg_dma_fill_header(RegdbgProxyState *s, struct regdbg_shm_header *h);
/*
 * Before a write reaches the backend (after the rules): keeps the guest's
 * values of the described registers; a start write is bounced (DMA and
 * address events published now), or refused (a->skip_backend), or blocked.
 * *post (dma_what set) is a DMA event to publish after the write's own.
 */
void regdbg_dma_write(RegdbgProxyState *s, RegdbgProxyBar *bar,
                      RegdbgAccess *a, RegdbgAccess *post);
/*
 * After a read from the backend: a swapped address reads as the guest's,
 * and a completion seen copies the transfer into the guest's memory; *post
 * as above.
 */
void regdbg_dma_read(RegdbgProxyState *s, RegdbgProxyBar *bar,
                     RegdbgAccess *a, RegdbgAccess *post);

/* Publish one event (an access, an interrupt or a DMA event) into the ring */
void regdbg_proxy_publish(RegdbgProxyState *s, const RegdbgAccess *a);

/*
 * The device's interrupt (regdbg-irq.c): INTx pin A, or MSI vector 0 once the
 * guest has enabled the MSI capability that msi=on offers.
 *
 * Who holds INTx high: the debugger and the rules share one level (a rule's
 * assert is lowered by the debugger's deassert); the host's device has its
 * own. The pin is high while either is.
 */
#define REGDBG_IRQ_OWNER_INJECT (1u << 0)   /* the debugger and the rules */
#define REGDBG_IRQ_OWNER_HOST   (1u << 1)   /* REGDBG_IRQ_SRC_HOST */

/*
 * Drive the interrupt for source (enum regdbg_irq_source): action is an enum
 * regdbg_irq_action (any other value does nothing). INTx: assert holds the
 * source's level high, deassert releases it; pulse releases it too, raising
 * the pin first if it was low (high then low at once, unless the other owner
 * holds it). MSI enabled: assert and pulse send the message, deassert does
 * nothing. Every request publishes what the guest's interrupt
 * controller saw as interrupt events (regdbg/abi.h): raised, lowered, msi, or
 * unchanged. rule is the rule that fired it (or REGDBG_RULE_NONE), by the
 * access that fired it (or NULL).
 *
 * Call with the BQL held, from any thread: a vCPU in an MMIO handler, QEMU's
 * main loop (QMP), or a thread of the device's own (host-irq), which takes
 * the BQL around the call. Not for the hot path: it may make system calls
 * (KVM's irqchip, MSI).
 */
void regdbg_proxy_irq(RegdbgProxyState *s, unsigned action, unsigned source,
                      uint16_t rule, const RegdbgAccess *by);

/*
 * Publish an interrupt event that moves no line, e.g. REGDBG_IRQ_HOST_MASKED
 * and REGDBG_IRQ_HOST_UNMASKED with REGDBG_IRQ_SRC_HOST. Any thread; the ring
 * is multi-producer safe (no BQL needed).
 */
void regdbg_proxy_irq_note(RegdbgProxyState *s, unsigned what,
                           unsigned source);

/* realize/exit/reset/config-write parts of the interrupt (regdbg-irq.c) */
bool regdbg_proxy_irq_realize(RegdbgProxyState *s, Error **errp);
void regdbg_proxy_irq_exit(RegdbgProxyState *s);
void regdbg_proxy_irq_reset(RegdbgProxyState *s);
void regdbg_proxy_config_write(PCIDevice *pdev, uint32_t addr, uint32_t val,
                               int len);
void regdbg_proxy_irq_class_init(ObjectClass *klass);

/*
 * host-irq=uio (regdbg-hostirq.c). start: once the ring exists and the
 * backend took the host device (its thread publishes and raises the line);
 * stop: idempotent, at exit and unrealize; reset: after
 * regdbg_proxy_irq_reset(). End of interrupt by access: after each access,
 * regdbg_hostirq_access(); one load while no host interrupt is pending.
 */
bool regdbg_hostirq_start(RegdbgProxyState *s, Error **errp);
void regdbg_hostirq_stop(RegdbgProxyState *s);
void regdbg_hostirq_reset(RegdbgProxyState *s);
void regdbg_hostirq_eoi(RegdbgProxyState *s, bool write);

static inline void regdbg_hostirq_access(RegdbgProxyState *s, bool write)
{
    if (unlikely(qatomic_read(&s->host_irq_pending))) {
        regdbg_hostirq_eoi(s, write);
    }
}

bool regdbg_guard_map(RegdbgGuard *g, int fd, uint64_t offset, size_t len,
                      Error **errp);
void regdbg_guard_unmap(RegdbgGuard *g);
void regdbg_guard_thread_init_slow(void);
extern __thread bool regdbg_guard_thread_ready;

/* Before a thread first touches a guarded mapping: one system call, once */
static inline void regdbg_guard_thread_init(void)
{
    if (unlikely(!regdbg_guard_thread_ready)) {
        regdbg_guard_thread_init_slow();
    }
}

/* Which instruction made an access (regdbg-cpu.c) */
typedef struct RegdbgWhere {
    uint64_t pc;                /* linear: CS base + rIP */
    uint8_t mode;               /* enum regdbg_cpu_mode */
    bool after;                 /* pc is the next instruction's (PC_AFTER) */
} RegdbgWhere;

/*
 * The instruction of the access in progress on vCPU cs (its own thread), or
 * false when it cannot be known (pio: an I/O port access).
 */
bool regdbg_cpu_where(CPUState *cs, bool pio, bool write, RegdbgWhere *w);
/* Whether regdbg_cpu_where() runs without a system call on this accelerator */
bool regdbg_cpu_where_cheap(void);

/* Ask once which instruction made the access (on its vCPU's thread) */
static inline void regdbg_access_find_pc(RegdbgAccess *a, bool pio)
{
    RegdbgWhere w;

    a->pc_tried = true;
    if (current_cpu &&
        regdbg_cpu_where(current_cpu, pio, a->dir == REGDBG_DIR_WRITE, &w)) {
        a->guest_pc = w.pc;
        a->cpu_mode = w.mode;
        a->flags |= REGDBG_EV_PC | (w.after ? REGDBG_EV_PC_AFTER : 0);
    }
}

/* The PC a rule's condition sees (REGDBG_INSN_PC) */
static inline uint64_t regdbg_access_rule_pc(const RegdbgAccess *a)
{
    if (!(a->flags & REGDBG_EV_PC)) {
        return REGDBG_PC_UNKNOWN;
    }
    return a->guest_pc - !!(a->flags & REGDBG_EV_PC_AFTER);
}

uint64_t regdbg_rules_candidates(RegdbgProxyState *s, unsigned bar,
                                 hwaddr addr, unsigned size, unsigned dir);
void regdbg_rules_before(RegdbgProxyState *s, RegdbgAccess *a,
                         uint64_t candidates);
void regdbg_rules_after_read(RegdbgProxyState *s, RegdbgAccess *a);
/* After the access's event: the REGDBG_RULE_IRQ rules it matched (a->irq) */
void regdbg_rules_fire_irq(RegdbgProxyState *s, const RegdbgAccess *a);
void regdbg_rules_reset_cache(RegdbgProxyState *s);
void regdbg_rules_wake_parked(RegdbgProxyState *s);

#endif /* HW_MISC_REGDBG_PROXY_H */
