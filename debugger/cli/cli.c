/*
 * Usage errors of the command programs: one line each, naming what was wrong (see cli.h).
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "regdbg %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "; try 'regdbg %s --help'\n", cmd);
    return EXIT_USAGE;
}

/* The long option "--NAME" or "--NAME=..." of arg (exact name, or an unambiguous prefix as
   getopt_long takes it), or NULL. */
static const struct option *long_option(const struct option *opts, const char *arg)
{
    const char *name = arg + 2;
    size_t n = strcspn(name, "=");
    const struct option *found = NULL;

    for (const struct option *o = opts; o->name; o++) {
        if (strncmp(o->name, name, n) == 0) {
            if (o->name[n] == '\0') {
                return o;
            }
            if (found) {
                return NULL;
            }
            found = o;
        }
    }
    return found;
}

static bool single_dash(const char *arg)
{
    return arg[0] == '-' && arg[1] && arg[1] != '-';
}

int cli_bad_arg(int argc, char **argv, const struct option *opts, const char *optstring,
                struct cli_bad *bad)
{
    const char *prev = optind > 0 && optind <= argc ? argv[optind - 1] : "";

    memset(bad, 0, sizeof(*bad));
    /* A long option: getopt_long has moved past it. optopt is 0 when it is unknown, else the
       option's value: then its argument is missing, or it was given one it does not take. */
    if (strncmp(prev, "--", 2) == 0 && prev[2]) {
        const struct option *o = long_option(opts, prev);
        bool has_value = strchr(prev, '=') != NULL;

        if (optopt == 0) {
            bad->index = optind - 1;
            bad->kind = CLI_UNKNOWN;
            return 0;
        }
        if (o && o->val == optopt &&
            ((o->has_arg == required_argument && !has_value) ||
             (o->has_arg == no_argument && has_value))) {
            bad->index = optind - 1;
            bad->kind = has_value ? CLI_NO_VALUE : CLI_NEEDS_VALUE;
            bad->option = o->name;
            return 0;
        }
    }
    /* A short option: the word it is in is the one getopt moved past when the option was its
       last letter, else the one it is still in. */
    bad->letter = (char)optopt;
    bad->kind = optopt && optopt != ':' && strchr(optstring, optopt) ? CLI_NEEDS_VALUE
                                                                      : CLI_UNKNOWN;
    if (single_dash(prev) && prev[strlen(prev) - 1] == optopt) {
        bad->index = optind - 1;
    } else if (optind < argc && single_dash(argv[optind]) && strchr(argv[optind], optopt)) {
        bad->index = optind;
    } else {
        bad->index = -1;
    }
    return 0;
}

int cli_bad_option(const char *cmd, int argc, char **argv, const struct option *opts,
                   const char *optstring)
{
    struct cli_bad bad;
    char arg[64];

    cli_bad_arg(argc, argv, opts, optstring, &bad);
    if (bad.index >= 0) {
        snprintf(arg, sizeof(arg), "%.*s", (int)strcspn(argv[bad.index], "="),
                 argv[bad.index]);
    } else {
        snprintf(arg, sizeof(arg), "-%c", bad.letter);
    }
    switch (bad.kind) {
    case CLI_NEEDS_VALUE:
        if (bad.option) {
            return cli_usage_error(cmd, "option --%s needs a value", bad.option);
        }
        return cli_usage_error(cmd, "option -%c needs a value", bad.letter);
    case CLI_NO_VALUE:
        return cli_usage_error(cmd, "option --%s takes no value", bad.option);
    default:
        return cli_usage_error(cmd, "unknown option '%s'", arg);
    }
}
