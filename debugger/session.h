/*
 * The debugger's model of one attached VM: its QMP connection and run state, every regdbg-proxy
 * with its ring, register map, BAR guest addresses and per-register statistics, the scrollback of
 * accesses, and an optional recording to a trace file. Nothing here draws: the views read this
 * model and ask for changes through its functions.
 */
#ifndef REGDBG_SESSION_H
#define REGDBG_SESSION_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "event_store.h"
#include "park_watch.h"
#include "qmp.h"
#include "recorder.h"
#include "regmap.h"
#include "ring_reader.h"
#include "rule_table.h"
#include "rules_parse.h"
#include "trace_file.h"

#define SESSION_MAX_PROXIES 16
#define SESSION_MAX_MAPS 64

struct reg_stats {
    uint64_t reads, writes;
    uint64_t last_read, last_write;
    uint64_t last_t_ns;         /* 0 = never accessed */
    uint64_t changed_t_ns;      /* when the last value (read or written) differed from before */
    bool has_value;
    uint64_t last_value;
    uint64_t writer_pc;         /* the PC of the last write that carried one */
    bool writer_known;
    bool writer_after;          /* writer_pc is the instruction after (REGDBG_EV_PC_AFTER) */
};

struct proxy {
    char id[128];
    char qom_path[256];
    char shm[PATH_MAX];
    struct ring_reader rr;
    bool attached;
    bool unplugged;             /* QMP said DEVICE_DELETED for it: its stream has ended */
    const struct regmap *map;   /* NULL: no map for its ids */
    struct reg_stats *stats;    /* one per map register */
    uint64_t bar_addr[REGDBG_NUM_BARS];     /* guest address; UINT64_MAX = unmapped */
    int pci_bus, pci_slot, pci_func;        /* -1 until query-pci found it */
    uint64_t events;            /* drained since attach */
    uint64_t dropped_at_attach;
};

struct session {
    struct qmp *qmp;
    char qmp_path[PATH_MAX];
    pid_t launched_pid;         /* QEMU started by `regdbg launch`, else 0 */
    bool qemu_gone;
    char qemu_gone_why[256];
    char run_state[32];         /* "running", "paused", ... from query-status and events */

    struct proxy proxies[SESSION_MAX_PROXIES];
    int n_proxies;
    struct regmap *maps[SESSION_MAX_MAPS];
    int n_maps;

    struct event_store store;

    /* rates: events drained per second, over the last second */
    uint64_t rate_t_ns, rate_events, events_total;
    double events_per_s;
    uint64_t pci_refresh_t_ns;
    bool no_pci_refresh;        /* batch: QMP may be blocked behind a parked qtest access */

    /* recording (:record, batch --record): the recorder of `regdbg record`, fed from the drain */
    struct recorder rec;
    int rec_dev;                /* the device recorded, or -1 */

    char message[256];          /* the last notice for the status line */

    struct park_watch watch;    /* wakes the loop when an access parks */
    int park_fd;                /* -1 when not watching */

    int gdb_port;               /* QEMU's gdbstub (found at attach, or started); 0 = none */

    struct symbols *symbols;    /* --symbols: guest code names; NULL = none given */
    char symbols_elf[PATH_MAX]; /* the first ELF among them, for gdb's command line; "" = none */
};

/* A parked access, as the session shows it. */
struct session_park {
    int dev;
    int slot;
    struct regdbg_park_slot park;
};

/* Rule numbers as the user sees them: one range of REGDBG_MAX_RULES per device. */
#define SESSION_RULE_ID(dev, slot) ((dev) * (int)REGDBG_MAX_RULES + (slot))

/* The session starts empty; maps are loaded first, then a VM is attached. */
int session_init(struct session *s, size_t scrollback, char *err, size_t errlen);
void session_free(struct session *s);

/* Load a register map file (or every *.json in a folder). */
int session_load_map(struct session *s, const char *path, char *err, size_t errlen);

/* The folder of the shipped maps, as built (debugger/maps_dir.c). */
extern const char regdbg_maps_dir[];

/* The shipped maps ($REGDBG_MAPS, else regdbg_maps_dir), then the extra files or folders. */
int session_load_default_maps(struct session *s, char **extra, int n_extra, char *err,
                              size_t errlen);

/* The map for these ids (the last loaded wins), or NULL. */
const struct regmap *session_map_for(const struct session *s, uint16_t vendor, uint16_t device);

/* Apply a rules file (--rules) to every attached device. 0, or -1 with FILE:LINE:COL: ... */
int session_apply_rules_file(struct session *s, const char *path, char *err, size_t errlen);

/* Connect to QMP, find every proxy, attach its ring, match maps, read run state and BARs. */
int session_attach(struct session *s, const char *qmp_path, char *err, size_t errlen);
/* Let go of the rings and QMP; the guest goes on untouched. The heartbeat becomes 0 (nobody
   will answer a park) and parked accesses go on. */
void session_detach(struct session *s);

/* Drain every ring into the scrollback (and the recording); at most max events. */
size_t session_drain(struct session *s, size_t max);
/* Read QMP (call when its fd is readable): events update the run state. */
void session_qmp_readable(struct session *s);
/* Apply queued QMP events (STOP, RESUME, RESET, SHUTDOWN) to the run state. */
void session_process_events(struct session *s);
/* Periodic work: rates, BAR addresses refreshed from query-pci, QEMU liveness. */
void session_tick(struct session *s, uint64_t now_ns);

int session_vm_stop(struct session *s, char *err, size_t errlen);
int session_vm_cont(struct session *s, char *err, size_t errlen);
int session_vm_reset(struct session *s, char *err, size_t errlen);
int session_vm_quit(struct session *s, char *err, size_t errlen);
int session_refresh_pci(struct session *s, char *err, size_t errlen);

/*
 * Record device dev into a new trace file from now on (recorder.h, RECORDER_FROM_NOW): the drain
 * feeds the recorder, which checks each event and marks drops as `regdbg record` does. A
 * recording that meets damage or a write error stops, with s->message saying why.
 */
int session_record_start(struct session *s, const char *path, int dev, char *err,
                         size_t errlen);
/* End the recording with its end record; the recorder (s->rec) keeps its counts and path. */
int session_record_stop(struct session *s, char *err, size_t errlen);
/* The recording in progress, or NULL. */
const struct recorder *session_recording(const struct session *s);

/* The register an event hit (NULL without a map or outside every register). */
const struct regmap_reg *session_event_reg(const struct session *s, const struct stored_event *ev);
/* Find a device by id; -1 when none. */
int session_find_proxy(const struct session *s, const char *id);

uint64_t session_now_ns(void);

/* The oldest parked access of any device; false when none. */
bool session_next_park(struct session *s, struct session_park *out);
int session_answer_park(struct session *s, const struct session_park *p, uint32_t verdict,
                        uint64_t value, char *err, size_t errlen);
/* Empty the park doorbell pipe (after poll() said park_fd is readable). */
void session_park_ack(struct session *s);
/*
 * Load guest code names (--symbols FILE[@BIAS], debugger/symbols.h) into the session; the first
 * ELF is the file of the gdb hand-off's command line. 0, or -1 with a message.
 */
int session_add_symbols(struct session *s, const char *spec, char *err, size_t errlen);

/* The hand-off to gdb at a park (debugger/gdb_handoff.h) */
struct session_gdb {
    int port;                   /* the gdbstub's TCP port */
    bool started;               /* regdbg started it (QEMU had none) */
    bool park_pc_known;
    bool park_pc_after;         /* park_pc is the instruction after the access's */
    uint64_t park_pc;           /* where the access was made (the park's PC) */
    uint64_t stop_pc;           /* where the vCPU stopped */
    char command[1200];         /* gdb -ex 'target remote :PORT' FILE */
};

/*
 * Let the parked access go on, stop the VM right after it, and say where its vCPU stopped and
 * how gdb takes over there (file: the guest ELF for the command line, or NULL). A gdbstub is
 * started when QEMU has none. 0, or -1 with a message (the access stays parked when the gdbstub
 * cannot be had).
 */
int session_gdb_handoff(struct session *s, const struct session_park *p, const char *file,
                        struct session_gdb *out, char *err, size_t errlen);

/* Is that access still parked (not answered, timed out, or let go for a VM stop)? */
bool session_park_alive(struct session *s, const struct session_park *p);

/*
 * Run a rules command line (break, edit, inject, drop, on, enable, disable, delete, irq, step,
 * info rules): cur_dev is the device `step` applies to, and `irq` when it names none. *cmd gets
 * what was parsed (the caller shows `info rules`). Returns the new rule's slot for a rule (break,
 * edit, inject, drop, on), 0 for the others, or -1 with the message (with its column) in err.
 */
int session_rule_command(struct session *s, const char *line, int cur_dev, struct rules_cmd *cmd,
                         char *err, size_t errlen);
/*
 * Assert, deassert or pulse device dev's interrupt (enum regdbg_irq_action) over QMP; s->message
 * says so. What the guest saw comes through the ring as interrupt events. 0, or -1 with a
 * message.
 */
int session_irq(struct session *s, int dev, uint8_t action, char *err, size_t errlen);
/* Is this line a rules command (its first word)? */
bool session_is_rule_command(const char *line);
/* Fill the name-resolution context for the rules parser. */
void session_rules_ctx(const struct session *s, struct rules_device *devs, struct rules_ctx *ctx);

#endif /* REGDBG_SESSION_H */
