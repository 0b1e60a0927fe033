/*
 * Rules files (--rules FILE for launch, attach and record): the rules language, one command per
 * line, applied to the attached rings (and, for irq lines, to the devices over QMP) before
 * anything else happens.
 */
#ifndef REGDBG_RULE_FILE_H
#define REGDBG_RULE_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "ring_reader.h"
#include "rules_parse.h"

/*
 * Carry out one parsed rule-table command (break, edit, inject, drop, on, enable, disable, delete)
 * on the rings; rings[i] is the ring of ctx->devs[i]. Returns the new rule's slot for a rule,
 * 0 for the others, or -1 with a message.
 */
int rules_cmd_apply(const struct rules_cmd *cmd, const struct rules_ctx *ctx,
                    struct ring_reader **rings, bool allow_break, char *err, size_t errlen);

/* How a rules file's irq lines reach the devices (over QMP: session_irq, proxy_irq). */
struct rule_file_irq {
    /* Drive device dev's interrupt (enum regdbg_irq_action); 0, or -1 with a message. */
    int (*fire)(void *opaque, int dev, uint8_t action, char *err, size_t errlen);
    void *opaque;
};

/*
 * Apply every line of path: break (unless allow_break is false), edit, inject, drop, on, enable,
 * disable, delete, irq. rings[i] is the ring of ctx->devs[i]. All or nothing: every line is
 * parsed and resolved before anything is written, and when writing fails part-way (a full rule
 * table, no such rule) the rules the file had changed are put back as they were. The irq lines
 * run after every rule is in place, in their order (an interrupt cannot be taken back: they run
 * only once nothing else can fail); irq NULL refuses them. When one fails, the rules are put back
 * too (the interrupts before it stay sent). 0, or -1 with "FILE:LINE:COL: message" (or
 * "FILE:LINE: message").
 */
int rule_file_apply(const char *path, const struct rules_ctx *ctx, struct ring_reader **rings,
                    bool allow_break, const struct rule_file_irq *irq, char *err,
                    size_t errlen);

#endif /* REGDBG_RULE_FILE_H */
