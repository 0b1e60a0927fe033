/*
 * Guest code names: from a guest PC (the linear address the device records with an access) to the
 * function, offset, source file and line that made it, and from a function name to its address
 * range (rules `from FUNC`). Sources, given with `--symbols FILE[@BIAS]` (repeatable):
 *   - an ELF, with or without DWARF, read with elfutils (libdwfl): functions from its symbol
 *     table, file:line from its line tables when it has them;
 *   - a symbol list in nm form, `ADDRESS TYPE NAME [MODULE]` per line (System.map, /proc/kallsyms).
 * BIAS (0x hex or decimal, may be negative: -0x1000) is added to every address of that file, to
 * place code loaded elsewhere than it was linked. Lookups are read-only after loading; the set is
 * not thread-safe while symbols_add() runs.
 */
#ifndef REGDBG_SYMBOLS_H
#define REGDBG_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct symbols;

/* Where a PC lies. Strings belong to the set and live as long as it. */
struct symbol_where {
    const char *func;            /* NULL when no symbol covers the PC */
    uint64_t func_addr;          /* the function's start, bias applied */
    uint64_t func_offset;        /* pc - func_addr */
    const char *file;            /* source file as the line table names it, or NULL */
    int line;                    /* 0 when unknown */
    const char *source;          /* the source file's path as opened (resolved against the
                                    compilation directory), or NULL when it is not readable */
};

struct symbols *symbols_new(void);
void symbols_free(struct symbols *s);

/*
 * Add one source, "FILE" or "FILE@BIAS". On error returns -1 with a message that names the file and
 * says what is wrong (missing, not an ELF nor an nm list, an nm line that is not ADDRESS TYPE NAME
 * with its line number, a bad bias) and what to do; the set is unchanged.
 */
int symbols_add(struct symbols *s, const char *spec, char *err, size_t errlen);

/* How many sources the set has (0: lookups always fail). */
int symbols_count(const struct symbols *s);

/*
 * Name a PC. after: the PC is the address just after the instruction (REGDBG_EV_PC_AFTER), so the
 * lookup uses pc - 1. Returns false when nothing is known of it (out->func NULL).
 */
bool symbols_lookup(const struct symbols *s, uint64_t pc, bool after, struct symbol_where *out);

/*
 * A function's address range [lo, hi), bias applied. Returns -1 with a message when no source
 * defines it, or when several do at different addresses (the message lists them).
 */
int symbols_function_range(const struct symbols *s, const char *name, uint64_t *lo, uint64_t *hi,
                           char *err, size_t errlen);

/* Text of line `line` of a source file (without its newline), or NULL; cached by the set. */
const char *symbols_source_line(struct symbols *s, const char *source, int line);

/* "func+0x1c" or "file.c:42" style, into buf: "0x1000a4" when no symbol is known. */
void symbols_format(const struct symbols *s, uint64_t pc, bool after, bool by_line, char *buf,
                    size_t len);

#endif /* REGDBG_SYMBOLS_H */
