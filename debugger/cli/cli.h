/*
 * The command-line programs of regdbg (debugger/cli/, one file per command, on top of the
 * library in debugger/): their entry points and --help texts, and the one-line usage errors they
 * share. Each returns the process exit status: 0 success, 1 runtime error, 2 usage error.
 */
#ifndef REGDBG_CLI_H
#define REGDBG_CLI_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

struct symbols;

struct command {
    const char *name;
    const char *summary;
    const char *usage;          /* full --help text, or NULL for a generated one: */
    int (*run)(int argc, char **argv);
    const char *(*usage_text)(void);   /* the generated --help text when usage is NULL */
};

int cmd_record(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_launch(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_qemu_args(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_map(int argc, char **argv);

extern const char record_usage[];
extern const char dump_usage[];
extern const char diff_usage[];
extern const char launch_usage[];
extern const char attach_usage[];
const char *batch_usage(void);     /* generated from the command table */
extern const char scan_usage[];
extern const char qemu_args_usage[];
extern const char export_usage[];
extern const char import_usage[];
extern const char map_usage[];

/* A usage error, as one line on stderr: "regdbg CMD: MESSAGE; try 'regdbg CMD --help'".
   Returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * What getopt_long just refused (it returned '?'; main() sets opterr = 0 so that getopt prints
 * nothing): the word of argv it is in (index, or -1 when it cannot be told) and why.
 */
struct option;
enum cli_bad_kind { CLI_UNKNOWN, CLI_NEEDS_VALUE, CLI_NO_VALUE };
struct cli_bad {
    enum cli_bad_kind kind;
    int index;                  /* into argv, or -1 */
    const char *option;         /* the long option's name, for CLI_NEEDS_VALUE / CLI_NO_VALUE */
    char letter;                /* the short option's letter, or 0 */
};
int cli_bad_arg(int argc, char **argv, const struct option *opts, const char *optstring,
                struct cli_bad *bad);
/* The one-line usage error for it ("unknown option '--bogus'", "option --qmp needs a value"). */
int cli_bad_option(const char *cmd, int argc, char **argv, const struct option *opts,
                   const char *optstring);

/*
 * --symbols FILE[@BIAS], which launch, attach, record, dump and batch take (repeatable, their
 * getopt tables give it the value CLI_SYMBOLS): the help text they all show, and its loading
 * into one set (debugger/symbols.h).
 */
#define CLI_MAX_SYMBOLS 32
#define CLI_SYMBOLS 'Y'
#define CLI_SYMBOLS_HELP \
    "  --symbols FILE[@BIAS]\n" \
    "                   names for the guest's PCs: the ELF of the code it runs (its functions,\n" \
    "                   and file:line when it has DWARF) or a list of its symbols in nm form\n" \
    "                   (nm ELF > FILE, System.map, /proc/kallsyms); BIAS (0x hex or decimal,\n" \
    "                   '-' for negative) is added to its addresses; repeatable\n"
/* Remember one --symbols argument. 0, or EXIT_USAGE after the message. */
int cli_symbols_option(const char *cmd, const char **specs, int *n, const char *spec);
/* Load them into a new set (*out: NULL when none was given). 0, or EXIT_RUNTIME after the message
   ("regdbg CMD: " and what symbols_add() said). */
int cli_load_symbols(const char *cmd, const char *const *specs, int n, struct symbols **out);

/* A guest PC's names as dump and batch print them: "func+0x4b" and "file:line" (the file as the
   line table names it), each "" when unknown. after: REGDBG_EV_PC_AFTER. */
#define CLI_NAME_LEN (PATH_MAX + 32)
void cli_pc_names(const struct symbols *syms, uint64_t pc, bool after, char sym[CLI_NAME_LEN],
                  char src[CLI_NAME_LEN]);
/* A name for text output: printable ASCII but for space and backslash, the rest as \xNN (a
   symbols file is not to be trusted with the terminal); cut to fit out. */
void cli_escape_name(const char *name, char *out, size_t len);
/* A JSON string on stdout, null for "": jansson escapes what is not printable ASCII, and a text
   that is not UTF-8 goes as its cli_escape_name() form. */
void cli_print_json_string(const char *text);

#endif /* REGDBG_CLI_H */
