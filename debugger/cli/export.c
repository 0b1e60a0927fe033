/*
 * `regdbg export`: a trace file in another tool's format; for now Linux's mmiotrace text
 * (debugger/mmiotrace.h), with the physical addresses the trace's BAR records give.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mmiotrace.h"
#include "rules_parse.h"
#include "trace_file.h"

const char export_usage[] =
    "usage: regdbg export TRACE --format mmiotrace [-o FILE] [--bar N=ADDRESS]...\n"
    "\n"
    "Write the accesses of a trace file in Linux's mmiotrace text format (version 20070824, as\n"
    "Documentation/trace/mmiotrace.rst in the kernel source describes it): VERSION, a PCIDEV\n"
    "line for the device, MAP and UNMAP for its memory BARs, an R or W line per access with\n"
    "its physical address, value and guest PC (0 when unknown), MARK for events lost and for\n"
    "interrupt events (\"MARK T regdbg interrupt: INTA raised by rule 3 (pulse)\"). The\n"
    "physical addresses are where the guest had mapped the BARs, as the trace's BAR records say\n"
    "(trace format 3: `regdbg record --qmp` writes them); a BAR that moves gets an UNMAP, a new\n"
    "PCIDEV line and a new MAP. Accesses to I/O BARs are left out (mmiotrace traces memory)\n"
    "and counted. docs/formats.md describes the mapping.\n"
    "\n"
    "  --format F         mmiotrace (the only one)\n"
    "  -o, --output FILE  write there (default: standard output)\n"
    "  --bar N=ADDRESS    BAR N's physical address where the trace places it nowhere (a trace\n"
    "                     of format 1 or 2, or recorded with --shm); repeatable\n"
    "\n"
    "examples:\n"
    "  regdbg export fw.trace --format mmiotrace -o fw.mmiotrace\n"
    "  regdbg export old.trace --format mmiotrace --bar 0=0xfebf0000 | grep '^W'\n";

int cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'F' },
        { "output", required_argument, NULL, 'o' },
        { "bar", required_argument, NULL, 'b' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    struct mmiotrace_export_opts eo;
    struct mmiotrace_export_stats st;
    const char *format = NULL, *out_path = NULL, *path;
    struct trace_reader *r;
    FILE *out = stdout;
    char err[768];
    int opt, status = EXIT_RUNTIME;

    for (unsigned b = 0; b < REGDBG_NUM_BARS; b++) {
        eo.bar_addr[b] = REGDBG_BAR_UNMAPPED;
    }
    optind = 1;
    while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'F': format = optarg; break;
        case 'o': out_path = optarg; break;
        case 'b': {
            const char *eq = strchr(optarg, '=');
            uint64_t addr;

            if (!eq || eq - optarg != 1 || optarg[0] < '0' || optarg[0] > '5' ||
                rules_parse_number(eq + 1, strlen(eq + 1), &addr) != RULES_NUMBER_OK ||
                addr == REGDBG_BAR_UNMAPPED) {
                return cli_usage_error("export", "--bar %s: expected N=ADDRESS, N a BAR number "
                                       "0 to 5 and ADDRESS its physical address (0xfebf0000)",
                                       optarg);
            }
            eo.bar_addr[optarg[0] - '0'] = addr;
            break;
        }
        case 'h': fputs(export_usage, stdout); return 0;
        default: return cli_bad_option("export", argc, argv, opts, "o:h");
        }
    }
    if (optind != argc - 1) {
        return cli_usage_error("export", "give exactly one TRACE file");
    }
    if (!format) {
        return cli_usage_error("export", "--format is required (mmiotrace)");
    }
    if (strcmp(format, "mmiotrace") != 0) {
        return cli_usage_error("export", "--format %s: the only format is mmiotrace", format);
    }
    path = argv[optind];
    r = trace_reader_open(path, err, sizeof(err));
    if (!r) {
        fprintf(stderr, "regdbg export: %s\n", err);
        return EXIT_RUNTIME;
    }
    if (out_path && !(out = fopen(out_path, "w"))) {
        fprintf(stderr, "regdbg export: cannot create %s: %s\n", out_path, strerror(errno));
        trace_reader_close(r);
        return EXIT_RUNTIME;
    }
    if (mmiotrace_export(r, out, &eo, &st, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg export: %s\n", err);
    } else {
        status = 0;
    }
    if (out_path && fclose(out) != 0 && status == 0) {
        fprintf(stderr, "regdbg export: cannot write %s: %s\n", out_path, strerror(errno));
        status = EXIT_RUNTIME;
    }
    if (status != 0 && out_path) {
        unlink(out_path);       /* no half of a trace that looks whole */
    }
    if (status == 0 && st.io_accesses) {
        fprintf(stderr, "regdbg export: note: %" PRIu64 " accesses to I/O BARs left out "
                "(mmiotrace traces memory only)\n", st.io_accesses);
    }
    if (status == 0 && out_path) {
        printf("regdbg export: %" PRIu64 " accesses, %" PRIu64 " mappings, %" PRIu64
               " events lost", st.accesses, st.mappings, st.lost);
        if (st.irq_events) {
            printf(", %" PRIu64 " interrupt events as marks", st.irq_events);
        }
        printf(" -> %s\n", out_path);
    }
    trace_reader_close(r);
    return status;
}
