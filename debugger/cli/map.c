/*
 * `regdbg map import`: a register map (docs/register-maps.md) from a C header's #defines
 * (debugger/header_map.h), written as JSON, with every #define it did not place listed on
 * stderr with why; the map written is loaded back, as the debugger would load it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "header_map.h"
#include "regmap.h"

#define MAX_IDS 64

const char map_usage[] =
    "usage: regdbg map import HEADER.h [--prefix TEXT] [--strip TEXT] [--id VVVV:DDDD]...\n"
    "                         [--name NAME] [-o MAP.json]\n"
    "\n"
    "Make a register map from a C header the way Linux drivers describe hardware (as\n"
    "drivers/i2c/busses/i2c-designware-core.h does): a #define of a plain number, a multiple of\n"
    "4, is a 32-bit register at that offset of BAR 0 (DW_IC_CON 0x00); one built with BIT(n) or\n"
    "GENMASK(h, l) whose name is a register's and more is a field of it (DW_IC_CON_MASTER\n"
    "BIT(0); a _MASK ending is dropped: DW_IC_CON_SPEED_MASK GENMASK(2, 1) is SPEED); another\n"
    "whose name is a field's and more is a named value of that field (DW_IC_CON_SPEED_FAST\n"
    "(2 << 1) is SPEED=FAST). Values may use other #defines, | & ^ ~ << >> + - * / % and\n"
    "parentheses. Every #define not placed is listed on stderr as HEADER:LINE: NAME: why.\n"
    "The map goes to standard output, or to -o FILE, loaded back there as the debugger loads\n"
    "maps. docs/formats.md describes the rules.\n"
    "\n"
    "  --prefix TEXT     only #defines whose names begin with TEXT (the others are listed)\n"
    "  --strip TEXT      taken off the start of register names (--strip DW_: IC_CON)\n"
    "  --id VVVV:DDDD    a PCI vendor:device the map is for (hex; repeatable); without one the\n"
    "                    map matches ffff:ffff, which no device has, until its match is edited\n"
    "  --name NAME       the map's name (default: registers from HEADER)\n"
    "  -o, --output FILE write the map there\n"
    "\n"
    "example:\n"
    "  regdbg map import i2c-designware-core.h --prefix DW_IC_ --strip DW_ --id 8086:0f41 \\\n"
    "      -o maps/my-i2c.json\n";

int cmd_map(int argc, char **argv)
{
    static const struct option opts[] = {
        { "prefix", required_argument, NULL, 'p' },
        { "strip", required_argument, NULL, 's' },
        { "id", required_argument, NULL, 'i' },
        { "name", required_argument, NULL, 'n' },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    static uint16_t ids[MAX_IDS][2];
    struct header_map_opts ho = { .ids = (const uint16_t (*)[2])ids };
    struct header_map_result res;
    const char *out_path = NULL, *path;
    char err[1024];
    int opt, status = EXIT_RUNTIME;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'p': ho.prefix = optarg; break;
        case 's': ho.strip = optarg; break;
        case 'n': ho.name = optarg; break;
        case 'o': out_path = optarg; break;
        case 'i': {
            unsigned v, d;
            char extra;

            if (sscanf(optarg, "%x:%x%c", &v, &d, &extra) != 2 || v > 0xffff || d > 0xffff ||
                strchr(optarg, '-') || strchr(optarg, ' ')) {
                return cli_usage_error("map", "--id %s: expected VVVV:DDDD, the hex vendor and "
                                       "device ids (8086:0f41)", optarg);
            }
            if (ho.n_ids == MAX_IDS) {
                return cli_usage_error("map", "--id: at most %d", MAX_IDS);
            }
            ids[ho.n_ids][0] = (uint16_t)v;
            ids[ho.n_ids++][1] = (uint16_t)d;
            break;
        }
        case 'h': fputs(map_usage, stdout); return 0;
        default: return cli_bad_option("map", argc, argv, opts, "o:h");
        }
    }
    if (optind >= argc || strcmp(argv[optind], "import") != 0) {
        return cli_usage_error("map", "%s%s: the only map command is import (map import "
                               "HEADER.h)", optind < argc ? "'" : "no command",
                               optind < argc ? argv[optind] : "");
    }
    if (optind + 2 != argc) {
        return cli_usage_error("map", "give exactly one HEADER.h to import");
    }
    path = argv[optind + 1];
    if (header_map_import(path, &ho, &res, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg map import: %s\n", err);
        return EXIT_RUNTIME;
    }
    for (size_t i = 0; i < res.n_skipped; i++) {
        fprintf(stderr, "%s:%u: %s: %s\n", path, res.skipped[i].line, res.skipped[i].name,
                res.skipped[i].why);
    }
    if (out_path) {
        struct regmap *back;

        if (json_dump_file(res.map, out_path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0) {
            fprintf(stderr, "regdbg map import: cannot write %s: %s\n", out_path,
                    strerror(errno));
            goto out;
        }
        back = regmap_load(out_path, err, sizeof(err));
        if (!back) {
            fprintf(stderr, "regdbg map import: the map written does not load (a bug): %s\n",
                    err);
            unlink(out_path);
            goto out;
        }
        regmap_free(back);
    } else if (json_dumpf(res.map, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0 ||
               putchar('\n') == EOF || fflush(stdout) != 0) {
        fprintf(stderr, "regdbg map import: cannot write the map: %s\n", strerror(errno));
        goto out;
    }
    fprintf(stderr, "regdbg map import: %zu registers, %zu fields, %zu field values from %s%s%s; "
            "%zu #defines not placed%s\n", res.n_registers, res.n_fields, res.n_values, path,
            out_path ? " -> " : "", out_path ? out_path : "", res.n_skipped,
            res.n_skipped ? " (listed above)" : "");
    if (!ho.n_ids) {
        fprintf(stderr, "regdbg map import: note: the map matches ffff:ffff, which no device has: "
                "give --id VVVV:DDDD, or edit its match\n");
    }
    status = 0;
out:
    json_decref(res.map);
    free(res.skipped);
    return status;
}
