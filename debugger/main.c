/*
 * regdbg: the command line. Dispatches to the sub-commands and prints the help, which is generated
 * from the same table that dispatches, so it cannot drift from what runs.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const struct command commands[] = {
    { "launch", "start QEMU with the proxy and open the debugger on it", launch_usage,
      cmd_launch },
    { "attach", "open the debugger on a running QEMU (its QMP socket)", attach_usage,
      cmd_attach },
    { "batch", "run a script of rules and checks without a screen (for CI)", batch_usage,
      cmd_batch },
    { "record", "record a proxy's register accesses into a trace file", record_usage,
      cmd_record },
    { "dump", "print a trace file as text or JSON lines", dump_usage, cmd_dump },
    { "scan", "list the host's PCI devices: ids, names, BARs, bound driver", scan_usage,
      cmd_scan },
    { "qemu-args", "print the -device option that clones a host PCI device", qemu_args_usage,
      cmd_qemu_args },
};

static void usage(FILE *f)
{
    fputs("usage: regdbg COMMAND [ARGS...]\n"
          "\n"
          "regdbg is a register debugger: it watches every register access a firmware makes to a\n"
          "regdbg-proxy device in QEMU.\n"
          "\n"
          "commands:\n", f);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    }
    fputs("\n"
          "`regdbg COMMAND --help` describes a command.\n"
          "\n"
          "example:\n"
          "  regdbg record --qmp /tmp/qmp.sock -o fw.trace --duration 5 && regdbg dump fw.trace\n"
          "\n"
          "exit status: 0 success, 1 runtime error, 2 usage error\n", f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        (!strcmp(argv[1], "help") && argc == 2)) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (!strcmp(argv[1], "help") && argc > 2 && !strcmp(argv[2], commands[i].name)) {
            fputs(commands[i].usage, stdout);
            return 0;
        }
        if (!strcmp(argv[1], commands[i].name)) {
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "regdbg: unknown command '%s'\n(see regdbg --help)\n", argv[1]);
    return EXIT_USAGE;
}
