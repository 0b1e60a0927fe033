/*
 * `regdbg import`: another tool's trace into a regdbg trace file; for now Linux's mmiotrace text
 * (debugger/mmiotrace.h), each access placed on its device, BAR and offset.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mmiotrace.h"

const char import_usage[] =
    "usage: regdbg import mmiotrace FILE -o TRACE [--device VVVV:DDDD|BB:DD.F]\n"
    "\n"
    "Read Linux's mmiotrace text (what /sys/kernel/tracing/trace_pipe gives with the mmiotrace\n"
    "tracer; version 20070824) into a regdbg trace file, which dump, diff and export read.\n"
    "Each R and W line is placed on its PCI device, BAR and offset through the PCIDEV lines\n"
    "(the devices and where their BARs are) and checked against its MAP line; accesses outside\n"
    "every BAR the PCIDEV lines give are counted and reported, never guessed. A trace holds one\n"
    "device: the one the accesses fall on, or the one --device names. The PC of each line\n"
    "(mmiotrace records it with mmiotrace.trace_pc=1 on the kernel's command line) is kept; 0\n"
    "is none. Times stay the tracer's. A summary says what went where. docs/formats.md\n"
    "describes it all.\n"
    "\n"
    "  -o, --output TRACE   the trace file to write\n"
    "  --device D           the device to take: VVVV:DDDD (hex vendor:device) or BB:DD.F (its\n"
    "                       PCI address, as lspci prints it)\n"
    "\n"
    "examples:\n"
    "  regdbg import mmiotrace mydump.txt -o linux.trace && regdbg diff linux.trace fw.trace\n"
    "  regdbg import mmiotrace mydump.txt -o gpu.trace --device 01:00.0\n";

int cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' },
        { "device", required_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    static struct mmiotrace_import_stats st;
    struct mmiotrace_import_opts io = { 0 };
    const char *out_path = NULL, *path;
    const struct mmiotrace_device *d;
    FILE *in;
    char err[1536];
    int opt, ret;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'o': out_path = optarg; break;
        case 'd': io.device = optarg; break;
        case 'h': fputs(import_usage, stdout); return 0;
        default: return cli_bad_option("import", argc, argv, opts, "o:h");
        }
    }
    if (optind >= argc) {
        return cli_usage_error("import", "give the format and the FILE: import mmiotrace FILE");
    }
    if (strcmp(argv[optind], "mmiotrace") != 0) {
        return cli_usage_error("import", "'%s': the only format is mmiotrace", argv[optind]);
    }
    if (optind + 2 != argc) {
        return cli_usage_error("import", "give exactly one mmiotrace FILE");
    }
    if (!out_path) {
        return cli_usage_error("import", "-o TRACE is required");
    }
    path = argv[optind + 1];
    in = fopen(path, "r");
    if (!in) {
        fprintf(stderr, "regdbg import: cannot open %s: %s\n", path, strerror(errno));
        return EXIT_RUNTIME;
    }
    ret = mmiotrace_import(in, path, out_path, &io, &st, err, sizeof(err));
    fclose(in);
    if (ret < 0) {
        fprintf(stderr, "regdbg import: %s\n", err);
        unlink(out_path);       /* no trace that looks whole but is not */
        return EXIT_RUNTIME;
    }
    d = &st.devices[st.chosen];
    printf("regdbg import: %" PRIu64 " accesses of %04x:%04x at %02x:%02x.%x -> %s\n",
           st.written, d->vendor, d->device, d->bus, d->devfn >> 3, d->devfn & 7, out_path);
    for (size_t i = 0; i < st.n_devices; i++) {
        const struct mmiotrace_device *o = &st.devices[i];

        if ((int)i != st.chosen && o->accesses) {
            printf("  %" PRIu64 " accesses of %04x:%04x at %02x:%02x.%x left out (--device "
                   "%02x:%02x.%x takes them)\n", o->accesses, o->vendor, o->device, o->bus,
                   o->devfn >> 3, o->devfn & 7, o->bus, o->devfn >> 3, o->devfn & 7);
        }
    }
    if (st.outside) {
        printf("  %" PRIu64 " accesses outside every BAR the PCIDEV lines give, left out (the "
               "first at line %" PRIu64 ", address 0x%" PRIx64 ")\n", st.outside,
               st.first_outside_line, st.first_outside_phys);
    }
    if (st.unknown_ops) {
        printf("  %" PRIu64 " UNKNOWN lines (accesses mmiotrace could not decode), left out\n",
               st.unknown_ops);
    }
    if (st.map_mismatches) {
        printf("  %" PRIu64 " accesses through a mapping no open MAP line holds (the first at "
               "line %" PRIu64 "), placed by their physical address\n", st.map_mismatches,
               st.first_mismatch_line);
    }
    if (st.lost) {
        printf("  %" PRIu64 " events the tracer lost, marked as drops\n", st.lost);
    }
    if (st.marks) {
        printf("  %" PRIu64 " MARK lines of text (trace_marker), not kept\n", st.marks);
    }
    return 0;
}
