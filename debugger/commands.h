/*
 * The regdbg sub-commands. Each returns the process exit status: 0 success, 1 runtime error,
 * 2 usage error.
 */
#ifndef REGDBG_COMMANDS_H
#define REGDBG_COMMANDS_H

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

struct command {
    const char *name;
    const char *summary;
    const char *usage;          /* full --help text */
    int (*run)(int argc, char **argv);
};

int cmd_record(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_launch(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_qemu_args(int argc, char **argv);

extern const char record_usage[];
extern const char dump_usage[];
extern const char launch_usage[];
extern const char attach_usage[];
extern const char batch_usage[];
extern const char scan_usage[];
extern const char qemu_args_usage[];

#endif /* REGDBG_COMMANDS_H */
