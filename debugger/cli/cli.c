/*
 * Usage errors of the command programs: one line each, naming what was wrong (see cli.h); the
 * --symbols option they share.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "symbols.h"

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

int cli_symbols_option(const char *cmd, const char **specs, int *n, const char *spec)
{
    if (*n == CLI_MAX_SYMBOLS) {
        return cli_usage_error(cmd, "at most %d --symbols", CLI_MAX_SYMBOLS);
    }
    specs[(*n)++] = spec;
    return 0;
}

int cli_load_symbols(const char *cmd, const char *const *specs, int n, struct symbols **out)
{
    char err[1024];

    *out = NULL;
    if (n == 0) {
        return 0;
    }
    if (!(*out = symbols_new())) {
        fprintf(stderr, "regdbg %s: out of memory\n", cmd);
        return EXIT_RUNTIME;
    }
    for (int i = 0; i < n; i++) {
        if (symbols_add(*out, specs[i], err, sizeof(err)) < 0) {
            fprintf(stderr, "regdbg %s: --symbols: %s\n", cmd, err);
            symbols_free(*out);
            *out = NULL;
            return EXIT_RUNTIME;
        }
    }
    return 0;
}

void cli_pc_names(const struct symbols *syms, uint64_t pc, bool after, char sym[CLI_NAME_LEN],
                  char src[CLI_NAME_LEN])
{
    struct symbol_where w;

    sym[0] = src[0] = '\0';
    if (!symbols_lookup(syms, pc, after, &w)) {
        return;
    }
    if (w.func) {
        snprintf(sym, CLI_NAME_LEN, "%s+0x%" PRIx64, w.func, w.func_offset);
    }
    if (w.line) {
        snprintf(src, CLI_NAME_LEN, "%s:%d", w.file, w.line);
    }
}

void cli_escape_name(const char *name, char *out, size_t len)
{
    size_t o = 0;

    for (; *name && o + 5 < len; name++) {
        unsigned char c = (unsigned char)*name;

        if (c > 0x20 && c < 0x7f && c != '\\') {
            out[o++] = (char)c;
        } else {
            o += (size_t)snprintf(out + o, len - o, "\\x%02x", c);
        }
    }
    out[o] = '\0';
}

void cli_print_json_string(const char *text)
{
    const char *p = text;
    json_t *str;
    char *dumped;

    if (!text[0]) {
        fputs("null", stdout);
        return;
    }
    /* the common case, printable ASCII, as it is: a dump prints one per access */
    while (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\') {
        p++;
    }
    if (!*p) {
        printf("\"%s\"", text);
        return;
    }
    str = json_string(text);
    if (!str) {
        char escaped[4 * CLI_NAME_LEN];

        cli_escape_name(text, escaped, sizeof(escaped));
        str = json_string(escaped);
    }
    dumped = str ? json_dumps(str, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
    fputs(dumped ? dumped : "null", stdout);
    free(dumped);
    json_decref(str);
}
