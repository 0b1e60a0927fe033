/*
 * The QEMU launcher (see launch.h): fork and exec of QEMU with a private QMP socket, and every
 * wait for it: to listen, to exit at start, to exit later, to be gone.
 */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 25

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

const char *launch_qemu_path(char *buf, size_t len)
{
    char self[PATH_MAX - 64];
    ssize_t n;

    if (getenv("REGDBG_QEMU")) {
        return getenv("REGDBG_QEMU");
    }
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        char *slash;
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            /* build/bin/regdbg, or build/asan/regdbg next to build/bin */
            snprintf(buf, len, "%s/qemu-system-x86_64", self);
            if (access(buf, X_OK) == 0) {
                return buf;
            }
            snprintf(buf, len, "%s/../bin/qemu-system-x86_64", self);
            if (access(buf, X_OK) == 0) {
                return buf;
            }
            /* make install: PREFIX/bin/regdbg and PREFIX/libexec/regdbg/ */
            snprintf(buf, len, "%s/../libexec/regdbg/qemu-system-x86_64", self);
            if (access(buf, X_OK) == 0) {
                return buf;
            }
        }
    }
    return "qemu-system-x86_64";
}

int launch_start(struct launch *l, const char *accel, int argc, char **args, char *err,
                 size_t errlen)
{
    char qemu[PATH_MAX], spec[PATH_MAX + 32];
    char **argv = calloc((size_t)argc + 8, sizeof(char *));
    int n = 0, fd;

    memset(l, 0, sizeof(*l));
    snprintf(l->dir, sizeof(l->dir), "/tmp/regdbg-XXXXXX");
    if (!argv || !mkdtemp(l->dir)) {
        snprintf(err, errlen, "cannot create a private folder: %s", strerror(errno));
        l->dir[0] = '\0';
        free(argv);
        return -1;
    }
    snprintf(l->qmp_path, sizeof(l->qmp_path), "%s/qmp.sock", l->dir);
    snprintf(l->log_path, sizeof(l->log_path), "%s/qemu.log", l->dir);
    snprintf(spec, sizeof(spec), "unix:%s,server=on,wait=off", l->qmp_path);
    argv[n++] = (char *)launch_qemu_path(qemu, sizeof(qemu));
    argv[n++] = "-accel";
    argv[n++] = (char *)accel;
    argv[n++] = "-qmp";
    argv[n++] = spec;
    for (int i = 0; i < argc; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    fd = open(l->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    l->pid = fork();
    if (l->pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        setpgid(0, 0); /* Ctrl-C in the debugger's terminal is the debugger's, not QEMU's */
        execvp(argv[0], argv);
        dprintf(fd, "regdbg launch: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    if (fd >= 0) {
        close(fd);
    }
    free(argv);
    if (l->pid < 0) {
        snprintf(err, errlen, "cannot start QEMU: %s", strerror(errno));
        l->pid = 0;
        launch_cleanup(l);
        return -1;
    }
    return 0;
}

bool launch_wait_exit(struct launch *l, int timeout_ms)
{
    for (int waited = 0;; waited += POLL_MS) {
        if (l->pid > 0 && waitpid(l->pid, &l->status, WNOHANG) == l->pid) {
            l->pid = 0;
            l->exited = true;
        }
        if (l->exited || l->pid <= 0 || waited >= timeout_ms) {
            return l->exited;
        }
        sleep_ms(POLL_MS);
    }
}

int launch_wait_ready(struct launch *l, int timeout_ms)
{
    for (int waited = 0; access(l->qmp_path, F_OK) != 0 && waited < timeout_ms;
         waited += POLL_MS) {
        if (launch_wait_exit(l, 0)) {
            return -1;
        }
        sleep_ms(POLL_MS);
    }
    return launch_wait_exit(l, 0) ? -1 : 0;
}

int launch_exit_code(const struct launch *l)
{
    return WIFEXITED(l->status) ? WEXITSTATUS(l->status) : 128 + WTERMSIG(l->status);
}

void launch_exit_text(const struct launch *l, char *buf, size_t len)
{
    if (WIFEXITED(l->status)) {
        snprintf(buf, len, "QEMU exited with status %d (its log: %s)", WEXITSTATUS(l->status),
                 l->log_path);
    } else {
        snprintf(buf, len, "QEMU was killed by signal %d", WTERMSIG(l->status));
    }
}

void launch_stop(struct launch *l, bool term)
{
    if (l->pid <= 0) {
        return;
    }
    if (term) {
        kill(l->pid, SIGTERM);
    }
    if (!launch_wait_exit(l, 5000)) {
        kill(l->pid, SIGKILL);
        waitpid(l->pid, &l->status, 0);
        l->pid = 0;
        l->exited = true;
    }
}

void launch_log_tail(const struct launch *l, char *buf, size_t len)
{
    FILE *f = l->log_path[0] ? fopen(l->log_path, "r") : NULL;
    size_t n;

    buf[0] = '\0';
    if (!f || len < 2) {
        if (f) {
            fclose(f);
        }
        return;
    }
    fseek(f, 0, SEEK_END);
    if (ftell(f) > (long)len - 1) {
        fseek(f, -(long)len + 1, SEEK_END);
    } else {
        fseek(f, 0, SEEK_SET);
    }
    n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
}

void launch_cleanup(struct launch *l)
{
    if (!l->dir[0]) {
        return;
    }
    unlink(l->qmp_path);
    unlink(l->log_path);
    rmdir(l->dir);
    l->dir[0] = '\0';
}
