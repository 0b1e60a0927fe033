/*
 * `regdbg batch`: the rules language without a screen, for scripted regression checks in CI.
 * Besides the rules commands it has wait (for the next parked access), continue, skip, print
 * (the parked access as JSON) and expect (fail the script when a condition is false).
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
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "session.h"

#define BATCH_SCROLLBACK 65536
#define DEFAULT_WAIT_S 30.0

/* Appends fmt to the buffer b of size BATCH_USAGE_MAX at *len. */
#define BATCH_USAGE_MAX 4096
static void usage_add(char *b, size_t *len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void usage_add(char *b, size_t *len, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(b + *len, BATCH_USAGE_MAX - *len, fmt, ap);
    va_end(ap);
    if (n > 0) {
        *len += (size_t)n < BATCH_USAGE_MAX - *len ? (size_t)n : BATCH_USAGE_MAX - 1 - *len;
    }
}

/* The text, words wrapped at 88 columns, the lines after the first indented by indent. */
static void usage_wrap(char *b, size_t *len, const char *text, int col, int indent)
{
    while (*text) {
        size_t w = strcspn(text, " ");

        if (col > indent && col + 1 + (int)w > 88) {
            usage_add(b, len, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            usage_add(b, len, " ");
            col++;
        }
        usage_add(b, len, "%.*s", (int)w, text);
        col += (int)w;
        text += w;
        text += strspn(text, " ");
    }
    usage_add(b, len, "\n");
}

/* `regdbg batch --help`: its commands are the command table's (debugger/command_table.c). */
const char *batch_usage(void)
{
    static char b[BATCH_USAGE_MAX];
    size_t len = 0;
    char list[300], intro[400];

    if (b[0]) {
        return b;
    }
    usage_add(b, &len, "%s",
              "usage: regdbg batch --qmp SOCKET [--device ID] [--map FILE]... [--record F] [--keep]\n"
              "                    [--symbols FILE[@BIAS]]... SCRIPT\n"
              "\n");
    snprintf(intro, sizeof(intro), "Run a script of regdbg commands against a running QEMU, "
             "without a screen: the rules commands of the TUI's : prompt (%s; docs/rules.md) and",
             command_list(CMDW_PROMPT | CMDW_BATCH, list, sizeof(list)));
    usage_wrap(b, &len, intro, 0, 0);
    for (int i = 0; i < CMD_COUNT; i++) {
        const struct command_def *c = &command_table[i];

        if ((c->where & CMDW_BATCH) && !(c->where & CMDW_PROMPT)) {
            usage_add(b, &len, "  %-17s ", c->usage);
            usage_wrap(b, &len, c->help, 20, 20);
        }
    }
    usage_add(b, &len, "%s",
    "SCRIPT is a file, or - for standard input; a file is checked whole before its first line\n"
    "runs. When the batch ends (the script done, an expect failed, an error, SIGINT or SIGTERM)\n"
    "it deletes the rules it added, and no others, and parked accesses go on. Exit status: 0\n"
    "when every line ran and every expect held, 1 otherwise, 2 for a usage error.\n"
    "\n"
    "  --device ID   the device `step` and `wait` apply to, when the VM has several\n"
    "  --map FILE    a register map for names (the shipped ones are always loaded)\n"
    "  --record F    record the (first) device's accesses meanwhile into trace file F\n"
    "  --keep        leave the rules the script added in the device when the batch ends\n"
    CLI_SYMBOLS_HELP
    "                   print names the parked access's PC (sym, src)\n"
    "\n"
    "example (ci.rgb):\n"
    "  break w IC_DATA_CMD if CMD == write\n"
    "  wait 10\n"
    "  expect DAT == 0x50\n"
    "  continue\n"
    "  regdbg batch --qmp /tmp/qmp.sock ci.rgb\n");
    return b;
}

/* A rule the batch added: deleted when the batch ends, if it is still the one written (seq). */
struct owned_rule {
    int dev, slot;
    uint32_t seq;
};

struct batch {
    struct session s;
    const char *script;
    int line_no;
    int dev;                    /* --device, or -1 */
    bool parked;
    struct session_park park;
    FILE *stats;                /* REGDBG_BATCH_STATS: when each answer was given, for bench */
    bool keep;                  /* --keep: leave the rules when the batch ends */
    struct owned_rule owned[SESSION_MAX_PROXIES * REGDBG_MAX_RULES];
    int n_owned;
};

static volatile sig_atomic_t batch_signal;

static void on_stop_signal(int sig)
{
    batch_signal = sig;
}

static const char *signal_name(int sig)
{
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}

static int fail(struct batch *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct batch *b, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "regdbg batch: %s:%d: ", b->script, b->line_no);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_RUNTIME;
}

static int wait_park(struct batch *b, double timeout_s)
{
    uint64_t deadline = session_now_ns() + (uint64_t)(timeout_s * 1e9);

    if (b->parked) {
        return fail(b, "wait: an access is still parked; continue or skip it first");
    }
    for (;;) {
        struct pollfd pfd = { .fd = b->s.park_fd, .events = POLLIN };
        uint64_t now = session_now_ns();

        session_drain(&b->s, 1u << 20);
        session_tick(&b->s, now);
        if (session_next_park(&b->s, &b->park) &&
            (b->dev < 0 || b->park.dev == b->dev)) {
            b->parked = true;
            return 0;
        }
        if (batch_signal) {
            return fail(b, "wait: stopped by %s", signal_name(batch_signal));
        }
        if (b->s.qemu_gone) {
            return fail(b, "wait: %s", b->s.qemu_gone_why);
        }
        if (now >= deadline) {
            return fail(b, "wait: no access parked within %g s", timeout_s);
        }
        if (poll(&pfd, 1, 5) > 0) {
            session_park_ack(&b->s);
        }
    }
}

static void print_park(const struct batch *b)
{
    const struct regdbg_park_slot *p = &b->park.park;
    json_t *dev = json_string(b->s.proxies[b->park.dev].id);
    char *dev_json = json_dumps(dev, JSON_ENCODE_ANY);

    /* The access is not in the ring yet (it is published when it completes): seq is null. */
    printf("{\"seq\":null,\"t_ns\":%" PRIu64 ",\"cpu\":%d,\"dev\":%s,\"bar\":%u,\"off\":%" PRIu64
           ",\"size\":%u,\"dir\":\"%c\",\"value\":%" PRIu64 ",\"flags\":[\"parked\"],\"rule\":",
           p->t_ns, p->cpu, dev_json ? dev_json : "\"\"", p->bar, p->offset, p->size,
           p->dir == REGDBG_DIR_WRITE ? 'w' : 'r', p->value);
    if (p->rule == REGDBG_RULE_NONE) {
        printf("null");
    } else {
        printf("%d", SESSION_RULE_ID(b->park.dev, p->rule));
    }
    /* as regdbg dump --format json: pc and mode only when known, sym and src with --symbols */
    if (p->pc_known) {
        printf(",\"pc\":%" PRIu64 ",\"mode\":\"%s\"%s", p->guest_pc,
               trace_cpu_mode_name(p->cpu_mode), p->pc_after ? ",\"pc_after\":true" : "");
        if (symbols_count(b->s.symbols)) {
            char sym[CLI_NAME_LEN], src[CLI_NAME_LEN];

            cli_pc_names(b->s.symbols, p->guest_pc, p->pc_after, sym, src);
            fputs(",\"sym\":", stdout);
            cli_print_json_string(sym);
            fputs(",\"src\":", stdout);
            cli_print_json_string(src);
        }
    }
    printf(",\"before_read\":%s}\n", p->before_read ? "true" : "false");
    fflush(stdout);
    free(dev_json);
    json_decref(dev);
}

/* gdb: the VM stops after the parked access; one JSON object says where and how to attach */
static int batch_gdb(struct batch *b)
{
    struct session_gdb g;
    char err[256];
    json_t *o;
    char *text;

    if (session_gdb_handoff(&b->s, &b->park, NULL, &g, err, sizeof(err)) < 0) {
        return fail(b, "gdb: %s", err);
    }
    b->parked = false;
    o = json_pack("{s:{s:i,s:b,s:I,s:s}}", "gdb", "port", g.port, "started", g.started,
                  "stop_pc", (json_int_t)g.stop_pc, "command", g.command);
    if (o && g.park_pc_known) {
        json_t *in = json_object_get(o, "gdb");

        json_object_set_new(in, "park_pc", json_integer((json_int_t)g.park_pc));
        json_object_set_new(in, "park_pc_after", json_boolean(g.park_pc_after));
        json_object_set_new(in, "bytes_after",
                            json_integer((json_int_t)(g.stop_pc - g.park_pc)));
    }
    text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (!text) {
        json_decref(o);
        return fail(b, "gdb: out of memory");
    }
    printf("%s\n", text);
    fflush(stdout);
    free(text);
    json_decref(o);
    return 0;
}

static void print_rules(struct batch *b)
{
    for (int d = 0; d < b->s.n_proxies; d++) {
        for (int n = 0; n < (int)REGDBG_MAX_RULES; n++) {
            struct rule_info ri;

            rule_get(&b->s.proxies[d].rr, n, &ri);
            if (ri.used) {
                printf("%d\t%s\t%s\thits=%" PRIu64 "\t%s\n", SESSION_RULE_ID(d, n),
                       b->s.proxies[d].id, ri.enabled ? "enabled" : "disabled", ri.hits,
                       ri.text);
            }
        }
    }
    fflush(stdout);
}

/*
 * The next script line. While none is there yet (a script fed through a pipe), keep draining the
 * rings and showing signs of life, so that the guest and any parked access are not held up.
 */
static ssize_t read_line(struct batch *b, FILE *f, char **line, size_t *cap)
{
    for (;;) {
        struct pollfd pfd = { .fd = fileno(f), .events = POLLIN };

        if (f != stdin || poll(&pfd, 1, 0) > 0) {
            return getline(line, cap, f);
        }
        if (batch_signal) {
            return -1;
        }
        session_drain(&b->s, 1u << 20);
        session_tick(&b->s, session_now_ns());
        poll(&pfd, 1, 5);
        if (pfd.revents) {
            return getline(line, cap, f);
        }
    }
}

/* Rule n of device dev is the batch's now (it was just added). */
static void own_rule(struct batch *b, int dev, int slot)
{
    if (b->n_owned < (int)(sizeof(b->owned) / sizeof(b->owned[0]))) {
        b->owned[b->n_owned++] = (struct owned_rule){
            dev, slot, rule_seq(&b->s.proxies[dev].rr, slot) };
    }
}

/* After the script's own enable, disable or delete (done or not): its rules among those it names
   are what they are now, or gone. */
static void owned_rules_changed(struct batch *b, const struct rules_cmd *cmd)
{
    for (int i = 0; i < b->n_owned; i++) {
        struct owned_rule *o = &b->owned[i];
        bool named = cmd->kind == RCMD_DELETE && cmd->n_ids == 0;
        struct rule_info ri;

        for (int k = 0; k < cmd->n_ids && !named; k++) {
            named = cmd->ids[k] == SESSION_RULE_ID(o->dev, o->slot);
        }
        if (!named) {
            continue;
        }
        rule_get(&b->s.proxies[o->dev].rr, o->slot, &ri);
        if (ri.used) {
            o->seq = rule_seq(&b->s.proxies[o->dev].rr, o->slot);
        } else {
            b->owned[i--] = b->owned[--b->n_owned];
        }
    }
}

/* The batch ends: delete the rules it added that are still as it left them. */
static void remove_owned_rules(struct batch *b)
{
    char err[256];

    for (int i = 0; i < b->n_owned; i++) {
        const struct owned_rule *o = &b->owned[i];
        struct ring_reader *rr = &b->s.proxies[o->dev].rr;
        struct rule_info ri;

        rule_get(rr, o->slot, &ri);
        if (ri.used && rule_seq(rr, o->slot) == o->seq &&
            rule_delete(rr, o->slot, err, sizeof(err)) < 0) {
            fprintf(stderr, "regdbg batch: cannot delete rule %d: %s\n",
                    SESSION_RULE_ID(o->dev, o->slot), err);
        }
    }
    b->n_owned = 0;
}

static int run_line(struct batch *b, const char *line)
{
    struct rules_device devs[SESSION_MAX_PROXIES];
    struct rules_ctx ctx;
    struct rules_cmd cmd;
    struct rules_error perr;
    char err[512];
    int r;

    session_rules_ctx(&b->s, devs, &ctx);
    if (rules_parse(line, &ctx, &cmd, &perr) < 0) {
        fprintf(stderr, "regdbg batch: %s:%d:%d: %s\n", b->script, b->line_no, perr.column,
                perr.message);
        return EXIT_RUNTIME;
    }
    switch (cmd.kind) {
    case RCMD_EMPTY:
        return 0;
    case RCMD_WAIT:
        return wait_park(b, cmd.timeout_s > 0 ? cmd.timeout_s : DEFAULT_WAIT_S);
    case RCMD_CONTINUE:
    case RCMD_SKIP:
        if (!b->parked) {
            return fail(b, "%s: no access is parked (wait first)",
                        cmd.kind == RCMD_CONTINUE ? "continue" : "skip");
        }
        if (b->stats) {
            fprintf(b->stats, "answered %d %llu\n", b->park.park.cpu,
                    (unsigned long long)session_now_ns());
            fflush(b->stats);
        }
        r = session_answer_park(&b->s, &b->park,
                                cmd.kind == RCMD_SKIP ? REGDBG_VERDICT_SKIP
                                : cmd.has_value ? REGDBG_VERDICT_VALUE : REGDBG_VERDICT_CONTINUE,
                                cmd.value, err, sizeof(err));
        b->parked = false;
        return r < 0 ? fail(b, "%s", err) : 0;
    case RCMD_PRINT:
        if (!b->parked) {
            return fail(b, "print: no access is parked (wait first)");
        }
        print_park(b);
        return 0;
    case RCMD_GDB:
        if (!b->parked) {
            return fail(b, "gdb: no access is parked (wait first)");
        }
        return batch_gdb(b);
    case RCMD_EXPECT:
        if (!b->parked) {
            return fail(b, "expect: no access is parked (wait first)");
        }
        if (regdbg_rule_eval(&cmd.cond, b->park.park.value, b->park.park.size,
                             b->park.park.cpu,
                             b->park.park.pc_known
                                 ? b->park.park.guest_pc - b->park.park.pc_after
                                 : REGDBG_PC_UNKNOWN) != 1) {
            return fail(b, "expect failed: %s (value=0x%" PRIx64 " size=%u cpu=%d off=0x%" PRIx64
                        ")", line, b->park.park.value, b->park.park.size, b->park.park.cpu,
                        b->park.park.offset);
        }
        return 0;
    case RCMD_INFO_RULES:
        print_rules(b);
        return 0;
    case RCMD_IRQ:
        /* a device named on the line, the only one, or --device; never a guess */
        if (session_irq(&b->s, cmd.spec.dev >= 0 ? cmd.spec.dev : b->dev, cmd.irq_action, err,
                        sizeof(err)) < 0) {
            return fail(b, "%s", err);
        }
        fprintf(stderr, "regdbg batch: %s\n", b->s.message);
        b->s.message[0] = '\0';
        return 0;
    default:
        r = session_rule_command(&b->s, line, b->dev >= 0 ? b->dev : 0, &cmd, err, sizeof(err));
        if (cmd.kind == RCMD_RULE && r >= 0) {
            own_rule(b, cmd.spec.dev, r);
        } else if (cmd.kind == RCMD_ENABLE || cmd.kind == RCMD_DISABLE ||
                   cmd.kind == RCMD_DELETE) {
            owned_rules_changed(b, &cmd);
        }
        if (r < 0) {
            return fail(b, "%s", err);
        }
        if (b->s.message[0]) {
            fprintf(stderr, "regdbg batch: %s\n", b->s.message);
            b->s.message[0] = '\0';
        }
        return 0;
    }
}

/* Parse every line of a script file before the first one runs: a typo on line 9 must not leave
   lines 1 to 8 done. Returns 0, or EXIT_RUNTIME with the message printed. */
static int check_script(struct batch *b, FILE *f)
{
    struct rules_device devs[SESSION_MAX_PROXIES];
    struct rules_ctx ctx;
    static struct rules_cmd cmd;
    struct rules_error perr;
    char *line = NULL;
    size_t cap = 0;
    int line_no = 0, status = 0;

    session_rules_ctx(&b->s, devs, &ctx);
    while (status == 0 && getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\r\n")] = '\0';
        line_no++;
        if (rules_parse(line, &ctx, &cmd, &perr) < 0) {
            fprintf(stderr, "regdbg batch: %s:%d:%d: %s\n", b->script, line_no, perr.column,
                    perr.message);
            status = EXIT_RUNTIME;
        }
    }
    free(line);
    rewind(f);
    return status;
}

int cmd_batch(int argc, char **argv)
{
    static const struct option opts[] = {
        { "qmp", required_argument, NULL, 'q' },
        { "device", required_argument, NULL, 'd' },
        { "map", required_argument, NULL, 'm' },
        { "record", required_argument, NULL, 'r' },
        { "keep", no_argument, NULL, 'k' },
        { "symbols", required_argument, NULL, CLI_SYMBOLS },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    const char *sym_specs[CLI_MAX_SYMBOLS];
    int n_syms = 0;
    static struct batch b;
    struct sigaction sa = { .sa_handler = on_stop_signal };
    struct stat st;
    const char *sock = NULL, *device = NULL, *record = NULL;
    char *maps[SESSION_MAX_MAPS];
    int n_maps = 0, opt, status = 0;
    char err[1024], *line = NULL;
    size_t cap = 0;
    FILE *f;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (opt) {
        case 'q': sock = optarg; break;
        case 'd': device = optarg; break;
        case 'r': record = optarg; break;
        case 'm':
            if (n_maps < SESSION_MAX_MAPS) {
                maps[n_maps++] = optarg;
            }
            break;
        case 'k': b.keep = true; break;
        case 'h': fputs(batch_usage(), stdout); return 0;
        case CLI_SYMBOLS:
            if (cli_symbols_option("batch", sym_specs, &n_syms, optarg)) {
                return EXIT_USAGE;
            }
            break;
        default: return cli_bad_option("batch", argc, argv, opts, "+h");
        }
    }
    if (!sock || optind != argc - 1) {
        return cli_usage_error("batch", "give --qmp SOCKET and one SCRIPT");
    }
    if (session_init(&b.s, BATCH_SCROLLBACK, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg batch: %s\n", err);
        return EXIT_RUNTIME;
    }
    /* first: a file that is not symbols stops the batch before it touches the VM */
    for (int i = 0; i < n_syms; i++) {
        if (session_add_symbols(&b.s, sym_specs[i], err, sizeof(err)) < 0) {
            fprintf(stderr, "regdbg batch: --symbols: %s\n", err);
            session_free(&b.s);
            return EXIT_RUNTIME;
        }
    }
    b.script = argv[optind];
    b.dev = -1;
    if (getenv("REGDBG_BATCH_STATS")) {
        b.stats = fopen(getenv("REGDBG_BATCH_STATS"), "w");
    }
    f = strcmp(b.script, "-") == 0 ? stdin : fopen(b.script, "r");
    if (!f) {
        fprintf(stderr, "regdbg batch: cannot open %s: %s\n", b.script, strerror(errno));
        session_free(&b.s);
        return EXIT_RUNTIME;
    }
    if (f == stdin) {
        /* read_line polls the descriptor for the next line: no lines may wait unseen in a
           stdio buffer while the writer keeps the pipe open */
        setvbuf(stdin, NULL, _IONBF, 0);
    }
    if (session_load_default_maps(&b.s, maps, n_maps, err, sizeof(err)) < 0 ||
        session_attach(&b.s, sock, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg batch: %s\n", err);
        status = EXIT_RUNTIME;
        goto out;
    }
    b.s.no_pci_refresh = true;
    if (record && session_record_start(&b.s, record, device ? session_find_proxy(&b.s, device)
                                                             : 0, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg batch: %s\n", err);
        status = EXIT_RUNTIME;
        goto out;
    }
    if (device && (b.dev = session_find_proxy(&b.s, device)) < 0) {
        fprintf(stderr, "regdbg batch: no regdbg-proxy with id '%s' at %s\n", device, sock);
        status = EXIT_RUNTIME;
        goto out;
    }
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (status = check_script(&b, f))) {
        goto out;
    }
    /* No SA_RESTART: a signal ends the waits at once, and the batch cleans up after itself. */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (!batch_signal && read_line(&b, f, &line, &cap) > 0) {
        line[strcspn(line, "\r\n")] = '\0';
        b.line_no++;
        status = run_line(&b, line);
        if (status) {
            break;
        }
    }
    if (batch_signal && !status) {
        fprintf(stderr, "regdbg batch: %s:%d: stopped by %s\n", b.script, b.line_no,
                signal_name(batch_signal));
        status = EXIT_RUNTIME;
    }
    if (record) {
        /* Accesses answered last complete on their vCPU a moment later: take them too. */
        uint64_t until = session_now_ns() + 200000000ull;
        while (session_now_ns() < until) {
            if (!session_drain(&b.s, 1u << 20)) {
                struct timespec ts = { 0, 5000000 };
                nanosleep(&ts, NULL);
            }
        }
    }
out:
    free(line);
    if (f != stdin) {
        fclose(f);
    }
    if (!b.keep) {
        remove_owned_rules(&b);
    }
    session_free(&b.s);   /* the heartbeat says nobody answers; parked accesses go on */
    if (b.stats) {
        fclose(b.stats);
    }
    return status;
}
