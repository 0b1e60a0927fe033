/*
 * `regdbg dump`: print a trace file as text (one line per access, in the spirit of Linux
 * mmiotrace) or as JSON lines, with the guest PC of each access named by --symbols; --follow
 * keeps reading while a recording grows.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "ring_reader.h"
#include "symbols.h"
#include "trace_file.h"

const char dump_usage[] =
    "usage: regdbg dump FILE [--format text|json] [--follow] [--symbols FILE[@BIAS]]...\n"
    "\n"
    "Print the accesses of a trace file written by `regdbg record`.\n"
    "text: one line per access: direction (R/W), width in bytes, seconds since the recording\n"
    "      began, CPU, device, BAR+offset, value, then flags and the original value when a\n"
    "      rule changed it, and the guest PC when it is known: pc=0x10117b, pc=0x10117d(after)\n"
    "      when it is the address after the instruction, mode=prot32 when the vCPU's mode\n"
    "      is new, and with --symbols the function+offset and (file:line). Lines starting\n"
    "      with # are markers (dropped events, end). Bytes of the device id and of names other\n"
    "      than printable ASCII show as \\xNN.\n"
    "json: one object per line with the keys seq, t_ns, cpu, dev, bar, off, size, dir (\"r\" or\n"
    "      \"w\"), value, flags (and orig, rule when a rule touched the access; pc, mode, and\n"
    "      pc_after: true, when the PC is known; with --symbols also sym \"func+0xoff\" and\n"
    "      src \"file:line\", null when unknown).\n"
    "A damaged file is reported after the events that precede the damage.\n"
    "\n"
    "  --format F   text (default) or json\n"
    "  -f, --follow keep reading as the file grows, until the recording ends or Ctrl-C;\n"
    "               waits for FILE when the recording has not created it yet\n"
    CLI_SYMBOLS_HELP
    "\n"
    "examples:\n"
    "  regdbg dump i2c.trace | less\n"
    "  regdbg dump i2c.trace --format json | jq 'select(.dir == \"w\")'\n"
    "  regdbg dump fw.trace --symbols fw.elf --symbols option-rom.map@0xc0000\n";

/* What a dump knows besides the file: the names of the PCs, the mode each vCPU was last seen
   in (the text shows a mode when it changes). */
struct dump_ctx {
    const struct symbols *syms;
    uint8_t last_mode[RING_MAX_CPU + 2];    /* by cpu + 1; [0] for no vCPU and odd ones */
};

#define MODE_NOT_SEEN 0xff

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

/*
 * The device id as text output shows it: printable ASCII but for backslash, everything else as
 * \xNN, so that a damaged or hostile file cannot send escape sequences to the terminal or break
 * the line into more columns. out holds at least 4 * REGDBG_DEV_ID_LEN + 1 bytes.
 */
static void escape_dev_id(const char *id, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < REGDBG_DEV_ID_LEN && id[i]; i++) {
        unsigned char c = (unsigned char)id[i];

        if (c > 0x20 && c < 0x7f && c != '\\') {
            out[o++] = (char)c;
        } else {
            o += (size_t)sprintf(out + o, "\\x%02x", c);
        }
    }
    out[o] = '\0';
}

/* Has the access's vCPU changed mode since its last access with a PC (or is this its first)? */
static bool mode_is_new(struct dump_ctx *d, const struct regdbg_trace_record *r)
{
    size_t i = r->cpu >= 0 && r->cpu <= RING_MAX_CPU ? (size_t)r->cpu + 1 : 0;
    bool changed = d->last_mode[i] != r->cpu_mode;

    d->last_mode[i] = r->cpu_mode;
    return changed;
}

static void print_text(struct dump_ctx *d, const struct regdbg_trace_record *r,
                       const struct regdbg_trace_header *h, const char *dev)
{
    /* Time since the start, sign and magnitude apart: the difference may be any 64-bit value. */
    bool negative = r->t_ns < h->start_monotonic_ns;
    uint64_t mag = negative ? h->start_monotonic_ns - r->t_ns : r->t_ns - h->start_monotonic_ns;
    char flags[64];
    char cpu[16];

    if (r->kind == REGDBG_REC_DROP) {
        printf("# dropped %" PRIu64 " events here (ring full or producer gone)\n", r->value);
        return;
    }
    if (r->kind == REGDBG_REC_END) {
        printf("# end of recording: %" PRIu64 " events, %" PRIu64 " dropped\n", r->value,
               r->orig_value);
        return;
    }
    if (r->cpu == REGDBG_CPU_NONE) {
        snprintf(cpu, sizeof(cpu), "-");
    } else {
        snprintf(cpu, sizeof(cpu), "cpu%d", r->cpu);
    }
    printf("%c %u %s%" PRIu64 ".%09" PRIu64 " %s %s bar%u+0x%04" PRIx64 " 0x%0*" PRIx64,
           r->dir == REGDBG_DIR_WRITE ? 'W' : 'R', r->size, negative ? "-" : "",
           mag / 1000000000u, mag % 1000000000u, cpu, dev[0] ? dev : "-", r->bar,
           r->offset, r->size * 2, r->value);
    trace_flags_str(r->flags, flags, sizeof(flags));
    if (flags[0]) {
        printf(" %s", flags);
    }
    if (r->value != r->orig_value) {
        printf(" orig=0x%0*" PRIx64, r->size * 2, r->orig_value);
    }
    if (r->rule != REGDBG_RULE_NONE) {
        printf(" rule=%u", r->rule);
    }
    if (r->flags & REGDBG_EV_PC) {
        char sym[CLI_NAME_LEN], src[CLI_NAME_LEN], text[4 * CLI_NAME_LEN];

        printf(" pc=0x%" PRIx64 "%s", r->guest_pc, r->flags & REGDBG_EV_PC_AFTER ? "(after)" : "");
        if (mode_is_new(d, r)) {
            printf(" mode=%s", trace_cpu_mode_name(r->cpu_mode));
        }
        cli_pc_names(d->syms, r->guest_pc, r->flags & REGDBG_EV_PC_AFTER, sym, src);
        if (sym[0]) {
            cli_escape_name(sym, text, sizeof(text));
            printf(" %s", text);
        }
        if (src[0]) {
            cli_escape_name(src, text, sizeof(text));
            printf(" (%s)", text);
        }
    }
    putchar('\n');
}

static void print_json(const struct dump_ctx *d, const struct regdbg_trace_record *r,
                       const char *dev_json)
{
    bool first = true;

    if (r->kind != REGDBG_REC_ACCESS) {
        return;
    }
    printf("{\"seq\":%" PRIu64 ",\"t_ns\":%" PRIu64 ",\"cpu\":%d,\"dev\":%s,\"bar\":%u,"
           "\"off\":%" PRIu64 ",\"size\":%u,\"dir\":\"%c\",\"value\":%" PRIu64 ",\"flags\":[",
           r->seq, r->t_ns, r->cpu, dev_json, r->bar, r->offset, r->size,
           r->dir == REGDBG_DIR_WRITE ? 'w' : 'r', r->value);
    for (unsigned i = 0; i < TRACE_N_FLAGS; i++) {
        /* the PC's flags are keys of their own */
        if ((r->flags & (1u << i)) && !((1u << i) & (REGDBG_EV_PC | REGDBG_EV_PC_AFTER))) {
            printf("%s\"%s\"", first ? "" : ",", trace_flag_names[i]);
            first = false;
        }
    }
    putchar(']');
    if (r->value != r->orig_value || r->rule != REGDBG_RULE_NONE) {
        printf(",\"orig\":%" PRIu64, r->orig_value);
    }
    if (r->rule != REGDBG_RULE_NONE) {
        printf(",\"rule\":%u", r->rule);
    }
    if (r->flags & REGDBG_EV_PC) {
        printf(",\"pc\":%" PRIu64 ",\"mode\":\"%s\"%s", r->guest_pc,
               trace_cpu_mode_name(r->cpu_mode),
               r->flags & REGDBG_EV_PC_AFTER ? ",\"pc_after\":true" : "");
        if (symbols_count(d->syms)) {
            char sym[CLI_NAME_LEN], src[CLI_NAME_LEN];

            cli_pc_names(d->syms, r->guest_pc, r->flags & REGDBG_EV_PC_AFTER, sym, src);
            fputs(",\"sym\":", stdout);
            cli_print_json_string(sym);
            fputs(",\"src\":", stdout);
            cli_print_json_string(src);
        }
    }
    puts("}");
}

int cmd_dump(int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'F' },
        { "follow", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { "symbols", required_argument, NULL, CLI_SYMBOLS },
        { 0 },
    };
    static struct dump_ctx d;
    const char *sym_specs[CLI_MAX_SYMBOLS];
    struct symbols *syms = NULL;
    int n_syms = 0;
    const char *path, *format = "text";
    struct trace_reader *r;
    struct regdbg_trace_record rec;
    bool follow = false, json, ended = false;
    char *dev_json;
    char dev_text[4 * REGDBG_DEV_ID_LEN + 1];
    char err[512];
    int opt, status = 0;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
        switch (opt) {
        case 'F': format = optarg; break;
        case 'f': follow = true; break;
        case 'h': fputs(dump_usage, stdout); return 0;
        case CLI_SYMBOLS:
            if (cli_symbols_option("dump", sym_specs, &n_syms, optarg)) {
                return EXIT_USAGE;
            }
            break;
        default:
            return cli_bad_option("dump", argc, argv, opts, "fh");
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "regdbg dump: give exactly one trace FILE; try 'regdbg dump --help'\n");
        return EXIT_USAGE;
    }
    if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
        fprintf(stderr, "regdbg dump: --format %s: expected text or json\n", format);
        return EXIT_USAGE;
    }
    json = format[0] == 'j';
    path = argv[optind];
    if ((status = cli_load_symbols("dump", sym_specs, n_syms, &syms))) {
        return status;
    }
    d.syms = syms;
    memset(d.last_mode, MODE_NOT_SEEN, sizeof(d.last_mode));
    if (follow) {
        struct sigaction sa = { .sa_handler = on_interrupt };
        struct stat st;

        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        /* The recording may not have begun yet: wait for its file and header, as tail -F
           does, so that the reader can be started first. */
        while (!interrupted && (stat(path, &st) < 0 ? errno == ENOENT :
                                S_ISREG(st.st_mode) && st.st_size < REGDBG_TRACE_HEADER_SIZE)) {
            struct timespec ts = { 0, 50 * 1000000L };
            nanosleep(&ts, NULL);
        }
    }
    r = trace_reader_open(path, err, sizeof(err));
    if (!r) {
        fprintf(stderr, "regdbg dump: %s\n", err);
        symbols_free(syms);
        return EXIT_RUNTIME;
    }
    escape_dev_id(trace_reader_header(r)->dev_id, dev_text);
    {
        /* JSON escapes control characters itself; an id that is not UTF-8 goes as its text
           form, so that the output stays valid JSON. */
        json_t *dev = json_string(trace_reader_header(r)->dev_id);

        if (!dev) {
            dev = json_string(dev_text);
        }
        dev_json = json_dumps(dev, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
        json_decref(dev);
    }
    for (;;) {
        enum trace_read_status st = trace_reader_next(r, &rec, err, sizeof(err));

        if (st == TRACE_RECORD) {
            if (json) {
                print_json(&d, &rec, dev_json ? dev_json : "\"\"");
            } else {
                print_text(&d, &rec, trace_reader_header(r), dev_text);
            }
            if (rec.kind == REGDBG_REC_DROP && json) {
                fprintf(stderr, "regdbg dump: %" PRIu64 " events dropped before seq %" PRIu64
                        "\n", rec.value, rec.seq);
            }
            if (rec.kind == REGDBG_REC_END) {
                ended = true;
                if (follow) {
                    break;
                }
            }
            continue;
        }
        if (follow && !interrupted && (st == TRACE_EOF || st == TRACE_PARTIAL)) {
            struct timespec ts = { 0, 50 * 1000000L };
            fflush(stdout);
            nanosleep(&ts, NULL);
            continue;
        }
        if (st == TRACE_EOF) {
            if (!ended && !follow) {
                fprintf(stderr, "regdbg dump: note: %s has no end record; the recording was "
                        "interrupted or is still running\n", path);
            }
            break;
        }
        if (st == TRACE_PARTIAL && follow) {
            break;
        }
        fflush(stdout);
        fprintf(stderr, "regdbg dump: %s\n", err);
        status = EXIT_RUNTIME;
        break;
    }
    free(dev_json);
    trace_reader_close(r);
    symbols_free(syms);
    return status;
}
