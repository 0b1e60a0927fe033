/* The hand-off to gdb: QEMU's gdbstub and where a stopped vCPU is (see gdb_handoff.h). */
#include "gdb_handoff.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#define HMP_TIMEOUT_MS 5000
#define GDB_PORT_TRIES 32

/* The port of a -gdb device: "tcp::1234", "tcp:localhost:1234", "tcp:1234"; 0 if not TCP */
static int port_of_device(const char *dev)
{
    const char *colon;
    char *end;
    long port;

    if (strncmp(dev, "tcp:", 4) != 0) {
        return 0;
    }
    colon = strrchr(dev, ':');
    port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || (*end && *end != ',') || port <= 0 || port > 65535) {
        return 0;
    }
    return (int)port;
}

int gdb_stub_from_cmdline(pid_t qemu_pid)
{
    char path[64], buf[65536];
    ssize_t n;
    size_t got = 0;
    int fd, port = 0;

    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)qemu_pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0) {
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    /* NUL-separated arguments; the last -gdb / -s wins, as in QEMU */
    for (size_t i = 0; i < got; i += strlen(buf + i) + 1) {
        const char *arg = buf + i;
        const char *next = i + strlen(arg) + 1 < got ? buf + i + strlen(arg) + 1 : NULL;

        if (strcmp(arg, "-s") == 0 || strcmp(arg, "--s") == 0) {
            port = 1234;    /* QEMU's -s: -gdb tcp::1234 */
        } else if ((strcmp(arg, "-gdb") == 0 || strcmp(arg, "--gdb") == 0) && next) {
            port = port_of_device(next);
        }
    }
    return port;
}

/* Run a monitor command; its output (to free), or NULL with QEMU's error in err. */
static char *hmp(struct qmp *qmp, const char *line, char *err, size_t errlen)
{
    json_t *args = json_pack("{s:s}", "command-line", line);
    json_t *ret;
    char *out = NULL;

    if (!args) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ret = qmp_execute(qmp, "human-monitor-command", args, HMP_TIMEOUT_MS, err, errlen);
    if (!ret) {
        return NULL;
    }
    if (json_is_string(ret)) {
        out = strdup(json_string_value(ret));
    }
    json_decref(ret);
    if (!out) {
        snprintf(err, errlen, "QEMU's monitor gave no text for '%s'", line);
    }
    return out;
}

int gdb_stub_start(struct qmp *qmp, int first_port, char *err, size_t errlen)
{
    for (int port = first_port; port < first_port + GDB_PORT_TRIES && port <= 65535; port++) {
        char line[64];
        char *out;

        snprintf(line, sizeof(line), "gdbserver tcp::%d", port);
        out = hmp(qmp, line, err, errlen);
        if (!out) {
            return -1;
        }
        if (strstr(out, "Waiting for gdb connection")) {
            free(out);
            return port;
        }
        /* "Could not open gdbserver on device ...": most likely the port is taken */
        out[strcspn(out, "\r\n")] = '\0';
        snprintf(err, errlen, "QEMU could not start its gdbstub on ports %d to %d (it said: %s)",
                 first_port, port, *out ? out : "nothing");
        free(out);
    }
    return -1;
}

/* The hex number after key in text ("EIP=" / "RIP="), or -1 */
static int hex_after(const char *text, const char *key, uint64_t *v)
{
    const char *p = strstr(text, key);
    char *end;

    if (!p) {
        return -1;
    }
    p += strlen(key);
    errno = 0;
    *v = strtoull(p, &end, 16);
    return end == p || errno ? -1 : 0;
}

int gdb_parse_registers(const char *text, struct gdb_cpu_state *out)
{
    const char *cs;
    char *end;

    memset(out, 0, sizeof(*out));
    if (hex_after(text, "RIP=", &out->rip) == 0) {
        out->long_mode = true;
    } else if (hex_after(text, "EIP=", &out->rip) < 0) {
        return -1;
    }
    /* "CS =0008 00000000 ffffffff 00cf9b00 ..." : selector, then base */
    cs = strstr(text, "\nCS =");
    if (!cs) {
        return -1;
    }
    cs += strlen("\nCS =");
    strtoull(cs, &end, 16);
    if (end == cs || *end != ' ') {
        return -1;
    }
    cs = end + 1;
    out->cs_base = strtoull(cs, &end, 16);
    if (end == cs) {
        return -1;
    }
    out->pc = out->cs_base + out->rip;
    if (!out->long_mode) {
        out->pc = (uint32_t)out->pc;
    }
    return 0;
}

int gdb_cpu_state(struct qmp *qmp, int cpu, struct gdb_cpu_state *out, char *err, size_t errlen)
{
    char line[64];
    char *text;
    int rc;

    snprintf(line, sizeof(line), "info registers %d", cpu);
    text = hmp(qmp, line, err, errlen);
    if (!text) {
        return -1;
    }
    rc = gdb_parse_registers(text, out);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read vCPU %d's PC from the monitor's 'info registers': %.80s",
                 cpu, text);
    }
    free(text);
    return rc;
}

void gdb_command_line(int port, const char *file, char *buf, size_t len)
{
    snprintf(buf, len, "gdb -ex 'target remote :%d'%s%s", port, file ? " " : "", file ? file : "");
}
