/*
 * `regdbg record`: find a regdbg-proxy over QMP, drain its ring into a trace file until a count, a
 * duration, SIGINT/SIGTERM or the end of QEMU, then print one summary line.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
#define QMP_COMMAND_TIMEOUT_MS 5000
/* Shorter recordings print no rate: a few events over a few microseconds make an absurd one. */
#define MIN_RATE_SPAN_S 0.1

const char record_usage[] =
    "usage: regdbg record (--qmp SOCKET [--device ID] [--start] | --shm PATH) -o FILE\n"
    "                     [--count N] [--duration SEC] [--rules FILE]\n"
    "\n"
    "Record every register access of a regdbg-proxy device into a trace file.\n"
    "The device is found over QMP (the only one, or the one with --device ID); --shm attaches\n"
    "to a ring directly. The recording begins when regdbg attaches to the ring: accesses\n"
    "queued in the ring before then are skipped (the summary says how many), and times in the\n"
    "trace are seconds since that moment. It stops after N events, after SEC seconds, on\n"
    "SIGINT or SIGTERM, or when QEMU exits; everything drained is flushed, then one summary\n"
    "line is printed:\n"
    "  regdbg record: EVENTS events, DROPS dropped, SEC s, RATE events/s -> FILE (QEMU exited)\n"
    "(no rate for recordings shorter than 0.1 s; the parenthesis only when QEMU exited or\n"
    "earlier accesses were skipped). A damaged ring stops the recording with an error (exit\n"
    "status 1) that names the ring position and field; the trace keeps what came before.\n"
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
    struct trace_writer *w;
    struct qmp *qmp;
    struct recorder core;
};

/* --- the recorder's core (recorder.h) ---------------------------------------------------------- */

void recorder_init(struct recorder *rec, struct ring_reader *rr, struct trace_writer *w)
{
    memset(rec, 0, sizeof(*rec));
    rec->rr = rr;
    rec->w = w;
    rec->start_ns = rr->attach_ns;
    rec->skip_until = rr->attach_head;
    rec->dropped_seen = rr->attach_dropped;
    rec->dropped_seen_ns = rr->attach_ns;
    rec->checked_tail = rr->tail;
}

static int mark_drops(struct recorder *rec, uint64_t seq, uint64_t count, uint64_t t_ns,
                      char *err, size_t errlen)
{
    struct regdbg_trace_record m = {
        .seq = seq, .t_ns = t_ns, .value = count,
        .cpu = REGDBG_CPU_NONE, .rule = REGDBG_RULE_NONE, .kind = REGDBG_REC_DROP,
    };

    if (trace_writer_add(rec->w, &m, err, errlen) < 0) {
        return -1;
    }
    rec->dropped += count;
    return 0;
}

/* The drops read from the counter, as one marker before the access at position seq, once seq
   has reached the place where they happened (always, with force: the recording ends there). */
static int mark_pending_drops(struct recorder *rec, uint64_t seq, bool force, char *err,
                              size_t errlen)
{
    if (rec->drops_pending && (force || seq >= rec->drops_at)) {
        if (mark_drops(rec, seq, rec->drops_pending, rec->drops_noticed_ns, err, errlen) < 0) {
            return -1;
        }
        rec->drops_pending = 0;
    }
    return 0;
}

/* Positions a dead QEMU never published, as one marker before the access that follows them. */
static int mark_lost(struct recorder *rec, uint64_t next_seq, char *err, size_t errlen)
{
    if (rec->lost_pending) {
        if (mark_drops(rec, next_seq, rec->lost_pending, now_ns(CLOCK_MONOTONIC), err,
                       errlen) < 0) {
            return -1;
        }
        rec->lost_pending = 0;
    }
    return 0;
}

__attribute__((format(printf, 5, 6)))
static int damage(struct recorder *rec, uint64_t pos, char *err, size_t errlen,
                  const char *fmt, ...)
{
    char what[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    /* drops read before the damage stay in the trace, after what was recorded */
    if (mark_pending_drops(rec, rec->rr->tail, true, err, errlen) < 0) {
        return -1;
    }
    snprintf(err, errlen, "the ring %s is damaged at position %" PRIu64 ": %s", rec->rr->path,
             pos, what);
    rec->damaged = true;
    return -1;
}

long recorder_drain(struct recorder *rec, size_t max, char *err, size_t errlen)
{
    struct ring_reader *rr = rec->rr;
    struct regdbg_event ev;
    uint64_t now = now_ns(CLOCK_MONOTONIC);
    size_t n = 0;
    char why[192];

    rec->damaged = false;
    while (n < max && ring_reader_peek(rr, n, &ev)) {
        uint64_t pos = rr->tail + n;
        struct regdbg_trace_record r;

        if (ev.t_ns > now) {
            now = now_ns(CLOCK_MONOTONIC); /* a clock read per event only when needed */
        }
        if (ring_reader_check_event(rr, &ev, now, why, sizeof(why)) < 0) {
            ring_reader_consume(rr, n);
            return damage(rec, pos, err, errlen, "%s", why);
        }
        n++;
        if (pos < rec->skip_until || ev.t_ns < rec->start_ns) {
            rec->skipped++;        /* queued, or begun, before the recording */
            continue;
        }
        trace_record_from_event(&r, &ev);
        if (mark_lost(rec, pos, err, errlen) < 0 ||
            mark_pending_drops(rec, pos, false, err, errlen) < 0 ||
            trace_writer_add(rec->w, &r, err, errlen) < 0) {
            ring_reader_consume(rr, n - 1);
            return -1;
        }
        rec->written++;
    }
    ring_reader_consume(rr, n);
    return (long)n;
}

int recorder_check_ring(struct recorder *rec, char *err, size_t errlen)
{
    struct ring_reader *rr = rec->rr;
    uint64_t head = ring_reader_head(rr);
    uint64_t tail = rr->tail;
    uint64_t entries = rr->info.ring_entries;
    uint64_t dropped, now;

    rec->damaged = false;
    if (head < tail) {
        return damage(rec, tail, err, errlen, "head %" PRIu64 " is behind the tail", head);
    }
    if (head - tail > entries) {
        return damage(rec, tail, err, errlen, "head %" PRIu64 " is %" PRIu64 " positions ahead "
                      "of the tail, more than the ring's %" PRIu64 " entries", head, head - tail,
                      entries);
    }
    dropped = ring_reader_dropped(rr);
    now = now_ns(CLOCK_MONOTONIC);
    if (dropped < rec->dropped_seen) {
        return damage(rec, tail, err, errlen, "dropped went back from %" PRIu64 " to %" PRIu64,
                      rec->dropped_seen, dropped);
    }
    if (dropped - rec->dropped_seen > now - rec->dropped_seen_ns) {
        /* An access takes far longer than a nanosecond: no device drops that fast. */
        return damage(rec, tail, err, errlen, "dropped rose by %" PRIu64 " in %" PRIu64 " ns, "
                      "more than one access per nanosecond", dropped - rec->dropped_seen,
                      now - rec->dropped_seen_ns);
    }
    if (dropped > rec->dropped_seen) {
        /* A producer drops only when the ring is full: at a position a ring's worth after the
           tail it saw, which was at least the tail at the last check; and before the head. */
        uint64_t at = rec->checked_tail + entries;

        head = ring_reader_head(rr);
        if (!rec->drops_pending) {
            rec->drops_at = at < head ? at : head;
            rec->drops_noticed_ns = now;
        }
        rec->drops_pending += dropped - rec->dropped_seen;
        rec->dropped_seen = dropped;
        rec->dropped_seen_ns = now;
    }
    rec->checked_tail = tail;
    if (rec->drops_pending && tail >= rec->drops_at &&
        (mark_lost(rec, tail, err, errlen) < 0 ||
         mark_pending_drops(rec, tail, false, err, errlen) < 0)) {
        return -1;
    }
    return 0;
}

int recorder_give_up_unpublished(struct recorder *rec)
{
    uint64_t pos = rec->rr->tail;

    if (!ring_reader_skip_unpublished(rec->rr)) {
        return 0;
    }
    if (pos < rec->skip_until) {
        rec->skipped++;
    } else {
        rec->lost_pending++;
    }
    return 1;
}

int recorder_finish(struct recorder *rec, uint64_t t_end_ns, char *err, size_t errlen)
{
    struct regdbg_trace_record end = {
        .seq = rec->rr->tail, .t_ns = t_end_ns, .cpu = REGDBG_CPU_NONE,
        .rule = REGDBG_RULE_NONE, .kind = REGDBG_REC_END,
    };

    rec->damaged = false;
    if (mark_lost(rec, rec->rr->tail, err, errlen) < 0 ||
        mark_pending_drops(rec, rec->rr->tail, true, err, errlen) < 0) {
        return -1;
    }
    end.value = rec->written;
    end.orig_value = rec->dropped;
    return trace_writer_add(rec->w, &end, err, errlen);
}

/* --- regdbg record ----------------------------------------------------------------------------- */

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

/* The summary line: "N events, D dropped, S s[, R events/s] -> FILE[ (notes)]". */
static void print_summary(const struct recorder *core, double secs, const char *out,
                          bool qemu_ended)
{
    char rate[64] = "", notes[160] = "";

    if (secs >= MIN_RATE_SPAN_S) {
        snprintf(rate, sizeof(rate), ", %.0f events/s", (double)core->written / secs);
    }
    if (qemu_ended && core->skipped) {
        snprintf(notes, sizeof(notes), " (QEMU exited; %" PRIu64 " earlier accesses skipped)",
                 core->skipped);
    } else if (qemu_ended) {
        snprintf(notes, sizeof(notes), " (QEMU exited)");
    } else if (core->skipped) {
        snprintf(notes, sizeof(notes), " (%" PRIu64 " earlier accesses skipped)", core->skipped);
    }
    printf("regdbg record: %" PRIu64 " events, %" PRIu64 " dropped, %.3f s%s -> %s%s\n",
           core->written, core->dropped, secs, rate, out, notes);
    fflush(stdout);
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
        { 0 },
    };
    const char *sock = NULL, *device = NULL, *shm = NULL, *out = NULL, *rules = NULL;
    uint64_t count = 0;
    double duration = 0;
    struct recording rec = { 0 };
    struct recorder *core = &rec.core;
    struct regdbg_trace_header th;
    struct sigaction sa = { .sa_handler = on_stop_signal };
    uint64_t t0, deadline = 0;
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
    t0 = rec.rr.attach_ns;
    trace_header_from_shm(&th, &rec.rr.info);
    th.start_monotonic_ns = t0;
    th.start_realtime_ns = now_ns(CLOCK_REALTIME) - (now_ns(CLOCK_MONOTONIC) - t0);
    rec.w = trace_writer_open(out, &th, err, sizeof(err));
    if (!rec.w) {
        fprintf(stderr, "regdbg record: %s\n", err);
        goto out;
    }
    recorder_init(core, &rec.rr, rec.w);
    if (start && start_vm(&rec, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg record: %s\n", err);
        trace_writer_close(rec.w, err, sizeof(err));
        rec.w = NULL;
        unlink(out);
        goto out;
    }
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
        /* Idle: make what was drained visible to readers such as `dump --follow`. */
        if (n == 0 && trace_writer_flush(rec.w, err, sizeof(err)) < 0) {
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
        char cerr[512];
        int werr = recorder_finish(core, t1, err, sizeof(err));
        int cret = trace_writer_close(rec.w, cerr, sizeof(cerr));

        rec.w = NULL;
        if (werr < 0 || cret < 0) {
            fprintf(stderr, "regdbg record: %s\n", werr < 0 ? err : cerr);
            goto out;
        }
        print_summary(core, (double)(t1 - t0) / 1e9, out, qemu_ended);
    }
    status = 0;
    goto out;
fail:
    if (core->damaged) {
        char why[1024];

        /* What was valid before the damage is kept, without an end record: it did not end
           cleanly. */
        if (trace_writer_close(rec.w, why, sizeof(why)) < 0) {
            fprintf(stderr, "regdbg record: %s; %s\n", err, why);
        } else {
            fprintf(stderr, "regdbg record: %s (only QEMU writes events there: restart it); %s "
                    "keeps the %" PRIu64 " events recorded before it\n", err, out,
                    core->written);
        }
        rec.w = NULL;
    } else {
        fprintf(stderr, "regdbg record: %s\n", err);
    }
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
