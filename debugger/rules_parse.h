/*
 * The debugger's command language (docs/rules.md): one line is one command. Rule commands (break,
 * edit, inject, drop, on) are resolved against the devices and register maps of a context and
 * compiled into a struct regdbg_rule (regdbg/rules.h), conditions into its postfix bytecode; the
 * other commands (info rules, enable, disable, delete, irq, step, wait, continue, skip, print,
 * expect, gdb) are parsed into their arguments. The commands are the entries of the command table
 * (command_table.h) marked rules_language; the parser dispatches by it. Errors carry the 1-based
 * column of the offending token and say what was expected.
 *
 * Pure: no I/O, no allocation, no global state. The line is untrusted text; it is read up to its
 * NUL and never past it.
 */
#ifndef REGDBG_RULES_PARSE_H
#define REGDBG_RULES_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#include "command_table.h"
#include "event_store.h"
#include "regdbg/rules.h"
#include "regmap.h"
#include "symbols.h"

struct rules_device {            /* what names resolve against; filled by the caller */
    const char *id;              /* the proxy's id, e.g. "i2c0" */
    const struct regmap *map;    /* may be NULL */
    uint64_t bar_size[6];        /* 0 = absent; all 0 = sizes unknown (nothing is checked) */
};
struct rules_ctx {
    const struct rules_device *devs;
    int n_devs;
    const struct symbols *symbols;   /* for `from FUNC`; NULL = none loaded */
};

enum rules_cmd_kind {
    RCMD_RULE,        /* break / edit / inject / drop / on: spec is filled */
    RCMD_INFO_RULES, RCMD_ENABLE, RCMD_DISABLE, RCMD_DELETE,   /* ids[] (delete with no id = all) */
    RCMD_STEP,        /* count (default 1) */
    RCMD_WAIT,        /* timeout_s (default: none = 0) */
    RCMD_CONTINUE,    /* has_value, value */
    RCMD_SKIP,        /* has_value, value */
    RCMD_PRINT,
    RCMD_EXPECT,      /* cond: a condition program over the parked access */
    RCMD_GDB,         /* hand the VM, stopped after the parked access, to gdb */
    RCMD_IRQ,         /* irq_action on the device spec.dev (-1: not named, and not the only
                         one: the caller's current device) */
    RCMD_EMPTY,       /* blank line or # comment */
};

struct rules_spec {
    int dev;                     /* index into ctx->devs */
    struct regdbg_rule rule;     /* filled except seq/hits/ignore_left/temp_left; enabled = 1 */
    uint32_t ignore;             /* ignore N */
    bool temp;
    const struct regmap_reg *reg;   /* the target register when named, else NULL */
    const struct regmap_field *field;   /* the target field (REGISTER.FIELD), else NULL */
    char text[256];              /* canonical text for `info rules`, e.g.
                                    "break w i2c0:IC_DATA_CMD if CMD == 1"; ends in "..." when cut */
};

struct rules_cmd {
    enum rules_cmd_kind kind;
    const struct command_def *def;   /* the command's entry of command_table; NULL when empty */
    struct rules_spec spec;
    int ids[64]; int n_ids;      /* rule numbers, as given (0..INT_MAX; the caller checks them) */
    uint32_t count;
    double timeout_s;
    bool has_value; uint64_t value;
    uint8_t irq_action;          /* RCMD_IRQ: enum regdbg_irq_action */
    struct regdbg_rule cond;     /* RCMD_EXPECT: only n_code/code/consts/uses_value used */
};

struct rules_error { int column; char message[256]; };   /* column is 1-based, into the line */

/*
 * Parse one line. Returns 0 with *out filled (everything not set by the command is zero), or -1
 * with err filled (out is then zeroed or partly filled: do not use it). ctx may be NULL (no
 * devices); err may be NULL. The line may end with "\n" or "\r\n".
 */
int rules_parse(const char *line, const struct rules_ctx *ctx, struct rules_cmd *out,
                struct rules_error *err);

/*
 * The name among names[0..n) closest to word, by the measure of the parser's "did you mean"
 * hints (an insertion, deletion, substitution or swap of neighbours is one edit; case is free;
 * about one edit per four letters), or NULL when none is that close. The first of equals wins.
 */
const char *rules_closest_name(const char *word, const char *const *names, size_t n);

/*
 * The one number rule of the debugger, used by the rules language, the stream's filter and
 * search, the park prompt and the command line's numeric options (docs/rules.md, "Numbers"):
 * "0x" or "0X" and hex digits is hexadecimal; anything else is decimal digits, and a leading zero
 * never means octal ("010" is ten). s[0..n) must be the number alone: no sign, no spaces, no
 * trailing text. OK with *out set; BAD for anything else (empty, "0x" alone, junk); BIG when it
 * does not fit in 64 bits.
 */
enum rules_number { RULES_NUMBER_OK, RULES_NUMBER_BAD, RULES_NUMBER_BIG };
enum rules_number rules_parse_number(const char *s, size_t n, uint64_t *out);

/*
 * A whole line that is one number (spaces around it allowed), as the park prompt takes it.
 * 0, or -1 with err filled (its column 1-based into text, messages as the rules language's).
 */
int rules_parse_value(const char *text, uint64_t *out, struct rules_error *err);

/*
 * The stream's filter: space-separated KEY=VALUE words, dev=ID bar=N reg=NAME dir=r|w|irq
 * value=V[/MASK] irq=WHAT (docs/rules.md; WHAT as trace_irq_what_name() writes it: raised,
 * lowered, msi, unchanged, host-masked, host-unmasked). Devices and register names resolve
 * against ctx (may be NULL);
 * reg= with dev= becomes a register index, without it a name matched on any device. 0 with *f
 * filled, or -1 with err filled (column 1-based into text; err may be NULL).
 */
int rules_parse_filter(const char *text, const struct rules_ctx *ctx, struct event_filter *f,
                       struct rules_error *err);

#endif /* REGDBG_RULES_PARSE_H */
