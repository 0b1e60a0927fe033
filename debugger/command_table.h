/*
 * The debugger's commands, in one table: each command's name, usage, one-line help and where it is
 * allowed (the TUI's : prompt, a rules file, a batch script). The rules parser dispatches by it,
 * the session asks it whether a prompt line is a rules command, the : prompt runs and lists the
 * commands it marks for the prompt, `regdbg batch --help` and the TUI's help screen are generated
 * from it, and `regdbg help --commands` prints it. Pure data and look-ups: no I/O.
 */
#ifndef REGDBG_COMMAND_TABLE_H
#define REGDBG_COMMAND_TABLE_H

#include <stdbool.h>
#include <stddef.h>

enum command_id {
    CMD_HELP,
    /* the rules language (debugger/rules_parse.c parses these) */
    CMD_BREAK, CMD_EDIT, CMD_INJECT, CMD_DROP, CMD_ON, CMD_INFO, CMD_ENABLE, CMD_DISABLE,
    CMD_DELETE, CMD_IRQ, CMD_STEP, CMD_WAIT, CMD_CONTINUE, CMD_SKIP, CMD_PRINT, CMD_EXPECT, CMD_GDB,
    /* the : prompt's own (views/prompt.c runs these) */
    CMD_FILTER, CMD_SEARCH, CMD_RECORD, CMD_STOP, CMD_CONT, CMD_RESET, CMD_VIEW, CMD_DEVICE,
    CMD_DETACH, CMD_QUIT,
    CMD_COUNT
};

enum command_where {             /* a mask */
    CMDW_PROMPT = 1u << 0,       /* the TUI's : prompt */
    CMDW_RULES_FILE = 1u << 1,   /* a rules file (--rules, regdbg record --rules) */
    CMDW_BATCH = 1u << 2,        /* a regdbg batch script */
};

struct command_def {
    enum command_id id;
    const char *name;
    const char *usage;           /* the whole synopsis, e.g. "step [N]" */
    const char *help;            /* one line */
    unsigned where;              /* enum command_where */
    bool rules_language;         /* parsed by rules_parse() (docs/rules.md) */
};

extern const struct command_def command_table[CMD_COUNT];   /* indexed by enum command_id */

/* The command named s[0..n) (exactly, case-sensitively), or NULL. */
const struct command_def *command_find(const char *s, size_t n);

/* "where" as words: "prompt, rules file, batch". */
const char *command_where_text(unsigned where, char *buf, size_t size);

/*
 * The leading words of two or more lower-case letters of the usage, for lists of commands, into
 * buf: "info rules" of "info rules", "edit" of "edit w TARGET ...", "step" of "step [N]".
 */
const char *command_title(const struct command_def *c, char *buf, size_t size);

/*
 * The titles of the commands allowed in every place of the mask where, in the table's order,
 * joined by ", " into buf ("break, edit, inject, drop, enable, disable, delete" for a rules file).
 */
const char *command_list(unsigned where, char *buf, size_t size);

#endif /* REGDBG_COMMAND_TABLE_H */
