/*
 * `regdbg attach` and `regdbg launch`: their options and usage; the interactive program itself
 * is views/ (views/tui.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "session.h"
#include "tui.h"

const char launch_usage[] =
    "usage: regdbg launch [--kvm|--tcg] [--map FILE]... [--rules FILE] [--scrollback N]\n"
    "                     [--gdb PORT] [--symbols FILE[@BIAS]]... -- QEMU-ARGS...\n"
    "\n"
    "Start the QEMU built with regdbg-proxy with a private QMP socket and the given arguments,\n"
    "and attach the debugger to it. QEMU's own output goes to a log file (its path is shown\n"
    "when QEMU fails). Quitting asks before it shuts that QEMU down; d detaches and leaves it\n"
    "running.\n"
    "\n"
    "  --kvm, --tcg     the accelerator (default: KVM when /dev/kvm is usable, else TCG)\n"
    "  --rules FILE     rules to set first (the : commands break, edit, inject, drop...;\n"
    "                   docs/rules.md), one per line; all of them, or none when one fails\n"
    "  --map FILE       a register map (JSON, docs/register-maps.md); repeatable. Maps are\n"
    "                   matched to proxies by vendor:device; the shipped ones are always loaded\n"
    "  --scrollback N   events kept for scrolling, filtering and search (default 2097152)\n"
    "  --gdb PORT       start QEMU's gdbstub on TCP PORT (-gdb tcp::PORT); G at a parked\n"
    "                   access stops the VM there for gdb (without --gdb, G starts a gdbstub)\n"
    CLI_SYMBOLS_HELP
    "                   the screen names the PCs with them; the first ELF given without a\n"
    "                   BIAS is the file of the gdb command line that G prints\n"
    "\n"
    "example:\n"
    "  regdbg launch --tcg -- -machine q35 -m 64 -kernel fw.elf \\\n"
    "      -device regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,bar0-size=4096\n";

const char attach_usage[] =
    "usage: regdbg attach SOCKET [--map FILE]... [--rules FILE] [--scrollback N]\n"
    "                     [--symbols FILE[@BIAS]]...\n"
    "\n"
    "Attach the debugger to a QEMU started with -qmp unix:SOCKET,server=on,wait=off and one or\n"
    "more -device regdbg-proxy. Quitting (q) leaves the VM running untouched; attaching again\n"
    "picks up where the ring is. A gdbstub given on QEMU's command line (-gdb tcp::PORT, -s) is\n"
    "noticed; G at a parked access stops the VM there for gdb (starting a gdbstub if needed).\n"
    "\n"
    CLI_SYMBOLS_HELP
    "\n"
    "example:\n"
    "  regdbg attach /tmp/qmp.sock --map my-device.json\n";

static const struct option common_opts[] = {
    { "map", required_argument, NULL, 'm' },
    { "rules", required_argument, NULL, 'r' },
    { "scrollback", required_argument, NULL, 's' },
    { "kvm", no_argument, NULL, 'k' },
    { "tcg", no_argument, NULL, 't' },
    { "gdb", required_argument, NULL, 'g' },
    { "symbols", required_argument, NULL, CLI_SYMBOLS },
    { "help", no_argument, NULL, 'h' },
    { 0 },
};

/* Where the --symbols arguments are kept (struct tui_options points at them). */
struct extra_options {
    const char *sym_specs[CLI_MAX_SYMBOLS];
    int n_syms;
};

/* An option regdbg launch does not know is most likely QEMU's, given before "--". */
static int launch_bad_option(int argc, char **argv)
{
    struct cli_bad bad;

    cli_bad_arg(argc, argv, common_opts, "h", &bad);
    if (bad.kind != CLI_UNKNOWN) {
        return cli_bad_option("launch", argc, argv, common_opts, "h");
    }
    if (bad.index < 0) {
        fprintf(stderr, "regdbg launch: QEMU's arguments follow \"--\": regdbg launch [OPTIONS] "
                "-- QEMU-ARGS...\n");
    } else {
        const char *next = bad.index + 1 < argc && argv[bad.index + 1][0] != '-'
                           ? argv[bad.index + 1] : NULL;

        fprintf(stderr, "regdbg launch: QEMU's arguments follow \"--\": regdbg launch [OPTIONS] "
                "-- %s%s%s ...\n", argv[bad.index], next ? " " : "", next ? next : "");
    }
    return EXIT_USAGE;
}

static int parse_common(int argc, char **argv, struct tui_options *o, struct extra_options *x,
                        int *accel, const char *usage, const char *cmd)
{
    const struct option *opts = common_opts;
    int opt;

    optind = 1;
    /* GNU getopt: options may follow SOCKET; QEMU's arguments follow "--" untouched */
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'm':
            if (o->n_maps < SESSION_MAX_MAPS) {
                o->maps[o->n_maps++] = optarg;
            }
            break;
        case 'r':
            o->rules = optarg;
            break;
        case 's': {
            uint64_t v;
            if (rules_parse_number(optarg, strlen(optarg), &v) != RULES_NUMBER_OK || v < 1000 ||
                v > (1ull << 28)) {
                return -cli_usage_error(cmd, "--scrollback needs 1000 to 268435456 events");
            }
            o->scrollback = (size_t)v;
            break;
        }
        case 'g': {
            uint64_t v;
            if (!accel) {
                return -cli_usage_error(cmd, "--gdb is for launch (attach notices a gdbstub on "
                                        "QEMU's command line, and G starts one if needed)");
            }
            if (rules_parse_number(optarg, strlen(optarg), &v) != RULES_NUMBER_OK || v < 1 ||
                v > 65535) {
                return -cli_usage_error(cmd, "--gdb needs a TCP port, 1 to 65535");
            }
            o->gdb_port = (int)v;
            break;
        }
        case 'k':
        case 't':
            if (!accel) {
                return -cli_usage_error(cmd, "--%s is for launch", opt == 'k' ? "kvm" : "tcg");
            }
            *accel = opt;
            break;
        case CLI_SYMBOLS:
            if (cli_symbols_option(cmd, x->sym_specs, &x->n_syms, optarg)) {
                return -EXIT_USAGE;
            }
            break;
        case 'h':
            fputs(usage, stdout);
            return 1;
        default:
            return -(accel ? launch_bad_option(argc, argv)
                           : cli_bad_option(cmd, argc, argv, opts, "h"));
        }
    }
    return 0;
}

int cmd_attach(int argc, char **argv)
{
    static char *maps[SESSION_MAX_MAPS];
    struct tui_options o = { .maps = maps, .scrollback = TUI_DEFAULT_SCROLLBACK };
    struct extra_options x = { .n_syms = 0 };
    int status;

    status = parse_common(argc, argv, &o, &x, NULL, attach_usage, "attach");
    if (status) {
        return status > 0 ? 0 : -status;
    }
    if (optind != argc - 1) {
        return optind < argc ? cli_usage_error("attach", "unexpected argument '%s' (give one "
                                               "QMP SOCKET)", argv[optind + 1])
                             : cli_usage_error("attach", "give the QMP SOCKET");
    }
    o.symbols = x.sym_specs;
    o.n_symbols = x.n_syms;
    return tui_attach(&o, argv[optind]);
}

int cmd_launch(int argc, char **argv)
{
    static char *maps[SESSION_MAX_MAPS];
    struct tui_options o = { .maps = maps, .scrollback = TUI_DEFAULT_SCROLLBACK };
    struct extra_options x = { .n_syms = 0 };
    int accel = 0, status;

    status = parse_common(argc, argv, &o, &x, &accel, launch_usage, "launch");
    if (status) {
        return status > 0 ? 0 : -status;
    }
    if (optind >= argc) {
        return cli_usage_error("launch", "give QEMU's arguments after --");
    }
    /* tui_launch loads them before QEMU starts: a file that is not symbols stops nothing
       running */
    o.symbols = x.sym_specs;
    o.n_symbols = x.n_syms;
    if (!accel) {
        accel = access("/dev/kvm", R_OK | W_OK) == 0 ? 'k' : 't';
    }
    return tui_launch(&o, accel == 'k' ? "kvm" : "tcg", argc - optind, argv + optind);
}
