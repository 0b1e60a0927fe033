/*
 * regdbg shared-memory ABI: the layout of the object that one regdbg-proxy device shares with the
 * regdbg debugger. QEMU creates it (mode 0600) and owns it; the debugger maps it, checks magic,
 * version and sizes, and treats every index it reads from it as untrusted.
 *
 *   offset 0                 struct regdbg_shm_header  (REGDBG_HEADER_SIZE bytes)
 *   header.rules_offset      struct regdbg_rules_area  (regdbg/rules.h: rules, index, park slots)
 *   header.events_offset     struct regdbg_event[header.ring_entries]
 *
 * Plain C11: fixed-width types, explicit padding, no QEMU, glib or curses headers.
 *
 * Memory-ordering contract (the ring algorithm itself is in regdbg/ring.h). Each pair of a
 * release and the acquire that reads it has a label; every site that takes part cites it, in the
 * device (qemu-device/), the reader (debugger/) and the tests:
 *   [H1] header: QEMU fills the header, then stores magic last with release; a reader loads
 *        magic with acquire before it reads anything else of the header.
 *   [E1] event: a producer (the device's MMIO handler, on any vCPU thread, several at once; the
 *        device's interrupt on QEMU's main loop or on a thread of the device's own) reserves a
 *        position by compare-and-swap on header.head (relaxed: positions only), fills the slot,
 *        then stores the position into event.seq with release; the one consumer reads nothing
 *        of the slot before an acquire load of event.seq returns that position.
 *   [E2] hand-back: the consumer copies the slot, then stores the next position into
 *        header.tail with release; a producer loads header.tail with acquire before it reuses a
 *        slot.
 *   [E3] relay: producers pass the tail they acquired on to each other through
 *        header.tail_cache (release store, acquire load), which keeps the [E2] chain intact
 *        while sparing the consumer's cache line.
 *   [E4] presence: the consumer stores consumer_pid (its pid; 0 when it leaves) with release;
 *        producers load it with acquire. With no consumer a full ring drops at once, even in
 *        lossless mode. A lossless producer waits while the tail goes forward (slots freed,
 *        whoever takes them); when it has not gone forward for consumer_timeout_ns (a tail moved
 *        back, or past the head, is no progress), it stores the tail into stalled_tail (relaxed)
 *        and it and every later producer drop, without waiting, until the consumer has caught
 *        up to half the ring or a new consumer attaches (which stores UINT64_MAX there).
 *   [E5] heartbeat: a debugger that answers parked accesses stores heartbeat_ns (its
 *        CLOCK_MONOTONIC) with release at least every park_timeout_ns / 4 while attached, and 0
 *        when it leaves; the device loads it with acquire. The device parks an access only while
 *        a consumer is attached and the heartbeat is younger than park_timeout_ns; otherwise a
 *        breakpoint only flags the access (REGDBG_EV_NO_PARK_NO_DEBUGGER).
 *   header.dropped, header.waits and the park counters are statistics, updated with relaxed
 *   atomics (a reader loads them with acquire only to see them fresh). Events seen = head +
 *   dropped. The rules and park slots have their own labels, in regdbg/rules.h.
 *
 * Version policy: REGDBG_ABI_VERSION changes with any change of this layout or of its contract.
 * A reader accepts exactly its own version: a ring of an older or a newer ABI is refused, with
 * both versions named, and the user is told to use the regdbg built with that QEMU. Reserved
 * bytes are zero; a later version may give them a meaning, never an older one. Version 5 added
 * interrupt events (REGDBG_DIR_IRQ, event.irq_source, two flags) and rules that raise the
 * device's interrupt (REGDBG_RULE_IRQ in regdbg/rules.h). Version 6 added DMA events
 * (REGDBG_DIR_DMA, event.dma_what and dma_why, two flags) and the header's DMA fields.
 */
#ifndef REGDBG_ABI_H
#define REGDBG_ABI_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "regdbg/rules.h"

#define REGDBG_SHM_MAGIC    UINT64_C(0x474e495247424452) /* "RDBGRING" little-endian */
#define REGDBG_ABI_VERSION  6u
#define REGDBG_HEADER_SIZE  4096u
#define REGDBG_NUM_BARS     6u
#define REGDBG_DEV_ID_LEN   64u

#define REGDBG_RING_MIN_ENTRIES 2u
#define REGDBG_RING_MAX_ENTRIES (1u << 24)

enum regdbg_bar_type {
    REGDBG_BAR_ABSENT = 0,
    REGDBG_BAR_MEM32  = 1,
    REGDBG_BAR_MEM64  = 2,
    REGDBG_BAR_IO     = 3,
};

enum regdbg_ring_mode {
    REGDBG_RING_LOSSLESS = 0, /* producers wait for space while a live consumer is attached */
    REGDBG_RING_LOSSY    = 1, /* producers never wait; every dropped event is counted */
};

enum regdbg_backend_kind {
    REGDBG_BACKEND_NONE   = 0,
    REGDBG_BACKEND_FILE   = 1,
    REGDBG_BACKEND_HW     = 2,
    REGDBG_BACKEND_REMOTE = 3,
};

enum regdbg_dir {
    REGDBG_DIR_READ  = 0,
    REGDBG_DIR_WRITE = 1,
    REGDBG_DIR_IRQ   = 2,       /* not an access: the device's interrupt (ABI 5; see below) */
    REGDBG_DIR_DMA   = 3,       /* not an access: a DMA transfer the proxy handled (ABI 6) */
};

/* event.flags */
#define REGDBG_EV_EDITED    (1u << 0) /* a rule changed the value written */
#define REGDBG_EV_INJECTED  (1u << 1) /* a rule changed the value read */
#define REGDBG_EV_DROPPED   (1u << 2) /* the write never reached the backend */
#define REGDBG_EV_PARKED    (1u << 3) /* the access was parked for the debugger */
#define REGDBG_EV_TIMED_OUT (1u << 4) /* a parked access resumed unmodified after park-timeout */
#define REGDBG_EV_NO_PARK_NOT_VCPU  (1u << 5) /* a breakpoint or step matched, but no vCPU made the
                                                 access (qtest, the monitor, gdbstub, DMA): parking
                                                 it would hold QEMU's main loop, so it went on */
#define REGDBG_EV_NO_PARK_NO_DEBUGGER (1u << 6) /* a breakpoint or step matched, but no debugger
                                                   was attached to answer: it went on */
#define REGDBG_EV_PC        (1u << 7) /* guest_pc and cpu_mode say which instruction made the
                                         access (see struct regdbg_event) */
#define REGDBG_EV_PC_AFTER  (1u << 8) /* with REGDBG_EV_PC: guest_pc is the address just after
                                         the instruction (KVM completes a write, to memory or
                                         to a port, before it exits to QEMU); the instruction
                                         holds guest_pc - 1 */
#define REGDBG_EV_IRQ_MSI   (1u << 9) /* REGDBG_DIR_IRQ only: the guest had MSI enabled, and
                                         offset is the MSI vector (else the INTx pin) */
#define REGDBG_EV_IRQ_BLOCKED (1u << 10) /* REGDBG_DIR_IRQ only: the guest's command register
                                            kept it from its interrupt controller (INTx Disable
                                            for INTx, Bus Master Enable clear for MSI) */
#define REGDBG_EV_DMA_ADDR  (1u << 11) /* an access to a DMA address register where the proxy
                                         swapped the guest's address and its bounce buffer's:
                                         a write the proxy made itself before a start (value:
                                         the buffer's bus address, orig_value: the guest's), or
                                         a read that returned the guest's address (value) in
                                         place of the buffer's (orig_value) */
#define REGDBG_EV_DMA_FROM_DEVICE (1u << 12) /* REGDBG_DIR_DMA only: the transfer goes from
                                                the device into memory (else toward it) */
#define REGDBG_EV_ALL_FLAGS  0x1fffu          /* every flag this ABI version defines */
/* The flags an access may carry, those an interrupt event and a DMA event may carry */
#define REGDBG_EV_ACCESS_FLAGS 0x9ffu
#define REGDBG_EV_IRQ_FLAGS (REGDBG_EV_PC | REGDBG_EV_PC_AFTER | REGDBG_EV_IRQ_MSI | \
                             REGDBG_EV_IRQ_BLOCKED)
#define REGDBG_EV_DMA_FLAGS REGDBG_EV_DMA_FROM_DEVICE

/*
 * Interrupt events (event.dir == REGDBG_DIR_IRQ, ABI 5). The device publishes one into the ring,
 * in the order of the accesses around it, for each change of its interrupt that the guest's
 * interrupt controller sees, and for each request that changed nothing there:
 *   value       enum regdbg_irq_what: what happened
 *   orig_value  enum regdbg_irq_action (regdbg/rules.h): what was asked for; 0 when nobody
 *               asked (a reset, the guest enabling MSI, the host masking its device's
 *               interrupt)
 *   offset      INTx: the pin, 1 = INTA (as config space's Interrupt Pin); with
 *               REGDBG_EV_IRQ_MSI: the MSI vector (0: the proxy offers one)
 *   irq_source  enum regdbg_irq_source: who asked
 *   rule        the rule that fired it (REGDBG_IRQ_SRC_RULE), else REGDBG_RULE_NONE
 *   cpu, guest_pc, cpu_mode and the flags REGDBG_EV_PC, REGDBG_EV_PC_AFTER: those of the access
 *               that fired the rule; REGDBG_CPU_NONE and no PC for any other source
 *   bar, size   0
 *   flags       only REGDBG_EV_IRQ_FLAGS
 * An INTx pulse is two events, raised then lowered. A request whose effect the guest's command
 * register blocks still changes the line (QEMU keeps its level, and the controller sees it once
 * the guest unblocks it) and says so with REGDBG_EV_IRQ_BLOCKED.
 */
enum regdbg_irq_what {
    REGDBG_IRQ_RAISED        = 1,  /* INTx: the pin went high */
    REGDBG_IRQ_LOWERED       = 2,  /* INTx: the pin went low */
    REGDBG_IRQ_MSI           = 3,  /* MSI: a message was sent */
    REGDBG_IRQ_UNCHANGED     = 4,  /* a request that changed nothing: assert of a pin already
                                      high, deassert of a low one or with MSI (no line) */
    REGDBG_IRQ_HOST_MASKED   = 5,  /* the host masked its device's interrupt (host-irq): the
                                      guest is told, the host's line stays quiet until unmasked */
    REGDBG_IRQ_HOST_UNMASKED = 6,  /* the host unmasked it again */
};
#define REGDBG_IRQ_WHAT_MAX 6u

/*
 * Who asked (event.irq_source). The debugger and the rules drive one level between them (a
 * rule's assert is lowered by the debugger's deassert, and the other way round); the host's
 * level is its own, and INTx is high while either is.
 */
enum regdbg_irq_source {
    REGDBG_IRQ_SRC_NONE     = 0,   /* access events */
    REGDBG_IRQ_SRC_DEBUGGER = 1,   /* irq assert|deassert|pulse (QMP: the device's "irq") */
    REGDBG_IRQ_SRC_RULE     = 2,   /* a rule's action (REGDBG_RULE_IRQ) */
    REGDBG_IRQ_SRC_HOST     = 3,   /* the real device's interrupt (backend=hw, host-irq) */
    REGDBG_IRQ_SRC_DEVICE   = 4,   /* the proxy itself: a reset, the guest enabling MSI */
};
#define REGDBG_IRQ_SRC_MAX 4u

/*
 * DMA events (event.dir == REGDBG_DIR_DMA, ABI 6). With a register map's DMA section
 * (dma-map=), the proxy publishes one for each transfer a guest starts on a DMA engine it
 * describes, and one when it sees the transfer complete, in the order of the accesses around
 * them:
 *   dma_what     enum regdbg_dma_what: what the proxy did
 *   dma_why      enum regdbg_dma_why: why a transfer was refused or blocked; else 0
 *   offset       the transfer's address in the guest's memory (its bus address)
 *   value        the bounce buffer's bus address (host-physical), or 0 when none was used
 *   orig_value   the transfer's length in bytes, as the guest programmed it
 *   dma_copy_ns  how long the copy between the guest's memory and the buffer took (START
 *                toward the device, DONE from it); else 0. (It shares guest_pc's room: a DMA
 *                event has no PC.)
 *   bar          the BAR of the engine's start register
 *   size         the engine's index in the map's dma.engines
 *   cpu          the vCPU whose access made it happen (the start write, the read that saw
 *                the completion), or REGDBG_CPU_NONE
 *   rule         REGDBG_RULE_NONE; cpu_mode REGDBG_MODE_UNKNOWN
 *   flags        only REGDBG_EV_DMA_FLAGS
 * An access event has dma_what and dma_why zero.
 */
enum regdbg_dma_what {
    REGDBG_DMA_START   = 1,     /* the start write goes to the device with the bounce buffer's
                                   address in place of the guest's (toward the device: the
                                   guest's memory was copied into the buffer first) */
    REGDBG_DMA_DONE    = 2,     /* its completion was seen (from the device: the buffer was
                                   copied into the guest's memory before the guest saw it) */
    REGDBG_DMA_REFUSED = 3,     /* the transfer cannot be bounced: the start write was held
                                   back (the access is flagged REGDBG_EV_DROPPED) */
    REGDBG_DMA_BLOCKED = 4,     /* the start write reached the device, but the host's bus
                                   master is off: the device cannot make the transfer */
};
#define REGDBG_DMA_WHAT_MAX 4u

enum regdbg_dma_why {
    REGDBG_DMA_WHY_NONE      = 0,
    REGDBG_DMA_WHY_LENGTH    = 1, /* longer than the bounce buffer or the engine's max_length */
    REGDBG_DMA_WHY_ADDRESS   = 2, /* not all of it is the guest's RAM (REGDBG_DMA_DONE: the
                                     memory went away, nothing was copied) */
    REGDBG_DMA_WHY_WIDTH     = 3, /* the buffer lies beyond the device's DMA address width or
                                     the address register's */
    REGDBG_DMA_WHY_BUSY      = 4, /* the engine's previous transfer was not seen to complete */
    REGDBG_DMA_WHY_NO_BUFFER = 5, /* the buffer's physical address cannot be read any more */
    REGDBG_DMA_WHY_DMA_OFF   = 6, /* dma=off: the host's bus master stays off */
    REGDBG_DMA_WHY_GUEST_MASTER_OFF = 7, /* the guest's own Bus Master Enable is off */
    REGDBG_DMA_WHY_DIRECTION = 8, /* the direction field holds neither value the map gives:
                                     which address is the memory's is unknown */
};
#define REGDBG_DMA_WHY_MAX 8u

/* header.dma_mode: the proxy's dma property */
enum regdbg_dma_mode {
    REGDBG_DMA_MODE_OFF    = 0,  /* the host device's bus master stays off */
    REGDBG_DMA_MODE_BOUNCE = 1,  /* transfers of the described engines go through a bounce
                                    buffer; the guest's Bus Master Enable reaches the host */
};

/*
 * The mode of the x86 code that made an access (event.cpu_mode): the same rIP means different code
 * in each, and a linear PC only names code together with it.
 */
enum regdbg_cpu_mode {
    REGDBG_MODE_UNKNOWN  = 0,   /* no PC recorded (guest-pc=off, no vCPU, or not recoverable) */
    REGDBG_MODE_REAL     = 1,   /* real mode (CR0.PE clear), big real mode included */
    REGDBG_MODE_VM86     = 2,   /* virtual-8086 mode */
    REGDBG_MODE_PROT16   = 3,   /* protected mode, 16-bit code segment */
    REGDBG_MODE_PROT32   = 4,   /* protected mode, 32-bit code segment */
    REGDBG_MODE_COMPAT16 = 5,   /* long mode, 16-bit compatibility-mode code segment */
    REGDBG_MODE_COMPAT32 = 6,   /* long mode, 32-bit compatibility-mode code segment */
    REGDBG_MODE_LONG64   = 7,   /* long mode, 64-bit code segment */
};
#define REGDBG_MODE_MAX 7u

#define REGDBG_CPU_NONE     (-1)      /* no vCPU made the access (qtest, DMA, ...) */
#define REGDBG_RULE_NONE    0xffffu

struct regdbg_bar_info {
    uint64_t size;       /* 0 = absent */
    uint8_t type;        /* enum regdbg_bar_type */
    uint8_t prefetch;    /* 0 or 1 */
    uint8_t pad[6];
};
_Static_assert(sizeof(struct regdbg_bar_info) == 16, "bar_info layout");

/*
 * Event stamps are host CLOCK_MONOTONIC nanoseconds, which the device extrapolates from the TSC
 * between clock reads (qemu-device/regdbg-clock.c): a stamp may be ahead of a clock_gettime()
 * made after its event was published, by well under a microsecond when the scale is right, and
 * never by more than this. A consumer takes a stamp further ahead for damage. (ABI 6 producers
 * already stamped so; this states the bound.)
 */
#define REGDBG_STAMP_AHEAD_NS 1000000u   /* 1 ms */

/*
 * One register access, an interrupt event (REGDBG_DIR_IRQ) or a DMA event (REGDBG_DIR_DMA), both
 * above. 64 bytes, so that producers on different vCPUs do not share a cache line.
 */
struct regdbg_event {
    _Atomic uint64_t seq;     /* ring position; the publish marker (see the contract above) */
    uint64_t t_ns;            /* host CLOCK_MONOTONIC, ns (REGDBG_STAMP_AHEAD_NS) */
    uint64_t offset;          /* offset inside the BAR */
    uint64_t value;           /* the value that reached the backend / was returned to the guest */
    uint64_t orig_value;      /* the value before any rule touched it (== value when untouched) */
    union {
        uint64_t guest_pc;    /* with REGDBG_EV_PC: the linear address (CS base + rIP) of the
                                 instruction that made the access (of the next one with
                                 REGDBG_EV_PC_AFTER); else 0 */
        uint64_t dma_copy_ns; /* REGDBG_DIR_DMA: the copy's duration (see above) */
    };
    int32_t cpu;              /* vCPU index, or REGDBG_CPU_NONE */
    uint16_t flags;           /* REGDBG_EV_* */
    uint16_t rule;            /* index of the rule that touched it, or REGDBG_RULE_NONE */
    uint8_t bar;              /* 0..5 */
    uint8_t size;             /* 1, 2, 4 or 8; REGDBG_DIR_DMA: the engine's index */
    uint8_t dir;              /* enum regdbg_dir */
    uint8_t cpu_mode;         /* enum regdbg_cpu_mode; REGDBG_MODE_UNKNOWN without REGDBG_EV_PC */
    uint8_t irq_source;       /* REGDBG_DIR_IRQ: enum regdbg_irq_source; 0 for an access */
    uint8_t dma_what;         /* REGDBG_DIR_DMA: enum regdbg_dma_what; else 0 */
    uint8_t dma_why;          /* REGDBG_DIR_DMA: enum regdbg_dma_why; else 0 */
    uint8_t pad[1];
};
_Static_assert(sizeof(_Atomic uint64_t) == 8, "atomic u64 is plain-sized");
_Static_assert(sizeof(struct regdbg_event) == 64, "event layout");
_Static_assert(offsetof(struct regdbg_event, t_ns) == 8, "event layout");
_Static_assert(offsetof(struct regdbg_event, value) == 24, "event layout");
_Static_assert(offsetof(struct regdbg_event, cpu) == 48, "event layout");
_Static_assert(offsetof(struct regdbg_event, bar) == 56, "event layout");
_Static_assert(offsetof(struct regdbg_event, cpu_mode) == 59, "event layout");
_Static_assert(offsetof(struct regdbg_event, irq_source) == 60, "event layout");
_Static_assert(offsetof(struct regdbg_event, dma_copy_ns) == 40, "event layout");
_Static_assert(offsetof(struct regdbg_event, dma_what) == 61, "event layout");

struct regdbg_shm_header {
    /* --- immutable after QEMU creates the object --------------------------------------------- */
    uint64_t magic;                     /* REGDBG_SHM_MAGIC */
    uint32_t abi_version;               /* REGDBG_ABI_VERSION */
    uint32_t header_size;               /* REGDBG_HEADER_SIZE */
    uint32_t event_size;                /* sizeof(struct regdbg_event) */
    uint32_t ring_entries;              /* power of two */
    uint64_t events_offset;             /* from the start of the object */
    uint64_t shm_size;                  /* total size of the object */
    uint32_t ring_mode;                 /* enum regdbg_ring_mode */
    uint32_t qemu_pid;                  /* the QEMU process that owns the object */
    char dev_id[REGDBG_DEV_ID_LEN];     /* the device's qdev id, NUL-terminated */
    uint16_t vendor_id;
    uint16_t device_id;
    uint16_t subsystem_vendor_id;
    uint16_t subsystem_id;
    uint32_t class_code;                /* 24-bit: class, subclass, prog-if */
    uint8_t revision;
    uint8_t backend;                    /* enum regdbg_backend_kind */
    uint8_t pad0[2];
    struct regdbg_bar_info bars[REGDBG_NUM_BARS];
    uint64_t consumer_timeout_ns;       /* a consumer silent this long counts as gone */
    uint8_t guest_pc;                   /* 1: every access a vCPU makes carries its PC
                                           (guest-pc=on); 0: only parked ones and those a rule
                                           with a pc condition looked at */
    uint8_t dma_mode;                   /* enum regdbg_dma_mode */
    uint8_t dma_address_bits;           /* the DMA address width of the dma-map's device; 0:
                                           no dma-map */
    uint8_t pad4[5];
    uint64_t dma_buffer_size;           /* dma=bounce: the bounce buffer's size (a 2 MiB
                                           hugetlbfs page, or one 4 KiB page when hugepages
                                           are unavailable); 0: no buffer */
    uint8_t reserved0[8];               /* room for later immutable fields; zero */

    /* --- written by producers (own cache line) ------------------------------------------------ */
    _Atomic uint64_t head;              /* next ring position to reserve = events published */
    _Atomic uint64_t dropped;           /* accesses not published because the ring was full */
    _Atomic uint64_t waits;             /* times a producer found the ring full and waited */
    _Atomic uint64_t stalled_tail;      /* tail at which producers judged the consumer stalled;
                                           UINT64_MAX = not stalled (a new consumer resets it) */
    _Atomic uint64_t tail_cache;        /* a recent tail, so that producers need not touch the
                                           consumer's line on every access */
    uint8_t reserved1[24];

    /* --- written by the consumer (own cache line) --------------------------------------------- */
    _Atomic uint64_t tail;              /* next ring position the consumer will read */
    _Atomic uint32_t consumer_pid;      /* 0 = no consumer attached */
    uint8_t pad1[4];
    uint8_t reserved2[48];

    /* --- rules and parking (regdbg/rules.h); immutable ---------------------------------------- */
    uint64_t rules_offset;              /* struct regdbg_rules_area, from the start */
    uint64_t park_timeout_ns;           /* a parked access whose debugger is gone this long
                                           resumes unmodified */
    uint8_t reserved3[48];

    /* --- written by the debugger (own cache line) --------------------------------------------- */
    _Atomic uint32_t step_left;         /* park this many next accesses, whatever they are */
    uint8_t pad2[4];
    _Atomic uint64_t heartbeat_ns;      /* CLOCK_MONOTONIC of the debugger's last sign of life */
    uint8_t reserved4[48];

    /* --- written by the device (own cache line) ----------------------------------------------- */
    _Atomic uint32_t park_doorbell;     /* bumped (and futex-woken) whenever an access parks */
    uint8_t pad3[4];
    _Atomic uint64_t parks;             /* accesses parked so far; also the next park_id */
    _Atomic uint64_t park_timeouts;     /* parked accesses that resumed because nobody answered */
    _Atomic uint64_t park_overflows;    /* breakpoints not honoured: every park slot was busy */
    uint8_t reserved5[32];

    uint8_t reserved6[REGDBG_HEADER_SIZE - 576]; /* later ABI versions */
};
_Static_assert(sizeof(_Atomic uint32_t) == 4, "atomic u32 is plain-sized");
_Static_assert(offsetof(struct regdbg_shm_header, dev_id) == 48, "header layout");
_Static_assert(offsetof(struct regdbg_shm_header, vendor_id) == 112, "header layout");
_Static_assert(offsetof(struct regdbg_shm_header, class_code) == 120, "header layout");
_Static_assert(offsetof(struct regdbg_shm_header, bars) == 128, "header layout");
_Static_assert(offsetof(struct regdbg_shm_header, consumer_timeout_ns) == 224, "header layout");
_Static_assert(offsetof(struct regdbg_shm_header, guest_pc) == 232, "header layout");
_Static_assert(offsetof(struct regdbg_shm_header, dma_mode) == 233, "header layout");
_Static_assert(offsetof(struct regdbg_shm_header, dma_buffer_size) == 240, "header layout");
_Static_assert(offsetof(struct regdbg_shm_header, head) == 256, "producer line at 256");
_Static_assert(offsetof(struct regdbg_shm_header, tail_cache) == 288, "header layout");
_Static_assert(offsetof(struct regdbg_shm_header, tail) == 320, "consumer line at 320");
_Static_assert(offsetof(struct regdbg_shm_header, consumer_pid) == 328, "header layout");
_Static_assert(offsetof(struct regdbg_shm_header, rules_offset) == 384, "header layout");
_Static_assert(offsetof(struct regdbg_shm_header, step_left) == 448, "debugger line at 448");
_Static_assert(offsetof(struct regdbg_shm_header, park_doorbell) == 512, "device line at 512");
_Static_assert(offsetof(struct regdbg_shm_header, reserved6) == 576, "header layout");
_Static_assert(sizeof(struct regdbg_shm_header) == REGDBG_HEADER_SIZE, "header size");

/* The rules area follows the header, page aligned; the events follow it, page aligned. */
#define REGDBG_RULES_OFFSET REGDBG_HEADER_SIZE
#define REGDBG_EVENTS_OFFSET \
    ((REGDBG_RULES_OFFSET + sizeof(struct regdbg_rules_area) + 4095) & ~(uint64_t)4095)

static inline uint64_t regdbg_shm_size_for(uint32_t ring_entries)
{
    return REGDBG_EVENTS_OFFSET + (uint64_t)ring_entries * sizeof(struct regdbg_event);
}

#endif /* REGDBG_ABI_H */
