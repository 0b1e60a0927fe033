/*
 * Park doorbell watcher threads (see park_watch.h).
 */
#include "park_watch.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "rule_table.h"

#define WAIT_MS 200     /* how often a thread looks at the stop flag */

static void *watch_main(void *opaque)
{
    struct park_watch_ring *wr = opaque;
    uint32_t seen = park_doorbell(wr->rr);

    while (!atomic_load(&wr->owner->stop)) {
        if (park_wait_doorbell(wr->rr, seen, WAIT_MS) > 0) {
            seen = park_doorbell(wr->rr);
            if (write(wr->owner->pipe_wr, "p", 1) < 0) {
                /* the pipe is full: the loop has wake-ups pending anyway */
            }
        }
    }
    return NULL;
}

int park_watch_start(struct park_watch *w, struct ring_reader **rings, int n)
{
    int fds[2];

    memset(w, 0, sizeof(*w));
    w->pipe_rd = w->pipe_wr = -1;
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
        return -1;
    }
    w->pipe_rd = fds[0];
    w->pipe_wr = fds[1];
    for (int i = 0; i < n && i < PARK_WATCH_MAX; i++) {
        w->rings[i].owner = w;
        w->rings[i].rr = rings[i];
        if (pthread_create(&w->rings[i].thread, NULL, watch_main, &w->rings[i]) == 0) {
            w->rings[i].running = true;
        }
        w->n = i + 1;
    }
    return w->pipe_rd;
}

void park_watch_ack(struct park_watch *w)
{
    char buf[64];

    while (read(w->pipe_rd, buf, sizeof(buf)) > 0) {
    }
}

void park_watch_stop(struct park_watch *w)
{
    atomic_store(&w->stop, true);
    for (int i = 0; i < w->n; i++) {
        if (w->rings[i].running) {
            pthread_join(w->rings[i].thread, NULL);
            w->rings[i].running = false;
        }
    }
    if (w->pipe_rd >= 0) {
        close(w->pipe_rd);
        close(w->pipe_wr);
    }
    w->pipe_rd = w->pipe_wr = -1;
    w->n = 0;
}
