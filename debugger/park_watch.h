/*
 * Wakes the debugger's poll() loop as soon as a proxy parks an access: one thread per ring waits on
 * the ring's park doorbell (a futex the device bumps and wakes) and writes a byte to a pipe whose
 * read end the loop polls. The device's hot path stays free of system calls; only a park rings.
 */
#ifndef REGDBG_PARK_WATCH_H
#define REGDBG_PARK_WATCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "ring_reader.h"

#define PARK_WATCH_MAX 16

struct park_watch;

struct park_watch_ring {
    struct park_watch *owner;
    struct ring_reader *rr;
    pthread_t thread;
    bool running;
};

struct park_watch {
    int pipe_rd, pipe_wr;
    atomic_bool stop;
    struct park_watch_ring rings[PARK_WATCH_MAX];
    int n;
};

/* Start watching; returns the fd to poll (readable after a park), or -1. */
int park_watch_start(struct park_watch *w, struct ring_reader **rings, int n);
/* Empty the pipe after poll() said it is readable. */
void park_watch_ack(struct park_watch *w);
void park_watch_stop(struct park_watch *w);

#endif /* REGDBG_PARK_WATCH_H */
