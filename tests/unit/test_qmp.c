/*
 * Unit tests for debugger/qmp.c. Each case runs the client against a scripted QMP server: a forked
 * child on a UNIX socket in a temp dir that plays a recorded transcript (lines to send, commands
 * the client must send) and reports any mismatch through a pipe; every transcript but those about
 * the handshake itself follows one shared preamble (greeting, qmp_capabilities: connect_session).
 * One more case talks to the real QEMU when it is built. Prints "ok - NAME" or
 * "not ok - NAME: reason" per case, then "N passed, M failed"; exits 0 only when everything
 * passed. Every case runs under alarm().
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_QEMU "build/bin/qemu-system-x86_64" /* relative to the repo top, where make runs */
#define CASE_SECONDS 15     /* alarm for one scripted case */
#define QEMU_CASE_SECONDS 40
#define SERVER_SECONDS 12   /* the server child's own alarm */
#define SERVER_WAIT_MS 5000 /* how long the server waits for the client to send or close */

/* ---- transcripts ---- */

enum step_kind {
    STEP_END,       /* then wait for the client to close, unless STEP_CLOSE came first */
    STEP_SEND,      /* send text as is, with $ID replaced by the id of the last command */
    STEP_EXPECT,    /* read one line: a command named text, with arguments args (or none) */
    STEP_SLEEP,     /* pause n ms */
    STEP_CLOSE,     /* close the connection */
    STEP_FLOOD,     /* send n bytes of 'x' without a newline; the client may hang up meanwhile */
    STEP_BIG_REPLY, /* send a reply to the last command whose return is a string of n 'x' */
};

struct step {
    enum step_kind kind;
    const char *text;
    const char *args;
    long n;
};

#define SEND(t) { STEP_SEND, (t), NULL, 0 }
#define EXPECT(cmd) { STEP_EXPECT, (cmd), NULL, 0 }
#define EXPECT_ARGS(cmd, a) { STEP_EXPECT, (cmd), (a), 0 }
#define SLEEP(ms) { STEP_SLEEP, NULL, NULL, (ms) }
#define CLOSE { STEP_CLOSE, NULL, NULL, 0 }
#define FLOOD(bytes) { STEP_FLOOD, NULL, NULL, (bytes) }
#define BIG_REPLY(bytes) { STEP_BIG_REPLY, NULL, NULL, (bytes) }
#define END { STEP_END, NULL, NULL, 0 }

#define GREETING                                                                    \
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 8}, " \
    "\"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n"
#define EV(name)                                                                  \
    "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"" name "\", " \
    "\"data\": {}}\r\n"
#define REPLY_EMPTY "{\"return\": {}, \"id\": $ID}\r\n"
#define REPLY_RUNNING "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": $ID}\r\n"

/* The preamble every session shares (connect_session): QEMU's greeting, the client's
   qmp_capabilities and its empty reply. Transcripts give only what follows it; the cases about
   the handshake itself script their own. */
static const struct step handshake[] = {
    SEND(GREETING), EXPECT("qmp_capabilities"), SEND(REPLY_EMPTY), END,
};

/* ---- the scripted server (runs in a forked child) ---- */

struct server {
    pid_t pid;
    int report_fd; /* read end of the pipe the child writes its complaint into */
    char dir[64];
    char path[96];
};

/* Children alive, so the alarm handler can kill them. */
static pid_t live_pids[8];
static char alarm_message[512];

static void track_pid(pid_t pid, bool alive)
{
    for (size_t i = 0; i < sizeof live_pids / sizeof live_pids[0]; i++) {
        if (alive && live_pids[i] == 0) {
            live_pids[i] = pid;
            return;
        }
        if (!alive && live_pids[i] == pid) {
            live_pids[i] = 0;
            return;
        }
    }
}

static void on_alarm(int sig)
{
    (void)sig;
    for (size_t i = 0; i < sizeof live_pids / sizeof live_pids[0]; i++)
        if (live_pids[i] > 0)
            kill(live_pids[i], SIGKILL);
    ssize_t unused = write(STDOUT_FILENO, alarm_message, strlen(alarm_message));
    (void)unused;
    _exit(1);
}

struct child {
    int conn;
    int report;
    char buf[65536];
    size_t len;
    long long prev_id;
    long long last_id;
};

__attribute__((noreturn, format(printf, 2, 3)))
static void child_fail(struct child *c, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ssize_t unused = write(c->report, msg, strlen(msg));
    (void)unused;
    _exit(1);
}

static int child_send(struct child *c, const char *data, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t put = send(c->conn, data + off, len - off, MSG_NOSIGNAL);
        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0)
            return -1;
        off += (size_t)put;
    }
    return 0;
}

/* Reads one line from the client; returns its length, or -1 on EOF (with -2 on timeout). */
static long child_read_line(struct child *c, char *line, size_t max)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl) {
            size_t n = (size_t)(nl - c->buf);
            if (n >= max)
                n = max - 1;
            memcpy(line, c->buf, n);
            line[n] = '\0';
            size_t used = (size_t)(nl - c->buf) + 1;
            memmove(c->buf, c->buf + used, c->len - used);
            c->len -= used;
            return (long)n;
        }
        if (c->len == sizeof c->buf)
            child_fail(c, "client sent a line longer than %zu bytes", sizeof c->buf);
        struct pollfd pfd = { .fd = c->conn, .events = POLLIN };
        if (poll(&pfd, 1, SERVER_WAIT_MS) == 0)
            return -2;
        ssize_t got = recv(c->conn, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (got <= 0)
            return -1;
        c->len += (size_t)got;
    }
}

static void child_expect(struct child *c, const char *command, const char *args_text)
{
    char line[65536];
    long n = child_read_line(c, line, sizeof line);
    if (n < 0)
        child_fail(c, "expected command %s, got %s", command,
                   n == -2 ? "nothing (timeout)" : "EOF");
    json_error_t jerr;
    json_t *req = json_loads(line, 0, &jerr);
    if (!req)
        child_fail(c, "client sent invalid JSON (%s): %.100s", jerr.text, line);
    const char *execute = NULL;
    json_t *id = NULL;
    json_t *args = NULL;
    if (json_unpack_ex(req, &jerr, 0, "{s:s, s:o, s?o}", "execute", &execute, "id", &id,
                       "arguments", &args) != 0)
        child_fail(c, "client sent a malformed command (%s): %.100s", jerr.text, line);
    if (strcmp(execute, command) != 0)
        child_fail(c, "expected command %s, got %s", command, execute);
    if (!json_is_integer(id) || json_integer_value(id) <= c->prev_id)
        child_fail(c, "command id is not an increasing integer: %.100s", line);
    c->prev_id = c->last_id = json_integer_value(id);
    if (!args_text && args)
        child_fail(c, "%s: unexpected arguments: %.100s", command, line);
    if (args_text) {
        json_t *want = json_loads(args_text, 0, &jerr);
        if (!want)
            child_fail(c, "bad expected arguments in the test: %s", jerr.text);
        if (!args || !json_equal(args, want))
            child_fail(c, "%s: arguments differ from %s: %.100s", command, args_text, line);
        json_decref(want);
    }
    json_decref(req);
}

static void child_send_text(struct child *c, const char *text)
{
    char out[8192];
    size_t o = 0;
    for (const char *p = text; *p; ) {
        if (strncmp(p, "$ID", 3) == 0) {
            o += (size_t)snprintf(out + o, sizeof out - o, "%lld", c->last_id);
            p += 3;
        } else {
            out[o++] = *p++;
        }
        if (o >= sizeof out - 32)
            child_fail(c, "transcript line too long for the test server");
    }
    if (child_send(c, out, o) < 0)
        child_fail(c, "send failed: %s", strerror(errno));
}

static void play(struct child *c, const struct step *script);

__attribute__((noreturn))
static void serve(int listen_fd, const struct step *preamble, const struct step *script,
                  int report)
{
    struct child *c = calloc(1, sizeof *c);
    if (!c)
        _exit(3);
    c->report = report;
    signal(SIGALRM, SIG_DFL); /* not the parent's handler: dying by SIGALRM is the report */
    alarm(SERVER_SECONDS);
    c->conn = accept(listen_fd, NULL, NULL);
    if (c->conn < 0)
        child_fail(c, "accept: %s", strerror(errno));
    close(listen_fd);
    if (preamble)
        play(c, preamble);
    play(c, script);
    /* Stay connected until the client hangs up, ignoring whatever it sends. */
    if (c->conn >= 0) {
        for (;;) {
            struct pollfd pfd = { .fd = c->conn, .events = POLLIN };
            if (poll(&pfd, 1, SERVER_WAIT_MS) == 0)
                child_fail(c, "the client never closed the connection");
            char sink[4096];
            if (recv(c->conn, sink, sizeof sink, 0) <= 0)
                break;
        }
    }
    _exit(0);
}

/* Play the steps of script up to its END. */
static void play(struct child *c, const struct step *script)
{
    for (const struct step *s = script;; s++) {
        switch (s->kind) {
        case STEP_SEND:
            child_send_text(c, s->text);
            break;
        case STEP_EXPECT:
            child_expect(c, s->text, s->args);
            break;
        case STEP_SLEEP:
            poll(NULL, 0, (int)s->n);
            break;
        case STEP_CLOSE:
            close(c->conn);
            c->conn = -1;
            break;
        case STEP_FLOOD: {
            static char junk[65536];
            memset(junk, 'x', sizeof junk);
            for (long left = s->n; left > 0; left -= (long)sizeof junk) {
                size_t n = left < (long)sizeof junk ? (size_t)left : sizeof junk;
                if (child_send(c, junk, n) < 0)
                    break; /* the client gave up, as it should */
            }
            break;
        }
        case STEP_BIG_REPLY: {
            char *text = malloc((size_t)s->n + 64);
            if (!text)
                child_fail(c, "out of memory");
            int head = sprintf(text, "{\"return\": \"");
            memset(text + head, 'x', (size_t)s->n);
            int tail = sprintf(text + head + s->n, "\", \"id\": %lld}\r\n", c->last_id);
            if (child_send(c, text, (size_t)head + (size_t)s->n + (size_t)tail) < 0)
                child_fail(c, "send failed: %s", strerror(errno));
            free(text);
            break;
        }
        case STEP_END:
            return;
        }
    }
}

/* A scripted server; with preamble, it plays that first (the handshake of connect_session). */
static bool start_server(struct server *srv, const struct step *preamble,
                         const struct step *script, char *why, size_t whylen)
{
    memset(srv, 0, sizeof *srv);
    srv->pid = -1;
    srv->report_fd = -1;
    strcpy(srv->dir, "/tmp/test_qmp.XXXXXX");
    if (!mkdtemp(srv->dir)) {
        snprintf(why, whylen, "mkdtemp: %s", strerror(errno));
        return false;
    }
    snprintf(srv->path, sizeof srv->path, "%s/qmp.sock", srv->dir);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", srv->path);
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int report[2] = { -1, -1 };
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 4) < 0 ||
        pipe2(report, O_CLOEXEC) < 0) {
        snprintf(why, whylen, "server setup: %s", strerror(errno));
        goto fail;
    }
    fflush(stdout); /* or the child's copy of the buffer could be written twice */
    srv->pid = fork();
    if (srv->pid < 0) {
        snprintf(why, whylen, "fork: %s", strerror(errno));
        goto fail;
    }
    if (srv->pid == 0) {
        close(report[0]);
        serve(lfd, preamble, script, report[1]);
    }
    track_pid(srv->pid, true);
    close(lfd);
    close(report[1]);
    srv->report_fd = report[0];
    return true;
fail:
    if (lfd >= 0)
        close(lfd);
    if (report[0] >= 0) {
        close(report[0]);
        close(report[1]);
    }
    unlink(srv->path);
    rmdir(srv->dir);
    return false;
}

/* Reaps the server, removes its files, and folds its verdict into the case's. */
static bool finish_server(struct server *srv, bool ok, char *why, size_t whylen)
{
    int status = 0;
    if (srv->pid > 0) {
        while (waitpid(srv->pid, &status, 0) < 0 && errno == EINTR)
            ;
        track_pid(srv->pid, false);
    }
    char complaint[600] = "";
    ssize_t got = read(srv->report_fd, complaint, sizeof complaint - 1);
    complaint[got > 0 ? got : 0] = '\0';
    close(srv->report_fd);
    unlink(srv->path);
    rmdir(srv->dir);
    bool server_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (ok && !server_ok) {
        if (complaint[0])
            snprintf(why, whylen, "server: %s", complaint);
        else if (WIFSIGNALED(status))
            snprintf(why, whylen, "server killed by signal %d", WTERMSIG(status));
        else
            snprintf(why, whylen, "server exited with status %d", WEXITSTATUS(status));
    } else if (!ok && !server_ok && complaint[0]) {
        size_t used = strlen(why);
        snprintf(why + used, whylen - used, " (server: %s)", complaint);
    }
    return ok && server_ok;
}

/* ---- helpers for the client side ---- */

/* The shared preamble of a case: a server that greets and negotiates, then plays script, and
   the client connected to it. NULL, with why said and the server reaped, when connecting fails. */
static struct qmp *connect_session(struct server *srv, const struct step *script, char *why,
                                   size_t whylen)
{
    char err[256] = "";
    struct qmp *q;

    if (!start_server(srv, handshake, script, why, whylen))
        return NULL;
    q = qmp_connect(srv->path, 2000, err, sizeof err);
    if (!q) {
        snprintf(why, whylen, "connect: %s", err);
        finish_server(srv, false, why, whylen);
    }
    return q;
}

/* Its end: the client closes, the server is reaped and its verdict folded into ok. */
static bool end_session(struct server *srv, struct qmp *q, bool ok, char *why, size_t whylen)
{
    qmp_close(q);
    return finish_server(srv, ok, why, whylen);
}

#define CHECK(cond, ...)                          \
    do {                                          \
        if (!(cond)) {                            \
            snprintf(why, whylen, __VA_ARGS__);   \
            goto out;                             \
        }                                         \
    } while (0)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool json_is(const json_t *value, const char *text)
{
    json_t *want = json_loads(text, JSON_DECODE_ANY, NULL);
    bool same = value && want && json_equal(value, want);
    json_decref(want);
    return same;
}

/* Compact text of a value, for failure messages; static buffer, test use only. */
static const char *show(const json_t *value)
{
    static char text[200];
    char *dump = value ? json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    snprintf(text, sizeof text, "%s", dump ? dump : "NULL");
    free(dump);
    return text;
}

static bool wait_readable(struct qmp *q, int ms)
{
    struct pollfd pfd = { .fd = qmp_fd(q), .events = POLLIN };
    return poll(&pfd, 1, ms) == 1;
}

/* The next event, pumping the socket for up to ms when none is queued yet. */
static json_t *wait_event(struct qmp *q, int ms, char *err, size_t errlen)
{
    int64_t deadline = now_ms() + ms;
    json_t *ev = qmp_next_event(q);
    while (!ev && now_ms() < deadline) {
        if (!wait_readable(q, 50))
            continue;
        if (qmp_pump(q, err, errlen) < 0)
            return qmp_next_event(q);
        ev = qmp_next_event(q);
    }
    return ev;
}

/* Pops one event and checks its name; on mismatch explains in why. */
static bool pop_event(struct qmp *q, const char *name, char *why, size_t whylen)
{
    json_t *ev = qmp_next_event(q);
    const char *got = ev ? json_string_value(json_object_get(ev, "event")) : NULL;
    bool ok = got && strcmp(got, name) == 0;
    if (!ok)
        snprintf(why, whylen, "expected event %s, got %s", name, got ? got : "no event");
    json_decref(ev);
    return ok;
}

/* ---- cases against scripted servers ---- */

static bool case_handshake(char *why, size_t whylen)
{
    static const struct step script[] = { END };
    struct server srv;
    struct qmp *q = NULL;
    bool ok = false;
    if (!(q = connect_session(&srv, script, why, whylen)))
        return false;
    CHECK(qmp_fd(q) >= 0, "qmp_fd is %d", qmp_fd(q));
    CHECK(!qmp_is_dead(q), "dead right after connecting");
    CHECK(qmp_next_event(q) == NULL, "an event appeared from nowhere");
    ok = true;
out:
    return end_session(&srv, q, ok, why, whylen);
}

/* Messages split across reads, several in one read, events before the negotiation reply. */
static bool case_split_and_batched(char *why, size_t whylen)
{
    static const struct step script[] = {
        SEND("{\"QMP\": {\"versi"), SLEEP(30),
        SEND("on\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 8}, \"package\": \"\"}, "),
        SLEEP(30), SEND("\"capabilities\": []}}\r"), SLEEP(30), SEND("\n"),
        EXPECT("qmp_capabilities"),
        SEND(EV("A") REPLY_EMPTY EV("B")),
        EXPECT("query-status"),
        SEND("{\"return\": {\"status\": \"ru"), SLEEP(30), SEND("nning\"}, \"id\""), SLEEP(30),
        SEND(": $ID}\r\n"),
        END,
    };
    struct server srv;
    struct qmp *q = NULL;
    json_t *ret = NULL;
    bool ok = false;
    char err[256] = "";
    if (!start_server(&srv, NULL, script, why, whylen))
        return false;
    q = qmp_connect(srv.path, 2000, err, sizeof err);
    CHECK(q, "connect: %s", err);
    if (!pop_event(q, "A", why, whylen) || !pop_event(q, "B", why, whylen))
        goto out;
    ret = qmp_execute(q, "query-status", NULL, 2000, err, sizeof err);
    CHECK(ret, "query-status: %s", err);
    CHECK(json_is(ret, "{\"status\": \"running\"}"), "wrong return %s", show(ret));
    ok = true;
out:
    json_decref(ret);
    qmp_close(q);
    return finish_server(&srv, ok, why, whylen);
}

static bool case_events_around_reply(char *why, size_t whylen)
{
    static const struct step script[] = {
        EXPECT("query-status"),
        SEND(EV("A")), SLEEP(50),
        SEND(EV("B") REPLY_RUNNING EV("C")), SLEEP(100),
        SEND(EV("D")),
        END,
    };
    struct server srv;
    struct qmp *q = NULL;
    json_t *ret = NULL;
    bool ok = false;
    char err[256] = "";
    if (!(q = connect_session(&srv, script, why, whylen)))
        return false;
    ret = qmp_execute(q, "query-status", NULL, 2000, err, sizeof err);
    CHECK(ret, "query-status: %s", err);
    CHECK(json_is(ret, "{\"status\": \"running\", \"running\": true}"), "wrong return %s",
          show(ret));
    if (!pop_event(q, "A", why, whylen) || !pop_event(q, "B", why, whylen) ||
        !pop_event(q, "C", why, whylen))
        goto out;
    /* D comes later: wait for the fd, pump, and it must be next. */
    json_t *ev = wait_event(q, 2000, err, sizeof err);
    CHECK(!qmp_is_dead(q), "pump: %s", err);
    const char *name = json_string_value(json_object_get(ev, "event"));
    bool is_d = name && strcmp(name, "D") == 0;
    json_decref(ev);
    CHECK(is_d, "expected event D after pumping, got %s", name ? name : "none");
    CHECK(qmp_next_event(q) == NULL, "more events than were sent");
    ok = true;
out:
    json_decref(ret);
    return end_session(&srv, q, ok, why, whylen);
}

static bool case_unknown_keys(char *why, size_t whylen)
{
    static const struct step script[] = {
        SEND("{\"QMP\": {\"version\": {\"qemu\": {\"major\": 99}}, \"capabilities\": [], "
             "\"future\": {\"x\": 1}}, \"also\": true}\r\n"),
        EXPECT("qmp_capabilities"),
        SEND("{\"return\": {}, \"id\": $ID, \"extra\": 1}\r\n"),
        EXPECT("query-foo"),
        SEND("\r\n{\"unknown-kind\": 1}\r\n"),
        SEND("{\"event\": \"E\", \"data\": {}, \"new-field\": [1, 2], "
             "\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}\r\n"),
        SEND("{\"return\": {\"a\": 1}, \"id\": $ID, \"timestamp\": {\"seconds\": 3}, "
             "\"more\": [null]}\r\n"),
        EXPECT("query-bar"),
        SEND("{\"error\": {\"class\": \"GenericError\", \"desc\": \"nope\", \"hint\": \"x\"}, "
             "\"x\": 1, \"id\": $ID}\r\n"),
        END,
    };
    struct server srv;
    struct qmp *q = NULL;
    json_t *ret = NULL;
    json_t *ev = NULL;
    bool ok = false;
    char err[256] = "";
    if (!start_server(&srv, NULL, script, why, whylen))
        return false;
    q = qmp_connect(srv.path, 2000, err, sizeof err);
    CHECK(q, "connect: %s", err);
    ret = qmp_execute(q, "query-foo", NULL, 2000, err, sizeof err);
    CHECK(ret, "query-foo: %s", err);
    CHECK(json_is(ret, "{\"a\": 1}"), "wrong return %s", show(ret));
    ev = qmp_next_event(q);
    CHECK(ev && json_is(json_object_get(ev, "new-field"), "[1, 2]"),
          "event E not queued whole: %s", show(ev));
    CHECK(qmp_next_event(q) == NULL, "an unknown message was queued as an event");
    json_decref(ret);
    ret = qmp_execute(q, "query-bar", NULL, 2000, err, sizeof err);
    CHECK(!ret, "query-bar succeeded: %s", show(ret));
    CHECK(strcmp(err, "QMP error from QEMU: GenericError: nope") == 0, "wrong error: %s", err);
    CHECK(!qmp_is_dead(q), "dead after an error reply");
    ok = true;
out:
    json_decref(ev);
    json_decref(ret);
    qmp_close(q);
    return finish_server(&srv, ok, why, whylen);
}

static bool case_error_reply(char *why, size_t whylen)
{
    static const struct step script[] = {
        EXPECT_ARGS("device_del", "{\"id\": \"x\"}"),
        SEND("{\"error\": {\"class\": \"GenericError\", \"desc\": \"Device 'x' not found\"}, "
             "\"id\": $ID}\r\n"),
        EXPECT("query-status"),
        SEND(REPLY_RUNNING),
        END,
    };
    struct server srv;
    struct qmp *q = NULL;
    json_t *ret = NULL;
    bool ok = false;
    char err[256] = "";
    if (!(q = connect_session(&srv, script, why, whylen)))
        return false;
    ret = qmp_execute(q, "device_del", json_pack("{s:s}", "id", "x"), 2000, err, sizeof err);
    CHECK(!ret, "device_del succeeded: %s", show(ret));
    CHECK(strstr(err, "Device 'x' not found"), "error lacks the server's desc: %s", err);
    CHECK(strcmp(err, "QMP error from QEMU: GenericError: Device 'x' not found") == 0,
          "unexpected wording: %s", err);
    CHECK(!qmp_is_dead(q), "an error reply killed the connection");
    ret = qmp_execute(q, "query-status", NULL, 2000, err, sizeof err);
    CHECK(ret, "the command after the error failed: %s", err);
    ok = true;
out:
    json_decref(ret);
    return end_session(&srv, q, ok, why, whylen);
}

static bool case_other_id_first(char *why, size_t whylen)
{
    static const struct step script[] = {
        EXPECT("query-status"),
        SEND("{\"return\": {\"which\": \"stale\"}, \"id\": 999999}\r\n"),
        SEND("{\"error\": {\"class\": \"GenericError\", \"desc\": \"not yours\"}, "
             "\"id\": \"someone-else\"}\r\n"),
        SLEEP(30),
        SEND("{\"return\": {\"which\": \"ours\"}, \"id\": $ID}\r\n"),
        END,
    };
    struct server srv;
    struct qmp *q = NULL;
    json_t *ret = NULL;
    bool ok = false;
    char err[256] = "";
    if (!(q = connect_session(&srv, script, why, whylen)))
        return false;
    ret = qmp_execute(q, "query-status", NULL, 2000, err, sizeof err);
    CHECK(ret, "query-status: %s", err);
    CHECK(json_is(ret, "{\"which\": \"ours\"}"), "took the wrong reply: %s", show(ret));
    CHECK(qmp_next_event(q) == NULL, "a foreign reply was queued as an event");
    ok = true;
out:
    json_decref(ret);
    return end_session(&srv, q, ok, why, whylen);
}

/* A reply that arrives after its command timed out must not answer the next command. */
static bool case_stale_after_timeout(char *why, size_t whylen)
{
    static const struct step script[] = {
        EXPECT("query-pci"),
        SLEEP(400),
        SEND("{\"return\": [\"late\"], \"id\": $ID}\r\n"),
        EXPECT("query-status"),
        SEND("{\"return\": \"fresh\", \"id\": $ID}\r\n"),
        END,
    };
    struct server srv;
    struct qmp *q = NULL;
    json_t *ret = NULL;
    bool ok = false;
    char err[256] = "";
    if (!(q = connect_session(&srv, script, why, whylen)))
        return false;
    ret = qmp_execute(q, "query-pci", NULL, 150, err, sizeof err);
    CHECK(!ret, "query-pci did not time out: %s", show(ret));
    CHECK(strcmp(err, "timed out after 150 ms waiting for the reply to query-pci") == 0,
          "wrong message: %s", err);
    ret = qmp_execute(q, "query-status", NULL, 3000, err, sizeof err);
    CHECK(ret, "query-status: %s", err);
    CHECK(json_is(ret, "\"fresh\""), "got the stale reply: %s", show(ret));
    ok = true;
out:
    json_decref(ret);
    return end_session(&srv, q, ok, why, whylen);
}

static bool case_truncated_then_eof(char *why, size_t whylen)
{
    static const struct step script[] = {
        EXPECT("query-status"),
        SEND("{\"return\": {\"status\": \"runn"),
        CLOSE,
        END,
    };
    struct server srv;
    struct qmp *q = NULL;
    json_t *ret = NULL;
    bool ok = false;
    char err[256] = "";
    if (!(q = connect_session(&srv, script, why, whylen)))
        return false;
    ret = qmp_execute(q, "query-status", NULL, 2000, err, sizeof err);
    CHECK(!ret, "a truncated reply was accepted: %s", show(ret));
    CHECK(strstr(err, "QEMU closed the QMP connection"), "wrong message: %s", err);
    CHECK(qmp_is_dead(q), "not dead after EOF");
    int64_t t0 = now_ms();
    ret = qmp_execute(q, "query-status", NULL, 2000, err, sizeof err);
    CHECK(!ret && strstr(err, "QEMU closed the QMP connection"),
          "a dead connection ran a command: %s", err);
    /* well under the 2000 ms a live connection would be given */
    CHECK(now_ms() - t0 < 1000, "a dead connection waited for a reply");
    ok = true;
out:
    json_decref(ret);
    return end_session(&srv, q, ok, why, whylen);
}

static bool case_garbage(char *why, size_t whylen)
{
    static const struct step script[] = {
        EXPECT("query-status"),
        SEND("this is not JSON at all\r\n"),
        END,
    };
    struct server srv;
    struct qmp *q = NULL;
    json_t *ret = NULL;
    bool ok = false;
    char err[256] = "";
    if (!(q = connect_session(&srv, script, why, whylen)))
        return false;
    ret = qmp_execute(q, "query-status", NULL, 2000, err, sizeof err);
    CHECK(!ret, "garbage accepted: %s", show(ret));
    CHECK(strstr(err, "QEMU sent invalid JSON: ") && strstr(err, "this is not JSON"),
          "wrong message: %s", err);
    CHECK(qmp_is_dead(q), "not dead after garbage");
    ok = true;
out:
    json_decref(ret);
    return end_session(&srv, q, ok, why, whylen);
}

static bool case_not_an_object(char *why, size_t whylen)
{
    static const struct step script[] = {
        SEND("[1, 2, 3]\r\n"),
        END,
    };
    struct server srv;
    struct qmp *q = NULL;
    bool ok = false;
    char err[256] = "";
    if (!(q = connect_session(&srv, script, why, whylen)))
        return false;
    /* The array may have come in the same read as the negotiation reply and been seen
     * already; either way the pump must report it. */
    CHECK(qmp_is_dead(q) || wait_readable(q, 2000), "the array never arrived");
    CHECK(qmp_pump(q, err, sizeof err) < 0, "pump accepted an array");
    CHECK(strstr(err, "not an object"), "wrong message: %s", err);
    CHECK(qmp_is_dead(q), "not dead after a non-object");
    ok = true;
out:
    return end_session(&srv, q, ok, why, whylen);
}

static bool case_no_answer(char *why, size_t whylen)
{
    static const struct step script[] = { EXPECT("query-pci"), END };
    struct server srv;
    struct qmp *q = NULL;
    json_t *ret = NULL;
    bool ok = false;
    char err[256] = "";
    if (!(q = connect_session(&srv, script, why, whylen)))
        return false;
    int64_t t0 = now_ms();
    ret = qmp_execute(q, "query-pci", NULL, 300, err, sizeof err);
    int64_t took = now_ms() - t0;
    CHECK(!ret, "got a reply from a silent server: %s", show(ret));
    CHECK(strcmp(err, "timed out after 300 ms waiting for the reply to query-pci") == 0,
          "wrong message: %s", err);
    CHECK(took >= 290 && took < 1500, "timed out after %lld ms, wanted 300", (long long)took);
    CHECK(!qmp_is_dead(q), "a timeout killed the connection");
    ok = true;
out:
    json_decref(ret);
    return end_session(&srv, q, ok, why, whylen);
}

static bool expect_connect_fails(const struct step *script, int timeout_ms, const char *want1,
                                 const char *want2, char *why, size_t whylen)
{
    struct server srv;
    struct qmp *q = NULL;
    bool ok = false;
    char err[256] = "";
    if (!start_server(&srv, NULL, script, why, whylen))
        return false;
    int64_t t0 = now_ms();
    q = qmp_connect(srv.path, timeout_ms, err, sizeof err);
    int64_t took = now_ms() - t0;
    CHECK(!q, "connect succeeded");
    CHECK(strstr(err, want1), "message lacks \"%s\": %s", want1, err);
    CHECK(!want2 || strstr(err, want2), "message lacks \"%s\": %s", want2, err);
    CHECK(took < timeout_ms + 1000, "took %lld ms", (long long)took);
    ok = true;
out:
    return end_session(&srv, q, ok, why, whylen);
}

static bool case_greeting_not_qmp(char *why, size_t whylen)
{
    static const struct step script[] = { SEND("{\"hello\": \"world\"}\r\n"), END };
    return expect_connect_fails(script, 2000, "QMP greeting was not a QMP greeting: ",
                                "Object item not found: QMP", why, whylen);
}

static bool case_greeting_not_json(char *why, size_t whylen)
{
    static const struct step script[] = { SEND("SSH-2.0-OpenSSH_9.2p1\r\n"), END };
    return expect_connect_fails(script, 2000, "QMP greeting was not a QMP greeting: ",
                                "invalid JSON", why, whylen);
}

static bool case_greeting_event_first(char *why, size_t whylen)
{
    static const struct step script[] = { SEND(EV("RESET") GREETING), END };
    return expect_connect_fails(script, 2000, "QMP greeting was not a QMP greeting: ", NULL,
                                why, whylen);
}

static bool case_greeting_timeout(char *why, size_t whylen)
{
    static const struct step script[] = { END };
    return expect_connect_fails(script, 300, "timed out after 300 ms waiting for the QMP greeting",
                                NULL, why, whylen);
}

static bool case_negotiation_refused(char *why, size_t whylen)
{
    static const struct step script[] = {
        SEND(GREETING),
        EXPECT("qmp_capabilities"),
        SEND("{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"no capabilities\"}, "
             "\"id\": $ID}\r\n"),
        END,
    };
    return expect_connect_fails(script, 2000, "CommandNotFound: no capabilities", NULL, why,
                                whylen);
}

static bool case_server_closes(char *why, size_t whylen)
{
    static const struct step script[] = { SEND(EV("LAST")), CLOSE, END };
    struct server srv;
    struct qmp *q = NULL;
    json_t *ret = NULL;
    bool ok = false;
    char err[256] = "";
    if (!(q = connect_session(&srv, script, why, whylen)))
        return false;
    int rc = 0;
    int64_t deadline = now_ms() + 2000;
    while (rc == 0 && now_ms() < deadline)
        if (wait_readable(q, 100))
            rc = qmp_pump(q, err, sizeof err);
    CHECK(rc < 0, "pump never reported the close");
    CHECK(strcmp(err, "QEMU closed the QMP connection") == 0, "wrong message: %s", err);
    CHECK(qmp_is_dead(q), "not dead after the close");
    if (!pop_event(q, "LAST", why, whylen))
        goto out;
    ret = qmp_execute(q, "query-status", NULL, 2000, err, sizeof err);
    CHECK(!ret && strcmp(err, "QEMU closed the QMP connection") == 0,
          "command on a closed connection: %s", err);
    ok = true;
out:
    json_decref(ret);
    return end_session(&srv, q, ok, why, whylen);
}

static bool case_server_closes_during_command(char *why, size_t whylen)
{
    static const struct step script[] = { EXPECT("query-status"), CLOSE, END };
    struct server srv;
    struct qmp *q = NULL;
    json_t *ret = NULL;
    bool ok = false;
    char err[256] = "";
    if (!(q = connect_session(&srv, script, why, whylen)))
        return false;
    ret = qmp_execute(q, "query-status", NULL, 2000, err, sizeof err);
    CHECK(!ret, "got a reply from a server that hung up: %s", show(ret));
    CHECK(strcmp(err, "QEMU closed the QMP connection") == 0, "wrong message: %s", err);
    CHECK(qmp_is_dead(q), "not dead after the close");
    ok = true;
out:
    json_decref(ret);
    return end_session(&srv, q, ok, why, whylen);
}

static bool case_id_less_error(char *why, size_t whylen)
{
    static const struct step script[] = {
        EXPECT("query-status"),
        SEND("{\"error\": {\"class\": \"GenericError\", "
             "\"desc\": \"JSON parse error, invalid keyword 'garbage'\"}}\r\n"),
        END,
    };
    struct server srv;
    struct qmp *q = NULL;
    json_t *ret = NULL;
    bool ok = false;
    char err[256] = "";
    if (!(q = connect_session(&srv, script, why, whylen)))
        return false;
    ret = qmp_execute(q, "query-status", NULL, 1000, err, sizeof err);
    CHECK(!ret, "succeeded: %s", show(ret));
    CHECK(strstr(err, "JSON parse error, invalid keyword 'garbage'"), "wrong message: %s", err);
    ok = true;
out:
    json_decref(ret);
    return end_session(&srv, q, ok, why, whylen);
}

/*
 * Only an id-less *error* can be the answer to the command in flight (QEMU's reply to a request
 * it could not parse). An id-less return, or an id-less error when no command is in flight, is
 * stray: it must not answer the command, nor the next one.
 */
static bool case_id_less_return_is_stray(char *why, size_t whylen)
{
    static const struct step script[] = {
        EXPECT("query-status"),
        SEND("{\"return\": {\"which\": \"stray\"}}\r\n"),
        SLEEP(30),
        SEND("{\"return\": {\"which\": \"ours\"}, \"id\": $ID}\r\n"),
        EXPECT("query-pci"),
        SEND("{\"return\": [], \"id\": $ID}\r\n"),
        END,
    };
    struct server srv;
    struct qmp *q = NULL;
    json_t *ret = NULL;
    bool ok = false;
    char err[256] = "";
    if (!(q = connect_session(&srv, script, why, whylen)))
        return false;
    ret = qmp_execute(q, "query-status", NULL, 2000, err, sizeof err);
    CHECK(ret, "query-status: %s", err);
    CHECK(json_is(ret, "{\"which\": \"ours\"}"), "took the id-less reply: %s", show(ret));
    json_decref(ret);
    ret = qmp_execute(q, "query-pci", NULL, 2000, err, sizeof err);
    CHECK(ret && json_is(ret, "[]"), "query-pci after a stray reply: %s %s", show(ret), err);
    CHECK(qmp_next_event(q) == NULL, "the stray reply was queued as an event");
    ok = true;
out:
    json_decref(ret);
    return end_session(&srv, q, ok, why, whylen);
}

static bool case_id_less_error_while_idle_is_stray(char *why, size_t whylen)
{
    static const struct step script[] = {
        EXPECT("query-status"),
        SEND(REPLY_RUNNING),
        SLEEP(50),
        SEND("{\"error\": {\"class\": \"GenericError\", \"desc\": \"stray\"}}\r\n"),
        EXPECT("query-pci"),
        SEND("{\"return\": \"fresh\", \"id\": $ID}\r\n"),
        END,
    };
    struct server srv;
    struct qmp *q = NULL;
    json_t *ret = NULL;
    bool ok = false;
    char err[256] = "";
    if (!(q = connect_session(&srv, script, why, whylen)))
        return false;
    ret = qmp_execute(q, "query-status", NULL, 2000, err, sizeof err);
    CHECK(ret && json_is(ret, "{\"status\": \"running\", \"running\": true}"),
          "query-status: %s %s", show(ret), err);
    json_decref(ret);
    ret = NULL;
    /* idle, the way the TUI and record pump the socket between commands */
    CHECK(wait_readable(q, 2000), "the stray error did not come");
    CHECK(qmp_pump(q, err, sizeof err) == 0, "pump: %s", err);
    CHECK(!qmp_is_dead(q) && qmp_next_event(q) == NULL, "the stray error was taken for an event "
          "or killed the connection");
    ret = qmp_execute(q, "query-pci", NULL, 2000, err, sizeof err);
    CHECK(ret, "query-pci was answered by the stray error: %s", err);
    CHECK(json_is(ret, "\"fresh\""), "query-pci: %s", show(ret));
    ok = true;
out:
    json_decref(ret);
    return end_session(&srv, q, ok, why, whylen);
}

static bool case_malformed_error(char *why, size_t whylen)
{
    static const struct step script[] = {
        EXPECT("query-status"),
        SEND("{\"error\": \"oops\", \"id\": $ID}\r\n"),
        EXPECT("query-status"),
        SEND(REPLY_RUNNING),
        END,
    };
    struct server srv;
    struct qmp *q = NULL;
    json_t *ret = NULL;
    bool ok = false;
    char err[256] = "";
    if (!(q = connect_session(&srv, script, why, whylen)))
        return false;
    ret = qmp_execute(q, "query-status", NULL, 2000, err, sizeof err);
    CHECK(!ret, "succeeded: %s", show(ret));
    CHECK(strstr(err, "malformed QMP error reply to query-status: ") &&
          strstr(err, "Expected object"), "wrong message: %s", err);
    CHECK(!qmp_is_dead(q), "a malformed error reply killed the connection");
    ret = qmp_execute(q, "query-status", NULL, 2000, err, sizeof err);
    CHECK(ret, "the next command failed: %s", err);
    ok = true;
out:
    json_decref(ret);
    return end_session(&srv, q, ok, why, whylen);
}

/* Arguments go out as given, absent when NULL; ids increase (the server checks both). */
static bool case_arguments_and_ids(char *why, size_t whylen)
{
    static const struct step script[] = {
        EXPECT_ARGS("qom-list", "{\"path\": \"/machine\"}"),
        SEND("{\"return\": [{\"name\": \"type\", \"type\": \"string\"}], \"id\": $ID}\r\n"),
        EXPECT("query-status"),
        SEND(REPLY_RUNNING),
        EXPECT_ARGS("human-monitor-command", "{\"command-line\": \"info \\\"x\\\"\\n\"}"),
        SEND("{\"return\": \"\\u00e9\\n\", \"id\": $ID}\r\n"),
        END,
    };
    struct server srv;
    struct qmp *q = NULL;
    json_t *ret = NULL;
    bool ok = false;
    char err[256] = "";
    if (!(q = connect_session(&srv, script, why, whylen)))
        return false;
    ret = qmp_execute(q, "qom-list", json_pack("{s:s}", "path", "/machine"), 2000, err,
                      sizeof err);
    CHECK(ret && json_is_array(ret), "qom-list: %s", ret ? show(ret) : err);
    json_decref(ret);
    /* Not an object: refused locally, nothing sent, the reference still consumed. */
    ret = qmp_execute(q, "query-status", json_integer(3), 2000, err, sizeof err);
    CHECK(!ret && strstr(err, "must be a JSON object"), "non-object arguments: %s", err);
    ret = qmp_execute(q, "query-status", NULL, 2000, err, sizeof err);
    CHECK(ret, "query-status: %s", err);
    json_decref(ret);
    ret = qmp_execute(q, "human-monitor-command",
                      json_pack("{s:s}", "command-line", "info \"x\"\n"), 2000, err, sizeof err);
    CHECK(ret && json_is(ret, "\"\\u00e9\\n\""), "hmp: %s", ret ? show(ret) : err);
    ok = true;
out:
    json_decref(ret);
    return end_session(&srv, q, ok, why, whylen);
}

static bool case_line_too_long(char *why, size_t whylen)
{
    static const struct step script[] = {
        EXPECT("query-status"),
        FLOOD(17L * 1024 * 1024),
        END,
    };
    struct server srv;
    struct qmp *q = NULL;
    json_t *ret = NULL;
    bool ok = false;
    char err[256] = "";
    if (!(q = connect_session(&srv, script, why, whylen)))
        return false;
    ret = qmp_execute(q, "query-status", NULL, 8000, err, sizeof err);
    CHECK(!ret, "an endless line was accepted");
    CHECK(strstr(err, "longer than 16 MiB"), "wrong message: %s", err);
    CHECK(qmp_is_dead(q), "not dead after an endless line");
    ok = true;
out:
    json_decref(ret);
    return end_session(&srv, q, ok, why, whylen);
}

static bool case_big_reply(char *why, size_t whylen)
{
    enum { BIG = 3 * 1024 * 1024 };
    static const struct step script[] = {
        EXPECT("query-big"),
        SEND(EV("BEFORE")),
        BIG_REPLY(BIG),
        END,
    };
    struct server srv;
    struct qmp *q = NULL;
    json_t *ret = NULL;
    bool ok = false;
    char err[256] = "";
    if (!(q = connect_session(&srv, script, why, whylen)))
        return false;
    ret = qmp_execute(q, "query-big", NULL, 8000, err, sizeof err);
    CHECK(ret, "query-big: %s", err);
    CHECK(json_is_string(ret) && json_string_length(ret) == BIG, "wrong big return");
    const char *s = json_string_value(ret);
    CHECK(s[0] == 'x' && s[BIG - 1] == 'x', "corrupted big return");
    if (!pop_event(q, "BEFORE", why, whylen))
        goto out;
    ok = true;
out:
    json_decref(ret);
    return end_session(&srv, q, ok, why, whylen);
}

/* Undrained events are freed by qmp_close (LeakSanitizer checks it under -fsanitize). */
static bool case_close_with_queued_events(char *why, size_t whylen)
{
    static const struct step script[] = {
        SEND(EV("A") EV("B") EV("C")), END,
    };
    struct server srv;
    struct qmp *q = NULL;
    bool ok = false;
    char err[256] = "";
    if (!(q = connect_session(&srv, script, why, whylen)))
        return false;
    /* Take A; B and C came in the same write, so they wait in the queue for qmp_close. */
    json_t *ev = wait_event(q, 2000, err, sizeof err);
    const char *name = json_string_value(json_object_get(ev, "event"));
    bool is_a = name && strcmp(name, "A") == 0;
    json_decref(ev);
    CHECK(is_a, "expected event A, got %s", name ? name : "none");
    ok = true;
out:
    return end_session(&srv, q, ok, why, whylen);
}

/* Two connections at once keep their own ids, replies and events. */
static bool case_two_clients(char *why, size_t whylen)
{
    static const struct step script_a[] = {
        EXPECT("query-a"),
        SEND(EV("FROM-A") "{\"return\": \"a\", \"id\": $ID}\r\n"), END,
    };
    static const struct step script_b[] = {
        EXPECT("query-b"), SEND("{\"return\": \"b\", \"id\": $ID}\r\n"), END,
    };
    struct server a;
    struct server b;
    struct qmp *qa = NULL;
    struct qmp *qb = NULL;
    json_t *ret = NULL;
    bool ok = false;
    char err[256] = "";
    if (!start_server(&a, handshake, script_a, why, whylen))
        return false;
    if (!start_server(&b, handshake, script_b, why, whylen)) {
        finish_server(&a, false, why, whylen);
        return false;
    }
    qa = qmp_connect(a.path, 2000, err, sizeof err);
    CHECK(qa, "connect a: %s", err);
    qb = qmp_connect(b.path, 2000, err, sizeof err);
    CHECK(qb, "connect b: %s", err);
    ret = qmp_execute(qb, "query-b", NULL, 2000, err, sizeof err);
    CHECK(ret && json_is(ret, "\"b\""), "query-b: %s", ret ? show(ret) : err);
    json_decref(ret);
    ret = qmp_execute(qa, "query-a", NULL, 2000, err, sizeof err);
    CHECK(ret && json_is(ret, "\"a\""), "query-a: %s", ret ? show(ret) : err);
    CHECK(qmp_next_event(qb) == NULL, "b got a's event");
    if (!pop_event(qa, "FROM-A", why, whylen))
        goto out;
    ok = true;
out:
    json_decref(ret);
    qmp_close(qa);
    qmp_close(qb);
    ok = finish_server(&a, ok, why, whylen);
    return finish_server(&b, ok, why, whylen);
}

/* ---- cases without a server ---- */

static bool case_connect_no_socket(char *why, size_t whylen)
{
    char dir[] = "/tmp/test_qmp.XXXXXX";
    char path[128];
    char err[256] = "";
    bool ok = false;
    struct qmp *q = NULL;
    if (!mkdtemp(dir)) {
        snprintf(why, whylen, "mkdtemp: %s", strerror(errno));
        return false;
    }
    snprintf(path, sizeof path, "%s/missing.sock", dir);
    q = qmp_connect(path, 1000, err, sizeof err);
    CHECK(!q, "connected to nothing");
    CHECK(strstr(err, path) && strstr(err, strerror(ENOENT)), "wrong message: %s", err);
    ok = true;
out:
    qmp_close(q);
    rmdir(dir);
    return ok;
}

static bool case_connect_refused(char *why, size_t whylen)
{
    char dir[] = "/tmp/test_qmp.XXXXXX";
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    char err[256] = "";
    bool ok = false;
    struct qmp *q = NULL;
    if (!mkdtemp(dir)) {
        snprintf(why, whylen, "mkdtemp: %s", strerror(errno));
        return false;
    }
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s/stale.sock", dir);
    /* A socket file nobody listens on, as a crashed QEMU leaves behind. */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    int bound = fd >= 0 ? bind(fd, (struct sockaddr *)&addr, sizeof addr) : -1;
    int bind_errno = errno;
    if (fd >= 0)
        close(fd);
    CHECK(bound == 0, "bind: %s", strerror(bind_errno));
    q = qmp_connect(addr.sun_path, 1000, err, sizeof err);
    CHECK(!q, "connected to a dead socket");
    CHECK(strstr(err, addr.sun_path) && strstr(err, strerror(ECONNREFUSED)), "wrong message: %s",
          err);
    ok = true;
out:
    qmp_close(q);
    unlink(addr.sun_path);
    rmdir(dir);
    return ok;
}

/*
 * QEMU serves one client per QMP socket; a second one waits in the backlog for a greeting that
 * never comes. Here this process holds the socket: it listens, accepted one client, and never
 * accepts another. qmp_connect must say who holds it (this process) with EBUSY instead of
 * timing out.
 */
static bool case_socket_held_by_another_client(char *why, size_t whylen)
{
    char dir[] = "/tmp/test_qmp.XXXXXX";
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    char err[512] = "";
    char want[128];
    char comm[32] = "";
    bool ok = false;
    struct qmp *q = NULL;
    int lfd = -1, first = -1, accepted = -1;
    if (!mkdtemp(dir)) {
        snprintf(why, whylen, "mkdtemp: %s", strerror(errno));
        return false;
    }
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s/qmp.sock", dir);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
          listen(lfd, 4) == 0, "listen: %s", strerror(errno));
    first = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(first >= 0 && connect(first, (struct sockaddr *)&addr, sizeof addr) == 0,
          "first client: %s", strerror(errno));
    accepted = accept(lfd, NULL, NULL);
    CHECK(accepted >= 0, "accept: %s", strerror(errno));
    q = qmp_connect(addr.sun_path, 4000, err, sizeof err);
    int e = errno;
    CHECK(!q, "connected although another client holds the socket");
    CHECK(e == EBUSY, "errno %d (%s), expected EBUSY: %s", e, strerror(e), err);
    FILE *f = fopen("/proc/self/comm", "r");
    CHECK(f && fgets(comm, sizeof comm, f), "cannot read /proc/self/comm");
    fclose(f);
    comm[strcspn(comm, "\n")] = '\0';
    snprintf(want, sizeof want, "another program (%s, pid %d) holds the QMP socket ", comm,
             (int)getpid());
    CHECK(strncmp(err, want, strlen(want)) == 0 && strstr(err, addr.sun_path) &&
          strstr(err, "QEMU serves one client per QMP socket"), "wrong message: %s", err);
    ok = true;
out:
    qmp_close(q);
    if (accepted >= 0)
        close(accepted);
    if (first >= 0)
        close(first);
    if (lfd >= 0)
        close(lfd);
    unlink(addr.sun_path);
    rmdir(dir);
    return ok;
}

/* ---- the real QEMU ---- */

/* $REGDBG_QEMU, else $REGDBG_BUILD/bin/... (tests/run.py sets it), else the usual build. */
static const char *qemu_binary(void)
{
    static char path[4096];
    const char *env = getenv("REGDBG_QEMU");
    if (env && *env)
        return env;
    const char *build = getenv("REGDBG_BUILD");
    if (build && *build) {
        snprintf(path, sizeof path, "%s/bin/qemu-system-x86_64", build);
        return path;
    }
    return DEFAULT_QEMU;
}

static bool case_real_qemu(char *why, size_t whylen)
{
    const char *qemu = qemu_binary();
    char dir[] = "/tmp/test_qmp.XXXXXX";
    char path[128];
    char spec[160];
    char err[256] = "";
    bool ok = false;
    struct qmp *q = NULL;
    json_t *ret = NULL;
    pid_t pid = -1;
    if (!mkdtemp(dir)) {
        snprintf(why, whylen, "mkdtemp: %s", strerror(errno));
        return false;
    }
    snprintf(path, sizeof path, "%s/qmp.sock", dir);
    snprintf(spec, sizeof spec, "unix:%s,server=on,wait=off", path);
    fflush(stdout);
    pid = fork();
    CHECK(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
            dup2(devnull, STDOUT_FILENO);
        }
        execl(qemu, qemu, "-machine", "none", "-display", "none", "-nodefaults", "-qmp", spec,
              (char *)NULL);
        fprintf(stderr, "exec %s: %s\n", qemu, strerror(errno));
        _exit(127);
    }
    track_pid(pid, true);

    /* QEMU creates the socket a moment after starting; retry until it answers. */
    int64_t deadline = now_ms() + 15000;
    while (!(q = qmp_connect(path, 5000, err, sizeof err)) && now_ms() < deadline) {
        CHECK(waitpid(pid, NULL, WNOHANG) == 0, "QEMU exited early (%s)", err);
        poll(NULL, 0, 50);
    }
    CHECK(q, "connect: %s", err);

    ret = qmp_execute(q, "query-status", NULL, 5000, err, sizeof err);
    CHECK(ret, "query-status: %s", err);
    CHECK(json_is_string(json_object_get(ret, "status")) &&
          json_is_boolean(json_object_get(ret, "running")), "odd query-status: %s", show(ret));
    json_decref(ret);

    ret = qmp_execute(q, "qom-list", json_pack("{s:s}", "path", "/machine"), 5000, err,
                      sizeof err);
    CHECK(ret, "qom-list: %s", err);
    CHECK(json_is_array(ret) && json_array_size(ret) > 0, "odd qom-list: %s", show(ret));
    bool has_type = false;
    size_t i;
    json_t *prop;
    json_array_foreach(ret, i, prop) {
        const char *name = json_string_value(json_object_get(prop, "name"));
        CHECK(name, "qom-list entry without a name: %s", show(prop));
        has_type |= strcmp(name, "type") == 0;
    }
    CHECK(has_type, "qom-list /machine has no \"type\" property");
    json_decref(ret);

    ret = qmp_execute(q, "regdbg-no-such-command", NULL, 5000, err, sizeof err);
    CHECK(!ret, "an unknown command succeeded: %s", show(ret));
    CHECK(strstr(err, "QMP error from QEMU: CommandNotFound: ") &&
          strstr(err, "regdbg-no-such-command"), "wrong message: %s", err);
    CHECK(!qmp_is_dead(q), "an error reply killed the connection");

    /* quit: QEMU replies, says SHUTDOWN, and hangs up. */
    ret = qmp_execute(q, "quit", NULL, 5000, err, sizeof err);
    CHECK(ret, "quit: %s", err);
    int rc = 0;
    deadline = now_ms() + 5000;
    while (rc == 0 && now_ms() < deadline)
        if (wait_readable(q, 100))
            rc = qmp_pump(q, err, sizeof err);
    CHECK(rc < 0 && strcmp(err, "QEMU closed the QMP connection") == 0,
          "after quit: %s", rc < 0 ? err : "no close");
    CHECK(qmp_is_dead(q), "not dead after QEMU quit");
    json_t *ev = qmp_next_event(q);
    const char *name = json_string_value(json_object_get(ev, "event"));
    bool shutdown = name && strcmp(name, "SHUTDOWN") == 0;
    json_decref(ev);
    CHECK(shutdown, "no SHUTDOWN event after quit (got %s)", name ? name : "none");
    ok = true;
out:
    json_decref(ret);
    qmp_close(q);
    if (pid > 0) {
        if (!ok)
            kill(pid, SIGKILL);
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        track_pid(pid, false);
    }
    unlink(path);
    rmdir(dir);
    return ok;
}

/* ---- runner ---- */

struct test_case {
    const char *name;
    bool (*run)(char *why, size_t whylen);
    unsigned seconds;
};

int main(void)
{
    static const struct test_case cases[] = {
        { "handshake", case_handshake, CASE_SECONDS },
        { "split_and_batched", case_split_and_batched, CASE_SECONDS },
        { "events_around_reply", case_events_around_reply, CASE_SECONDS },
        { "unknown_keys", case_unknown_keys, CASE_SECONDS },
        { "error_reply", case_error_reply, CASE_SECONDS },
        { "other_id_first", case_other_id_first, CASE_SECONDS },
        { "stale_after_timeout", case_stale_after_timeout, CASE_SECONDS },
        { "truncated_then_eof", case_truncated_then_eof, CASE_SECONDS },
        { "garbage", case_garbage, CASE_SECONDS },
        { "not_an_object", case_not_an_object, CASE_SECONDS },
        { "no_answer", case_no_answer, CASE_SECONDS },
        { "greeting_not_qmp", case_greeting_not_qmp, CASE_SECONDS },
        { "greeting_not_json", case_greeting_not_json, CASE_SECONDS },
        { "greeting_event_first", case_greeting_event_first, CASE_SECONDS },
        { "greeting_timeout", case_greeting_timeout, CASE_SECONDS },
        { "negotiation_refused", case_negotiation_refused, CASE_SECONDS },
        { "server_closes", case_server_closes, CASE_SECONDS },
        { "server_closes_during_command", case_server_closes_during_command, CASE_SECONDS },
        { "id_less_error", case_id_less_error, CASE_SECONDS },
        { "id_less_return_is_stray", case_id_less_return_is_stray, CASE_SECONDS },
        { "id_less_error_while_idle_is_stray", case_id_less_error_while_idle_is_stray,
          CASE_SECONDS },
        { "malformed_error", case_malformed_error, CASE_SECONDS },
        { "arguments_and_ids", case_arguments_and_ids, CASE_SECONDS },
        { "line_too_long", case_line_too_long, CASE_SECONDS },
        { "big_reply", case_big_reply, CASE_SECONDS },
        { "close_with_queued_events", case_close_with_queued_events, CASE_SECONDS },
        { "two_clients", case_two_clients, CASE_SECONDS },
        { "connect_no_socket", case_connect_no_socket, CASE_SECONDS },
        { "connect_refused", case_connect_refused, CASE_SECONDS },
        { "socket_held_by_another_client", case_socket_held_by_another_client, CASE_SECONDS },
        { "real_qemu", case_real_qemu, QEMU_CASE_SECONDS },
    };
    int passed = 0;
    int failed = 0;
    signal(SIGALRM, on_alarm);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct test_case *tc = &cases[i];
        if (tc->run == case_real_qemu && access(qemu_binary(), X_OK) != 0) {
            /* make test builds QEMU first: its absence is a failure, not a skip */
            printf("not ok - %s: %s is not built (run make)\n", tc->name, qemu_binary());
            failed++;
            continue;
        }
        snprintf(alarm_message, sizeof alarm_message,
                 "not ok - %s: hung for %u s, aborting\n%d passed, %d failed\n", tc->name,
                 tc->seconds, passed, failed + 1);
        char why[1024] = "";
        alarm(tc->seconds);
        bool ok = tc->run(why, sizeof why);
        alarm(0);
        if (ok) {
            printf("ok - %s\n", tc->name);
            passed++;
        } else {
            printf("not ok - %s: %s\n", tc->name, why[0] ? why : "failed");
            failed++;
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
