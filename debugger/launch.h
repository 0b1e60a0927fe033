/*
 * The QEMU launcher: starting the QEMU built with regdbg-proxy with a private QMP socket, waiting
 * for it to listen or to refuse its arguments, noticing that it exited, and making sure it is gone.
 * The one place in the library that spawns a process (`regdbg launch` uses it; batch and tests
 * may too). It never talks QMP: asking QEMU to quit is the session's.
 */
#ifndef REGDBG_LAUNCH_H
#define REGDBG_LAUNCH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct launch {
    pid_t pid;                  /* QEMU, until it has been reaped; then 0 */
    char dir[64];               /* its private folder: qmp.sock and qemu.log, or "" */
    char qmp_path[PATH_MAX - 64];
    char log_path[PATH_MAX - 64];
    bool exited;                /* reaped: status holds its wait status */
    int status;
};

/*
 * The QEMU to run: $REGDBG_QEMU, else the one next to this program (build/bin/, also from
 * build/asan/), else PREFIX/libexec/regdbg/ of an installed regdbg, else qemu-system-x86_64 on
 * the PATH.
 */
const char *launch_qemu_path(char *buf, size_t len);

/*
 * Start QEMU (launch_qemu_path) with -accel accel ("kvm" or "tcg"), -qmp on l->qmp_path and then
 * args, in a private folder of its own, its output going to l->log_path and its own process group
 * (Ctrl-C in the debugger's terminal is the debugger's). 0, or -1 with a message in err.
 */
int launch_start(struct launch *l, const char *accel, int argc, char **args, char *err,
                 size_t errlen);

/*
 * Wait up to timeout_ms for QMP to listen. 0 when it does (or the wait ran out: connecting
 * says what is wrong then); -1 when QEMU exited first.
 */
int launch_wait_ready(struct launch *l, int timeout_ms);

/* Has QEMU exited? Waits up to timeout_ms (0: only looks) and reaps it. */
bool launch_wait_exit(struct launch *l, int timeout_ms);

/* Its exit status as a shell gives it: the status, or 128 + the signal that killed it. */
int launch_exit_code(const struct launch *l);

/* How it ended, for the status line: "QEMU exited with status 1 (its log: …)", or "QEMU was
   killed by signal 9". */
void launch_exit_text(const struct launch *l, char *buf, size_t len);

/* Make sure QEMU is gone: SIGTERM first when term, then up to 5 s for it to exit, then SIGKILL;
   reaped. (Ask it to quit over QMP first: that is the clean way.) */
void launch_stop(struct launch *l, bool term);

/* The end of QEMU's log (up to len - 1 bytes), "" when it has none. */
void launch_log_tail(const struct launch *l, char *buf, size_t len);

/* Remove the private folder (the socket and the log). */
void launch_cleanup(struct launch *l);

#endif /* REGDBG_LAUNCH_H */
