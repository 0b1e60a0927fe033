/*
 * The interactive program's entry points, for the command line (`regdbg attach`, `regdbg
 * launch`, debugger/cli/interactive.c): what its options gave, and the two ways in. Each returns
 * the process exit status: 0, or 1 (EXIT_FAILURE) after a message on stderr.
 */
#ifndef REGDBG_TUI_H
#define REGDBG_TUI_H

#include <stddef.h>
#include <stdio.h>

#define TUI_DEFAULT_SCROLLBACK (2u << 20)

struct tui_options {
    char **maps;                /* --map files or folders, loaded after the shipped maps */
    int n_maps;
    const char *rules;          /* --rules FILE, or NULL */
    size_t scrollback;          /* events kept for scrolling, filtering and search */
    int gdb_port;               /* launch --gdb PORT: QEMU's gdbstub there; 0 = none */
    const char *const *symbols; /* --symbols FILE[@BIAS] (debugger/symbols.h), loaded into the
                                   session (session_add_symbols) before anything starts */
    int n_symbols;
};

/* Open the debugger on the QEMU whose QMP socket is qmp_path; it goes on when the debugger
   leaves. */
int tui_attach(const struct tui_options *o, const char *qmp_path);

/* Start QEMU (debugger/launch.h) with accel ("kvm" or "tcg") and qemu_argv, and open the
   debugger on it; quitting shuts it down, detaching leaves it running. */
int tui_launch(const struct tui_options *o, const char *accel, int qemu_argc, char **qemu_argv);

/* `regdbg diff --tui`: the compared runs (trace_diff_compare() done; paths[i] names run i)
   side by side until q. 0, or 2 after a message when the terminal cannot be had. */
struct trace_diff;
int tui_diff(const struct trace_diff *d, const char *const *paths);

/* `regdbg help --keys`: the key table (views/commands.c), tab-separated: keys, request, scope,
   help. */
void ui_keys_print(FILE *f);

#endif /* REGDBG_TUI_H */
