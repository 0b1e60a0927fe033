/*
 * The debugger's command language: a hand-written lexer and recursive-descent parser that resolves
 * targets against the context's devices and register maps and compiles conditions to the postfix
 * bytecode of struct regdbg_rule. The language is described in docs/rules.md; the API in
 * rules_parse.h.
 *
 * The line is untrusted: every scan is bounded by the end of the meaningful text (the first '#' or
 * the NUL), messages are built in bounded buffers that cut instead of overflowing, recursion is
 * bounded by MAX_NEST, and names are compared by length without copying them.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "regdbg/abi.h"
#include "rules_parse.h"
#include "trace_file.h"

#define MAX_NEST 64u            /* nested '(' and '!' in a condition */
#define QUOTE_MAX 40u           /* characters of a token quoted in a message */
#define MAX_TIMEOUT_DIGITS 9u   /* wait: at most 999999999.999999999 seconds */

/* ---- bounded text ---------------------------------------------------------------------------- */

struct sbuf {
    char *b;
    size_t cap, len;
    bool cut;
};

static void sb_init(struct sbuf *sb, char *b, size_t cap)
{
    sb->b = b;
    sb->cap = cap;
    sb->len = 0;
    sb->cut = false;
    if (cap) {
        b[0] = '\0';
    }
}

static void sb_putn(struct sbuf *sb, const char *s, size_t n)
{
    size_t room;

    if (sb->cap == 0) {
        return;
    }
    room = sb->cap - 1 - sb->len;
    if (n > room) {
        n = room;
        sb->cut = true;
    }
    memcpy(sb->b + sb->len, s, n);
    sb->len += n;
    sb->b[sb->len] = '\0';
}

static void sb_puts(struct sbuf *sb, const char *s)
{
    sb_putn(sb, s, strlen(s));
}

static void sb_printf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
    char tmp[160];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if ((size_t)n >= sizeof(tmp)) {
        sb_putn(sb, tmp, sizeof(tmp) - 1);
        sb->cut = true;
    } else {
        sb_putn(sb, tmp, (size_t)n);
    }
}

/* A text that was cut ends in "...". */
static void sb_finish(struct sbuf *sb)
{
    if (sb->cut && sb->cap >= 4) {
        memcpy(sb->b + sb->cap - 4, "...", 4);
        sb->len = sb->cap - 1;
    }
}

/* 'text', non-printable bytes as \xNN, cut after QUOTE_MAX characters. */
static void sb_quoted(struct sbuf *sb, const char *s, size_t n)
{
    size_t lim = n > QUOTE_MAX ? QUOTE_MAX : n;

    sb_putn(sb, "'", 1);
    for (size_t i = 0; i < lim; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 0x20 && c < 0x7f) {
            sb_putn(sb, &s[i], 1);
        } else {
            sb_printf(sb, "\\x%02x", c);
        }
    }
    if (n > lim) {
        sb_puts(sb, "...");
    }
    sb_putn(sb, "'", 1);
}

/* ---- characters and numbers ------------------------------------------------------------------ */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_word_start(char c)
{
    return is_alpha(c) || is_digit(c) || c == '_';
}

static bool is_word_char(char c)
{
    return is_word_start(c) || c == '-';
}

/* Characters of a device id (QEMU's: letters, digits, '-', '.', '_'). */
static bool is_id_char(char c)
{
    return is_word_start(c) || c == '-' || c == '.';
}

static int hex_value(char c)
{
    if (is_digit(c)) {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The one number rule of the debugger (rules_parse.h, docs/rules.md "Numbers"). */
enum rules_number rules_parse_number(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;

    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        if (n == 2) {
            return RULES_NUMBER_BAD;
        }
        for (size_t i = 2; i < n; i++) {
            if (hex_value(s[i]) < 0) {
                return RULES_NUMBER_BAD;
            }
        }
        for (size_t i = 2; i < n; i++) {
            if (v >> 60) {
                return RULES_NUMBER_BIG;
            }
            v = v << 4 | (uint64_t)hex_value(s[i]);
        }
    } else {
        if (n == 0) {
            return RULES_NUMBER_BAD;
        }
        for (size_t i = 0; i < n; i++) {
            if (!is_digit(s[i])) {
                return RULES_NUMBER_BAD;
            }
        }
        for (size_t i = 0; i < n; i++) {
            uint64_t d = (uint64_t)(s[i] - '0');

            if (v > (UINT64_MAX - d) / 10) {
                return RULES_NUMBER_BIG;
            }
            v = v * 10 + d;
        }
    }
    *out = v;
    return RULES_NUMBER_OK;
}

static bool name_eq(const char *name, const char *s, size_t n)
{
    return name && strncmp(name, s, n) == 0 && name[n] == '\0';
}

/*
 * Edit distance counting an insertion, a deletion, a substitution or a swap of two neighbours as
 * one edit, and a difference in case as none; limit + 1 when above limit.
 */
static unsigned edit_distance(const char *a, size_t la, const char *b, size_t lb, unsigned limit)
{
    unsigned rows[3][65];       /* rows i-2, i-1 and i of the matrix, by i % 3 */

    if (la > 64 || lb > 64 || (la > lb ? la - lb : lb - la) > limit) {
        return limit + 1;
    }
    for (size_t j = 0; j <= lb; j++) {
        rows[0][j] = (unsigned)j;
    }
    for (size_t i = 1; i <= la; i++) {
        unsigned *cur = rows[i % 3], *up = rows[(i - 1) % 3], *up2 = rows[(i + 1) % 3];
        unsigned best;

        cur[0] = (unsigned)i;
        best = cur[0];
        for (size_t j = 1; j <= lb; j++) {
            unsigned v = up[j - 1] + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);

            if (up[j] + 1 < v) {
                v = up[j] + 1;
            }
            if (cur[j - 1] + 1 < v) {
                v = cur[j - 1] + 1;
            }
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1]) && up2[j - 2] + 1 < v) {
                v = up2[j - 2] + 1;
            }
            cur[j] = v;
            if (v < best) {
                best = v;
            }
        }
        if (best > limit) {
            return limit + 1;
        }
    }
    return rows[la % 3][lb] > limit ? limit + 1 : rows[la % 3][lb];
}

/* The up to three closest names to a word, for "did you mean ...?". */
struct suggest {
    const char *word;
    size_t wlen;
    unsigned limit;
    const char *name[3];
    unsigned dist[3];
    int n;
};

static void suggest_init(struct suggest *sg, const char *word, size_t wlen)
{
    sg->word = word;
    sg->wlen = wlen;
    sg->limit = wlen < 2 ? 1 : (unsigned)((wlen + 2) / 4);
    if (sg->limit > 8) {
        sg->limit = 8;
    }
    sg->n = 0;
}

static void suggest_add(struct suggest *sg, const char *name)
{
    unsigned d;
    int at;

    if (!name) {
        return;
    }
    for (int i = 0; i < sg->n; i++) {
        if (strcmp(sg->name[i], name) == 0) {
            return;
        }
    }
    d = edit_distance(sg->word, sg->wlen, name, strlen(name), sg->limit);
    if (d > sg->limit) {
        return;
    }
    for (at = sg->n; at > 0 && sg->dist[at - 1] > d; at--) {
    }
    if (at >= 3) {
        return;
    }
    for (int i = (sg->n < 3 ? sg->n : 2); i > at; i--) {
        sg->name[i] = sg->name[i - 1];
        sg->dist[i] = sg->dist[i - 1];
    }
    sg->name[at] = name;
    sg->dist[at] = d;
    if (sg->n < 3) {
        sg->n++;
    }
}

const char *rules_closest_name(const char *word, const char *const *names, size_t n)
{
    struct suggest sg;

    suggest_init(&sg, word, strlen(word));
    for (size_t i = 0; i < n; i++) {
        suggest_add(&sg, names[i]);
    }
    return sg.n ? sg.name[0] : NULL;
}

/* "; did you mean A, B or C?" or nothing. */
static void suggest_put(struct sbuf *sb, const struct suggest *sg)
{
    if (sg->n == 0) {
        return;
    }
    sb_puts(sb, "; did you mean ");
    for (int i = 0; i < sg->n; i++) {
        if (i > 0) {
            sb_puts(sb, i == sg->n - 1 ? " or " : ", ");
        }
        sb_puts(sb, sg->name[i]);
    }
    sb_puts(sb, "?");
}

/* ---- lexer ----------------------------------------------------------------------------------- */

enum tok_kind { T_EOF, T_WORD, T_PUNCT, T_OTHER };

struct tok {
    enum tok_kind kind;
    size_t pos, len;            /* T_EOF: pos is just after the last token, len 0 */
};

struct parser {
    const char *s;
    size_t n;                   /* end of the meaningful text: the first '#' or the NUL */
    size_t end;                 /* just after its last non-blank character */
    struct tok t, prev;         /* the current token and the one before it */
    const struct rules_ctx *ctx;
    int n_devs;
    struct rules_error *err;
};

static const char *const PUNCTS[] = {
    "..", "==", "!=", "<=", ">=", "&&", "||",
    ".", "=", "!", "<", ">", "&", "|", "(", ")", ":", "+", ",",
};

static struct tok lex_at(const struct parser *p, size_t i)
{
    struct tok t;
    const char *s = p->s;

    while (i < p->n && is_blank(s[i])) {
        i++;
    }
    if (i >= p->n) {
        t.kind = T_EOF;
        t.pos = p->end;
        t.len = 0;
        return t;
    }
    t.pos = i;
    if (is_word_start(s[i])) {
        size_t j = i + 1;

        while (j < p->n && is_word_char(s[j])) {
            j++;
        }
        t.kind = T_WORD;
        t.len = j - i;
        return t;
    }
    for (size_t k = 0; k < sizeof(PUNCTS) / sizeof(PUNCTS[0]); k++) {
        size_t l = strlen(PUNCTS[k]);

        if (l <= p->n - i && memcmp(s + i, PUNCTS[k], l) == 0) {
            t.kind = T_PUNCT;
            t.len = l;
            return t;
        }
    }
    /* anything else: one character, a UTF-8 sequence counting as one */
    t.kind = T_OTHER;
    t.len = 1;
    if ((unsigned char)s[i] >= 0xc0) {
        while (t.len < 4 && i + t.len < p->n && ((unsigned char)s[i + t.len] & 0xc0) == 0x80) {
            t.len++;
        }
    }
    return t;
}

static void next(struct parser *p)
{
    p->prev = p->t;
    p->t = lex_at(p, p->t.pos + p->t.len);
}

static struct tok peek(const struct parser *p)
{
    return lex_at(p, p->t.pos + p->t.len);
}

static const char *tok_text(const struct parser *p, const struct tok *t)
{
    return p->s + t->pos;
}

static bool tok_is(const struct parser *p, const struct tok *t, enum tok_kind kind, const char *text)
{
    size_t l = strlen(text);

    return t->kind == kind && t->len == l && memcmp(p->s + t->pos, text, l) == 0;
}

static bool is_punct(const struct parser *p, const struct tok *t, const char *text)
{
    return tok_is(p, t, T_PUNCT, text);
}

static bool is_kw(const struct parser *p, const struct tok *t, const char *word)
{
    return tok_is(p, t, T_WORD, word);
}

static bool is_number_tok(const struct parser *p, const struct tok *t)
{
    return t->kind == T_WORD && is_digit(p->s[t->pos]);
}

/* 'text' of a token, or "end of line". */
static void sb_tok(struct sbuf *sb, const struct parser *p, const struct tok *t)
{
    if (t->kind == T_EOF) {
        sb_puts(sb, "end of line");
    } else {
        sb_quoted(sb, tok_text(p, t), t->len);
    }
}

/* ---- errors ---------------------------------------------------------------------------------- */

static struct sbuf msg_begin(struct parser *p)
{
    struct sbuf sb;

    sb_init(&sb, p->err->message, sizeof(p->err->message));
    return sb;
}

static int msg_end(struct parser *p, struct sbuf *sb, size_t pos)
{
    sb_finish(sb);
    p->err->column = pos >= (size_t)INT_MAX ? INT_MAX : (int)pos + 1;
    return -1;
}

static int fail(struct parser *p, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct parser *p, size_t pos, const char *fmt, ...)
{
    struct sbuf sb = msg_begin(p);
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
    va_end(ap);
    if (n < 0) {
        p->err->message[0] = '\0';
    } else if ((size_t)n >= sizeof(p->err->message)) {
        sb.len = sizeof(p->err->message) - 1;
        sb.cut = true;
    }
    return msg_end(p, &sb, pos);
}

/* "unexpected 'X'" at the current token. */
static int fail_unexpected(struct parser *p)
{
    struct sbuf sb = msg_begin(p);

    sb_puts(&sb, "unexpected ");
    sb_tok(&sb, p, &p->t);
    return msg_end(p, &sb, p->t.pos);
}

/* "expected WHAT after 'PREV'" at the current token. */
static int fail_expected_after(struct parser *p, const char *what)
{
    struct sbuf sb = msg_begin(p);

    sb_printf(&sb, "expected %s after ", what);
    sb_tok(&sb, p, &p->prev);
    return msg_end(p, &sb, p->t.pos);
}

static int expect_end(struct parser *p)
{
    return p->t.kind == T_EOF ? 0 : fail_unexpected(p);
}

/* A number token into *v; what names it when it is missing ("a count"). */
static int get_number(struct parser *p, const char *what, uint64_t *v)
{
    struct sbuf sb;

    if (!is_number_tok(p, &p->t)) {
        return fail_expected_after(p, what);
    }
    switch (rules_parse_number(tok_text(p, &p->t), p->t.len, v)) {
    case RULES_NUMBER_OK:
        next(p);
        return 0;
    case RULES_NUMBER_BIG:
        sb = msg_begin(p);
        sb_puts(&sb, "number ");
        sb_tok(&sb, p, &p->t);
        sb_puts(&sb, " is too large for 64 bits");
        return msg_end(p, &sb, p->t.pos);
    case RULES_NUMBER_BAD:
    default:
        sb = msg_begin(p);
        sb_puts(&sb, "invalid number ");
        sb_tok(&sb, p, &p->t);
        sb_puts(&sb, " (numbers are decimal or 0x hex)");
        return msg_end(p, &sb, p->t.pos);
    }
}

/* ---- devices, registers, fields -------------------------------------------------------------- */

static const struct rules_device *dev_at(const struct parser *p, int i)
{
    return &p->ctx->devs[i];
}

/* The device's id as messages name it: an anonymous device (no id) is "the unnamed device". */
static const char *dev_id(const struct parser *p, int i)
{
    const char *id = dev_at(p, i)->id;

    return id && *id ? id : "the unnamed device";
}

static const struct regmap_reg *find_reg(const struct regmap *map, const char *s, size_t n);

/* The devices, or only those whose map has the register named s[0..n) when s is not NULL: "a, b and
 * c" (and = true) or "a, b, c". */
static void sb_dev_list(struct sbuf *sb, const struct parser *p, const char *s, size_t n, bool and)
{
    int k = 0, total = 0;

    for (int i = 0; i < p->n_devs; i++) {
        total += !s || find_reg(dev_at(p, i)->map, s, n) != NULL;
    }
    for (int i = 0; i < p->n_devs; i++) {
        if (s && !find_reg(dev_at(p, i)->map, s, n)) {
            continue;
        }
        if (k > 0) {
            sb_puts(sb, and && k == total - 1 ? " and " : ", ");
        }
        sb_puts(sb, dev_id(p, i));
        k++;
    }
}

static const struct regmap_reg *find_reg(const struct regmap *map, const char *s, size_t n)
{
    for (size_t i = 0; map && i < map->n_regs; i++) {
        if (name_eq(map->regs[i].name, s, n)) {
            return &map->regs[i];
        }
    }
    return NULL;
}

static const struct regmap_field *find_field(const struct regmap_reg *reg, const char *s, size_t n)
{
    for (size_t i = 0; reg && i < reg->n_fields; i++) {
        if (name_eq(reg->fields[i].name, s, n)) {
            return &reg->fields[i];
        }
    }
    return NULL;
}

/* "unknown field 'X' in REG" and the closest fields. */
static int fail_unknown_field(struct parser *p, const struct tok *t, const struct regmap_reg *reg)
{
    struct sbuf sb = msg_begin(p);
    struct suggest sg;

    sb_puts(&sb, "unknown field ");
    sb_tok(&sb, p, t);
    sb_puts(&sb, " in ");
    sb_puts(&sb, reg->name);
    if (reg->n_fields == 0) {
        sb_puts(&sb, " (it has no fields)");
    }
    suggest_init(&sg, tok_text(p, t), t->len);
    for (size_t i = 0; i < reg->n_fields; i++) {
        suggest_add(&sg, reg->fields[i].name);
    }
    suggest_put(&sb, &sg);
    return msg_end(p, &sb, t->pos);
}

/* "unknown value 'X' for FIELD" and the closest values, or all of them. */
static int fail_unknown_value(struct parser *p, const struct tok *t, const struct regmap_field *f)
{
    struct sbuf sb = msg_begin(p);
    struct suggest sg;

    sb_puts(&sb, "unknown value ");
    sb_tok(&sb, p, t);
    sb_puts(&sb, " for ");
    sb_puts(&sb, f->name);
    suggest_init(&sg, tok_text(p, t), t->len);
    for (size_t i = 0; i < f->n_values; i++) {
        suggest_add(&sg, f->values[i].name);
    }
    if (sg.n) {
        suggest_put(&sb, &sg);
    } else {
        sb_puts(&sb, " (values:");
        for (size_t i = 0; i < f->n_values; i++) {
            sb_puts(&sb, " ");
            sb_puts(&sb, f->values[i].name);
        }
        sb_puts(&sb, ")");
    }
    return msg_end(p, &sb, t->pos);
}

static bool sizes_known(const struct rules_device *d)
{
    for (int i = 0; i < 6; i++) {
        if (d->bar_size[i]) {
            return true;
        }
    }
    return false;
}

static uint64_t field_mask(const struct regmap_field *f)
{
    unsigned width = f->msb - f->lsb + 1;

    return (width >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << width) - 1) << f->lsb;
}

static bool field_ok(const struct regmap_field *f)
{
    return f->lsb <= 63 && f->msb <= 63 && f->msb >= f->lsb;
}

/* ---- targets --------------------------------------------------------------------------------- */

struct target {
    int dev;
    unsigned bar;
    uint64_t start, end;
    bool range, has_end;        /* barN+OFFSET[..END] */
    const struct regmap_reg *reg;
    const struct regmap_field *field;
};

#define TARGET_WHAT "a target (REGISTER, REGISTER.FIELD or barN+OFFSET)"

/* "bar" and decimal digits. */
static bool is_bar_word(const struct parser *p, const struct tok *t)
{
    const char *s = tok_text(p, t);

    if (t->kind != T_WORD || t->len < 4 || memcmp(s, "bar", 3) != 0) {
        return false;
    }
    for (size_t i = 3; i < t->len; i++) {
        if (!is_digit(s[i])) {
            return false;
        }
    }
    return true;
}

static bool is_option_kw(const struct parser *p, const struct tok *t)
{
    return is_kw(p, t, "if") || is_kw(p, t, "ignore") || is_kw(p, t, "temp") ||
           is_kw(p, t, "from") || is_kw(p, t, "irq");
}

/* assert, deassert or pulse at the current token, into *action. */
static int parse_irq_action(struct parser *p, uint8_t *action)
{
    struct sbuf sb;
    struct suggest sg;

    for (unsigned a = REGDBG_IRQ_ASSERT; a <= REGDBG_IRQ_ACTION_MAX; a++) {
        if (is_kw(p, &p->t, trace_irq_action_name((uint8_t)a))) {
            *action = (uint8_t)a;
            next(p);
            return 0;
        }
    }
    if (p->t.kind == T_EOF) {
        return fail_expected_after(p, "assert, deassert or pulse");
    }
    sb = msg_begin(p);
    sb_puts(&sb, "expected assert, deassert or pulse, not ");
    sb_tok(&sb, p, &p->t);
    if (p->t.kind == T_WORD) {
        suggest_init(&sg, tok_text(p, &p->t), p->t.len);
        for (unsigned a = REGDBG_IRQ_ASSERT; a <= REGDBG_IRQ_ACTION_MAX; a++) {
            suggest_add(&sg, trace_irq_action_name((uint8_t)a));
        }
        suggest_put(&sb, &sg);
    }
    return msg_end(p, &sb, p->t.pos);
}

static int parse_bar_target(struct parser *p, int dev, struct target *tg)
{
    const struct tok bt = p->t;
    const char *digits = tok_text(p, &bt) + 3;
    size_t nd = bt.len - 3;
    unsigned bar = 0;
    const struct rules_device *d;
    uint64_t size, off, end;
    bool known;
    struct sbuf sb;

    for (size_t i = 0; i < nd && bar <= REGMAP_MAX_BAR; i++) {
        bar = bar * 10 + (unsigned)(digits[i] - '0');
    }
    if (bar > REGMAP_MAX_BAR) {
        sb = msg_begin(p);
        sb_puts(&sb, "no BAR ");
        sb_putn(&sb, digits, nd > 20 ? 20 : nd);
        sb_puts(&sb, nd > 20 ? "..." : "");
        sb_puts(&sb, " (BARs are 0 to 5)");
        return msg_end(p, &sb, bt.pos);
    }
    if (dev < 0) {
        if (p->n_devs == 1) {
            dev = 0;
        } else if (p->n_devs == 0) {
            return fail(p, bt.pos, "no device to put bar%u on", bar);
        } else {
            sb = msg_begin(p);
            sb_printf(&sb, "bar%u of which device? prefix it with one of ", bar);
            sb_dev_list(&sb, p, NULL, 0, false);
            return msg_end(p, &sb, bt.pos);
        }
    }
    d = dev_at(p, dev);
    known = sizes_known(d);
    size = d->bar_size[bar];
    if (known && size == 0) {
        return fail(p, bt.pos, "%.64s has no BAR %u", dev_id(p, dev), bar);
    }
    next(p);
    if (!is_punct(p, &p->t, "+")) {
        return fail(p, p->t.pos, "expected '+' and an offset after 'bar%u'", bar);
    }
    next(p);
    if (get_number(p, "an offset", &off) < 0) {
        return -1;
    }
    if (known && off >= size) {
        return fail(p, p->prev.pos, "offset 0x%llx is outside BAR %u of %.64s (size 0x%llx)",
                    (unsigned long long)off, bar, dev_id(p, dev), (unsigned long long)size);
    }
    if (off == UINT64_MAX) {
        return fail(p, p->prev.pos, "offset 0x%llx is too large", (unsigned long long)off);
    }
    end = off + 1;
    tg->has_end = false;
    if (is_punct(p, &p->t, "..")) {
        next(p);
        if (get_number(p, "an end offset", &end) < 0) {
            return -1;
        }
        if (end <= off) {
            return fail(p, p->prev.pos,
                        "end 0x%llx is not after the start 0x%llx (the end is exclusive)",
                        (unsigned long long)end, (unsigned long long)off);
        }
        if (known && end > size) {
            return fail(p, p->prev.pos, "end 0x%llx is outside BAR %u of %.64s (size 0x%llx)",
                        (unsigned long long)end, bar, dev_id(p, dev), (unsigned long long)size);
        }
        tg->has_end = true;
    }
    tg->dev = dev;
    tg->bar = bar;
    tg->start = off;
    tg->end = end;
    tg->range = true;
    return 0;
}

/*
 * TARGET: [DEV:]REGISTER, [DEV:]REGISTER.FIELD or [DEV:]barN+OFFSET[..END]. dir_optional: a break
 * without a direction, where an unknown word followed by another word was meant as a direction.
 */
static int parse_target(struct parser *p, bool dir_optional, struct target *tg)
{
    int dev = -1, found = -1;
    const struct regmap_reg *reg = NULL;
    struct tok w, after;
    struct sbuf sb;
    struct suggest sg;

    memset(tg, 0, sizeof(*tg));
    tg->dev = -1;
    if (p->t.kind != T_WORD || is_number_tok(p, &p->t)) {
        if (dir_optional) {
            return fail(p, p->t.pos, "expected r, w, rw or a target");
        }
        return fail_expected_after(p, TARGET_WHAT);
    }

    /* DEV: */
    {
        size_t start = p->t.pos, i = start;

        while (i < p->n && is_id_char(p->s[i])) {
            i++;
        }
        if (i < p->n && p->s[i] == ':') {
            for (int k = 0; k < p->n_devs; k++) {
                if (name_eq(dev_at(p, k)->id, p->s + p->t.pos, i - p->t.pos)) {
                    dev = k;
                    break;
                }
            }
            if (dev < 0) {
                sb = msg_begin(p);
                sb_puts(&sb, "unknown device ");
                sb_quoted(&sb, p->s + p->t.pos, i - p->t.pos);
                if (p->n_devs == 0) {
                    sb_puts(&sb, " (no devices)");
                } else {
                    sb_puts(&sb, "; devices: ");
                    sb_dev_list(&sb, p, NULL, 0, false);
                }
                return msg_end(p, &sb, p->t.pos);
            }
            p->prev.kind = T_PUNCT;
            p->prev.pos = i;
            p->prev.len = 1;
            p->t = lex_at(p, i + 1);
            if (p->t.kind != T_WORD || is_number_tok(p, &p->t)) {
                sb = msg_begin(p);
                sb_puts(&sb, "expected a register or barN+OFFSET after ");
                sb_quoted(&sb, p->s + start, i + 1 - start);
                return msg_end(p, &sb, p->t.pos);
            }
        }
    }

    w = p->t;
    after = peek(p);
    if (is_bar_word(p, &w) && is_punct(p, &after, "+")) {
        return parse_bar_target(p, dev, tg);
    }

    /* a register */
    if (dev >= 0 || p->n_devs == 1) {
        found = dev >= 0 ? dev : 0;
        reg = find_reg(dev_at(p, found)->map, tok_text(p, &w), w.len);
    } else if (p->n_devs > 1) {
        int count = 0;

        for (int k = 0; k < p->n_devs; k++) {
            const struct regmap_reg *r = find_reg(dev_at(p, k)->map, tok_text(p, &w), w.len);

            if (r && count++ == 0) {
                found = k;
                reg = r;
            }
        }
        if (count > 1) {
            sb = msg_begin(p);
            sb_puts(&sb, "register ");
            sb_tok(&sb, p, &w);
            sb_puts(&sb, " is on ");
            sb_dev_list(&sb, p, tok_text(p, &w), w.len, true);
            sb_puts(&sb, "; say which, e.g. ");
            sb_puts(&sb, dev_id(p, found));
            sb_puts(&sb, ":");
            sb_putn(&sb, tok_text(p, &w), w.len);
            return msg_end(p, &sb, w.pos);
        }
    }
    if (!reg) {
        if (is_bar_word(p, &w)) {
            return fail(p, after.pos, "expected '+' and an offset after '%.*s'",
                        (int)(w.len > QUOTE_MAX ? QUOTE_MAX : w.len), tok_text(p, &w));
        }
        if (dir_optional && dev < 0 && after.kind == T_WORD && !is_option_kw(p, &after)) {
            return fail(p, w.pos, "expected r, w, rw or a target");
        }
        sb = msg_begin(p);
        sb_puts(&sb, "unknown register ");
        sb_tok(&sb, p, &w);
        suggest_init(&sg, tok_text(p, &w), w.len);
        if (p->n_devs == 0) {
            sb_puts(&sb, " (no devices)");
        } else if (found >= 0) {
            const struct regmap *map = dev_at(p, found)->map;

            sb_puts(&sb, " on ");
            sb_puts(&sb, dev_id(p, found));
            if (!map) {
                sb_puts(&sb, " (it has no register map)");
            }
            for (size_t i = 0; map && i < map->n_regs; i++) {
                suggest_add(&sg, map->regs[i].name);
            }
        } else {
            sb_puts(&sb, " on any device");
            for (int k = 0; k < p->n_devs; k++) {
                const struct regmap *map = dev_at(p, k)->map;

                for (size_t i = 0; map && i < map->n_regs; i++) {
                    suggest_add(&sg, map->regs[i].name);
                }
            }
        }
        suggest_put(&sb, &sg);
        return msg_end(p, &sb, w.pos);
    }
    next(p);
    tg->dev = found;
    tg->reg = reg;
    tg->bar = reg->bar;
    tg->start = reg->offset;
    tg->end = reg->offset + reg->width;
    if (is_punct(p, &p->t, ".")) {
        struct tok f;

        next(p);
        f = p->t;
        if (f.kind != T_WORD) {
            sb = msg_begin(p);
            sb_puts(&sb, "expected a field name after '");
            sb_puts(&sb, reg->name);
            sb_puts(&sb, ".'");
            return msg_end(p, &sb, f.pos);
        }
        tg->field = find_field(reg, tok_text(p, &f), f.len);
        if (!tg->field) {
            return fail_unknown_field(p, &f, reg);
        }
        if (!field_ok(tg->field)) {
            return fail(p, f.pos, "field '%s' has bits outside 0..63", tg->field->name);
        }
        next(p);
    }
    return 0;
}

static void sb_target(struct sbuf *sb, const struct parser *p, const struct target *tg)
{
    const char *id = dev_at(p, tg->dev)->id;

    if (id && *id) {            /* an anonymous device has no prefix to give */
        sb_puts(sb, id);
        sb_puts(sb, ":");
    }
    if (tg->range) {
        sb_printf(sb, "bar%u+0x%llx", tg->bar, (unsigned long long)tg->start);
        if (tg->has_end) {
            sb_printf(sb, "..0x%llx", (unsigned long long)tg->end);
        }
        return;
    }
    sb_puts(sb, tg->reg->name);
    if (tg->field) {
        sb_puts(sb, ".");
        sb_puts(sb, tg->field->name);
    }
}

/* ---- conditions ------------------------------------------------------------------------------ */

struct comp {
    struct parser *p;
    struct regdbg_rule *r;
    const struct regmap_reg *reg;   /* rule: the target register, NULL for a BAR range */
    bool expect;                    /* expect: the fields of every register of every map */
    unsigned n_consts, depth, nest;
};

static int c_emit(struct comp *c, size_t pos, uint8_t op, uint8_t arg, uint8_t shift, uint8_t width)
{
    struct regdbg_rule *r = c->r;
    bool push = op == REGDBG_INSN_VALUE || op == REGDBG_INSN_SIZE || op == REGDBG_INSN_CPU ||
                op == REGDBG_INSN_CONST || op == REGDBG_INSN_PC;
    bool keep = op == REGDBG_INSN_FIELD || op == REGDBG_INSN_NOT;

    if (r->n_code >= REGDBG_RULE_MAX_CODE) {
        return fail(c->p, pos, "condition too long (at most %u operations)",
                    (unsigned)REGDBG_RULE_MAX_CODE);
    }
    if (push && c->depth >= REGDBG_EVAL_STACK) {
        return fail(c->p, pos, "condition too deeply nested (at most %u pending values)",
                    (unsigned)REGDBG_EVAL_STACK);
    }
    r->code[r->n_code].op = op;
    r->code[r->n_code].arg = arg;
    r->code[r->n_code].shift = shift;
    r->code[r->n_code].width = width;
    r->n_code++;
    if (push) {
        c->depth++;
    } else if (!keep) {
        c->depth--;     /* a binary operator: the grammar has pushed two values */
    }
    if (op == REGDBG_INSN_VALUE) {
        r->uses_value = 1;
    }
    if (op == REGDBG_INSN_PC) {
        r->uses_pc = 1;
    }
    return 0;
}

static int c_const(struct comp *c, size_t pos, uint64_t v)
{
    unsigned i;

    for (i = 0; i < c->n_consts; i++) {
        if (c->r->consts[i] == v) {
            return c_emit(c, pos, REGDBG_INSN_CONST, (uint8_t)i, 0, 0);
        }
    }
    if (c->n_consts >= REGDBG_RULE_MAX_CONSTS) {
        return fail(c->p, pos, "too many different numbers in the condition (at most %u)",
                    (unsigned)REGDBG_RULE_MAX_CONSTS);
    }
    c->r->consts[c->n_consts] = v;
    c->n_consts++;
    return c_emit(c, pos, REGDBG_INSN_CONST, (uint8_t)i, 0, 0);
}

static int c_field(struct comp *c, size_t pos, const struct regmap_field *f)
{
    if (!field_ok(f)) {
        return fail(c->p, pos, "field '%s' has bits outside 0..63", f->name);
    }
    if (c_emit(c, pos, REGDBG_INSN_VALUE, 0, 0, 0) < 0) {
        return -1;
    }
    return c_emit(c, pos, REGDBG_INSN_FIELD, 0, (uint8_t)f->lsb, (uint8_t)(f->msb - f->lsb + 1));
}

static const struct regmap_enum *find_enum(const struct regmap_field *f, const char *s, size_t n)
{
    for (size_t i = 0; f && i < f->n_values; i++) {
        if (name_eq(f->values[i].name, s, n)) {
            return &f->values[i];
        }
    }
    return NULL;
}

/* A field named by the word: the target register's, or for expect the first register's of any map. */
static const struct regmap_field *c_find_field(const struct comp *c, const struct tok *t)
{
    const struct parser *p = c->p;

    if (!c->expect) {
        return find_field(c->reg, tok_text(p, t), t->len);
    }
    for (int k = 0; k < p->n_devs; k++) {
        const struct regmap *map = dev_at(p, k)->map;

        for (size_t i = 0; map && i < map->n_regs; i++) {
            const struct regmap_field *f = find_field(&map->regs[i], tok_text(p, t), t->len);

            if (f) {
                return f;
            }
        }
    }
    return NULL;
}

static const struct regmap_reg *c_find_reg_any(const struct comp *c, const struct tok *t)
{
    const struct parser *p = c->p;

    for (int k = 0; k < p->n_devs; k++) {
        const struct regmap_reg *r = find_reg(dev_at(p, k)->map, tok_text(p, t), t->len);

        if (r) {
            return r;
        }
    }
    return NULL;
}

/* after_value: the name followed "value."; enum_field: the field the name is compared with. */
static int c_unknown_name(struct comp *c, const struct tok *t, bool after_value,
                          const struct regmap_field *enum_field)
{
    struct parser *p = c->p;
    struct sbuf sb = msg_begin(p);
    struct suggest sg;

    suggest_init(&sg, tok_text(p, t), t->len);
    if (enum_field && enum_field->n_values) {
        return fail_unknown_value(p, t, enum_field);
    }
    if (!after_value) {
        suggest_add(&sg, "value");
        suggest_add(&sg, "size");
        suggest_add(&sg, "cpu");
        suggest_add(&sg, "pc");
    }
    if (c->expect) {
        bool any = false;

        for (int k = 0; k < p->n_devs; k++) {
            const struct regmap *map = dev_at(p, k)->map;

            for (size_t i = 0; map && i < map->n_regs; i++) {
                for (size_t j = 0; j < map->regs[i].n_fields; j++) {
                    suggest_add(&sg, map->regs[i].fields[j].name);
                    any = true;
                }
            }
        }
        sb_puts(&sb, any ? "unknown field " : "unknown name ");
        sb_tok(&sb, p, t);
        if (!any) {
            sb_puts(&sb, " (no register map has fields; use value, size, cpu, pc and numbers)");
        }
    } else if (c->reg && c->reg->n_fields) {
        sb_puts(&sb, "unknown field ");
        sb_tok(&sb, p, t);
        sb_puts(&sb, " in ");
        sb_puts(&sb, c->reg->name);
        for (size_t j = 0; j < c->reg->n_fields; j++) {
            suggest_add(&sg, c->reg->fields[j].name);
        }
    } else {
        sb_puts(&sb, "unknown name ");
        sb_tok(&sb, p, t);
        if (c->reg) {
            sb_puts(&sb, " (");
            sb_puts(&sb, c->reg->name);
            sb_puts(&sb, " has no fields; use value, size, cpu, pc and numbers)");
        } else {
            sb_puts(&sb, " (a BAR range has no fields; use value, size, cpu, pc and numbers)");
        }
    }
    suggest_put(&sb, &sg);
    return msg_end(p, &sb, t->pos);
}

static int c_or(struct comp *c);

/*
 * A value: a number, value, value.FIELD, FIELD, size, cpu, (COND); for expect also
 * REGISTER.FIELD. enum_field: the field this value is compared with, whose symbolic values are
 * allowed here. *ref: the field when the value is exactly a field reference.
 */
static int c_primary(struct comp *c, const struct regmap_field *enum_field,
                     const struct regmap_field **ref)
{
    struct parser *p = c->p;
    struct tok t = p->t;
    const struct regmap_enum *e;
    const struct regmap_field *f;
    struct sbuf sb;

    *ref = NULL;
    if (is_punct(p, &t, "(")) {
        if (++c->nest > MAX_NEST) {
            return fail(p, t.pos, "condition nested too deeply (at most %u levels)", MAX_NEST);
        }
        next(p);
        if (c_or(c) < 0) {
            return -1;
        }
        if (!is_punct(p, &p->t, ")")) {
            sb = msg_begin(p);
            sb_printf(&sb, "expected ')' to close the '(' at column %zu, not ", t.pos + 1);
            sb_tok(&sb, p, &p->t);
            return msg_end(p, &sb, p->t.pos);
        }
        c->nest--;
        next(p);
        return 0;
    }
    if (t.kind != T_WORD) {
        if (is_kw(p, &p->prev, "if") || is_kw(p, &p->prev, "expect")) {
            return fail_expected_after(p, "a condition");
        }
        return fail_expected_after(p, "a value");
    }
    if (enum_field && (e = find_enum(enum_field, tok_text(p, &t), t.len))) {
        next(p);
        return c_const(c, t.pos, e->value);
    }
    if (is_digit(p->s[t.pos])) {
        uint64_t v;

        if (get_number(p, "a value", &v) < 0) {
            return -1;
        }
        return c_const(c, t.pos, v);
    }
    if (is_kw(p, &t, "value")) {
        next(p);
        if (!is_punct(p, &p->t, ".")) {
            return c_emit(c, t.pos, REGDBG_INSN_VALUE, 0, 0, 0);
        }
        next(p);
        if (p->t.kind != T_WORD) {
            return fail_expected_after(p, "a field name");
        }
        f = c_find_field(c, &p->t);
        if (!f) {
            return c_unknown_name(c, &p->t, true, NULL);
        }
        next(p);
        *ref = f;
        return c_field(c, t.pos, f);
    }
    if (is_kw(p, &t, "size")) {
        next(p);
        return c_emit(c, t.pos, REGDBG_INSN_SIZE, 0, 0, 0);
    }
    if (is_kw(p, &t, "cpu")) {
        next(p);
        return c_emit(c, t.pos, REGDBG_INSN_CPU, 0, 0, 0);
    }
    if (is_kw(p, &t, "pc")) {
        next(p);
        return c_emit(c, t.pos, REGDBG_INSN_PC, 0, 0, 0);
    }
    if (c->expect) {
        struct tok dot = peek(p);
        const struct regmap_reg *reg;

        if (is_punct(p, &dot, ".") && (reg = c_find_reg_any(c, &t))) {
            next(p);
            next(p);
            if (p->t.kind != T_WORD) {
                return fail_expected_after(p, "a field name");
            }
            f = find_field(reg, tok_text(p, &p->t), p->t.len);
            if (!f) {
                return fail_unknown_field(p, &p->t, reg);
            }
            next(p);
            *ref = f;
            return c_field(c, t.pos, f);
        }
    }
    f = c_find_field(c, &t);
    if (!f) {
        return c_unknown_name(c, &t, false, enum_field);
    }
    next(p);
    *ref = f;
    return c_field(c, t.pos, f);
}

static int c_unary(struct comp *c, const struct regmap_field *enum_field,
                   const struct regmap_field **ref)
{
    struct parser *p = c->p;
    struct tok t = p->t;
    const struct regmap_field *dummy;

    if (!is_punct(p, &t, "!")) {
        return c_primary(c, enum_field, ref);
    }
    *ref = NULL;
    if (++c->nest > MAX_NEST) {
        return fail(p, t.pos, "condition nested too deeply (at most %u levels)", MAX_NEST);
    }
    next(p);
    if (c_unary(c, NULL, &dummy) < 0) {
        return -1;
    }
    c->nest--;
    return c_emit(c, t.pos, REGDBG_INSN_NOT, 0, 0, 0);
}

static int rel_op(const struct parser *p, const struct tok *t)
{
    return is_punct(p, t, "<") ? REGDBG_INSN_LT : is_punct(p, t, ">") ? REGDBG_INSN_GT
         : is_punct(p, t, "<=") ? REGDBG_INSN_LE : is_punct(p, t, ">=") ? REGDBG_INSN_GE : 0;
}

/*
 * X in LO..HI (HI exclusive, as a target's range): LO <= X && X < HI. The program has no way to
 * duplicate a value, so X, which must be a plain operand (pc, value, a field, size, cpu), is
 * emitted twice: its instructions are code[start, n_code).
 */
static int c_in_range(struct comp *c, unsigned start)
{
    struct parser *p = c->p;
    struct regdbg_rule *r = c->r;
    struct regdbg_insn x[2];
    unsigned n = r->n_code - start;
    size_t pos = p->t.pos;
    uint64_t lo, hi;

    if (n < 1 || n > 2 || r->code[start].op == REGDBG_INSN_CONST ||
        (n == 2 && r->code[start + 1].op != REGDBG_INSN_FIELD)) {
        return fail(p, pos, "'in' needs a plain operand on its left (pc, value, a field, size or "
                    "cpu)");
    }
    memcpy(x, &r->code[start], n * sizeof(x[0]));
    next(p);
    if (get_number(p, "the start of a range", &lo) < 0) {
        return -1;
    }
    if (!is_punct(p, &p->t, "..")) {
        return fail_expected_after(p, "'..' and the end of the range (exclusive)");
    }
    next(p);
    if (get_number(p, "the end of a range (exclusive)", &hi) < 0) {
        return -1;
    }
    if (hi <= lo) {
        return fail(p, p->prev.pos, "end 0x%llx is not after the start 0x%llx (the end is "
                    "exclusive)", (unsigned long long)hi, (unsigned long long)lo);
    }
    if (c_const(c, pos, lo) < 0 || c_emit(c, pos, REGDBG_INSN_GE, 0, 0, 0) < 0) {
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        if (c_emit(c, pos, x[i].op, x[i].arg, x[i].shift, x[i].width) < 0) {
            return -1;
        }
    }
    if (c_const(c, pos, hi) < 0 || c_emit(c, pos, REGDBG_INSN_LT, 0, 0, 0) < 0) {
        return -1;
    }
    return c_emit(c, pos, REGDBG_INSN_LAND, 0, 0, 0);
}

static int c_rel(struct comp *c, const struct regmap_field *enum_field,
                 const struct regmap_field **ref)
{
    struct parser *p = c->p;
    const struct regmap_field *left, *dummy;
    unsigned start = c->r->n_code;
    int op;

    if (c_unary(c, enum_field, &left) < 0) {
        return -1;
    }
    if (is_kw(p, &p->t, "in")) {
        *ref = NULL;
        return c_in_range(c, start);
    }
    while ((op = rel_op(p, &p->t))) {
        struct tok t = p->t;

        next(p);
        if (c_unary(c, left, &dummy) < 0 || c_emit(c, t.pos, (uint8_t)op, 0, 0, 0) < 0) {
            return -1;
        }
        left = NULL;
    }
    *ref = left;
    return 0;
}

static int c_eq(struct comp *c)
{
    struct parser *p = c->p;
    const struct regmap_field *left, *dummy;

    if (c_rel(c, NULL, &left) < 0) {
        return -1;
    }
    for (;;) {
        struct tok t = p->t;
        int op = is_punct(p, &t, "==") ? REGDBG_INSN_EQ : is_punct(p, &t, "!=") ? REGDBG_INSN_NE : 0;

        if (is_punct(p, &t, "=")) {
            return fail(p, t.pos, "unexpected '='; did you mean '=='?");
        }
        if (!op) {
            return 0;
        }
        next(p);
        if (c_rel(c, left, &dummy) < 0 || c_emit(c, t.pos, (uint8_t)op, 0, 0, 0) < 0) {
            return -1;
        }
        left = NULL;
    }
}

/* One left-associative level: LOWER (OP LOWER)*. */
static int c_binary(struct comp *c, int (*lower_level)(struct comp *), const char *text, uint8_t op)
{
    struct parser *p = c->p;

    if (lower_level(c) < 0) {
        return -1;
    }
    while (is_punct(p, &p->t, text)) {
        struct tok t = p->t;

        next(p);
        if (lower_level(c) < 0 || c_emit(c, t.pos, op, 0, 0, 0) < 0) {
            return -1;
        }
    }
    return 0;
}

static int c_band(struct comp *c)
{
    return c_binary(c, c_eq, "&", REGDBG_INSN_BAND);
}

static int c_bor(struct comp *c)
{
    return c_binary(c, c_band, "|", REGDBG_INSN_BOR);
}

static int c_and(struct comp *c)
{
    return c_binary(c, c_bor, "&&", REGDBG_INSN_LAND);
}

static int c_or(struct comp *c)
{
    return c_binary(c, c_and, "||", REGDBG_INSN_LOR);
}

/* Compile the condition at the current token into r. */
static int compile_cond(struct parser *p, struct regdbg_rule *r, const struct regmap_reg *reg,
                        bool expect)
{
    struct comp c;

    memset(&c, 0, sizeof(c));
    c.p = p;
    c.r = r;
    c.reg = reg;
    c.expect = expect;
    r->n_code = 0;
    r->uses_value = 0;
    r->uses_pc = 0;
    if (c_or(&c) < 0) {
        return -1;
    }
    return 0;
}

static bool is_binary_op(const struct parser *p, const struct tok *t)
{
    static const char *const ops[] = { "==", "!=", "<", ">", "<=", ">=", "&", "|", "&&", "||" };

    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (is_punct(p, t, ops[i])) {
            return true;
        }
    }
    return false;
}

/* The condition's tokens in [start, end): binary operators between spaces, the rest as written. */
static void sb_cond(struct sbuf *sb, const struct parser *p, size_t start, size_t end)
{
    size_t i = start;

    for (;;) {
        struct tok t = lex_at(p, i);

        if (t.kind == T_EOF || t.pos >= end) {
            return;
        }
        if (is_binary_op(p, &t)) {
            sb_puts(sb, " ");
            sb_putn(sb, tok_text(p, &t), t.len);
            sb_puts(sb, " ");
        } else {
            sb_putn(sb, tok_text(p, &t), t.len);
        }
        i = t.pos + t.len;
    }
}

/* ---- rules ----------------------------------------------------------------------------------- */

/* r, w or rw as a direction (not a device prefix or a name going on with '.' or '+'). */
static unsigned direction(const struct parser *p)
{
    const struct tok *t = &p->t;
    size_t after = t->pos + t->len;
    unsigned dirs;

    if (is_kw(p, t, "r")) {
        dirs = REGDBG_RULE_DIR_READ;
    } else if (is_kw(p, t, "w")) {
        dirs = REGDBG_RULE_DIR_WRITE;
    } else if (is_kw(p, t, "rw")) {
        dirs = REGDBG_RULE_DIR_READ | REGDBG_RULE_DIR_WRITE;
    } else {
        return 0;
    }
    if (after < p->n && (p->s[after] == ':' || p->s[after] == '.' || p->s[after] == '+')) {
        return 0;
    }
    return dirs;
}

static const char *dir_text(unsigned dirs)
{
    return dirs == REGDBG_RULE_DIR_READ ? "r" : dirs == REGDBG_RULE_DIR_WRITE ? "w" : "rw";
}

struct op_word { const char *text; uint8_t op; const char *what; };

static const struct op_word EDIT_OPS[] = {
    { "set", REGDBG_OP_SET, "a mask" },
    { "clear", REGDBG_OP_CLEAR, "a mask" },
    { "=", REGDBG_OP_ASSIGN, "a value" },
};
static const struct op_word INJECT_OPS[] = {
    { "=", REGDBG_OP_ASSIGN, "a value" },
    { "or", REGDBG_OP_OR, "a mask" },
    { "and", REGDBG_OP_AND, "a mask" },
    { "xor", REGDBG_OP_XOR, "a mask" },
};

/* The operation of edit / inject and its value, into r; *vt is the value's token. */
static int parse_op(struct parser *p, const struct target *tg, bool edit, struct regdbg_rule *r,
                    struct tok *opt, struct tok *vt)
{
    const struct op_word *ops = edit ? EDIT_OPS : INJECT_OPS;
    size_t n_ops = edit ? sizeof(EDIT_OPS) / sizeof(EDIT_OPS[0])
                        : sizeof(INJECT_OPS) / sizeof(INJECT_OPS[0]);
    const struct op_word *ow = NULL;
    const struct regmap_enum *e;
    const struct regmap_field *f = tg->field;
    unsigned bits;
    uint64_t v;
    struct sbuf sb;

    for (size_t i = 0; i < n_ops; i++) {
        if (tok_is(p, &p->t, ops[i].text[0] == '=' ? T_PUNCT : T_WORD, ops[i].text)) {
            ow = &ops[i];
        }
    }
    if (!ow) {
        return fail(p, p->t.pos, edit ? "expected set, clear or '=' after the target"
                                       : "expected '=', or, and or xor after the target");
    }
    *opt = p->t;
    next(p);
    *vt = p->t;
    if (f && p->t.kind == T_WORD && (e = find_enum(f, tok_text(p, &p->t), p->t.len))) {
        v = e->value;
        next(p);
    } else if (f && f->n_values && p->t.kind == T_WORD && !is_number_tok(p, &p->t)) {
        return fail_unknown_value(p, &p->t, f);
    } else if (get_number(p, ow->what, &v) < 0) {
        return -1;
    }
    bits = f ? f->msb - f->lsb + 1 : tg->reg ? tg->reg->width * 8 : 64;
    if (bits < 64 && v >> bits) {
        sb = msg_begin(p);
        sb_puts(&sb, "value ");
        sb_tok(&sb, p, vt);
        sb_printf(&sb, " does not fit %s ", f ? "field" : "register");
        sb_puts(&sb, f ? f->name : tg->reg->name);
        sb_printf(&sb, " (%u bit%s)", bits, bits == 1 ? "" : "s");
        return msg_end(p, &sb, vt->pos);
    }
    r->op = ow->op;
    r->operand = f ? v << f->lsb : v;
    r->mask = f && (ow->op == REGDBG_OP_ASSIGN || ow->op == REGDBG_OP_AND) ? field_mask(f)
                                                                          : ~UINT64_C(0);
    return 0;
}

/*
 * from FUNC: the function's name runs to the next blank (C++ and compiler-made names hold '.' and
 * ':'); its range comes from the context's symbols.
 */
static int parse_from(struct parser *p, char *name, size_t len, uint64_t *lo, uint64_t *hi)
{
    size_t start = p->t.pos, end = start;
    char msg[200];

    if (p->t.kind == T_EOF) {
        return fail_expected_after(p, "a function name");
    }
    while (end < p->n && p->s[end] != ' ' && p->s[end] != '\t') {
        end++;
    }
    if (end - start >= len) {
        return fail(p, start, "function name too long (at most %zu characters)", len - 1);
    }
    memcpy(name, p->s + start, end - start);
    name[end - start] = '\0';
    if (!p->ctx->symbols || symbols_count(p->ctx->symbols) == 0) {
        return fail(p, start, "'from %s' needs the guest's symbols: start regdbg with "
                    "--symbols FILE (an ELF, or an nm-style list such as System.map)", name);
    }
    if (symbols_function_range(p->ctx->symbols, name, lo, hi, msg, sizeof(msg)) < 0) {
        return fail(p, start, "%s", msg);
    }
    while (p->t.kind != T_EOF && p->t.pos < end) {
        next(p);
    }
    return 0;
}

/* The highest constant slot a program uses, plus one */
static unsigned consts_used(const struct regdbg_rule *r)
{
    unsigned n = 0;

    for (unsigned i = 0; i < r->n_code; i++) {
        if (r->code[i].op == REGDBG_INSN_CONST && r->code[i].arg + 1u > n) {
            n = r->code[i].arg + 1u;
        }
    }
    return n;
}

/* AND the condition with lo <= pc < hi (or make that the condition) */
static int add_pc_range(struct parser *p, struct regdbg_rule *r, size_t pos, uint64_t lo,
                        uint64_t hi)
{
    struct comp c;
    bool had = r->n_code > 0;

    memset(&c, 0, sizeof(c));
    c.p = p;
    c.r = r;
    c.n_consts = consts_used(r);
    c.depth = had;
    if (c_emit(&c, pos, REGDBG_INSN_PC, 0, 0, 0) < 0 || c_const(&c, pos, lo) < 0 ||
        c_emit(&c, pos, REGDBG_INSN_GE, 0, 0, 0) < 0 ||
        c_emit(&c, pos, REGDBG_INSN_PC, 0, 0, 0) < 0 || c_const(&c, pos, hi) < 0 ||
        c_emit(&c, pos, REGDBG_INSN_LT, 0, 0, 0) < 0 ||
        c_emit(&c, pos, REGDBG_INSN_LAND, 0, 0, 0) < 0) {
        return -1;
    }
    return had ? c_emit(&c, pos, REGDBG_INSN_LAND, 0, 0, 0) : 0;
}

static int parse_rule(struct parser *p, uint8_t kind, struct rules_cmd *out)
{
    struct rules_spec *spec = &out->spec;
    struct regdbg_rule *r = &spec->rule;
    const char *cmd = kind == REGDBG_RULE_BREAK ? "break" : kind == REGDBG_RULE_EDIT ? "edit"
                    : kind == REGDBG_RULE_INJECT ? "inject" : kind == REGDBG_RULE_IRQ ? "on"
                    : "drop";
    unsigned dirs = direction(p);
    bool dir_given = dirs != 0, have_if = false, have_ignore = false, have_from = false;
    bool have_irq = false;
    size_t cond_start = 0, cond_end = 0, from_pos = 0;
    char from[96];
    uint64_t from_lo = 0, from_hi = 0;
    struct tok opt = { T_EOF, 0, 0 }, vt = { T_EOF, 0, 0 };
    struct target tg;
    struct sbuf sb;

    if (kind == REGDBG_RULE_BREAK) {
        if (!dir_given) {
            dirs = REGDBG_RULE_DIR_READ | REGDBG_RULE_DIR_WRITE;
        }
    } else if (kind == REGDBG_RULE_IRQ) {
        if (!dir_given) {
            return fail(p, p->t.pos, "on needs r, w or rw: the accesses that fire it");
        }
    } else {
        unsigned need = kind == REGDBG_RULE_INJECT ? REGDBG_RULE_DIR_READ : REGDBG_RULE_DIR_WRITE;

        if (dirs != need) {
            return fail(p, p->t.pos, "%s needs %s", cmd, dir_text(need));
        }
    }
    if (dir_given) {
        next(p);
    }
    if (parse_target(p, kind == REGDBG_RULE_BREAK && !dir_given, &tg) < 0) {
        return -1;
    }
    r->enabled = 1;
    r->kind = kind;
    r->dirs = (uint8_t)dirs;
    r->bar = (uint8_t)tg.bar;
    r->start = tg.start;
    r->end = tg.end;
    r->mask = ~UINT64_C(0);
    spec->dev = tg.dev;
    spec->reg = tg.reg;
    spec->field = tg.field;
    if (kind == REGDBG_RULE_EDIT || kind == REGDBG_RULE_INJECT) {
        if (parse_op(p, &tg, kind == REGDBG_RULE_EDIT, r, &opt, &vt) < 0) {
            return -1;
        }
    }
    while (p->t.kind != T_EOF) {
        struct tok t = p->t;

        if (is_kw(p, &t, "if") && !have_if) {
            next(p);
            cond_start = p->t.pos;
            if (compile_cond(p, r, tg.reg, false) < 0) {
                return -1;
            }
            cond_end = p->prev.pos + p->prev.len;
            have_if = true;
        } else if (is_kw(p, &t, "ignore") && !have_ignore) {
            uint64_t v;

            next(p);
            if (get_number(p, "a count", &v) < 0) {
                return -1;
            }
            if (v > UINT32_MAX) {
                return fail(p, p->prev.pos, "ignore count too large (at most %u)", UINT32_MAX);
            }
            spec->ignore = (uint32_t)v;
            have_ignore = true;
        } else if (is_kw(p, &t, "temp") && !spec->temp) {
            next(p);
            spec->temp = true;
        } else if (is_kw(p, &t, "from") && !have_from) {
            next(p);
            from_pos = p->t.pos;
            if (parse_from(p, from, sizeof(from), &from_lo, &from_hi) < 0) {
                return -1;
            }
            have_from = true;
        } else if (is_kw(p, &t, "irq") && kind == REGDBG_RULE_IRQ && !have_irq) {
            next(p);
            if (parse_irq_action(p, &r->op) < 0) {
                return -1;
            }
            have_irq = true;
        } else if (is_option_kw(p, &t) && (kind == REGDBG_RULE_IRQ || !is_kw(p, &t, "irq"))) {
            return fail(p, t.pos, "duplicate '%.*s'", (int)t.len, tok_text(p, &t));
        } else {
            struct suggest sg;

            sb = msg_begin(p);
            sb_puts(&sb, "unexpected ");
            sb_tok(&sb, p, &t);
            if (t.kind == T_WORD) {
                suggest_init(&sg, tok_text(p, &t), t.len);
                if (!have_if) {
                    suggest_add(&sg, "if");
                }
                if (!have_ignore) {
                    suggest_add(&sg, "ignore");
                }
                if (!spec->temp) {
                    suggest_add(&sg, "temp");
                }
                if (!have_from) {
                    suggest_add(&sg, "from");
                }
                if (kind == REGDBG_RULE_IRQ && !have_irq) {
                    suggest_add(&sg, "irq");
                }
                suggest_put(&sb, &sg);
            }
            return msg_end(p, &sb, t.pos);
        }
    }

    if (kind == REGDBG_RULE_IRQ && !have_irq) {
        return fail(p, p->t.pos, "expected 'irq assert', 'irq deassert' or 'irq pulse': what "
                    "the interrupt does");
    }
    if (have_from && add_pc_range(p, r, from_pos, from_lo, from_hi) < 0) {
        return -1;
    }
    sb_init(&sb, spec->text, sizeof(spec->text));
    sb_puts(&sb, cmd);
    sb_puts(&sb, " ");
    sb_puts(&sb, dir_text(dirs));
    sb_puts(&sb, " ");
    sb_target(&sb, p, &tg);
    if (opt.kind != T_EOF) {
        sb_puts(&sb, " ");
        sb_putn(&sb, tok_text(p, &opt), opt.len);
        sb_puts(&sb, " ");
        sb_putn(&sb, tok_text(p, &vt), vt.len);
    }
    if (have_from) {
        sb_puts(&sb, " from ");
        sb_puts(&sb, from);
    }
    if (have_if) {
        sb_puts(&sb, " if ");
        sb_cond(&sb, p, cond_start, cond_end);
    }
    if (have_ignore) {
        sb_printf(&sb, " ignore %u", (unsigned)spec->ignore);
    }
    if (spec->temp) {
        sb_puts(&sb, " temp");
    }
    if (have_irq) {
        sb_puts(&sb, " irq ");
        sb_puts(&sb, trace_irq_action_name(r->op));
    }
    sb_finish(&sb);
    out->kind = RCMD_RULE;
    return 0;
}

/* ---- other commands -------------------------------------------------------------------------- */

/* irq assert|deassert|pulse [DEV]: the device is named, the only one, or left to the caller. */
static int parse_irq(struct parser *p, struct rules_cmd *out)
{
    out->kind = RCMD_IRQ;
    out->spec.dev = p->n_devs == 1 ? 0 : -1;
    if (parse_irq_action(p, &out->irq_action) < 0) {
        return -1;
    }
    if (p->t.kind != T_EOF) {
        size_t start = p->t.pos, i = start;
        int dev = -1;
        struct sbuf sb;

        while (i < p->n && is_id_char(p->s[i])) {
            i++;
        }
        for (int k = 0; k < p->n_devs && i > start; k++) {
            if (name_eq(dev_at(p, k)->id, p->s + start, i - start)) {
                dev = k;
                break;
            }
        }
        if (dev < 0) {
            sb = msg_begin(p);
            if (i == start) {
                sb_puts(&sb, "expected a device after ");
                sb_tok(&sb, p, &p->prev);
                sb_puts(&sb, ", not ");
                sb_tok(&sb, p, &p->t);
                return msg_end(p, &sb, start);
            }
            sb_puts(&sb, "unknown device ");
            sb_quoted(&sb, p->s + start, i - start);
            if (p->n_devs == 0) {
                sb_puts(&sb, " (no devices)");
            } else {
                sb_puts(&sb, "; devices: ");
                sb_dev_list(&sb, p, NULL, 0, false);
            }
            return msg_end(p, &sb, start);
        }
        out->spec.dev = dev;
        p->t = lex_at(p, i);
    }
    return expect_end(p);
}

static int parse_ids(struct parser *p, bool need_one, struct rules_cmd *out)
{
    while (p->t.kind != T_EOF) {
        uint64_t v;

        if (!is_number_tok(p, &p->t)) {
            return fail(p, p->t.pos, "expected a rule number");
        }
        if (out->n_ids >= (int)(sizeof(out->ids) / sizeof(out->ids[0]))) {
            return fail(p, p->t.pos, "too many rule numbers (at most %zu)",
                        sizeof(out->ids) / sizeof(out->ids[0]));
        }
        if (get_number(p, "a rule number", &v) < 0) {
            return -1;
        }
        if (v > INT_MAX) {
            return fail(p, p->prev.pos, "rule number too large (at most %d)", INT_MAX);
        }
        out->ids[out->n_ids++] = (int)v;
    }
    if (need_one && out->n_ids == 0) {
        return fail_expected_after(p, "a rule number");
    }
    return 0;
}

/* Seconds: digits with an optional fraction, greater than 0. */
static int parse_timeout(struct parser *p, double *out)
{
    const char *s = p->s;
    size_t start = p->t.pos, i = start, nd = 0, sig = 0, nf = 0, stop;
    uint64_t ip = 0, frac = 0, scale = 1;
    bool dot = false;
    struct sbuf sb;

    while (i < p->n && is_digit(s[i])) {
        if (sig < MAX_TIMEOUT_DIGITS + 1) {
            ip = ip * 10 + (uint64_t)(s[i] - '0');
        }
        sig += ip != 0;     /* leading zeros do not count */
        nd++;
        i++;
    }
    if (i < p->n && s[i] == '.') {
        dot = true;
        i++;
        while (i < p->n && is_digit(s[i])) {
            if (nf < 9) {
                frac = frac * 10 + (uint64_t)(s[i] - '0');
                scale *= 10;
            }
            nf++;
            i++;
        }
    }
    if (nd == 0 || (dot && nf == 0) || (i < p->n && (is_word_char(s[i]) || s[i] == '.'))) {
        for (stop = i; stop < p->n && !is_blank(s[stop]); stop++) {
        }
        sb = msg_begin(p);
        sb_puts(&sb, "invalid timeout ");
        sb_quoted(&sb, s + start, stop - start);
        sb_puts(&sb, " (seconds, e.g. 10 or 0.5)");
        return msg_end(p, &sb, start);
    }
    if (sig > MAX_TIMEOUT_DIGITS) {
        return fail(p, start, "timeout too large (at most 999999999 seconds)");
    }
    if (ip == 0 && frac == 0) {
        return fail(p, start, "the timeout must be greater than 0 (leave it out to wait without limit)");
    }
    *out = (double)ip + (double)frac / (double)scale;
    p->prev = p->t;
    p->prev.len = i - start;
    p->t = lex_at(p, i);
    return 0;
}

int rules_parse(const char *line, const struct rules_ctx *ctx, struct rules_cmd *out,
                struct rules_error *err)
{
    const struct rules_ctx no_devices = { NULL, 0, NULL };
    struct rules_error scratch;
    struct parser p;
    struct tok c;
    uint64_t v;

    if (!err) {
        err = &scratch;
    }
    err->column = 0;
    err->message[0] = '\0';
    if (!out) {
        err->column = 1;
        snprintf(err->message, sizeof(err->message), "no output");
        return -1;
    }
    memset(out, 0, sizeof(*out));
    if (!line) {
        line = "";
    }
    if (!ctx || !ctx->devs || ctx->n_devs < 0) {
        ctx = &no_devices;
    }
    memset(&p, 0, sizeof(p));
    p.s = line;
    p.n = strcspn(line, "#");
    p.end = p.n;
    while (p.end > 0 && is_blank(line[p.end - 1])) {
        p.end--;
    }
    p.ctx = ctx;
    p.n_devs = ctx->n_devs;
    p.err = err;
    p.t = lex_at(&p, 0);

    c = p.t;
    if (c.kind == T_EOF) {
        out->kind = RCMD_EMPTY;
        return 0;
    }
    if (c.kind != T_WORD || is_number_tok(&p, &c)) {
        return fail(&p, c.pos, "expected a command");
    }
    next(&p);
    /* the commands and their names are command_table.h's; this parses those it marks */
    out->def = command_find(tok_text(&p, &c), c.len);
    switch (out->def && out->def->rules_language ? out->def->id : CMD_COUNT) {
    case CMD_BREAK:
        return parse_rule(&p, REGDBG_RULE_BREAK, out);
    case CMD_EDIT:
        return parse_rule(&p, REGDBG_RULE_EDIT, out);
    case CMD_INJECT:
        return parse_rule(&p, REGDBG_RULE_INJECT, out);
    case CMD_DROP:
        return parse_rule(&p, REGDBG_RULE_DROP, out);
    case CMD_ON:
        return parse_rule(&p, REGDBG_RULE_IRQ, out);
    case CMD_IRQ:
        return parse_irq(&p, out);
    case CMD_INFO:
        if (!is_kw(&p, &p.t, "rules")) {
            return fail(&p, p.t.pos, "expected 'rules' after 'info'");
        }
        next(&p);
        out->kind = RCMD_INFO_RULES;
        return expect_end(&p);
    case CMD_ENABLE:
    case CMD_DISABLE:
    case CMD_DELETE:
        out->kind = out->def->id == CMD_ENABLE ? RCMD_ENABLE
                  : out->def->id == CMD_DISABLE ? RCMD_DISABLE : RCMD_DELETE;
        return parse_ids(&p, out->kind != RCMD_DELETE, out);
    case CMD_STEP:
        out->kind = RCMD_STEP;
        out->count = 1;
        if (is_number_tok(&p, &p.t)) {
            if (get_number(&p, "a count", &v) < 0) {
                return -1;
            }
            if (v == 0 || v > UINT32_MAX) {
                return fail(&p, p.prev.pos, "step count must be 1 to %u", UINT32_MAX);
            }
            out->count = (uint32_t)v;
        }
        return expect_end(&p);
    case CMD_WAIT:
        out->kind = RCMD_WAIT;
        if (is_number_tok(&p, &p.t) && parse_timeout(&p, &out->timeout_s) < 0) {
            return -1;
        }
        return expect_end(&p);
    case CMD_CONTINUE:
    case CMD_SKIP:
        out->kind = out->def->id == CMD_CONTINUE ? RCMD_CONTINUE : RCMD_SKIP;
        if (is_number_tok(&p, &p.t)) {
            if (get_number(&p, "a value", &out->value) < 0) {
                return -1;
            }
            out->has_value = true;
        }
        return expect_end(&p);
    case CMD_PRINT:
        out->kind = RCMD_PRINT;
        return expect_end(&p);
    case CMD_GDB:
        out->kind = RCMD_GDB;
        return expect_end(&p);
    case CMD_EXPECT:
        out->kind = RCMD_EXPECT;
        if (compile_cond(&p, &out->cond, NULL, true) < 0) {
            return -1;
        }
        return expect_end(&p);
    default:
        out->def = NULL;
        break;
    }
    {
        struct sbuf sb = msg_begin(&p);
        struct suggest sg;

        sb_puts(&sb, "unknown command ");
        sb_tok(&sb, &p, &c);
        suggest_init(&sg, tok_text(&p, &c), c.len);
        for (int i = 0; i < CMD_COUNT; i++) {
            if (command_table[i].rules_language) {
                suggest_add(&sg, command_table[i].name);
            }
        }
        suggest_put(&sb, &sg);
        return msg_end(&p, &sb, c.pos);
    }
}

/* ---- numbers and the stream filter outside the rules language -------------------------------- */

static int simple_fail(struct rules_error *err, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int simple_fail(struct rules_error *err, size_t pos, const char *fmt, ...)
{
    va_list ap;

    if (err) {
        err->column = (int)pos + 1;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* s[0..n) at column pos as a number, or -1 with the rules language's messages. */
static int number_at(const char *s, size_t pos, size_t n, uint64_t *v, struct rules_error *err)
{
    switch (rules_parse_number(s + pos, n, v)) {
    case RULES_NUMBER_OK:
        return 0;
    case RULES_NUMBER_BIG:
        return simple_fail(err, pos, "number '%.*s' is too large for 64 bits", (int)(n > 64 ? 64 : n),
                           s + pos);
    case RULES_NUMBER_BAD:
    default:
        if (n == 0) {
            return simple_fail(err, pos, "expected a number");
        }
        return simple_fail(err, pos, "invalid number '%.*s' (numbers are decimal or 0x hex)",
                           (int)(n > 64 ? 64 : n), s + pos);
    }
}

int rules_parse_value(const char *text, uint64_t *out, struct rules_error *err)
{
    size_t i = 0, j;

    while (text[i] == ' ') {
        i++;
    }
    for (j = i; text[j] && text[j] != ' '; j++) {
    }
    if (number_at(text, i, j - i, out, err) < 0) {
        return -1;
    }
    while (text[j] == ' ') {
        j++;
    }
    if (text[j]) {
        return simple_fail(err, j, "unexpected '%.64s' after the number", text + j);
    }
    return 0;
}

int rules_parse_filter(const char *text, const struct rules_ctx *ctx, struct event_filter *f,
                       struct rules_error *err)
{
    size_t i = 0, reg_pos = 0;
    bool reg = false;
    int n_devs = ctx ? ctx->n_devs : 0;

    memset(f, 0, sizeof(*f));
    f->dev = f->bar = f->dir = f->reg = ANY;
    for (;;) {
        size_t w, eq, v, e, vn;
        const char *val;

        while (text[i] == ' ') {
            i++;
        }
        if (!text[i]) {
            break;
        }
        w = i;
        while (text[i] && text[i] != ' ') {
            i++;
        }
        e = i;
        for (eq = w; eq < e && text[eq] != '='; eq++) {
        }
        if (eq == e) {
            return simple_fail(err, w, "'%.*s' is not KEY=VALUE", (int)(e - w > 200 ? 200 : e - w),
                               text + w);
        }
        v = eq + 1;
        val = text + v;
        vn = e - v;
#define KEY_IS(k) (eq - w == strlen(k) && memcmp(text + w, k, eq - w) == 0)
#define VAL_IS(k) (vn == strlen(k) && memcmp(val, k, vn) == 0)
        if (KEY_IS("dev")) {
            int d;

            for (d = 0; d < n_devs && !name_eq(ctx->devs[d].id, val, vn); d++) {
            }
            if (d == n_devs) {
                return simple_fail(err, v, "no device '%.*s'", (int)(vn > 64 ? 64 : vn), val);
            }
            f->dev = d;
        } else if (KEY_IS("bar")) {
            uint64_t b;

            if (rules_parse_number(val, vn, &b) != RULES_NUMBER_OK || b >= REGDBG_NUM_BARS) {
                return simple_fail(err, v, "bar=%.*s: expected 0 to 5",
                                   (int)(vn > 64 ? 64 : vn), val);
            }
            f->bar = (int)b;
        } else if (KEY_IS("dir")) {
            if (VAL_IS("r") || VAL_IS("read")) {
                f->dir = REGDBG_DIR_READ;
            } else if (VAL_IS("w") || VAL_IS("write")) {
                f->dir = REGDBG_DIR_WRITE;
            } else if (VAL_IS("irq")) {
                f->dir = REGDBG_DIR_IRQ;
            } else {
                return simple_fail(err, v, "dir=%.*s: expected r, w or irq",
                                   (int)(vn > 64 ? 64 : vn), val);
            }
        } else if (KEY_IS("irq")) {
            uint8_t w8;

            for (w8 = 1; w8 <= REGDBG_IRQ_WHAT_MAX && !VAL_IS(trace_irq_what_name(w8)); w8++) {
            }
            if (w8 > REGDBG_IRQ_WHAT_MAX) {
                return simple_fail(err, v, "irq=%.*s: expected raised, lowered, msi, unchanged, "
                                   "host-masked or host-unmasked", (int)(vn > 64 ? 64 : vn), val);
            }
            f->irq_what = w8;
        } else if (KEY_IS("reg")) {
            if (vn >= sizeof(f->reg_name)) {
                vn = sizeof(f->reg_name) - 1;
            }
            memcpy(f->reg_name, val, vn);
            f->reg_name[vn] = '\0';
            reg = true;
            reg_pos = v;
        } else if (KEY_IS("value")) {
            size_t slash;

            for (slash = v; slash < e && text[slash] != '/'; slash++) {
            }
            if (rules_parse_number(val, slash - v, &f->value) != RULES_NUMBER_OK) {
                return simple_fail(err, v, "value=%.*s: expected a number",
                                   (int)(slash - v > 64 ? 64 : slash - v), val);
            }
            f->mask = UINT64_MAX;
            if (slash < e && rules_parse_number(text + slash + 1, e - slash - 1, &f->mask) !=
                                 RULES_NUMBER_OK) {
                return simple_fail(err, slash + 1, "mask %.*s: expected a number",
                                   (int)(e - slash - 1 > 64 ? 64 : e - slash - 1), text + slash + 1);
            }
            f->value &= f->mask;
            f->has_value = true;
        } else {
            return simple_fail(err, w, "unknown key '%.*s' (dev, bar, reg, dir, value, irq)",
                               (int)(eq - w > 64 ? 64 : eq - w), text + w);
        }
#undef KEY_IS
#undef VAL_IS
    }
    if (reg) {
        /* The register must exist in some device's map (that device's, with dev=). */
        bool known = false;

        for (int d = 0; d < n_devs && !known; d++) {
            const struct regmap *map = ctx->devs[d].map;

            if ((f->dev == ANY || f->dev == d) && map) {
                const struct regmap_reg *r = regmap_find_name(map, f->reg_name);

                if (r && f->dev == d) {
                    f->reg = (int)(r - map->regs);
                    f->reg_name[0] = '\0';
                }
                known = r != NULL;
            }
        }
        if (!known) {
            return simple_fail(err, reg_pos, "no register '%s' in the register maps",
                               f->reg_name);
        }
    }
    return 0;
}
