/*
 * Owns the QMP client: the non-blocking UNIX-socket connection to QEMU's monitor, the line framing
 * of its JSON stream, the greeting and capability negotiation, replies matched to commands by id,
 * the queue of asynchronous events, and the one-line error messages for all of it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* SOCK_NONBLOCK, SOCK_CLOEXEC, MSG_NOSIGNAL */
#endif

#include "qmp.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Longest message accepted from QEMU; beyond it the peer is broken or hostile. */
#define QMP_MAX_LINE ((size_t)16 * 1024 * 1024)
/* Bytes asked of each recv(); the buffer always has at least this much room before reading. */
#define QMP_READ_CHUNK ((size_t)64 * 1024)
/* Reads one qmp_pump() does at most, so a flooding server cannot keep the caller inside it. */
#define QMP_PUMP_READS 256
/* Events kept when nobody drains them; the oldest are dropped beyond this to bound memory. */
#define QMP_MAX_EVENTS 4096
/* How much of a bad message is quoted in an error. */
#define QMP_EXCERPT 48
/* How often a connection that has no greeting yet looks for another client holding the socket. */
#define QMP_BUSY_CHECK_MS 200

struct qmp_event {
    json_t *event;
    struct qmp_event *next;
};

struct qmp {
    int fd;
    char *buf;           /* received bytes; [start, len) are not consumed yet */
    size_t start;
    size_t len;
    size_t cap;
    size_t scanned;      /* bytes after start already known to hold no '\n' */
    json_int_t next_id;  /* id of the next command, increasing per connection */
    struct qmp_event *ev_head;
    struct qmp_event *ev_tail;
    size_t ev_count;
    bool dead;
    char dead_reason[256]; /* why the connection died, repeated by every later call */
};

/* Formats into err (when given) and flattens it to one line: a server desc may hold newlines. */
__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    size_t n = strlen(err);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)err[i];
        if (c < 0x20 || c == 0x7f)
            err[i] = ' ';
    }
    while (n > 0 && err[n - 1] == ' ')
        err[--n] = '\0';
}

/* Records the first reason the stream became unusable; later reasons are consequences. */
__attribute__((format(printf, 2, 3)))
static void mark_dead(struct qmp *q, const char *fmt, ...)
{
    if (q->dead)
        return;
    q->dead = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q->dead_reason, sizeof q->dead_reason, fmt, ap);
    va_end(ap);
}

/* Quotes the start of untrusted bytes printably, for error messages. */
static const char *excerpt(const char *s, size_t n, char *out, size_t outlen)
{
    size_t max = outlen - 4; /* room for "..." and the terminator */
    size_t i;
    for (i = 0; i < n && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    out[i] = '\0';
    if (i < n)
        strcpy(out + i, "...");
    return out;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline, as poll() wants them; 0 once it has passed. */
static int ms_left(int64_t deadline)
{
    int64_t left = deadline - now_ms();
    if (left <= 0)
        return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}

/* Takes the next complete line out of the buffer, without its "\n" or "\r\n". */
static bool take_line(struct qmp *q, const char **line, size_t *n)
{
    char *begin = q->buf + q->start;
    size_t avail = q->len - q->start;
    char *nl = NULL;
    if (q->scanned < avail)
        nl = memchr(begin + q->scanned, '\n', avail - q->scanned);
    if (!nl) {
        q->scanned = avail; /* so a long line is scanned once, not once per read */
        return false;
    }
    size_t linelen = (size_t)(nl - begin);
    q->start += linelen + 1;
    q->scanned = 0;
    if (linelen > 0 && begin[linelen - 1] == '\r')
        linelen--;
    *line = begin;
    *n = linelen;
    return true;
}

/*
 * One non-blocking recv() into the buffer. Only called when no complete line is buffered, so what
 * the buffer holds is one unfinished message, which is what the size cap applies to.
 * Returns 1 when bytes arrived, 0 when none are waiting, -1 when the connection is dead.
 */
static int read_some(struct qmp *q)
{
    if (q->dead)
        return -1;
    if (q->start > 0) {
        memmove(q->buf, q->buf + q->start, q->len - q->start);
        q->len -= q->start;
        q->start = 0;
    }
    if (q->len >= QMP_MAX_LINE) {
        mark_dead(q, "QMP message from QEMU is longer than %zu MiB",
                  QMP_MAX_LINE / (1024 * 1024));
        return -1;
    }
    if (q->cap - q->len < QMP_READ_CHUNK) {
        size_t cap = q->cap * 2;
        if (cap < q->len + QMP_READ_CHUNK)
            cap = q->len + QMP_READ_CHUNK;
        if (cap > QMP_MAX_LINE + QMP_READ_CHUNK)
            cap = QMP_MAX_LINE + QMP_READ_CHUNK;
        char *buf = realloc(q->buf, cap);
        if (!buf) {
            mark_dead(q, "out of memory buffering a QMP message of %zu bytes", q->len);
            return -1;
        }
        q->buf = buf;
        q->cap = cap;
    }
    ssize_t got = recv(q->fd, q->buf + q->len, q->cap - q->len, 0);
    if (got > 0) {
        q->len += (size_t)got;
        return 1;
    }
    if (got == 0) {
        if (q->len > 0)
            mark_dead(q, "QEMU closed the QMP connection in the middle of a message");
        else
            mark_dead(q, "QEMU closed the QMP connection");
        return -1;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return 0;
    if (errno == ECONNRESET)
        mark_dead(q, "QEMU closed the QMP connection");
    else
        mark_dead(q, "reading the QMP socket failed: %s", strerror(errno));
    return -1;
}

static void queue_event(struct qmp *q, json_t *msg)
{
    json_error_t jerr;
    const char *name;
    /* A message with "event" that is not a string event is not worth keeping. */
    if (json_unpack_ex(msg, &jerr, 0, "{s:s}", "event", &name) != 0) {
        json_decref(msg);
        return;
    }
    struct qmp_event *ev = malloc(sizeof *ev);
    if (!ev) {
        json_decref(msg);
        return;
    }
    ev->event = msg;
    ev->next = NULL;
    if (q->ev_tail)
        q->ev_tail->next = ev;
    else
        q->ev_head = ev;
    q->ev_tail = ev;
    q->ev_count++;
    if (q->ev_count > QMP_MAX_EVENTS)
        json_decref(qmp_next_event(q));
}

/*
 * Handles one line from the server: events are queued, the reply with id want_id (want_id < 1 means
 * none is awaited) is handed back in *reply, other replies and unknown messages are dropped.
 * Returns -1 when the line is not a JSON object (the connection is then dead), else 0.
 */
static int handle_message(struct qmp *q, const char *line, size_t n, json_int_t want_id,
                          json_t **reply)
{
    if (n == 0)
        return 0;
    json_error_t jerr;
    char quote[QMP_EXCERPT];
    json_t *msg = json_loadb(line, n, 0, &jerr);
    if (!msg) {
        mark_dead(q, "QEMU sent invalid JSON: %s (got: %s)", jerr.text,
                  excerpt(line, n, quote, sizeof quote));
        return -1;
    }
    if (!json_is_object(msg)) {
        mark_dead(q, "QEMU sent a JSON value that is not an object (got: %s)",
                  excerpt(line, n, quote, sizeof quote));
        json_decref(msg);
        return -1;
    }
    if (json_object_get(msg, "event")) {
        queue_event(q, msg);
        return 0;
    }
    bool is_error = json_object_get(msg, "error") != NULL;
    if (is_error || json_object_get(msg, "return")) {
        json_t *id = json_object_get(msg, "id");
        bool ours;
        if (id)
            ours = json_is_integer(id) && json_integer_value(id) == want_id;
        else
            /* QEMU omits the id only when it could not parse the request; with one request in
             * flight at a time, that request is the one being waited for. */
            ours = is_error;
        if (ours && want_id > 0 && !*reply) {
            *reply = msg;
            return 0;
        }
    }
    /* Stale replies (e.g. to a command that timed out), repeated greetings, unknown messages. */
    json_decref(msg);
    return 0;
}

/* Handles every complete line already buffered, with no reply awaited. */
static int handle_buffered(struct qmp *q)
{
    const char *line;
    size_t n;
    json_t *unused = NULL;
    while (take_line(q, &line, &n))
        if (handle_message(q, line, n, 0, &unused) < 0)
            return -1;
    return 0;
}

/*
 * Waits until deadline for one complete line, reading as needed.
 * what names the awaited thing for the timeout message; timeout_ms is the caller's figure.
 */
static int wait_line(struct qmp *q, int64_t deadline, int timeout_ms, const char *what,
                     const char **line, size_t *n, char *err, size_t errlen)
{
    for (;;) {
        if (take_line(q, line, n))
            return 0;
        int got = read_some(q);
        if (got > 0)
            continue;
        if (got < 0) {
            set_err(err, errlen, "%s", q->dead_reason);
            return -1;
        }
        int left = ms_left(deadline);
        if (left == 0) {
            set_err(err, errlen, "timed out after %d ms waiting for %s", timeout_ms, what);
            return -1;
        }
        struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
        if (poll(&pfd, 1, left) < 0 && errno != EINTR) {
            mark_dead(q, "poll on the QMP socket failed: %s", strerror(errno));
            set_err(err, errlen, "%s", q->dead_reason);
            return -1;
        }
    }
}

/*
 * Writes all of data before deadline. While the socket is full it keeps reading too, so a server
 * that blocks on writing its events to us cannot deadlock with us.
 */
static int send_all(struct qmp *q, const char *data, size_t len, int64_t deadline,
                    int timeout_ms, const char *command, char *err, size_t errlen)
{
    size_t off = 0;
    while (off < len) {
        if (q->dead) {
            set_err(err, errlen, "%s", q->dead_reason);
            return -1;
        }
        ssize_t put = send(q->fd, data + off, len - off, MSG_NOSIGNAL);
        if (put > 0) {
            off += (size_t)put;
            continue;
        }
        if (put < 0 && errno == EINTR)
            continue;
        if (put < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int left = ms_left(deadline);
            if (left == 0) {
                /* Half a request on the wire would garble whatever is sent next. */
                if (off > 0)
                    mark_dead(q, "timed out sending %s; the QMP stream is out of step", command);
                set_err(err, errlen, "timed out after %d ms sending %s", timeout_ms, command);
                return -1;
            }
            struct pollfd pfd = { .fd = q->fd, .events = POLLOUT | POLLIN };
            if (poll(&pfd, 1, left) < 0 && errno != EINTR) {
                mark_dead(q, "poll on the QMP socket failed: %s", strerror(errno));
                continue;
            }
            if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
                if (handle_buffered(q) == 0 && read_some(q) > 0)
                    handle_buffered(q);
            }
            continue;
        }
        if (put < 0 && errno != EPIPE && errno != ECONNRESET)
            mark_dead(q, "writing the QMP socket failed: %s", strerror(errno));
        else
            mark_dead(q, "QEMU closed the QMP connection");
    }
    return 0;
}

/* Turns the reply object into the caller's result: the "return" member or an error message. */
static json_t *unpack_reply(json_t *msg, const char *command, char *err, size_t errlen)
{
    json_error_t jerr;
    if (json_object_get(msg, "error")) {
        const char *cls = NULL;
        const char *desc = NULL;
        if (json_unpack_ex(msg, &jerr, 0, "{s:{s?s, s:s}}", "error", "class", &cls,
                           "desc", &desc) != 0)
            set_err(err, errlen, "malformed QMP error reply to %s: %s", command, jerr.text);
        else if (cls)
            set_err(err, errlen, "QMP error from QEMU: %s: %s", cls, desc);
        else
            set_err(err, errlen, "QMP error from QEMU: %s", desc);
        return NULL;
    }
    json_t *ret = NULL;
    if (json_unpack_ex(msg, &jerr, 0, "{s:o}", "return", &ret) != 0) {
        set_err(err, errlen, "malformed QMP reply to %s: %s", command, jerr.text);
        return NULL;
    }
    return json_incref(ret);
}

/* qmp_execute() against an absolute deadline, so qmp_connect() can share its own. */
static json_t *execute_until(struct qmp *q, const char *command, json_t *args, int64_t deadline,
                             int timeout_ms, char *err, size_t errlen)
{
    if (!q || !command || !*command) {
        json_decref(args);
        set_err(err, errlen, "qmp_execute: %s", q ? "no command given" : "no QMP connection");
        return NULL;
    }
    if (args && !json_is_object(args)) {
        json_decref(args);
        set_err(err, errlen, "arguments to %s must be a JSON object", command);
        return NULL;
    }
    if (q->dead) {
        json_decref(args);
        set_err(err, errlen, "%s", q->dead_reason);
        return NULL;
    }

    json_int_t id = q->next_id++;
    json_t *req = json_object();
    if (!req) {
        json_decref(args);
        set_err(err, errlen, "out of memory encoding the QMP command %s", command);
        return NULL;
    }
    /* json_object_set_new() consumes its value even when it fails, so args is always taken. */
    int bad = json_object_set_new(req, "execute", json_string(command));
    if (args)
        bad |= json_object_set_new(req, "arguments", args);
    bad |= json_object_set_new(req, "id", json_integer(id));
    char *text = bad ? NULL : json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!text) {
        set_err(err, errlen, "cannot encode the QMP command %s (is its name valid UTF-8?)",
                command);
        return NULL;
    }
    size_t len = strlen(text);
    char *wire = realloc(text, len + 2);
    if (!wire) {
        free(text);
        set_err(err, errlen, "out of memory encoding the QMP command %s", command);
        return NULL;
    }
    wire[len++] = '\n';
    wire[len] = '\0';
    int sent = send_all(q, wire, len, deadline, timeout_ms, command, err, errlen);
    free(wire);
    if (sent < 0)
        return NULL;

    char what[160];
    snprintf(what, sizeof what, "the reply to %s", command);
    json_t *reply = NULL;
    while (!reply) {
        const char *line;
        size_t n;
        if (wait_line(q, deadline, timeout_ms, what, &line, &n, err, errlen) < 0)
            return NULL;
        if (handle_message(q, line, n, id, &reply) < 0) {
            set_err(err, errlen, "%s", q->dead_reason);
            return NULL;
        }
    }
    /* Events that came in the same read as the reply are queued now, so a caller that drains
     * qmp_next_event() after each command sees them without waiting for the fd. A corrupt line
     * here kills the connection for later calls but does not take this reply away. */
    handle_buffered(q);
    json_t *ret = unpack_reply(reply, command, err, errlen);
    json_decref(reply);
    return ret;
}

/*
 * Is another client connected to the QMP socket at path? QEMU serves one client per -qmp socket;
 * while one is connected, others wait in the listen backlog and never get a greeting. The
 * kernel's socket diagnostics (NETLINK_SOCK_DIAG) list the server ends QEMU accepted on that
 * socket file, each with the inode of its client's socket. Returns 1 with that inode in *peer
 * when a live client other than own_fd is connected, 0 when none is, -1 when it cannot tell.
 */
static int socket_holder(const char *path, int own_fd, unsigned long *peer)
{
    struct {
        struct nlmsghdr nlh;
        struct unix_diag_req req;
    } msg = {
        .nlh = { .nlmsg_len = sizeof msg, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
        .req = { .sdiag_family = AF_UNIX, .udiag_states = 1u << 1 /* TCP_ESTABLISHED */,
                 .udiag_show = UDIAG_SHOW_VFS | UDIAG_SHOW_PEER },
    };
    struct stat file, own;
    long buf[8192 / sizeof(long)];
    int found = 0, done = 0;

    if (stat(path, &file) < 0 || !S_ISSOCK(file.st_mode) || fstat(own_fd, &own) < 0)
        return -1;
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0)
        return -1;
    struct timeval tv = { .tv_sec = 1 };
    setsockopt(nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (send(nl, &msg, sizeof msg, 0) != (ssize_t)sizeof msg) {
        close(nl);
        return -1;
    }
    while (!done) {
        ssize_t n = recv(nl, buf, sizeof buf, 0);
        if (n <= 0) {
            found = -1;
            break;
        }
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE) {
                done = 1;
                break;
            }
            if (h->nlmsg_type == NLMSG_ERROR) {
                found = -1;
                done = 1;
                break;
            }
            if (found == 1 || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg)))
                continue;
            struct unix_diag_msg *m = NLMSG_DATA(h);
            struct rtattr *a = (struct rtattr *)(m + 1);
            int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
            struct unix_diag_vfs vfs = { 0 };
            uint32_t peer_ino = 0;
            bool has_vfs = false;
            /* An accepted socket has an inode; one still in the backlog has none. */
            if (m->udiag_ino == 0)
                continue;
            for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
                if (a->rta_type == UNIX_DIAG_VFS && RTA_PAYLOAD(a) >= sizeof vfs) {
                    memcpy(&vfs, RTA_DATA(a), sizeof vfs);
                    has_vfs = true;
                } else if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= sizeof peer_ino) {
                    memcpy(&peer_ino, RTA_DATA(a), sizeof peer_ino);
                }
            }
            /* The kernel gives the file's device in its own encoding: major << 20 | minor. */
            if (has_vfs && vfs.udiag_vfs_ino == file.st_ino &&
                vfs.udiag_vfs_dev >> 20 == major(file.st_dev) &&
                (vfs.udiag_vfs_dev & 0xfffff) == minor(file.st_dev) &&
                peer_ino != 0 && peer_ino != own.st_ino) {
                *peer = peer_ino;  /* a client that closed has inode 0: it is going away */
                found = 1;
            }
        }
    }
    close(nl);
    return found;
}

/* The process with a descriptor for the socket with inode ino, and its name; 0 when unknown. */
static pid_t socket_owner(unsigned long ino, char *name, size_t namelen)
{
    char want[64], link[64], path[300];
    DIR *proc = opendir("/proc");
    struct dirent *p;
    pid_t pid = 0;

    snprintf(name, namelen, "unknown");
    if (!proc)
        return 0;
    snprintf(want, sizeof want, "socket:[%lu]", ino);
    while (!pid && (p = readdir(proc))) {
        if (p->d_name[0] < '1' || p->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/fd", p->d_name);
        DIR *fds = opendir(path);
        struct dirent *f;
        if (!fds)
            continue;
        while ((f = readdir(fds))) {
            ssize_t n = readlinkat(dirfd(fds), f->d_name, link, sizeof link - 1);
            if (n > 0) {
                link[n] = '\0';
                if (strcmp(link, want) == 0) {
                    pid = (pid_t)atoi(p->d_name);
                    break;
                }
            }
        }
        closedir(fds);
    }
    closedir(proc);
    if (pid) {
        snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
        FILE *f = fopen(path, "r");
        if (f) {
            if (fgets(name, (int)namelen, f))
                name[strcspn(name, "\n")] = '\0';
            fclose(f);
        }
    }
    return pid;
}

struct qmp *qmp_connect(const char *path, int timeout_ms, char *err, size_t errlen)
{
    if (timeout_ms < 0)
        timeout_ms = 0;
    int64_t deadline = now_ms() + timeout_ms;
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (!path || !*path) {
        set_err(err, errlen, "no QMP socket path given");
        return NULL;
    }
    if (strlen(path) >= sizeof addr.sun_path) {
        set_err(err, errlen, "cannot connect to QMP socket %s: path longer than %zu bytes", path,
                sizeof addr.sun_path - 1);
        return NULL;
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        set_err(err, errlen, "cannot connect to QMP socket %s: socket: %s", path,
                strerror(errno));
        return NULL;
    }
    for (;;) {
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0)
            break;
        int e = errno;
        if (e == EAGAIN && ms_left(deadline) > 0) {
            /* The listener's backlog is full; a UNIX socket does not queue us, so retry. */
            int left = ms_left(deadline);
            poll(NULL, 0, left < 10 ? left : 10);
            continue;
        }
        if (e == EINPROGRESS || e == EINTR) {
            struct pollfd pfd = { .fd = fd, .events = POLLOUT };
            int ready = poll(&pfd, 1, ms_left(deadline));
            socklen_t elen = sizeof e;
            if (ready == 0)
                e = ETIMEDOUT;
            else if (ready < 0)
                e = errno;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
                e = errno;
            if (e == 0)
                break;
        }
        set_err(err, errlen, "cannot connect to QMP socket %s: %s", path,
                e == EAGAIN ? "timed out (listener backlog full)" : strerror(e));
        close(fd);
        return NULL;
    }

    struct qmp *q = calloc(1, sizeof *q);
    char *buf = malloc(QMP_READ_CHUNK * 2);
    if (!q || !buf) {
        free(q);
        free(buf);
        close(fd);
        set_err(err, errlen, "out of memory connecting to QMP socket %s", path);
        return NULL;
    }
    q->fd = fd;
    q->buf = buf;
    q->cap = QMP_READ_CHUNK * 2;
    q->next_id = 1;

    /* The greeting is the first line; anything else first means this is not a QMP server. */
    char what[sizeof addr.sun_path + 32];
    snprintf(what, sizeof what, "the QMP greeting on %s", path);
    const char *line;
    size_t n;
    bool busy = false;
    for (;;) {
        int64_t check_at = now_ms() + QMP_BUSY_CHECK_MS;
        if (wait_line(q, check_at < deadline ? check_at : deadline, timeout_ms, what, &line, &n,
                      err, errlen) == 0) {
            if (n == 0)
                continue;
            break;
        }
        if (q->dead)
            goto fail;
        /* No greeting yet: is it because another client holds the socket? */
        unsigned long peer;
        int held = socket_holder(path, fd, &peer);
        if (held == 1) {
            char name[64];
            pid_t pid = socket_owner(peer, name, sizeof name);
            if (pid)
                set_err(err, errlen, "another program (%s, pid %d) holds the QMP socket %s, and "
                        "QEMU serves one client per QMP socket", name, (int)pid, path);
            else
                set_err(err, errlen, "another program holds the QMP socket %s, and QEMU serves "
                        "one client per QMP socket", path);
            busy = true;
            goto fail;
        }
        if (ms_left(deadline) == 0) {
            if (held < 0)
                set_err(err, errlen, "timed out after %d ms waiting for %s (QEMU serves one "
                        "client per QMP socket: does another program hold it?)", timeout_ms,
                        what);
            goto fail;
        }
    }
    json_error_t jerr;
    char quote[QMP_EXCERPT];
    json_t *greeting = json_loadb(line, n, 0, &jerr);
    if (!greeting) {
        set_err(err, errlen, "QMP greeting was not a QMP greeting: invalid JSON: %s (got: %s)",
                jerr.text, excerpt(line, n, quote, sizeof quote));
        goto fail;
    }
    json_t *version;
    json_t *caps;
    int bad = json_unpack_ex(greeting, &jerr, 0, "{s:{s:o, s:o}}", "QMP", "version", &version,
                             "capabilities", &caps);
    json_decref(greeting);
    if (bad) {
        set_err(err, errlen, "QMP greeting was not a QMP greeting: %s (got: %s)", jerr.text,
                excerpt(line, n, quote, sizeof quote));
        goto fail;
    }

    json_t *ret = execute_until(q, "qmp_capabilities", NULL, deadline, timeout_ms, err, errlen);
    if (!ret)
        goto fail;
    json_decref(ret);
    return q;

fail:
    qmp_close(q);
    errno = busy ? EBUSY : EPROTO;
    return NULL;
}

void qmp_close(struct qmp *q)
{
    if (!q)
        return;
    json_t *ev;
    while ((ev = qmp_next_event(q)))
        json_decref(ev);
    close(q->fd);
    free(q->buf);
    free(q);
}

int qmp_fd(const struct qmp *q)
{
    return q ? q->fd : -1;
}

json_t *qmp_execute(struct qmp *q, const char *command, json_t *args, int timeout_ms,
                    char *err, size_t errlen)
{
    if (timeout_ms < 0)
        timeout_ms = 0;
    return execute_until(q, command, args, now_ms() + timeout_ms, timeout_ms, err, errlen);
}

int qmp_pump(struct qmp *q, char *err, size_t errlen)
{
    if (!q) {
        set_err(err, errlen, "qmp_pump: no QMP connection");
        return -1;
    }
    for (int reads = 0; reads < QMP_PUMP_READS; reads++) {
        if (handle_buffered(q) < 0 || q->dead) {
            set_err(err, errlen, "%s", q->dead_reason);
            return -1;
        }
        int got = read_some(q);
        if (got == 0)
            return 0;
        /* got < 0: the loop reports it after handling the complete lines that came before. */
    }
    if (handle_buffered(q) < 0) {
        set_err(err, errlen, "%s", q->dead_reason);
        return -1;
    }
    return 0;
}

json_t *qmp_next_event(struct qmp *q)
{
    if (!q || !q->ev_head)
        return NULL;
    struct qmp_event *ev = q->ev_head;
    q->ev_head = ev->next;
    if (!q->ev_head)
        q->ev_tail = NULL;
    q->ev_count--;
    json_t *event = ev->event;
    free(ev);
    return event;
}

bool qmp_is_dead(const struct qmp *q)
{
    return !q || q->dead;
}

const char *qmp_event_deleted_path(json_t *ev)
{
    const char *name = NULL, *path = NULL;
    json_error_t jerr;

    if (json_unpack_ex(ev, &jerr, 0, "{s:s, s?{s?s}}", "event", &name, "data", "path",
                       &path) < 0 || strcmp(name, "DEVICE_DELETED")) {
        return NULL;
    }
    return path;
}
