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
    default: {
        char names[200];

        snprintf(err, errlen, "not a command for a rules file (%s)",
                 command_list(CMDW_RULES_FILE, names, sizeof(names)));
        return -1;
    }
    }
}

/* A slot of a device as it was before the file touched it. */
struct undo {
    int dev, slot;
    struct rule_saved saved;
};

struct journal {
    struct undo *u;
    int n, cap;
};

/* Remember slot (dev, n) as it is, once (the first state is the one to go back to). */
static int journal_note(struct journal *j, struct ring_reader **rings, int dev, int n)
{
    for (int i = 0; i < j->n; i++) {
        if (j->u[i].dev == dev && j->u[i].slot == n) {
            return 0;
        }
    }
    if (j->n == j->cap) {
        int cap = j->cap ? 2 * j->cap : 16;
        struct undo *u = realloc(j->u, (size_t)cap * sizeof(*u));

        if (!u) {
            return -1;
        }
        j->u = u;
        j->cap = cap;
    }
    j->u[j->n].dev = dev;
    j->u[j->n].slot = n;
    rule_save(rings[dev], n, &j->u[j->n].saved);
    j->n++;
    return 0;
}

/* Note every slot that cmd may change; for a new rule, the free slot rule_add will take. */
static int journal_cmd(struct journal *j, const struct rules_cmd *cmd,
                       const struct rules_ctx *ctx, struct ring_reader **rings)
{
    struct rule_info ri;

    switch (cmd->kind) {
    case RCMD_RULE:
        for (int n = 0; n < (int)REGDBG_MAX_RULES; n++) {
            rule_get(rings[cmd->spec.dev], n, &ri);
            if (!ri.used) {
                return journal_note(j, rings, cmd->spec.dev, n);
            }
        }
        return 0;
    case RCMD_ENABLE:
    case RCMD_DISABLE:
    case RCMD_DELETE:
        for (int i = 0; i < cmd->n_ids; i++) {
            int dev = cmd->ids[i] / (int)REGDBG_MAX_RULES;

            if (dev < ctx->n_devs &&
                journal_note(j, rings, dev, cmd->ids[i] % (int)REGDBG_MAX_RULES) < 0) {
                return -1;
            }
        }
        for (int dev = 0; cmd->kind == RCMD_DELETE && cmd->n_ids == 0 && dev < ctx->n_devs;
             dev++) {
            for (int n = 0; n < (int)REGDBG_MAX_RULES; n++) {
                if (journal_note(j, rings, dev, n) < 0) {
                    return -1;
                }
            }
        }
        return 0;
    default:
        return 0;
    }
}

/* Put every slot the file touched back as it was, newest change first. */
static void journal_undo(struct journal *j, struct ring_reader **rings)
{
    char err[256];

    for (int i = j->n - 1; i >= 0; i--) {
        rule_restore(rings[j->u[i].dev], j->u[i].slot, &j->u[i].saved, err, sizeof(err));
    }
}

struct file_line {
    int line_no;
    struct rules_cmd cmd;
};

int rule_file_apply(const char *path, const struct rules_ctx *ctx, struct ring_reader **rings,
                    bool allow_break, const struct rule_file_irq *irq, char *err,
                    size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, msg[384];
    size_t cap = 0;
    struct file_line *cmds = NULL;
    struct journal j = { 0 };
    int n_cmds = 0, cap_cmds = 0, line_no = 0, ret = 0;

    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* Every line is parsed and resolved before anything is written: a bad line changes nothing. */
    while (ret == 0 && getline(&line, &cap, f) > 0) {
        struct rules_error perr;
        struct rules_cmd *cmd;

        line[strcspn(line, "\r\n")] = '\0';
        line_no++;
        if (n_cmds == cap_cmds) {
            int ncap = cap_cmds ? 2 * cap_cmds : 16;
            struct file_line *nc = realloc(cmds, (size_t)ncap * sizeof(*nc));

            if (!nc) {
                snprintf(err, errlen, "%s: out of memory", path);
                ret = -1;
                break;
            }
            cmds = nc;
            cap_cmds = ncap;
        }
        cmd = &cmds[n_cmds].cmd;
        if (rules_parse(line, ctx, cmd, &perr) < 0) {
            snprintf(err, errlen, "%s:%d:%d: %s", path, line_no, perr.column, perr.message);
            ret = -1;
        } else if (cmd->kind == RCMD_RULE && !allow_break &&
                   cmd->spec.rule.kind == REGDBG_RULE_BREAK) {
            snprintf(err, errlen, "%s:%d: regdbg record cannot answer a breakpoint; use edit, "
                     "inject or drop here, or regdbg batch", path, line_no);
            ret = -1;
        } else if (cmd->kind == RCMD_IRQ && !irq) {
            snprintf(err, errlen, "%s:%d: irq drives the interrupt over QMP: give --qmp (regdbg "
                     "record --shm cannot)", path, line_no);
            ret = -1;
        } else if (cmd->kind == RCMD_IRQ && cmd->spec.dev < 0) {
            char names[160] = "";

            for (int d = 0; d < ctx->n_devs && strlen(names) < sizeof(names) - 40; d++) {
                snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                         d ? ", " : "", ctx->devs[d].id);
            }
            snprintf(err, errlen, "%s:%d: irq of which device? name one of %s at the end of the "
                     "line", path, line_no, names);
            ret = -1;
        } else if (cmd->kind != RCMD_EMPTY && !(cmd->def->where & CMDW_RULES_FILE)) {
            char names[200];

            snprintf(err, errlen, "%s:%d: not a command for a rules file (%s)", path, line_no,
                     command_list(CMDW_RULES_FILE, names, sizeof(names)));
            ret = -1;
        } else if (cmd->kind != RCMD_EMPTY) {
            cmds[n_cmds++].line_no = line_no;
        }
    }
    if (ret == 0 && ferror(f)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        ret = -1;
    }
    free(line);
    fclose(f);
    /* Then written in order; when a line fails (the rule table is full, no such rule), what the
       file changed before it is put back. */
    for (int i = 0; ret == 0 && i < n_cmds; i++) {
        if (cmds[i].cmd.kind == RCMD_IRQ) {
            continue;                   /* once the rules are all in place, below */
        }
        if (journal_cmd(&j, &cmds[i].cmd, ctx, rings) < 0) {
            snprintf(err, errlen, "%s: out of memory", path);
            ret = -1;
        } else if (rules_cmd_apply(&cmds[i].cmd, ctx, rings, allow_break, msg,
                                   sizeof(msg)) < 0) {
            snprintf(err, errlen, "%s:%d: %s; nothing in %s was applied", path, cmds[i].line_no,
                     msg, path);
            ret = -1;
        }
    }
    for (int i = 0; ret == 0 && i < n_cmds; i++) {
        if (cmds[i].cmd.kind == RCMD_IRQ &&
            irq->fire(irq->opaque, cmds[i].cmd.spec.dev, cmds[i].cmd.irq_action, msg,
                      sizeof(msg)) < 0) {
            snprintf(err, errlen, "%s:%d: %s; the rules of %s were taken back (interrupts sent "
                     "before this line stay sent)", path, cmds[i].line_no, msg, path);
            ret = -1;
        }
    }
    if (ret < 0) {
        journal_undo(&j, rings);
    }
    free(j.u);
    free(cmds);
    return ret;
}
