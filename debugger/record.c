/*
 * `regdbg record`: find a regdbg-proxy over QMP, drain its ring into a trace file until a count, a
 * duration, SIGINT/SIGTERM or the end of QEMU, then print one summary line.
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

#include "commands.h"
#include "recorder.h"
#include "rule_file.h"
#include "session.h"
#include "discover.h"
#include "qmp.h"
#include "ring_reader.h"
#include "trace_file.h"

#define BATCH 4096
#define QMP_CONNECT_TIMEOUT_MS 5000

const char record_usage[] =
    "usage: regdbg record (--qmp SOCKET [--device ID] | --shm PATH) -o FILE\n"
    "                     [--count N] [--duration SEC] [--rules FILE]\n"
    "\n"
    "Record every register access of a regdbg-proxy device into a trace file.\n"
    "The device is found over QMP (the only one, or the one with --device ID); --shm attaches\n"
    "to a ring directly. Recording stops after N events, after SEC seconds, on SIGINT or\n"
    "SIGTERM, or when QEMU exits; everything drained is flushed, then one summary line is\n"
    "printed: events, drops, duration and rate.\n"
    "\n"
    "  --qmp SOCKET     QEMU's QMP socket (-qmp unix:SOCKET,server=on,wait=off)\n"
    "  --device ID      the proxy's id when the VM has several\n"
    "  --shm PATH       the ring itself (the proxy's shm= path) instead of QMP\n"
    "  -o, --output F   the trace file to write (format: docs/trace-format.md)\n"
    "  --count N        stop after N events\n"
    "  --duration SEC   stop after SEC seconds (decimals allowed)\n"
    "  --rules FILE     edit, inject and drop rules to set first (docs/rules.md)\n"
    "\n"
    "example:\n"
    "  regdbg record --qmp /tmp/qmp.sock -o i2c.trace --duration 10\n";

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
    struct trace_writer *w;
    struct qmp *qmp;
    uint64_t written;
    uint64_t dropped_seen;     /* ring drop counter already marked in the trace */
    uint64_t lost;             /* positions a dead QEMU reserved but never published */
};

static int mark_drops(struct recording *rec, uint64_t count, char *err, size_t errlen)
{
    struct regdbg_trace_record m = {
        .seq = rec->rr.tail, .t_ns = now_ns(CLOCK_MONOTONIC), .value = count,
        .cpu = REGDBG_CPU_NONE, .rule = REGDBG_RULE_NONE, .kind = REGDBG_REC_DROP,
    };
    return trace_writer_add(rec->w, &m, err, errlen);
}

long recorder_drain(struct ring_reader *rr, struct trace_writer *w, size_t max, char *err,
                    size_t errlen)
{
    struct regdbg_event ev;
    size_t n = 0;

    while (n < max && ring_reader_peek(rr, n, &ev)) {
        struct regdbg_trace_record r;

        trace_record_from_event(&r, &ev);
        if (trace_writer_add(w, &r, err, errlen) < 0) {
            ring_reader_consume(rr, n);
            return -1;
        }
        n++;
    }
    ring_reader_consume(rr, n);
    return (long)n;
}

/* Drain up to max events into the trace, then mark new drops. The count, or -1. */
static long drain_once(struct recording *rec, size_t max, char *err, size_t errlen)
{
    long n = recorder_drain(&rec->rr, rec->w, max, err, errlen);
    uint64_t dropped;

    if (n < 0) {
        return -1;
    }
    rec->written += (uint64_t)n;
    dropped = ring_reader_dropped(&rec->rr);
    if (dropped > rec->dropped_seen) {
        if (mark_drops(rec, dropped - rec->dropped_seen, err, errlen) < 0) {
            return -1;
        }
        rec->dropped_seen = dropped;
    }
    return n;
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
        ret = rule_file_apply(path, &ctx, rings, false, err, errlen);
    }
    session_free(&maps);
    return ret;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;

    errno = 0;
    *out = strtoull(s, &end, 0);
    return errno || end == s || *end || s[0] == '-' ? -1 : 0;
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
    return ring_reader_attach(&rec->rr, list[which].shm, err, errlen);
}

/* Is the producer gone for good? Pumps QMP so that its end is noticed. */
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
            json_decref(ev);
        }
        if (qmp_is_dead(rec->qmp)) {
            return true;
        }
    } else if (wait_ms) {
        struct timespec ts = { 0, (long)wait_ms * 1000000L };
        nanosleep(&ts, NULL);
    }
    return !ring_reader_qemu_alive(&rec->rr);
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
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    const char *sock = NULL, *device = NULL, *shm = NULL, *out = NULL, *rules = NULL;
    uint64_t count = 0;
    double duration = 0;
    struct recording rec = { 0 };
    struct regdbg_trace_header th;
    struct sigaction sa = { .sa_handler = on_stop_signal };
    uint64_t t0, deadline = 0;
    size_t batch;
    char err[512];
    int opt, status = EXIT_RUNTIME;
    bool qemu_ended = false;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'q': sock = optarg; break;
        case 'd': device = optarg; break;
        case 's': shm = optarg; break;
        case 'o': out = optarg; break;
        case 'r': rules = optarg; break;
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

    if (sock ? attach_via_qmp(&rec, sock, device, err, sizeof(err)) < 0
             : ring_reader_attach(&rec.rr, shm, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg record: %s\n", err);
        goto out;
    }
    if (rules && apply_rules(&rec, rules, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg record: %s\n", err);
        goto out;
    }
    trace_header_from_shm(&th, &rec.rr.info);
    th.start_realtime_ns = now_ns(CLOCK_REALTIME);
    th.start_monotonic_ns = t0 = now_ns(CLOCK_MONOTONIC);
    rec.w = trace_writer_open(out, &th, err, sizeof(err));
    if (!rec.w) {
        fprintf(stderr, "regdbg record: %s\n", err);
        goto out;
    }
    fprintf(stderr, "regdbg record: recording %s (%04x:%04x) from %s into %s\n",
            rec.rr.info.dev_id[0] ? rec.rr.info.dev_id : "anonymous proxy", rec.rr.info.vendor_id,
            rec.rr.info.device_id, rec.rr.path, out);
    /* Hand slots back at least twice per lap so that lossless producers rarely wait. */
    batch = rec.rr.info.ring_entries / 2 < BATCH ? rec.rr.info.ring_entries / 2 : BATCH;
    if (duration > 0) {
        deadline = t0 + (uint64_t)(duration * 1e9);
    }
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    for (;;) {
        size_t max = batch;
        long n;

        if (count && count - rec.written < max) {
            max = (size_t)(count - rec.written);
        }
        n = drain_once(&rec, max, err, sizeof(err));
        if (n < 0) {
            fprintf(stderr, "regdbg record: %s\n", err);
            goto out;
        }
        if (count && rec.written >= count) {
            break;
        }
        if (stop_requested || (deadline && now_ns(CLOCK_MONOTONIC) >= deadline)) {
            break;
        }
        /* Idle: make what was drained visible to readers such as `dump --follow`. */
        if (n == 0 && trace_writer_flush(rec.w, err, sizeof(err)) < 0) {
            fprintf(stderr, "regdbg record: %s\n", err);
            goto out;
        }
        if (n == 0 && qemu_gone(&rec, 1)) {
            qemu_ended = true;
            break;
        }
    }
    if (qemu_ended || stop_requested) {
        /* Take what is already in the ring; a dead QEMU's unpublished reservations are lost. */
        for (;;) {
            size_t max = count ? (size_t)(count - rec.written) : batch;
            long n;

            if (max > batch) {
                max = batch;
            }
            if (max == 0) {
                break;
            }
            n = drain_once(&rec, max, err, sizeof(err));
            if (n < 0) {
                fprintf(stderr, "regdbg record: %s\n", err);
                goto out;
            }
            if (n == 0) {
                if (!qemu_ended || !ring_reader_skip_unpublished(&rec.rr)) {
                    break;
                }
                rec.lost++;
                if (mark_drops(&rec, 1, err, sizeof(err)) < 0) {
                    fprintf(stderr, "regdbg record: %s\n", err);
                    goto out;
                }
            }
        }
    }
    {
        uint64_t t1 = now_ns(CLOCK_MONOTONIC);
        double secs = (double)(t1 - t0) / 1e9;
        struct regdbg_trace_record end = {
            .seq = rec.rr.tail, .t_ns = t1, .value = rec.written,
            .orig_value = rec.dropped_seen + rec.lost, .cpu = REGDBG_CPU_NONE,
            .rule = REGDBG_RULE_NONE, .kind = REGDBG_REC_END,
        };
        int werr = trace_writer_add(rec.w, &end, err, sizeof(err));

        if (trace_writer_close(rec.w, err, sizeof(err)) < 0 || werr < 0) {
            rec.w = NULL;
            fprintf(stderr, "regdbg record: %s\n", err);
            goto out;
        }
        rec.w = NULL;
        printf("regdbg record: %" PRIu64 " events, %" PRIu64 " dropped, %.3f s, %.0f events/s "
               "-> %s%s\n", rec.written, rec.dropped_seen + rec.lost, secs,
               secs > 0 ? (double)rec.written / secs : 0.0, out,
               qemu_ended ? " (QEMU exited)" : "");
        fflush(stdout);
    }
    status = 0;
out:
    if (rec.w) {
        trace_writer_close(rec.w, err, sizeof(err));
    }
    ring_reader_detach(&rec.rr);
    if (rec.qmp) {
        qmp_close(rec.qmp);
    }
    return status;
}
