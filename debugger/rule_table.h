/*
 * The debugger's side of a proxy's rules (include/regdbg/rules.h): writes rules into shared memory
 * under their seqlocks, keeps the device's index in step, reads hit counters, and finds and answers
 * parked accesses. Rules stay in shared memory when the debugger leaves, so a debugger that
 * attaches later finds them (with their text) and goes on from there.
 */
#ifndef REGDBG_RULE_TABLE_H
#define REGDBG_RULE_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "ring_reader.h"

struct rule_info {
    bool used;
    bool enabled;
    uint8_t kind;
    uint64_t hits;
    char text[REGDBG_RULE_TEXT_LEN];
};

/* The rules area of an attached ring (NULL when the ring has none). */
struct regdbg_rules_area *rule_area(struct ring_reader *rr);

/*
 * Install a rule in a free slot: *rule is the compiled body (enabled set), ignore and temp the
 * rule's counters, text what `info rules` shows. Returns the slot number, or -1 with err.
 */
int rule_add(struct ring_reader *rr, const struct regdbg_rule *rule, uint32_t ignore, bool temp,
             const char *text, char *err, size_t errlen);
/* Replace the body of rule n, keeping its number; counters start again. */
int rule_replace(struct ring_reader *rr, int n, const struct regdbg_rule *rule, uint32_t ignore,
                 bool temp, const char *text, char *err, size_t errlen);
int rule_set_enabled(struct ring_reader *rr, int n, bool enabled, char *err, size_t errlen);
int rule_delete(struct ring_reader *rr, int n, char *err, size_t errlen);
void rule_get(struct ring_reader *rr, int n, struct rule_info *out);
/* The rule's seqlock count: it changes whenever the rule is written (added, replaced, enabled,
   disabled, deleted), so a caller can tell that rule n is still the one it wrote. */
uint32_t rule_seq(struct ring_reader *rr, int n);

/* A rule as it was, to put back (rules files are applied all or nothing). */
struct rule_saved {
    bool used;
    struct regdbg_rule body;    /* with its counters */
    char text[REGDBG_RULE_TEXT_LEN];
};
void rule_save(struct ring_reader *rr, int n, struct rule_saved *out);
/* Make rule n what rule_save saw: deleted when it was free, else its body, counters and text. */
int rule_restore(struct ring_reader *rr, int n, const struct rule_saved *saved, char *err,
                 size_t errlen);

/* Park the next n accesses of the device, whatever they are. */
void rule_step(struct ring_reader *rr, uint32_t n);

/* Tell parked accesses that this debugger is alive (call at least every second); 0 when it
   leaves, so that the device knows at once that nobody will answer a park. */
void rule_heartbeat(struct ring_reader *rr, uint64_t now_ns);

/* The first parked access at or after slot *cursor, copied; -1 when none. */
int park_next(struct ring_reader *rr, int from, struct regdbg_park_slot *out);
/* Answer a parked access (slot number and park_id from park_next). */
int park_answer(struct ring_reader *rr, int slot, uint64_t park_id, uint32_t verdict,
                uint64_t value, char *err, size_t errlen);
/* Let every parked access go on unmodified (a debugger leaving). */
void park_release_all(struct ring_reader *rr);
/* Wait up to timeout_ms for the device to ring the park doorbell past `seen`. */
uint32_t park_doorbell(struct ring_reader *rr);
int park_wait_doorbell(struct ring_reader *rr, uint32_t seen, int timeout_ms);

#endif /* REGDBG_RULE_TABLE_H */
