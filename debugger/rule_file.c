/*
 * Rules files: see rule_file.h.
 */
#include "rule_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule_table.h"

int rules_cmd_apply(const struct rules_cmd *cmd, const struct rules_ctx *ctx,
                    struct ring_reader **rings, bool allow_break, char *err, size_t errlen)
{
    int dev, slot;

    switch (cmd->kind) {
    case RCMD_EMPTY:
        return 0;
    case RCMD_RULE:
        if (!allow_break && cmd->spec.rule.kind == REGDBG_RULE_BREAK) {
            snprintf(err, errlen, "regdbg record cannot answer a breakpoint; use edit, inject "
                     "or drop here, or regdbg batch");
            return -1;
        }
        return rule_add(rings[cmd->spec.dev], &cmd->spec.rule, cmd->spec.ignore, cmd->spec.temp,
                        cmd->spec.text, err, errlen);
    case RCMD_ENABLE:
    case RCMD_DISABLE:
    case RCMD_DELETE:
        for (int i = 0; i < cmd->n_ids; i++) {
            dev = cmd->ids[i] / (int)REGDBG_MAX_RULES;
            slot = cmd->ids[i] % (int)REGDBG_MAX_RULES;
            if (dev >= ctx->n_devs) {
                snprintf(err, errlen, "no rule %d (info rules lists them)", cmd->ids[i]);
                return -1;
            }
            if ((cmd->kind == RCMD_DELETE ? rule_delete(rings[dev], slot, err, errlen)
                 : rule_set_enabled(rings[dev], slot, cmd->kind == RCMD_ENABLE, err,
                                    errlen)) < 0) {
                return -1;
            }
        }
        if (cmd->kind == RCMD_DELETE && cmd->n_ids == 0) {
            for (dev = 0; dev < ctx->n_devs; dev++) {
                for (slot = 0; slot < (int)REGDBG_MAX_RULES; slot++) {
                    struct rule_info ri;
                    rule_get(rings[dev], slot, &ri);
                    if (ri.used && rule_delete(rings[dev], slot, err, errlen) < 0) {
                        return -1;
                    }
                }
            }
        }
        return 0;
    default:
        snprintf(err, errlen, "not a command for a rules file (break, edit, inject, drop, "
                 "enable, disable, delete)");
        return -1;
    }
}

int rule_file_apply(const char *path, const struct rules_ctx *ctx, struct ring_reader **rings,
                    bool allow_break, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, msg[384];
    size_t cap = 0;
    int line_no = 0, ret = 0;

    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    while (getline(&line, &cap, f) > 0) {
        struct rules_cmd cmd;
        struct rules_error perr;

        line[strcspn(line, "\r\n")] = '\0';
        line_no++;
        if (rules_parse(line, ctx, &cmd, &perr) < 0) {
            snprintf(err, errlen, "%s:%d:%d: %s", path, line_no, perr.column, perr.message);
            ret = -1;
            break;
        }
        if (rules_cmd_apply(&cmd, ctx, rings, allow_break, msg, sizeof(msg)) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, line_no, msg);
            ret = -1;
            break;
        }
    }
    free(line);
    fclose(f);
    return ret;
}
