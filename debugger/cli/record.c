/*
 * `regdbg record`: find a regdbg-proxy over QMP, drain its ring into a trace file with the
 * library's recorder (debugger/recorder.h) until a count, a duration, SIGINT/SIGTERM or the end
 * of QEMU, then print the recorder's summary line.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "recorder.h"
#include "symbols.h"
#include "rule_file.h"
#include "session.h"
#include "discover.h"
#include "proxy_irq.h"
#include "qmp.h"
#include "ring_reader.h"
#include "trace_file.h"

#define BATCH 4096
#define QMP_CONNECT_TIMEOUT_MS 5000
#define QMP_COMMAND_TIMEOUT_MS 5000
/* Where the BARs are (query-pci): asked once a second for moves, and every few milliseconds
   while a BAR is not mapped yet (a firmware maps it, then soon accesses it: the trace should
   place it before), each time quickly, never holding up the drain long. */
#define BAR_REFRESH_NS 1000000000ull
#define BAR_UNPLACED_REFRESH_NS 5000000ull
#define BAR_QUERY_TIMEOUT_MS 250

const char record_usage[] =
    "usage: regdbg record (--qmp SOCKET [--device ID] [--start] | --shm PATH) -o FILE\n"
    "                     [--count N] [--duration SEC] [--rules FILE] [--symbols FILE[@BIAS]]...\n"
    "\n"
    "Record every register access of a regdbg-proxy device into a trace file.\n"
    "The device is found over QMP (the only one, or the one with --device ID); --shm attaches\n"
    "to a ring directly. The recording begins when regdbg attaches to the ring: accesses\n"
    "queued in the ring before then are skipped (the summary says how many), and times in the\n"
    "trace are seconds since that moment. It stops after N events, after SEC seconds, on\n"
    "SIGINT or SIGTERM, when QEMU exits or (with --qmp) when the device is unplugged;\n"
    "everything drained is flushed, then one summary line is printed:\n"
    "  regdbg record: EVENTS events, DROPS dropped, SEC s, RATE events/s -> FILE (QEMU exited)\n"
    "(no rate for recordings shorter than 0.1 s; the parenthesis, or (device unplugged), only\n"
    "when the recording ended so or earlier accesses were skipped). A damaged ring stops the\n"
    "recording with an error (exit status 1) that names the ring position and field; the\n"
    "trace keeps what came before.\n"
    "\n"
    "  --qmp SOCKET     QEMU's QMP socket (-qmp unix:SOCKET,server=on,wait=off); QEMU serves\n"
    "                   one client per socket, so not one that the TUI or another regdbg\n"
    "                   holds (record from the TUI with :record FILE, or give QEMU a second\n"
    "                   -qmp socket)\n"
    "  --device ID      the proxy's id when the VM has several\n"
    "  --start          resume the VM (QMP cont) once recording: for a QEMU started with -S,\n"
    "                   so that not one access is missed however fast the guest is\n"
    "  --shm PATH       the ring itself (the proxy's shm= path) instead of QMP\n"
    "  -o, --output F   the trace file to write (format: docs/trace-format.md)\n"
    "  --count N        stop after N events\n"
    "  --duration SEC   stop after SEC seconds (decimals allowed)\n"
    "  --rules FILE     edit, inject and drop rules to set first (docs/rules.md)\n"
    CLI_SYMBOLS_HELP
    "                   record only checks them (before it starts): the trace keeps PCs, and\n"
    "                   `regdbg dump --symbols` names them when it reads it\n"
    "\n"
    "examples:\n"
    "  regdbg record --qmp /tmp/qmp.sock -o i2c.trace --duration 10\n"
    "  qemu-system-x86_64 -S -qmp unix:/tmp/qmp.sock,server=on,wait=off ... &\n"
    "  regdbg record --qmp /tmp/qmp.sock --start -o boot.trace     # until QEMU exits\n";

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static uint64_t now_ns(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct recording {
    struct ring_reader rr;
    struct qmp *qmp;
    char qom_path[256];         /* the device's, with --qmp */
    bool unplugged;             /* QMP said DEVICE_DELETED for it */
    struct recorder core;
};

/* A rules file's irq line, with --qmp: the one device recorded. */
static int fire_irq(void *opaque, int dev, uint8_t action, char *err, size_t errlen)
{
    struct recording *rec = opaque;

    (void)dev;                  /* the rules context holds this one device only */
    return proxy_irq(rec->qmp, rec->qom_path, rec->rr.info.dev_id, action, err, errlen);
}

/* --rules: edits, injections and drops to set before recording (no breakpoints: nobody
   would answer them). */
static int apply_rules(struct recording *rec, const char *path, char *err, size_t errlen)
{
    struct session maps;
    struct rules_device dev = { .id = rec->rr.info.dev_id };
    struct rules_ctx ctx = { .devs = &dev, .n_devs = 1 };
    struct ring_reader *rings[1] = { &rec->rr };
    int ret;

    if (session_init(&maps, 1024, err, errlen) < 0) {
        return -1;
    }
    ret = session_load_default_maps(&maps, NULL, 0, err, errlen);
    if (ret == 0) {
        dev.map = session_map_for(&maps, rec->rr.info.vendor_id, rec->rr.info.device_id);
        for (unsigned b = 0; b < REGDBG_NUM_BARS; b++) {
            dev.bar_size[b] = rec->rr.info.bars[b].size;
        }
        struct rule_file_irq irq = { fire_irq, rec };

        ret = rule_file_apply(path, &ctx, rings, false, rec->qmp ? &irq : NULL, err, errlen);
    }
    session_free(&maps);
    return ret;
}

/* The debugger's one number rule (rules_parse.h): 0x hex, else decimal, 010 is ten. */
static int parse_u64(const char *s, uint64_t *out)
{
    return rules_parse_number(s, strlen(s), out) == RULES_NUMBER_OK ? 0 : -1;
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "regdbg record: %s; try 'regdbg record --help'\n", msg);
    return EXIT_USAGE;
}

static int attach_via_qmp(struct recording *rec, const char *sock, const char *device,
                          char *err, size_t errlen)
{
    struct proxy_info list[DISCOVER_MAX_PROXIES];
    int n, which;

    rec->qmp = qmp_connect(sock, QMP_CONNECT_TIMEOUT_MS, err, errlen);
    if (!rec->qmp) {
        if (errno == EBUSY) {
            /* The message says who holds it; say what to do instead. */
            size_t len = strlen(err);
            snprintf(err + len, errlen - len, ": record from it (`:record FILE` in the TUI), "
                     "stop it, or start QEMU with a second -qmp unix:PATH,server=on,wait=off "
                     "for regdbg record");
        }
        return -1;
    }
    n = discover_proxies(rec->qmp, list, DISCOVER_MAX_PROXIES, err, errlen);
    if (n < 0) {
        return -1;
    }
    which = discover_choose(list, n, device, sock, err, errlen);
    if (which < 0) {
        return -1;
    }
    snprintf(rec->qom_path, sizeof(rec->qom_path), "%s", list[which].qom_path);
    return ring_reader_attach(&rec->rr, list[which].shm, err, errlen);
}

/* Is the producer gone for good (QEMU, or the device unplugged)? Pumps QMP so that its end is
   noticed. */
static bool qemu_gone(struct recording *rec, int wait_ms)
{
    char err[256];

    if (rec->qmp) {
        struct pollfd pfd = { .fd = qmp_fd(rec->qmp), .events = POLLIN };
        json_t *ev;

        if (!qmp_is_dead(rec->qmp) && poll(&pfd, 1, wait_ms) > 0) {
            qmp_pump(rec->qmp, err, sizeof(err));
        }
        while ((ev = qmp_next_event(rec->qmp))) {
            const char *deleted = qmp_event_deleted_path(ev);

            rec->unplugged |= deleted && !strcmp(deleted, rec->qom_path);
            json_decref(ev);
        }
        if (qmp_is_dead(rec->qmp) || rec->unplugged) {
            return true;
        }
    } else if (wait_ms) {
        struct timespec ts = { 0, (long)wait_ms * 1000000L };
        nanosleep(&ts, NULL);
    }
    return !ring_reader_qemu_alive(&rec->rr);
}

/* The trace's BAR placements (recorder_bar_query): the proxy's, from query-pci. */
static int query_bars(void *opaque, uint64_t addr[REGDBG_NUM_BARS], uint64_t *pci, char *err,
                      size_t errlen)
{
    struct recording *rec = opaque;
    struct pci_place place;
    int ret = discover_pci_place(rec->qmp, rec->rr.info.dev_id, BAR_QUERY_TIMEOUT_MS, &place,
                                 err, errlen);

    if (ret != 0) {
        if (ret > 0) {
            snprintf(err, errlen, "query-pci does not list the device");
        }
        return -1;
    }
    memcpy(addr, place.bar_addr, sizeof(place.bar_addr));
    *pci = (uint64_t)place.bus << 8 | (uint64_t)(place.slot << 3 | place.function);
    return 0;
}

/* Resume a VM started with -S (--start). */
static int start_vm(struct recording *rec, char *err, size_t errlen)
{
    char why[256];
    json_t *ret = qmp_execute(rec->qmp, "cont", NULL, QMP_COMMAND_TIMEOUT_MS, why, sizeof(why));

    if (!ret) {
        snprintf(err, errlen, "--start: cannot resume the VM: %s", why);
        return -1;
    }
    json_decref(ret);
    return 0;
}

int cmd_record(int argc, char **argv)
{
    static const struct option opts[] = {
        { "qmp", required_argument, NULL, 'q' },
        { "device", required_argument, NULL, 'd' },
        { "shm", required_argument, NULL, 's' },
        { "output", required_argument, NULL, 'o' },
        { "count", required_argument, NULL, 'c' },
        { "duration", required_argument, NULL, 't' },
        { "rules", required_argument, NULL, 'r' },
        { "start", no_argument, NULL, 'S' },
        { "help", no_argument, NULL, 'h' },
        { "symbols", required_argument, NULL, CLI_SYMBOLS },
        { 0 },
    };
    const char *sym_specs[CLI_MAX_SYMBOLS];
    struct symbols *syms = NULL;
    int n_syms = 0;
    const char *sock = NULL, *device = NULL, *shm = NULL, *out = NULL, *rules = NULL;
    uint64_t count = 0;
    double duration = 0;
    struct recording rec = { 0 };
    struct recorder *core = &rec.core;
    struct sigaction sa = { .sa_handler = on_stop_signal };
    uint64_t deadline = 0, bars_refreshed;
    size_t batch;
    char err[1024];
    int opt, status = EXIT_RUNTIME;
    bool qemu_ended = false, start = false;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'q': sock = optarg; break;
        case 'd': device = optarg; break;
        case 's': shm = optarg; break;
        case 'o': out = optarg; break;
        case 'r': rules = optarg; break;
        case 'S': start = true; break;
        case 'c':
            if (parse_u64(optarg, &count) < 0 || count == 0) {
                return usage_error("--count needs a positive whole number");
            }
            break;
        case 't': {
            char *end;
            duration = strtod(optarg, &end);
            if (end == optarg || *end || !(duration > 0)) {
                return usage_error("--duration needs a positive number of seconds");
            }
            break;
        }
        case 'h': fputs(record_usage, stdout); return 0;
        case CLI_SYMBOLS:
            if (cli_symbols_option("record", sym_specs, &n_syms, optarg)) {
                return EXIT_USAGE;
            }
            break;
        default: return cli_bad_option("record", argc, argv, opts, "+o:h");
        }
    }
    if (optind < argc) {
        return usage_error("unexpected argument");
    }
    if (!out) {
        return usage_error("-o FILE is required");
    }
    if (!sock == !shm) {
        return usage_error("give exactly one of --qmp SOCKET and --shm PATH");
    }
    if (device && !sock) {
        return usage_error("--device needs --qmp");
    }
    if (start && !sock) {
        return usage_error("--start needs --qmp (it resumes the VM with the QMP command cont)");
    }
    /* Names are given at read time (dump --symbols); a file that would fail then is better
       told now, before anything is recorded. */
    if ((status = cli_load_symbols("record", sym_specs, n_syms, &syms))) {
        return status;
    }
    symbols_free(syms);
    status = EXIT_RUNTIME;

    if (sock ? attach_via_qmp(&rec, sock, device, err, sizeof(err)) < 0
             : ring_reader_attach(&rec.rr, shm, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg record: %s\n", err);
        goto out;
    }
    if (rules && apply_rules(&rec, rules, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg record: %s\n", err);
        goto out;
    }
    /* The recording began when the ring was attached: that is time 0 of the trace. */
    if (recorder_start(core, &rec.rr, out, RECORDER_FROM_ATTACH, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg record: %s\n", err);
        goto out;
    }
    /* Where the guest has the BARs: in the trace before any access (with QMP: --shm has none) */
    if (rec.qmp && recorder_set_bar_source(core, query_bars, &rec, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg record: %s\n", err);
        recorder_abandon(core, err, sizeof(err));
        unlink(out);
        goto out;
    }
    bars_refreshed = now_ns(CLOCK_MONOTONIC);
    if (start && start_vm(&rec, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg record: %s\n", err);
        recorder_abandon(core, err, sizeof(err));
        unlink(out);
        goto out;
    }
    /* Hand slots back at least twice per lap so that lossless producers rarely wait. */
    batch = rec.rr.info.ring_entries / 2 < BATCH ? rec.rr.info.ring_entries / 2 : BATCH;
    if (duration > 0) {
        deadline = core->start_ns + (uint64_t)(duration * 1e9);
    }
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    for (;;) {
        size_t max = batch;
        long n;

        if (count && count - core->written < max) {
            max = (size_t)(count - core->written);
        }
        n = recorder_drain(core, max, err, sizeof(err));
        if (n < 0 || recorder_check_ring(core, err, sizeof(err)) < 0) {
            goto fail;
        }
        if (count && core->written >= count) {
            break;
        }
        if (stop_requested || (deadline && now_ns(CLOCK_MONOTONIC) >= deadline)) {
            break;
        }
        if (rec.qmp && now_ns(CLOCK_MONOTONIC) - bars_refreshed >=
            (recorder_bars_unplaced(core) ? BAR_UNPLACED_REFRESH_NS : BAR_REFRESH_NS)) {
            /* a BAR the guest moved */
            bars_refreshed = now_ns(CLOCK_MONOTONIC);
            if (recorder_refresh_bars(core, err, sizeof(err)) < 0) {
                goto fail;
            }
        }
        /* Idle: make what was drained visible to readers such as `dump --follow`. */
        if (n == 0 && recorder_flush(core, err, sizeof(err)) < 0) {
            goto fail;
        }
        if (n == 0 && qemu_gone(&rec, 1)) {
            qemu_ended = true;
            break;
        }
    }
    if (qemu_ended || stop_requested) {
        /* Take what is already in the ring; a dead QEMU's unpublished reservations are lost,
           at most one lap of them, marked as one gap. */
        for (;;) {
            size_t max = count ? (size_t)(count - core->written) : batch;
            long n;

            if (max > batch) {
                max = batch;
            }
            if (max == 0) {
                break;
            }
            n = recorder_drain(core, max, err, sizeof(err));
            if (n < 0 || recorder_check_ring(core, err, sizeof(err)) < 0) {
                goto fail;
            }
            if (n == 0 && (!qemu_ended || !recorder_give_up_unpublished(core))) {
                break;
            }
        }
    }
    {
        uint64_t t1 = now_ns(CLOCK_MONOTONIC);
        char summary[PATH_MAX + 256];

        if (recorder_finish(core, t1, err, sizeof(err)) < 0) {
            fprintf(stderr, "regdbg record: %s\n", err);
            goto out;
        }
        recorder_summary(core, t1, !qemu_ended ? NULL : rec.unplugged ? "device unplugged" :
                         "QEMU exited", summary, sizeof(summary));
        printf("regdbg record: %s\n", summary);
        fflush(stdout);
    }
    status = 0;
    goto out;
fail:
    if (core->damaged) {
        char why[1024];

        /* What was valid before the damage is kept, without an end record: it did not end
           cleanly. */
        if (recorder_abandon(core, why, sizeof(why)) < 0) {
            fprintf(stderr, "regdbg record: %s; %s\n", err, why);
        } else {
            fprintf(stderr, "regdbg record: %s (only QEMU writes events there: restart it); %s "
                    "keeps the %" PRIu64 " events recorded before it\n", err, out,
                    core->written);
        }
    } else {
        fprintf(stderr, "regdbg record: %s\n", err);
    }
out:
    if (recorder_active(core)) {
        recorder_abandon(core, err, sizeof(err));
    }
    ring_reader_detach(&rec.rr);
    if (rec.qmp) {
        qmp_close(rec.qmp);
    }
    return status;
}
