/*
 * `regdbg map import` (see header_map.h): the header's #defines collected (comments and line
 * continuations taken out, line numbers kept), their values evaluated as C integer expressions
 * with BIT, BIT_ULL, GENMASK and GENMASK_ULL, then placed in three rounds: register offsets,
 * fields named *_MASK, then the other fields and the enumerated values, each #define placed or
 * reported with why.
 */
#include "header_map.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regmap.h"

#define REG_BYTES 4u            /* Linux's readl/writel registers: 32 bits */
#define REG_SPAN_SLACK 0x1000u  /* past the highest offset, still among the registers */
#define MAX_DEPTH 32            /* macros that name macros, at most this deep */

struct macro {
    char *name;
    char *text;                 /* its value as written */
    unsigned line;
    bool function_like;
    /* evaluation */
    int state;                  /* 0 not yet, 1 evaluating, 2 done */
    bool ok;
    uint64_t value;
    bool mask_built;            /* BIT() or GENMASK() made it, here or in a macro it names */
    bool names_macros;          /* its text names other macros */
    char bad[120];              /* why it could not be evaluated */
    /* placement */
    bool placed;
    int reg;                    /* a register: its index in regs; -1 */
};

struct field {
    const char *name;
    unsigned lsb, msb;
    unsigned line;
    const char *macro;
    json_t *values;             /* an object, or NULL */
};

struct reg {
    const char *macro;
    const char *name;           /* macro less --strip */
    uint64_t offset;
    unsigned line;
    struct field *fields;
    size_t n_fields, cap;
};

struct importer {
    const char *path;
    const struct header_map_opts *opts;
    struct macro *m;
    size_t n, cap;
    struct reg *regs;
    size_t n_regs;
    struct header_map_result *out;
    size_t skipped_cap;
};

/* ---- reading ------------------------------------------------------------------------------ */

static char *read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    do {
        if (len + 4096 + 1 > cap) {
            char *bigger = realloc(buf, cap = cap ? cap * 2 : 65536);

            if (!bigger) {
                free(buf);
                fclose(f);
                snprintf(err, errlen, "out of memory reading %s", path);
                return NULL;
            }
            buf = bigger;
        }
        n = fread(buf + len, 1, 4096, f);
        len += n;
    } while (n > 0);
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[len] = '\0';
    if (strlen(buf) != len) {
        snprintf(err, errlen, "%s has a NUL byte: it is not a C header", path);
        free(buf);
        return NULL;
    }
    return buf;
}

/* Comments become spaces but for their newlines, so that line numbers stay. */
static void clean(char *s)
{
    char *p = s;
    bool in_string = false;

    while (*p) {
        if (in_string) {
            if (*p == '\\' && p[1]) {
                p += 2;
                continue;
            }
            in_string = *p != '"' && *p != '\n';
            p++;
        } else if (*p == '"') {
            in_string = true;
            p++;
        } else if (p[0] == '/' && p[1] == '*') {
            char *end = strstr(p + 2, "*/");
            char *stop = end ? end + 2 : p + strlen(p);

            for (; p < stop; p++) {
                if (*p != '\n') {
                    *p = ' ';
                }
            }
        } else if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n') {
                *p++ = ' ';
            }
        } else {
            p++;
        }
    }
}

static int add_macro(struct importer *im, const char *name, size_t name_len, const char *text,
                     unsigned line, bool function_like)
{
    struct macro *m;

    if (im->n == im->cap) {
        struct macro *bigger = realloc(im->m, (im->cap = im->cap ? im->cap * 2 : 256) *
                                       sizeof(*bigger));
        if (!bigger) {
            return -1;
        }
        im->m = bigger;
    }
    m = &im->m[im->n];
    memset(m, 0, sizeof(*m));
    m->name = strndup(name, name_len);
    m->text = strdup(text);
    if (m->text) {
        /* one space for each run of blanks (tabs, joined lines), as messages quote it */
        char *w = m->text;

        for (const char *r = m->text; *r; r++) {
            if ((*r == ' ' || *r == '\t') && (w == m->text || w[-1] == ' ')) {
                continue;
            }
            *w++ = *r == '\t' ? ' ' : *r;
        }
        *w = '\0';
    }
    m->line = line;
    m->function_like = function_like;
    m->reg = -1;
    if (!m->name || !m->text) {
        return -1;
    }
    im->n++;
    return 0;
}

/* Take the line at *p (its end made a NUL), with the lines its backslashes continue it onto
   joined in place; *p moves past them and *lines counts them. */
static char *logical_line(char **p, unsigned *lines)
{
    char *start = *p, *out = *p;

    for (;;) {
        char *eol = strchr(*p, '\n');
        size_t len = eol ? (size_t)(eol - *p) : strlen(*p);
        char *end = *p + len;

        (*lines)++;
        while (end > *p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) {
            end--;
        }
        memmove(out, *p, (size_t)(end - *p));
        out += end - *p;
        *p = eol ? eol + 1 : *p + len;
        if (out > start && out[-1] == '\\' && eol) {
            out[-1] = ' ';
            continue;
        }
        *out = '\0';
        return start;
    }
}

/* The #defines of the text, with their lines. */
static int collect(struct importer *im, char *text)
{
    unsigned line = 1, consumed = 0;
    char *p = text;

    while (*p) {
        unsigned first = line;
        char *q = logical_line(&p, &consumed);

        line = consumed + 1;
        while (*q == ' ' || *q == '\t') {
            q++;
        }
        if (*q != '#') {
            continue;
        }
        q++;
        while (*q == ' ' || *q == '\t') {
            q++;
        }
        if (!strncmp(q, "define", 6) && (q[6] == ' ' || q[6] == '\t')) {
            char *name = q + 7, *end, *value;

            while (*name == ' ' || *name == '\t') {
                name++;
            }
            end = name;
            while (isalnum((unsigned char)*end) || *end == '_') {
                end++;
            }
            if (end == name) {
                continue;
            }
            value = end;
            while (*value == ' ' || *value == '\t') {
                value++;
            }
            if (add_macro(im, name, (size_t)(end - name), *end == '(' ? "" : value, first,
                          *end == '(') < 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* ---- evaluating --------------------------------------------------------------------------- */

struct parser {
    struct importer *im;
    const char *p;
    int depth;
    bool mask_built, names_macros;
    char *bad;                  /* why it failed: set once */
    size_t badlen;
};

static struct macro *find_macro(struct importer *im, const char *name, size_t len)
{
    for (size_t i = 0; i < im->n; i++) {
        if (strlen(im->m[i].name) == len && !strncmp(im->m[i].name, name, len) &&
            !im->m[i].function_like) {
            return &im->m[i];
        }
    }
    return NULL;
}

static void evaluate(struct importer *im, struct macro *m, int depth);

__attribute__((format(printf, 2, 3)))
static bool fail(struct parser *ps, const char *fmt, ...)
{
    va_list ap;

    if (!ps->bad[0]) {
        va_start(ap, fmt);
        vsnprintf(ps->bad, ps->badlen, fmt, ap);
        va_end(ap);
    }
    return false;
}

static void skip_space(struct parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t') {
        ps->p++;
    }
}

static bool expr(struct parser *ps, uint64_t *v);

static bool expect(struct parser *ps, char c)
{
    skip_space(ps);
    if (*ps->p != c) {
        return fail(ps, "expected '%c' at '%.20s'", c, ps->p);
    }
    ps->p++;
    return true;
}

static bool primary(struct parser *ps, uint64_t *v)
{
    skip_space(ps);
    if (*ps->p == '(') {
        ps->p++;
        return expr(ps, v) && expect(ps, ')');
    }
    if (*ps->p == '~' || *ps->p == '-' || *ps->p == '+') {
        char op = *ps->p++;

        if (!primary(ps, v)) {
            return false;
        }
        *v = op == '~' ? ~*v : op == '-' ? (uint64_t)0 - *v : *v;
        return true;
    }
    if (isdigit((unsigned char)*ps->p)) {
        char *end;

        errno = 0;
        *v = strtoull(ps->p, &end, 0);
        if (errno) {
            return fail(ps, "the number '%.20s' does not fit in 64 bits", ps->p);
        }
        ps->p = end;
        while (*ps->p == 'u' || *ps->p == 'U' || *ps->p == 'l' || *ps->p == 'L') {
            ps->p++;
        }
        if (isalnum((unsigned char)*ps->p) || *ps->p == '.') {
            return fail(ps, "'%.20s' is not an integer", ps->p);
        }
        return true;
    }
    if (isalpha((unsigned char)*ps->p) || *ps->p == '_') {
        const char *name = ps->p;
        size_t len;
        struct macro *m;

        while (isalnum((unsigned char)*ps->p) || *ps->p == '_') {
            ps->p++;
        }
        len = (size_t)(ps->p - name);
        if ((len == 3 && !strncmp(name, "BIT", 3)) || (len == 7 && !strncmp(name, "BIT_ULL", 7))) {
            uint64_t n;

            if (!expect(ps, '(') || !expr(ps, &n) || !expect(ps, ')')) {
                return false;
            }
            if (n > 63) {
                return fail(ps, "BIT(%" PRIu64 ") is past bit 63", n);
            }
            *v = 1ull << n;
            ps->mask_built = true;
            return true;
        }
        if ((len == 7 && !strncmp(name, "GENMASK", 7)) ||
            (len == 11 && !strncmp(name, "GENMASK_ULL", 11))) {
            uint64_t h, l;

            if (!expect(ps, '(') || !expr(ps, &h) || !expect(ps, ',') || !expr(ps, &l) ||
                !expect(ps, ')')) {
                return false;
            }
            if (h > 63 || l > h) {
                return fail(ps, "GENMASK(%" PRIu64 ", %" PRIu64 ") is not a range of bits 0..63",
                            h, l);
            }
            *v = (h == 63 ? ~0ull : (1ull << (h + 1)) - 1) & ~((1ull << l) - 1);
            ps->mask_built = true;
            return true;
        }
        m = find_macro(ps->im, name, len);
        if (!m) {
            return fail(ps, "it names %.*s, which the header does not define", (int)len, name);
        }
        evaluate(ps->im, m, ps->depth + 1);
        if (!m->ok) {
            return fail(ps, "it names %s, whose value is not known (%s)", m->name, m->bad);
        }
        ps->names_macros = true;
        ps->mask_built |= m->mask_built;
        *v = m->value;
        return true;
    }
    return fail(ps, "'%.20s' is not an integer expression", ps->p);
}

/* binary operators, loosest first: | ^ & << >> + - * / */
static const char *const levels[] = { "|", "^", "&", "<< >>", "+ -", "* / %" };

static bool binary(struct parser *ps, int level, uint64_t *v)
{
    if (level == (int)(sizeof(levels) / sizeof(levels[0]))) {
        return primary(ps, v);
    }
    if (!binary(ps, level + 1, v)) {
        return false;
    }
    for (;;) {
        char op[3] = "";
        uint64_t r;

        skip_space(ps);
        if ((ps->p[0] == '<' || ps->p[0] == '>') && ps->p[1] == ps->p[0]) {
            op[0] = op[1] = ps->p[0];
        } else if (ps->p[0] && strchr("|^&+-*/%", ps->p[0]) && ps->p[1] != ps->p[0]) {
            op[0] = ps->p[0];
        }
        if (!op[0] || !strstr(levels[level], op) ||
            (op[1] == '\0' && (op[0] == '<' || op[0] == '>'))) {
            return true;
        }
        ps->p += strlen(op);
        if (!binary(ps, level + 1, &r)) {
            return false;
        }
        switch (op[0]) {
        case '|': *v |= r; break;
        case '^': *v ^= r; break;
        case '&': *v &= r; break;
        case '<': if (r > 63) { return fail(ps, "a shift by %" PRIu64, r); } *v <<= r; break;
        case '>': if (r > 63) { return fail(ps, "a shift by %" PRIu64, r); } *v >>= r; break;
        case '+': *v += r; break;
        case '-': *v -= r; break;
        case '*': *v *= r; break;
        default:
            if (!r) {
                return fail(ps, "a division by zero");
            }
            *v = op[0] == '/' ? *v / r : *v % r;
        }
    }
}

static bool expr(struct parser *ps, uint64_t *v)
{
    return binary(ps, 0, v);
}

static void evaluate(struct importer *im, struct macro *m, int depth)
{
    struct parser ps = { .im = im, .p = m->text, .depth = depth, .bad = m->bad,
                         .badlen = sizeof(m->bad) };

    if (m->state == 2) {
        return;
    }
    if (m->state == 1 || depth > MAX_DEPTH) {
        snprintf(m->bad, sizeof(m->bad), "it is defined in terms of itself");
        m->ok = false;
        return;
    }
    m->state = 1;
    if (m->function_like) {
        snprintf(m->bad, sizeof(m->bad), "a function-like macro");
    } else if (!m->text[0]) {
        snprintf(m->bad, sizeof(m->bad), "it has no value");
    } else if (expr(&ps, &m->value)) {
        skip_space(&ps);
        if (*ps.p) {
            fail(&ps, "'%.20s' is not an integer expression", ps.p);
        } else {
            m->ok = true;
        }
    }
    m->mask_built = ps.mask_built;
    m->names_macros = ps.names_macros;
    m->state = 2;
}

/* ---- placing ------------------------------------------------------------------------------ */

__attribute__((format(printf, 3, 4)))
static int skip(struct importer *im, const struct macro *m, const char *fmt, ...)
{
    struct header_map_result *out = im->out;
    struct header_map_skip *s;
    va_list ap;

    if (out->n_skipped == im->skipped_cap) {
        struct header_map_skip *bigger = realloc(out->skipped, (im->skipped_cap =
            im->skipped_cap ? im->skipped_cap * 2 : 64) * sizeof(*bigger));
        if (!bigger) {
            return -1;
        }
        out->skipped = bigger;
    }
    s = &out->skipped[out->n_skipped++];
    s->line = m->line;
    snprintf(s->name, sizeof(s->name), "%s", m->name);
    va_start(ap, fmt);
    vsnprintf(s->why, sizeof(s->why), fmt, ap);
    va_end(ap);
    return 0;
}

static bool has_prefix(const char *name, const char *prefix)
{
    return !prefix || !strncmp(name, prefix, strlen(prefix));
}

/* A plain number: no BIT/GENMASK, no other macro. */
static bool plain_number(const struct macro *m)
{
    return m->ok && !m->mask_built && !m->names_macros;
}

/* A number as it is, perhaps in parentheses (0x7c, (0x7c)): how offsets are written; (2 << 1)
   is a value of a field. */
static bool literal(const struct macro *m)
{
    const char *p = m->text;
    size_t len;

    if (!plain_number(m)) {
        return false;
    }
    p += strspn(p, "( \t");
    len = strspn(p, "0123456789abcdefABCDEFxXuUlL");
    p += len;
    p += strspn(p, ") \t");
    return len && !*p;
}

/* The register whose macro name, followed by '_', begins name (the longest); -1. */
static int owner(const struct importer *im, const char *name)
{
    int best = -1;
    size_t best_len = 0;

    for (size_t i = 0; i < im->n_regs; i++) {
        size_t len = strlen(im->regs[i].macro);

        if (len > best_len && !strncmp(name, im->regs[i].macro, len) && name[len] == '_') {
            best = (int)i;
            best_len = len;
        }
    }
    return best;
}

static bool contiguous(uint64_t mask, unsigned *lsb, unsigned *msb)
{
    if (!mask) {
        return false;
    }
    *lsb = (unsigned)__builtin_ctzll(mask);
    *msb = 63 - (unsigned)__builtin_clzll(mask);
    return (mask >> *lsb) == (*msb - *lsb == 63 ? ~0ull : (1ull << (*msb - *lsb + 1)) - 1);
}

static struct field *find_field(struct reg *r, const char *name, size_t len)
{
    for (size_t i = 0; i < r->n_fields; i++) {
        if (strlen(r->fields[i].name) == len && !strncmp(r->fields[i].name, name, len)) {
            return &r->fields[i];
        }
    }
    return NULL;
}

/* m as a field of register r: its name the rest of the macro's name (less a _MASK ending). */
static int add_field(struct importer *im, struct macro *m, struct reg *r, const char *rest)
{
    size_t len = strlen(rest);
    unsigned lsb, msb;
    struct field *f;

    if (len > 5 && !strcmp(rest + len - 5, "_MASK")) {
        len -= 5;
    }
    if (!contiguous(m->value, &lsb, &msb)) {
        return skip(im, m, "a mask of bits that are not side by side (0x%" PRIx64 ") is no "
                    "field of %s", m->value, r->macro);
    }
    if (msb >= REG_BYTES * 8) {
        return skip(im, m, "bits %u:%u lie outside %s's 32 bits", msb, lsb, r->macro);
    }
    if (find_field(r, rest, len)) {
        return skip(im, m, "%s already has a field %.*s", r->macro, (int)len, rest);
    }
    for (size_t i = 0; i < r->n_fields; i++) {
        if (lsb <= r->fields[i].msb && r->fields[i].lsb <= msb) {
            return skip(im, m, "its bits %u:%u overlap field %s (%s) of %s", msb, lsb,
                        r->fields[i].name, r->fields[i].macro, r->macro);
        }
    }
    if (r->n_fields == r->cap) {
        struct field *bigger = realloc(r->fields, (r->cap = r->cap ? r->cap * 2 : 8) *
                                       sizeof(*bigger));
        if (!bigger) {
            return -1;
        }
        r->fields = bigger;
    }
    f = &r->fields[r->n_fields++];
    *f = (struct field){ .name = strndup(rest, len), .lsb = lsb, .msb = msb, .line = m->line,
                         .macro = m->name };
    if (!f->name) {
        return -1;
    }
    m->placed = true;
    im->out->n_fields++;
    return 0;
}

/* m as a value of a field F of r when its name is REG_F_NAME: 1 placed, 0 not such a name,
   -1 memory. */
static int add_value(struct importer *im, struct macro *m, struct reg *r, const char *rest)
{
    for (const char *u = strchr(rest, '_'); u; u = strchr(u + 1, '_')) {
        struct field *f = find_field(r, rest, (size_t)(u - rest));
        uint64_t mask, v;
        const char *key;
        json_t *old;

        if (!f || !u[1]) {
            continue;
        }
        mask = (f->msb == 63 ? ~0ull : (1ull << (f->msb + 1)) - 1) & ~((1ull << f->lsb) - 1);
        if (m->value & ~mask) {
            return skip(im, m, "0x%" PRIx64 " is not a value of field %s (bits %u:%u) of %s",
                        m->value, f->name, f->msb, f->lsb, r->macro) < 0 ? -1 : 1;
        }
        v = m->value >> f->lsb;
        key = u + 1;
        if (!f->values && !(f->values = json_object())) {
            return -1;
        }
        json_object_foreach(f->values, key, old) {
            if ((uint64_t)json_integer_value(old) == v) {
                return skip(im, m, "field %s of %s already calls %" PRIu64 " %s", f->name,
                            r->macro, v, key) < 0 ? -1 : 1;
            }
        }
        if (json_object_set_new(f->values, u + 1, json_integer((json_int_t)v)) < 0) {
            return -1;
        }
        m->placed = true;
        im->out->n_values++;
        return 1;
    }
    return 0;
}

/* A #define that may be a register offset: a plain number, a multiple of the width. */
static bool offset_like(const struct importer *im, const struct macro *m)
{
    return has_prefix(m->name, im->opts->prefix) && literal(m) && m->value % REG_BYTES == 0 &&
           m->value < REGMAP_OFFSET_LIMIT;
}

/* Does m's name extend that of another offset-like #define (NAME_MORE)? */
static bool extends_offset(const struct importer *im, const struct macro *m)
{
    for (size_t k = 0; k < im->n; k++) {
        size_t len = strlen(im->m[k].name);

        if (&im->m[k] != m && offset_like(im, &im->m[k]) &&
            !strncmp(m->name, im->m[k].name, len) && m->name[len] == '_') {
            return true;
        }
    }
    return false;
}

static bool taken(const struct importer *im, uint64_t offset)
{
    for (size_t k = 0; k < im->n_regs; k++) {
        if (im->regs[k].offset == offset) {
            return true;
        }
    }
    return false;
}

static int place_registers(struct importer *im)
{
    const char *strip = im->opts->strip ? im->opts->strip : "";
    uint64_t span = 0;

    im->regs = calloc(im->n ? im->n : 1, sizeof(*im->regs));
    if (!im->regs) {
        return -1;
    }
    /* The registers' span, from the names that extend no other: a name that does
       (DW_IC_ENABLE_STATUS, DW_IC_COMP_TYPE_VALUE) is a register only inside it, as a value
       about the other register otherwise. */
    for (size_t i = 0; i < im->n; i++) {
        if (offset_like(im, &im->m[i]) && !extends_offset(im, &im->m[i]) &&
            im->m[i].value >= span) {
            span = im->m[i].value + REG_SPAN_SLACK;
        }
    }
    for (size_t i = 0; i < im->n; i++) {
        struct macro *m = &im->m[i];

        if (!offset_like(im, m) || (extends_offset(im, m) && m->value >= span)) {
            continue;
        }
        for (size_t k = 0; k < im->n_regs; k++) {
            if (im->regs[k].offset == m->value && extends_offset(im, m)) {
                break;      /* about its register, as report_rest() says */
            }
            if (im->regs[k].offset == m->value) {
                if (skip(im, m, "offset 0x%" PRIx64 " is register %s's already", m->value,
                         im->regs[k].macro) < 0) {
                    return -1;
                }
                m->placed = true;       /* reported */
                break;
            }
        }
        if (m->placed || (extends_offset(im, m) && taken(im, m->value))) {
            continue;
        }
        if (strncmp(m->name, strip, strlen(strip)) || !m->name[strlen(strip)]) {
            if (skip(im, m, "its name does not begin with --strip %s", strip) < 0) {
                return -1;
            }
            m->placed = true;
            continue;
        }
        im->regs[im->n_regs] = (struct reg){ .macro = m->name, .name = m->name + strlen(strip),
                                             .offset = m->value, .line = m->line };
        m->reg = (int)im->n_regs++;
        m->placed = true;
    }
    return 0;
}

/* Fields named *_MASK first, so that the values named after them find them; then the rest. */
static int place_fields_and_values(struct importer *im)
{
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < im->n; i++) {
            struct macro *m = &im->m[i];
            size_t len = strlen(m->name);
            bool is_mask = len > 5 && !strcmp(m->name + len - 5, "_MASK");
            int r, placed;

            if (m->placed || !has_prefix(m->name, im->opts->prefix) || !m->ok ||
                (round == 0) != is_mask) {
                continue;
            }
            r = owner(im, m->name);
            if (r < 0) {
                continue;       /* reported after */
            }
            if (round == 0 && (m->mask_built || plain_number(m))) {
                if (add_field(im, m, &im->regs[r], m->name + strlen(im->regs[r].macro) + 1) < 0) {
                    return -1;
                }
                m->placed = true;
                continue;
            }
            placed = add_value(im, m, &im->regs[r], m->name + strlen(im->regs[r].macro) + 1);
            if (placed < 0) {
                return -1;
            }
            if (placed) {
                m->placed = true;
            } else if (m->mask_built) {
                if (add_field(im, m, &im->regs[r], m->name + strlen(im->regs[r].macro) + 1) < 0) {
                    return -1;
                }
                m->placed = true;
            }
        }
    }
    return 0;
}

/* Every #define not placed, with why. */
static int report_rest(struct importer *im)
{
    for (size_t i = 0; i < im->n; i++) {
        struct macro *m = &im->m[i];
        int r;

        if (m->placed) {
            continue;
        }
        if (!has_prefix(m->name, im->opts->prefix)) {
            r = skip(im, m, "its name does not begin with --prefix %s", im->opts->prefix);
        } else if (!m->ok) {
            r = skip(im, m, "its value '%.60s' is no integer this reads: %s", m->text, m->bad);
        } else if (owner(im, m->name) >= 0) {
            int o = owner(im, m->name);

            r = skip(im, m, "0x%" PRIx64 " is neither a field of %s (BIT() or GENMASK() make "
                     "those) nor a value of one of its fields", m->value, im->regs[o].macro);
        } else if (m->mask_built) {
            r = skip(im, m, "a mask named after no register (no register macro followed by _ "
                     "begins its name)");
        } else {
            r = skip(im, m, "0x%" PRIx64 " is no register offset (a multiple of %u bytes) and "
                     "its name extends no register's", m->value, REG_BYTES);
        }
        if (r < 0) {
            return -1;
        }
    }
    return 0;
}

static int by_line(const void *a, const void *b)
{
    const struct header_map_skip *x = a, *y = b;

    return (x->line > y->line) - (x->line < y->line);
}

static int by_offset(const void *a, const void *b)
{
    const struct reg *x = a, *y = b;

    return (x->offset > y->offset) - (x->offset < y->offset);
}

static int by_lsb(const void *a, const void *b)
{
    const struct field *x = a, *y = b;

    return (x->lsb > y->lsb) - (x->lsb < y->lsb);
}

static json_t *build(struct importer *im)
{
    json_t *map = json_object(), *match = json_array(), *regs = json_array();
    const char *base = strrchr(im->path, '/') ? strrchr(im->path, '/') + 1 : im->path;
    char text[512];

    if (!map || !match || !regs) {
        json_decref(map);
        json_decref(match);
        json_decref(regs);
        return NULL;
    }
    snprintf(text, sizeof(text), "registers from %s", base);
    json_object_set_new(map, "name", json_string(im->opts->name ? im->opts->name : text));
    for (size_t i = 0; i < (im->opts->n_ids ? im->opts->n_ids : 1); i++) {
        char v[8], d[8];

        snprintf(v, sizeof(v), "0x%04x", im->opts->n_ids ? im->opts->ids[i][0] : 0xffff);
        snprintf(d, sizeof(d), "0x%04x", im->opts->n_ids ? im->opts->ids[i][1] : 0xffff);
        json_array_append_new(match, json_pack("{s:s, s:s}", "vendor", v, "device", d));
    }
    json_object_set_new(map, "match", match);
    qsort(im->regs, im->n_regs, sizeof(*im->regs), by_offset);
    for (size_t i = 0; i < im->n_regs; i++) {
        struct reg *r = &im->regs[i];
        json_t *reg = json_object(), *fields = json_array();
        char off[24];

        snprintf(off, sizeof(off), "0x%" PRIx64, r->offset);
        snprintf(text, sizeof(text), "%s (%s:%u)", r->macro, base, r->line);
        json_object_set_new(reg, "name", json_string(r->name));
        json_object_set_new(reg, "offset", json_string(off));
        json_object_set_new(reg, "description", json_string(text));
        if (r->n_fields) {
            qsort(r->fields, r->n_fields, sizeof(*r->fields), by_lsb);
        }
        for (size_t k = 0; k < r->n_fields; k++) {
            struct field *f = &r->fields[k];
            json_t *field = json_object();
            char bits[16];

            if (f->msb == f->lsb) {
                snprintf(bits, sizeof(bits), "%u", f->lsb);
            } else {
                snprintf(bits, sizeof(bits), "%u:%u", f->msb, f->lsb);
            }
            snprintf(text, sizeof(text), "%s (%s:%u)", f->macro, base, f->line);
            json_object_set_new(field, "name", json_string(f->name));
            json_object_set_new(field, "bits", json_string(bits));
            json_object_set_new(field, "description", json_string(text));
            if (f->values) {
                json_object_set(field, "values", f->values);
            }
            json_array_append_new(fields, field);
        }
        if (r->n_fields) {
            json_object_set(reg, "fields", fields);
        }
        json_decref(fields);
        json_array_append_new(regs, reg);
    }
    json_object_set_new(map, "registers", regs);
    return map;
}

int header_map_import(const char *path, const struct header_map_opts *opts,
                      struct header_map_result *out, char *err, size_t errlen)
{
    struct importer im = { .path = path, .opts = opts, .out = out };
    char *text = read_file(path, err, errlen);
    int ret = -1;

    memset(out, 0, sizeof(*out));
    if (!text) {
        return -1;
    }
    clean(text);
    if (collect(&im, text) < 0) {
        snprintf(err, errlen, "out of memory reading %s", path);
        goto done;
    }
    for (size_t i = 0; i < im.n; i++) {
        evaluate(&im, &im.m[i], 0);
    }
    if (place_registers(&im) < 0 || place_fields_and_values(&im) < 0 || report_rest(&im) < 0) {
        snprintf(err, errlen, "out of memory placing the #defines of %s", path);
        goto done;
    }
    if (im.n_regs == 0) {
        snprintf(err, errlen, "%s: no #define%s%s is a register offset (a plain number, a "
                 "multiple of %u): nothing to make a map of", path, opts->prefix ? " named " : "",
                 opts->prefix ? opts->prefix : "", REG_BYTES);
        goto done;
    }
    out->n_registers = im.n_regs;
    if (out->n_skipped) {
        qsort(out->skipped, out->n_skipped, sizeof(*out->skipped), by_line);
    }
    out->map = build(&im);
    if (!out->map) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    ret = 0;
done:
    for (size_t i = 0; i < im.n_regs; i++) {
        for (size_t k = 0; k < im.regs[i].n_fields; k++) {
            free((char *)im.regs[i].fields[k].name);
            json_decref(im.regs[i].fields[k].values);
        }
        free(im.regs[i].fields);
    }
    free(im.regs);
    for (size_t i = 0; i < im.n; i++) {
        free(im.m[i].name);
        free(im.m[i].text);
    }
    free(im.m);
    free(text);
    if (ret < 0) {
        free(out->skipped);
        out->skipped = NULL;
        out->n_skipped = 0;
    }
    return ret;
}
