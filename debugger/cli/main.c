/*
 * regdbg: the command line. Dispatches to the sub-commands and prints the help, which is generated
 * from the same table that dispatches, so it cannot drift from what runs.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "command_table.h"
#include "regdbg/abi.h"
#include "rules_parse.h"
#include "trace_file.h"
#include "tui.h"
#include "version.h"

static const struct command commands[] = {
    { "launch", "start QEMU with the proxy and open the debugger on it", launch_usage,
      cmd_launch, NULL },
    { "attach", "open the debugger on a running QEMU (its QMP socket)", attach_usage,
      cmd_attach, NULL },
    { "batch", "run a script of rules and checks without a screen (for CI)", NULL, cmd_batch,
      batch_usage },
    { "record", "record a proxy's register accesses into a trace file", record_usage,
      cmd_record, NULL },
    { "dump", "print a trace file as text or JSON lines", dump_usage, cmd_dump, NULL },
    { "diff", "compare recorded runs: first divergence, hunks, per-register summary",
      diff_usage, cmd_diff, NULL },
    { "export", "write a trace file as Linux mmiotrace text", export_usage, cmd_export, NULL },
    { "import", "read Linux mmiotrace text into a trace file", import_usage, cmd_import,
      NULL },
    { "map", "make a register map from a C header's #defines (map import)", map_usage, cmd_map,
      NULL },
    { "scan", "list the host's PCI devices: ids, names, BARs, bound driver", scan_usage,
      cmd_scan, NULL },
    { "qemu-args", "print the -device option that clones a host PCI device", qemu_args_usage,
      cmd_qemu_args, NULL },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
    fputs("usage: regdbg COMMAND [ARGS...]\n"
          "       regdbg --version\n"
          "\n"
          "regdbg is a register debugger: it watches every register access a firmware makes to a\n"
          "regdbg-proxy device in QEMU.\n"
          "\n"
          "commands:\n", f);
    for (size_t i = 0; i < N_COMMANDS; i++) {
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    }
    fputs("\n"
          "`regdbg COMMAND --help` describes a command; `regdbg help --commands` lists the\n"
          "commands of the : prompt, rules files and batch scripts, `regdbg help --keys` the\n"
          "keys of the interactive screens.\n"
          "\n"
          "example:\n"
          "  regdbg record --qmp /tmp/qmp.sock -o fw.trace --duration 5 && regdbg dump fw.trace\n"
          "\n"
          "exit status: 0 success, 1 runtime error, 2 usage error; diff as diff(1): 0 the runs\n"
          "agree, 1 they differ, 2 trouble\n", f);
}

/* `regdbg help --commands`: the command table (debugger/command_table.c), tab-separated. */
static void print_commands(void)
{
    char where[64];

    printf("# the commands of the : prompt, rules files and batch scripts (docs/rules.md)\n"
           "# name\tusage\twhere\thelp\n");
    for (int i = 0; i < CMD_COUNT; i++) {
        const struct command_def *c = &command_table[i];

        printf("%s\t%s\t%s\t%s\n", c->name, c->usage,
               command_where_text(c->where, where, sizeof(where)), c->help);
    }
}

static void version(void)
{
    printf("regdbg %s (shared-memory ABI %u, trace format %u)\n", REGDBG_VERSION,
           REGDBG_ABI_VERSION, REGDBG_TRACE_VERSION);
}

/* "regdbg: unknown command "recrod"; did you mean "record"?" */
static int unknown_command(const char *name)
{
    const char *names[N_COMMANDS + 2];
    const char *best;

    for (size_t i = 0; i < N_COMMANDS; i++) {
        names[i] = commands[i].name;
    }
    names[N_COMMANDS] = "help";
    names[N_COMMANDS + 1] = "version";
    best = name[0] == '-' ? NULL : rules_closest_name(name, names, N_COMMANDS + 2);
    if (name[0] == '-') {
        fprintf(stderr, "regdbg: unknown option '%s'; try 'regdbg --help'\n", name);
    } else if (best) {
        fprintf(stderr, "regdbg: unknown command \"%s\"; did you mean \"%s\"?\n", name, best);
    } else {
        fprintf(stderr, "regdbg: unknown command \"%s\"; 'regdbg --help' lists the commands\n",
                name);
    }
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    const char *name;

    /* The commands say what was wrong with an option themselves, in one line (cli.h). */
    opterr = 0;
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        (!strcmp(argv[1], "help") && argc == 2)) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || (!strcmp(argv[1], "version") && argc == 2)) {
        version();
        return 0;
    }
    if (!strcmp(argv[1], "version")) {
        fprintf(stderr, "regdbg version: takes no arguments\n");
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "help") && argc == 3 && !strcmp(argv[2], "--commands")) {
        print_commands();
        return 0;
    }
    if (!strcmp(argv[1], "help") && argc == 3 && !strcmp(argv[2], "--keys")) {
        ui_keys_print(stdout);
        return 0;
    }
    name = !strcmp(argv[1], "help") ? argv[2] : argv[1];
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(name, commands[i].name) != 0) {
            continue;
        }
        if (name != argv[1]) {
            fputs(commands[i].usage ? commands[i].usage : commands[i].usage_text(), stdout);
            return 0;
        }
        return commands[i].run(argc - 1, argv + 1);
    }
    return unknown_command(name);
}
