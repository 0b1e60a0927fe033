/*
 * The command-line programs of regdbg (debugger/cli/, one file per command, on top of the
 * library in debugger/): their entry points and --help texts, and the one-line usage errors they
 * share. Each returns the process exit status: 0 success, 1 runtime error, 2 usage error.
 */
#ifndef REGDBG_CLI_H
#define REGDBG_CLI_H

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

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

extern const char record_usage[];
extern const char dump_usage[];
extern const char diff_usage[];
extern const char launch_usage[];
extern const char attach_usage[];
const char *batch_usage(void);     /* generated from the command table */
extern const char scan_usage[];
extern const char qemu_args_usage[];

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

#endif /* REGDBG_CLI_H */
