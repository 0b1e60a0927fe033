/*
 * The recorder's core, shared by `regdbg record` and the ring benchmark: drain a ring straight
 * into a trace file.
 */
#ifndef REGDBG_RECORDER_H
#define REGDBG_RECORDER_H

#include <stddef.h>

#include "ring_reader.h"
#include "trace_file.h"

/*
 * Move up to max published events from the ring into the trace, handing their slots back.
 * Returns the count, or -1 with a message in err when the trace cannot be written.
 */
long recorder_drain(struct ring_reader *rr, struct trace_writer *w, size_t max, char *err,
                    size_t errlen);

#endif /* REGDBG_RECORDER_H */
