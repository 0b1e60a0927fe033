/*
 * QMP client: a blocking-with-timeout JSON client for QEMU's machine protocol over a UNIX socket.
 * Does the greeting and capability negotiation, matches replies to commands by "id", queues
 * asynchronous events that arrive meanwhile, tolerates unknown keys, and reports QMP errors with the
 * server's own "desc" text.
 */
#ifndef REGDBG_QMP_H
#define REGDBG_QMP_H

#include <stdbool.h>
#include <jansson.h>

struct qmp;

/*
 * Connect to the QMP socket at path, read the greeting and negotiate capabilities, all within
 * timeout_ms. On failure returns NULL and writes a one-line message (no trailing newline) into err.
 * QEMU serves one client per QMP socket: when another client holds it (no greeting comes, and the
 * kernel's socket diagnostics show the socket connected to another process), it fails at once,
 * without waiting for timeout_ms, with errno EBUSY and a message that names that process.
 */
struct qmp *qmp_connect(const char *path, int timeout_ms, char *err, size_t errlen);
void qmp_close(struct qmp *q);

/* The socket's file descriptor, for poll(): readable when a reply or event may be waiting. */
int qmp_fd(const struct qmp *q);

/*
 * Run a command and wait up to timeout_ms for the reply with its id. args may be NULL; the reference
 * to args is stolen. Returns the "return" member (a new reference; the caller json_decref()s it) or
 * NULL with a one-line message in err: the server's "desc" for an error reply ("class: desc"),
 * "timed out after N ms waiting for COMMAND", or "QEMU closed the QMP connection".
 * Events read while waiting are queued for qmp_next_event().
 */
json_t *qmp_execute(struct qmp *q, const char *command, json_t *args, int timeout_ms,
                    char *err, size_t errlen);

/*
 * Read whatever the socket has without blocking (call when poll() says qmp_fd is readable), queueing
 * events. Returns 0, or -1 with a message when the connection is closed or the stream is corrupt.
 */
int qmp_pump(struct qmp *q, char *err, size_t errlen);

/* Pop the oldest queued event (the whole event object, new reference), or NULL when none. */
json_t *qmp_next_event(struct qmp *q);
/* The QOM path of the device a DEVICE_DELETED event names (an unplug), else NULL: another
   event, or a device without one. Valid while ev is. */
const char *qmp_event_deleted_path(json_t *ev);

/* True once the server closed the connection or sent something that is not QMP. */
bool qmp_is_dead(const struct qmp *q);

#endif /* REGDBG_QMP_H */
