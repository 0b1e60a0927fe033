/*
 * Register maps (format: docs/register-maps.md): the JSON loader with its strict validation and
 * FILE:LINE:COL error places, the (bar, offset) and name lookups, and field decoding.
 *
 * jansson parses the file; it gives a place only for syntax errors. For a semantic error the
 * validator knows the JSON path of the offending value (or key), and locate() finds where that
 * value starts by scanning the text, which jansson has already accepted as valid JSON. This scan
 * runs only when there is an error, so a good map costs nothing extra.
 */
#include "regmap.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE_BYTES (64u << 20)
#define MAX_PATH_DEPTH 8
#define MSG_MAX 512

/* ---- places in the text ------------------------------------------------------------------- */

/* One step of a JSON path: an object member (key != NULL) or an array element. */
struct jpath_step {
    const char *key;
    size_t index;
};

struct jpath {
    struct jpath_step step[MAX_PATH_DEPTH];
    int depth;
};

static struct jpath jp_key(const struct jpath *p, const char *key)
{
    struct jpath q = *p;

    if (q.depth < MAX_PATH_DEPTH) {
        q.step[q.depth].key = key;
        q.step[q.depth].index = 0;
        q.depth++;
    }
    return q;
}

static struct jpath jp_index(const struct jpath *p, size_t index)
{
    struct jpath q = *p;

    if (q.depth < MAX_PATH_DEPTH) {
        q.step[q.depth].key = NULL;
        q.step[q.depth].index = index;
        q.depth++;
    }
    return q;
}

struct textpos {
    unsigned line, col;
};

/* Line and column (1-based; the column counts characters, not bytes) of byte `at` of the text. */
static struct textpos pos_of_byte(const char *text, size_t len, size_t at)
{
    struct textpos p = { 1, 1 };

    if (at > len) {
        at = len;
    }
    for (size_t i = 0; i < at; i++) {
        unsigned char c = (unsigned char)text[i];

        if (c == '\n') {
            p.line++;
            p.col = 1;
        } else if ((c & 0xc0) != 0x80) { /* not a UTF-8 continuation byte */
            p.col++;
        }
    }
    return p;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_structural(char c)
{
    return c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':';
}

static size_t skip_ws(const char *t, size_t n, size_t i)
{
    while (i < n && is_ws(t[i])) {
        i++;
    }
    return i;
}

/* t[i] is the opening quote of a string: the index just after its closing quote. */
static size_t skip_string(const char *t, size_t n, size_t i)
{
    for (i++; i < n && t[i] != '"'; i++) {
        if (t[i] == '\\') {
            i++;
        }
    }
    return i < n ? i + 1 : n;
}

/* The index just after the (valid) JSON value that starts at or after i. */
static size_t skip_value(const char *t, size_t n, size_t i)
{
    int depth = 0;

    do {
        i = skip_ws(t, n, i);
        if (i >= n) {
            return n;
        }
        if (t[i] == '"') {
            i = skip_string(t, n, i);
        } else if (t[i] == '{' || t[i] == '[') {
            depth++;
            i++;
        } else if (t[i] == '}' || t[i] == ']') {
            depth--;
            i++;
        } else if (t[i] == ',' || t[i] == ':') {
            i++;
        } else {
            while (i < n && !is_ws(t[i]) && !is_structural(t[i]) && t[i] != '"') {
                i++;
            }
        }
    } while (depth > 0);
    return i;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
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

static unsigned read_u16_hex(const char *t, size_t n, size_t i)
{
    unsigned v = 0;

    for (size_t k = 0; k < 4; k++) {
        int d = i + k < n ? hex_digit(t[i + k]) : -1;
        v = (v << 4) | (unsigned)(d < 0 ? 0 : d);
    }
    return v;
}

static size_t put_utf8(char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/*
 * Decodes the (valid) JSON string whose opening quote is t[i] into out, which has room for as many
 * bytes as the string's text plus a NUL (decoding never makes a string longer).
 */
static void decode_string(const char *t, size_t n, size_t i, char *out)
{
    size_t o = 0;

    for (i++; i < n && t[i] != '"'; i++) {
        if (t[i] != '\\' || i + 1 >= n) {
            out[o++] = t[i];
            continue;
        }
        i++;
        switch (t[i]) {
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u': {
            unsigned long cp = read_u16_hex(t, n, i + 1);

            i += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < n && t[i + 1] == '\\' && t[i + 2] == 'u') {
                unsigned long lo = read_u16_hex(t, n, i + 3);

                if (lo >= 0xdc00 && lo < 0xe000) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    i += 6;
                }
            }
            o += put_utf8(out + o, cp);
            break;
        }
        default: out[o++] = t[i]; break; /* \" \\ \/ */
        }
    }
    out[o] = '\0';
}

/*
 * Where the value at path p (or, with want_key, the key of its last step) starts in the text, which
 * must be valid JSON without duplicate keys. False if the path is not in the text.
 */
static bool locate(const char *t, size_t n, const struct jpath *p, bool want_key, size_t *at)
{
    size_t i = skip_ws(t, n, 0);

    for (int d = 0; d < p->depth; d++) {
        const struct jpath_step *s = &p->step[d];

        if (i >= n) {
            return false;
        }
        if (s->key) {
            if (t[i] != '{') {
                return false;
            }
            for (i++;; i++) {
                size_t key_at, end;
                char *key;
                bool match;

                i = skip_ws(t, n, i);
                if (i >= n || t[i] != '"') {
                    return false;
                }
                key_at = i;
                end = skip_string(t, n, i);
                key = malloc(end - i + 1);
                if (!key) {
                    return false;
                }
                decode_string(t, n, i, key);
                match = strcmp(key, s->key) == 0;
                free(key);
                i = skip_ws(t, n, end);
                if (i >= n || t[i] != ':') {
                    return false;
                }
                i = skip_ws(t, n, i + 1);
                if (match) {
                    if (want_key && d == p->depth - 1) {
                        *at = key_at;
                        return true;
                    }
                    break;
                }
                i = skip_ws(t, n, skip_value(t, n, i));
                if (i >= n || t[i] != ',') {
                    return false;
                }
            }
        } else {
            if (t[i] != '[') {
                return false;
            }
            i++;
            for (size_t k = 0;; k++) {
                i = skip_ws(t, n, i);
                if (i >= n || t[i] == ']') {
                    return false;
                }
                if (k == s->index) {
                    break;
                }
                i = skip_ws(t, n, skip_value(t, n, i));
                if (i >= n || t[i] != ',') {
                    return false;
                }
                i++;
            }
        }
    }
    *at = i;
    return true;
}

/*
 * jansson reports a syntax error with the byte count it had read (json_error_t.position), that is
 * just after the offending token. This finds where that token starts, so that a syntax error is
 * placed like every other error: at the first character of what is wrong (at the end of the text
 * when the text stops early).
 */
static size_t token_start(const char *t, size_t n, size_t pos)
{
    size_t i = 0;

    if (pos > n) {
        pos = n;
    }
    for (;;) {
        size_t start;

        i = skip_ws(t, n, i);
        if (i >= pos || i >= n) {
            return i < n ? i : n;
        }
        start = i;
        if (t[i] == '"') {
            for (i++; i < n && t[i] != '"' && t[i] != '\n'; i++) {
                if (t[i] == '\\' && i + 1 < n && t[i + 1] != '\n') {
                    i++;
                }
            }
            if (i < n && t[i] == '"') {
                i++;
            }
        } else if (is_structural(t[i])) {
            i++;
        } else {
            while (i < n && !is_ws(t[i]) && !is_structural(t[i]) && t[i] != '"') {
                i++;
            }
        }
        if (i >= pos) {
            return start;
        }
    }
}

/* ---- the loader ----------------------------------------------------------------------------- */

struct loader {
    const char *file;   /* as given, for messages */
    const char *text;
    size_t len;
    char *err;
    size_t errlen;
};

static void set_err(struct loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(struct loader *ld, const char *fmt, ...)
{
    va_list ap;

    if (!ld->err || ld->errlen == 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(ld->err, ld->errlen, fmt, ap);
    va_end(ap);
}

/* "LINE:COL" of the value at p (or its key) in buf; "?" if it cannot be found. */
static const char *where(const struct loader *ld, const struct jpath *p, bool at_key, char *buf,
                         size_t len)
{
    size_t at;

    if (locate(ld->text, ld->len, p, at_key, &at)) {
        struct textpos tp = pos_of_byte(ld->text, ld->len, at);

        snprintf(buf, len, "%u:%u", tp.line, tp.col);
    } else {
        snprintf(buf, len, "?");
    }
    return buf;
}

/* Records "FILE:LINE:COL: message" for the value at p (or its key, with at_key); returns false. */
static bool fail(struct loader *ld, const struct jpath *p, bool at_key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool fail(struct loader *ld, const struct jpath *p, bool at_key, const char *fmt, ...)
{
    char msg[MSG_MAX];
    size_t at;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (locate(ld->text, ld->len, p, at_key, &at)) {
        struct textpos tp = pos_of_byte(ld->text, ld->len, at);

        set_err(ld, "%s:%u:%u: %s", ld->file, tp.line, tp.col, msg);
    } else {
        set_err(ld, "%s: %s", ld->file, msg);
    }
    return false;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "something else";
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);

    if (d) {
        memcpy(d, s, n);
    }
    return d;
}

static bool out_of_memory(struct loader *ld)
{
    set_err(ld, "%s: out of memory", ld->file);
    return false;
}

/* Every key of obj must be in allowed (NULL-terminated); what names the object in messages. */
static bool check_keys(struct loader *ld, json_t *obj, const struct jpath *p, const char *what,
                       const char *const *allowed)
{
    const char *key;
    json_t *v;

    json_object_foreach(obj, key, v) {
        bool known = false;

        for (size_t k = 0; allowed[k]; k++) {
            known = known || strcmp(key, allowed[k]) == 0;
        }
        if (!known) {
            char list[256] = "";
            size_t used = 0;
            struct jpath kp = jp_key(p, key);

            for (size_t k = 0; allowed[k] && used < sizeof(list); k++) {
                int w = snprintf(list + used, sizeof(list) - used, "%s%s", k ? ", " : "",
                                 allowed[k]);

                used += w > 0 ? (size_t)w : 0;
            }
            return fail(ld, &kp, true, "unknown key '%s' in %s (expected one of: %s)", key, what,
                        list);
        }
    }
    return true;
}

/* *out = obj[key] (NULL if absent, which is an error when required). */
static bool get_member(struct loader *ld, json_t *obj, const struct jpath *p, const char *what,
                       const char *key, bool required, json_t **out)
{
    *out = json_object_get(obj, key);
    if (!*out && required) {
        return fail(ld, p, false, "missing required key '%s' in %s", key, what);
    }
    return true;
}

enum numparse { NUM_OK, NUM_BAD, NUM_TOO_BIG };

/* "0x..." (hex, either case) or decimal digits, nothing else. */
static enum numparse parse_number_string(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        if (!*s) {
            return NUM_BAD;
        }
        for (; *s; s++) {
            int d = hex_digit(*s);

            if (d < 0) {
                return NUM_BAD;
            }
            if (v >> 60) {
                return NUM_TOO_BIG;
            }
            v = (v << 4) | (uint64_t)d;
        }
    } else {
        if (!*s) {
            return NUM_BAD;
        }
        for (; *s; s++) {
            uint64_t d = (uint64_t)(*s - '0');

            if (*s < '0' || *s > '9') {
                return NUM_BAD;
            }
            if (v > (UINT64_MAX - d) / 10) {
                return NUM_TOO_BIG;
            }
            v = v * 10 + d;
        }
    }
    *out = v;
    return NUM_OK;
}

/* A number: a non-negative JSON integer, or a string "0x..." or decimal. label names it. */
static bool get_number(struct loader *ld, json_t *v, const struct jpath *p, const char *label,
                       uint64_t *out)
{
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);

        if (i < 0) {
            return fail(ld, p, false, "%s must not be negative, not %" JSON_INTEGER_FORMAT, label,
                        i);
        }
        *out = (uint64_t)i;
        return true;
    }
    if (json_is_string(v)) {
        switch (parse_number_string(json_string_value(v), out)) {
        case NUM_OK:
            return true;
        case NUM_TOO_BIG:
            return fail(ld, p, false, "%s: \"%s\" does not fit in 64 bits", label,
                        json_string_value(v));
        case NUM_BAD:
            break;
        }
        return fail(ld, p, false, "%s: \"%s\" is not a number (write \"0x\" and hex digits, or "
                    "decimal digits)", label, json_string_value(v));
    }
    return fail(ld, p, false, "%s must be an integer or a string such as \"0x1f\", not %s", label,
                type_name(v));
}

/* An optional member that is a number. */
static bool get_number_member(struct loader *ld, json_t *obj, const struct jpath *p,
                              const char *what, const char *key, bool required, bool *present,
                              uint64_t *out)
{
    json_t *v;
    struct jpath vp = jp_key(p, key);
    char label[128];

    *present = false;
    if (!get_member(ld, obj, p, what, key, required, &v)) {
        return false;
    }
    if (!v) {
        return true;
    }
    snprintf(label, sizeof(label), "'%s' in %s", key, what);
    *present = true;
    return get_number(ld, v, &vp, label, out);
}

/* An optional member that is a string; *out is left NULL when absent. */
static bool get_string_member(struct loader *ld, json_t *obj, const struct jpath *p,
                              const char *what, const char *key, bool required, const char **out)
{
    json_t *v;
    struct jpath vp = jp_key(p, key);

    *out = NULL;
    if (!get_member(ld, obj, p, what, key, required, &v)) {
        return false;
    }
    if (!v) {
        return true;
    }
    if (!json_is_string(v)) {
        return fail(ld, &vp, false, "'%s' in %s must be a string, not %s", key, what, type_name(v));
    }
    *out = json_string_value(v);
    return true;
}

/* A register, field or enum name: it is printed as NAME=... so no spaces, controls or '='. */
static bool check_name(struct loader *ld, const char *s, const struct jpath *p, bool at_key,
                       const char *label)
{
    if (!*s) {
        return fail(ld, p, at_key, "%s must not be empty", label);
    }
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c <= ' ' || *c == 0x7f || *c == '=') {
            return fail(ld, p, at_key, "%s \"%s\" must not contain spaces, control characters "
                        "or '='", label, s);
        }
    }
    return true;
}

/* A required name member, checked with check_name. */
static bool get_name_member(struct loader *ld, json_t *obj, const struct jpath *p, const char *what,
                            const char **out)
{
    struct jpath vp = jp_key(p, "name");
    char label[64];

    if (!get_string_member(ld, obj, p, what, "name", true, out)) {
        return false;
    }
    snprintf(label, sizeof(label), "%s name", what);
    return check_name(ld, *out, &vp, false, label);
}

static bool optional_description(struct loader *ld, json_t *obj, const struct jpath *p,
                                 const char *what, char **out)
{
    const char *s;

    if (!get_string_member(ld, obj, p, what, "description", false, &s)) {
        return false;
    }
    if (s && !(*out = dup_str(s))) {
        return out_of_memory(ld);
    }
    return true;
}

static uint64_t bit_mask(unsigned msb, unsigned lsb)
{
    unsigned width = msb - lsb + 1;

    return (width >= 64 ? ~0ull : (1ull << width) - 1) << lsb;
}

/* "N" or "MSB:LSB", decimal. */
static bool parse_bits(const char *s, unsigned *msb, unsigned *lsb)
{
    unsigned v[2] = { 0, 0 };
    int n = 0;

    for (;;) {
        int digits = 0;

        while (*s >= '0' && *s <= '9') {
            if (++digits > 4) {
                return false;
            }
            v[n] = v[n] * 10 + (unsigned)(*s++ - '0');
        }
        if (!digits) {
            return false;
        }
        n++;
        if (*s == ':' && n == 1) {
            s++;
            continue;
        }
        if (*s) {
            return false;
        }
        break;
    }
    *msb = v[0];
    *lsb = n == 2 ? v[1] : v[0];
    return true;
}

static const char *const MAP_KEYS[] = { "name", "match", "registers", "dma", NULL };
static const char *const DMA_KEYS[] = { "address_bits", "engines", "description", NULL };
static const char *const ENGINE_KEYS[] = { "name", "description", "source", "destination",
                                           "length", "start", "direction", "completion",
                                           "max_length", NULL };
static const char *const ADDR_KEYS[] = { "low", "high", NULL };
static const char *const DIR_KEYS[] = { "field", "to_device", "from_device", NULL };
static const char *const DONE_KEYS[] = { "field", "value", NULL };
static const char *const MATCH_KEYS[] = { "vendor", "device", NULL };
static const char *const REG_KEYS[] = { "name", "bar", "offset", "width", "access", "reset",
                                        "description", "fields", NULL };
static const char *const FIELD_KEYS[] = { "name", "bits", "description", "values", NULL };
static const char *const ACCESS_KINDS[] = { "rw", "ro", "wo", "rc", "w1c", NULL };

static bool load_values(struct loader *ld, json_t *vals, const struct jpath *vp,
                        const struct regmap_reg *reg, struct regmap_field *f)
{
    const char *key;
    json_t *v;
    size_t k = 0;
    unsigned width = f->msb - f->lsb + 1;

    if (!json_is_object(vals)) {
        return fail(ld, vp, false, "'values' in field must be an object, not %s", type_name(vals));
    }
    f->n_values = json_object_size(vals);
    if (f->n_values && !(f->values = calloc(f->n_values, sizeof(*f->values)))) {
        f->n_values = 0;
        return out_of_memory(ld);
    }
    json_object_foreach(vals, key, v) {
        struct jpath ep = jp_key(vp, key);
        struct regmap_enum *e = &f->values[k];
        char label[96];

        if (!check_name(ld, key, &ep, true, "value name")) {
            return false;
        }
        snprintf(label, sizeof(label), "value '%s' of field '%s'", key, f->name);
        if (!get_number(ld, v, &ep, label, &e->value)) {
            return false;
        }
        if (width < 64 && e->value >> width) {
            return fail(ld, &ep, false, "value '%s' = %" PRIu64 " of field '%s' does not fit in "
                        "its %u bit%s (register '%s')", key, e->value, f->name, width,
                        width == 1 ? "" : "s", reg->name);
        }
        for (size_t j = 0; j < k; j++) {
            if (f->values[j].value == e->value) {
                return fail(ld, &ep, false, "values '%s' and '%s' of field '%s' are both %" PRIu64,
                            f->values[j].name, key, f->name, e->value);
            }
        }
        if (!(e->name = dup_str(key))) {
            return out_of_memory(ld);
        }
        k++;
    }
    return true;
}

static bool load_field(struct loader *ld, json_t *jf, const struct jpath *fp,
                       const struct regmap_reg *reg, size_t index)
{
    struct regmap_field *f = &reg->fields[index];
    struct jpath bp = jp_key(fp, "bits");
    const char *name, *bits;
    json_t *vals;
    unsigned reg_bits = reg->width * 8;

    if (!json_is_object(jf)) {
        return fail(ld, fp, false, "each entry of 'fields' must be an object, not %s",
                    type_name(jf));
    }
    if (!check_keys(ld, jf, fp, "field", FIELD_KEYS) ||
        !get_name_member(ld, jf, fp, "field", &name) ||
        !get_string_member(ld, jf, fp, "field", "bits", true, &bits)) {
        return false;
    }
    if (!(f->name = dup_str(name))) {
        return out_of_memory(ld);
    }
    if (!parse_bits(bits, &f->msb, &f->lsb)) {
        return fail(ld, &bp, false, "'bits' in field must be \"N\" or \"MSB:LSB\" (decimal bit "
                    "numbers), not \"%s\"", bits);
    }
    if (f->msb < f->lsb) {
        return fail(ld, &bp, false, "'bits' \"%s\" of field '%s': the MSB (%u) is below the LSB "
                    "(%u)", bits, name, f->msb, f->lsb);
    }
    if (f->msb >= reg_bits) {
        return fail(ld, &bp, false, "bits %s of field '%s' lie outside register '%s' (%u bits "
                    "wide)", bits, name, reg->name, reg_bits);
    }
    for (size_t j = 0; j < index; j++) {
        const struct regmap_field *g = &reg->fields[j];

        if (strcmp(g->name, name) == 0) {
            struct jpath np = jp_key(fp, "name");

            return fail(ld, &np, false, "duplicate field name '%s' in register '%s'", name,
                        reg->name);
        }
        if (bit_mask(g->msb, g->lsb) & bit_mask(f->msb, f->lsb)) {
            return fail(ld, &bp, false, "field '%s' (bits %u:%u) overlaps field '%s' (bits %u:%u) "
                        "in register '%s'", name, f->msb, f->lsb, g->name, g->msb, g->lsb,
                        reg->name);
        }
    }
    if (!optional_description(ld, jf, fp, "field", &f->description) ||
        !get_member(ld, jf, fp, "field", "values", false, &vals)) {
        return false;
    }
    if (vals) {
        struct jpath vp = jp_key(fp, "values");

        return load_values(ld, vals, &vp, reg, f);
    }
    return true;
}

static bool load_register(struct loader *ld, json_t *jr, const struct jpath *rp,
                          struct regmap_reg *reg)
{
    const char *name, *access;
    uint64_t v;
    bool present;
    json_t *fields;
    struct jpath op = jp_key(rp, "offset");

    if (!json_is_object(jr)) {
        return fail(ld, rp, false, "each entry of 'registers' must be an object, not %s",
                    type_name(jr));
    }
    if (!check_keys(ld, jr, rp, "register", REG_KEYS) ||
        !get_name_member(ld, jr, rp, "register", &name)) {
        return false;
    }
    if (!(reg->name = dup_str(name))) {
        return out_of_memory(ld);
    }

    if (!get_number_member(ld, jr, rp, "register", "bar", false, &present, &v)) {
        return false;
    }
    if (present && v > REGMAP_MAX_BAR) {
        struct jpath p = jp_key(rp, "bar");

        return fail(ld, &p, false, "'bar' in register must be 0..%u, not %" PRIu64,
                    REGMAP_MAX_BAR, v);
    }
    reg->bar = present ? (unsigned)v : 0;

    if (!get_number_member(ld, jr, rp, "register", "offset", true, &present, &reg->offset)) {
        return false;
    }
    if (reg->offset >= REGMAP_OFFSET_LIMIT) {
        return fail(ld, &op, false, "'offset' in register must be below 0x%llx (2^40), not 0x%"
                    PRIx64, REGMAP_OFFSET_LIMIT, reg->offset);
    }

    if (!get_number_member(ld, jr, rp, "register", "width", false, &present, &v)) {
        return false;
    }
    if (present && v != 8 && v != 16 && v != 32 && v != 64) {
        struct jpath p = jp_key(rp, "width");

        return fail(ld, &p, false, "'width' in register must be 8, 16, 32 or 64 (bits), not %"
                    PRIu64, v);
    }
    reg->width = present ? (unsigned)v / 8 : 4;
    if (reg->offset % reg->width) {
        return fail(ld, &op, false, "offset 0x%" PRIx64 " of register '%s' is not a multiple of "
                    "its width (%u bytes)", reg->offset, name, reg->width);
    }

    if (!get_string_member(ld, jr, rp, "register", "access", false, &access)) {
        return false;
    }
    if (access) {
        bool known = false;

        for (size_t k = 0; ACCESS_KINDS[k]; k++) {
            known = known || strcmp(access, ACCESS_KINDS[k]) == 0;
        }
        if (!known) {
            struct jpath p = jp_key(rp, "access");

            return fail(ld, &p, false, "'access' in register must be one of rw, ro, wo, rc, w1c, "
                        "not \"%s\"", access);
        }
    }
    snprintf(reg->access, sizeof(reg->access), "%s", access ? access : "rw");

    if (!get_number_member(ld, jr, rp, "register", "reset", false, &reg->has_reset, &reg->reset)) {
        return false;
    }
    if (reg->has_reset && reg->width < 8 && reg->reset >> (reg->width * 8)) {
        struct jpath p = jp_key(rp, "reset");

        return fail(ld, &p, false, "reset value 0x%" PRIx64 " of register '%s' does not fit in "
                    "%u bits", reg->reset, name, reg->width * 8);
    }

    if (!optional_description(ld, jr, rp, "register", &reg->description) ||
        !get_member(ld, jr, rp, "register", "fields", false, &fields)) {
        return false;
    }
    if (fields) {
        struct jpath fsp = jp_key(rp, "fields");

        if (!json_is_array(fields)) {
            return fail(ld, &fsp, false, "'fields' in register must be an array, not %s",
                        type_name(fields));
        }
        reg->n_fields = json_array_size(fields);
        if (reg->n_fields && !(reg->fields = calloc(reg->n_fields, sizeof(*reg->fields)))) {
            reg->n_fields = 0;
            return out_of_memory(ld);
        }
        for (size_t i = 0; i < reg->n_fields; i++) {
            struct jpath fp = jp_index(&fsp, i);

            if (!load_field(ld, json_array_get(fields, i), &fp, reg, i)) {
                return false;
            }
        }
    }
    return true;
}

static bool load_match(struct loader *ld, json_t *match, const struct jpath *mp, struct regmap *map)
{
    if (!json_is_array(match)) {
        return fail(ld, mp, false, "'match' in map must be an array, not %s", type_name(match));
    }
    if (json_array_size(match) == 0) {
        return fail(ld, mp, false, "'match' in map must not be empty");
    }
    map->n_ids = json_array_size(match);
    if (!(map->ids = calloc(map->n_ids, sizeof(*map->ids)))) {
        map->n_ids = 0;
        return out_of_memory(ld);
    }
    for (size_t i = 0; i < map->n_ids; i++) {
        json_t *m = json_array_get(match, i);
        struct jpath ep = jp_index(mp, i);
        static const char *const which[2] = { "vendor", "device" };
        uint16_t id[2];

        if (!json_is_object(m)) {
            return fail(ld, &ep, false, "each entry of 'match' must be an object, not %s",
                        type_name(m));
        }
        if (!check_keys(ld, m, &ep, "match entry", MATCH_KEYS)) {
            return false;
        }
        for (int k = 0; k < 2; k++) {
            uint64_t v;
            bool present;

            if (!get_number_member(ld, m, &ep, "match entry", which[k], true, &present, &v)) {
                return false;
            }
            if (v > 0xffff) {
                struct jpath p = jp_key(&ep, which[k]);

                return fail(ld, &p, false, "'%s' in match entry must fit in 16 bits, not 0x%"
                            PRIx64, which[k], v);
            }
            id[k] = (uint16_t)v;
        }
        map->ids[i].vendor = id[0];
        map->ids[i].device = id[1];
        for (size_t j = 0; j < i; j++) {
            if (map->ids[j].vendor == id[0] && map->ids[j].device == id[1]) {
                struct jpath first = jp_index(mp, j);
                char at[32];

                return fail(ld, &ep, false, "duplicate match entry 0x%04x:0x%04x (first at %s)",
                            id[0], id[1], where(ld, &first, false, at, sizeof(at)));
            }
        }
    }
    return true;
}

struct reg_order {
    const struct regmap_reg *reg;
    size_t decl;    /* index in the file's 'registers' */
};

static int by_place(const void *a, const void *b)
{
    const struct reg_order *x = a, *y = b;

    if (x->reg->bar != y->reg->bar) {
        return x->reg->bar < y->reg->bar ? -1 : 1;
    }
    if (x->reg->offset != y->reg->offset) {
        return x->reg->offset < y->reg->offset ? -1 : 1;
    }
    return x->decl < y->decl ? -1 : x->decl > y->decl;
}

static int by_name(const void *a, const void *b)
{
    const struct reg_order *x = a, *y = b;
    int c = strcmp(x->reg->name, y->reg->name);

    return c ? c : (x->decl < y->decl ? -1 : x->decl > y->decl);
}

/* Duplicate names, then overlaps; on success map->regs is sorted by (bar, offset). */
static bool check_and_sort_registers(struct loader *ld, const struct jpath *rsp, struct regmap *map)
{
    size_t n = map->n_regs;
    struct reg_order *ord = calloc(n, sizeof(*ord));
    struct regmap_reg *sorted = calloc(n, sizeof(*sorted));
    bool ok = true;
    char at[32];

    if (!ord || !sorted) {
        free(ord);
        free(sorted);
        return out_of_memory(ld);
    }
    for (size_t i = 0; i < n; i++) {
        ord[i].reg = &map->regs[i];
        ord[i].decl = i;
    }
    qsort(ord, n, sizeof(*ord), by_name);
    for (size_t i = 1; ok && i < n; i++) {
        if (strcmp(ord[i - 1].reg->name, ord[i].reg->name) == 0) {
            struct jpath rp = jp_index(rsp, ord[i].decl), first = jp_index(rsp, ord[i - 1].decl);
            struct jpath np = jp_key(&rp, "name"), fnp = jp_key(&first, "name");

            ok = fail(ld, &np, false, "duplicate register name '%s' (first at %s)",
                      ord[i].reg->name, where(ld, &fnp, false, at, sizeof(at)));
        }
    }
    qsort(ord, n, sizeof(*ord), by_place);
    for (size_t i = 1; ok && i < n; i++) {
        const struct reg_order *a = &ord[i - 1], *b = &ord[i];

        if (a->reg->bar == b->reg->bar && a->reg->offset + a->reg->width > b->reg->offset) {
            const struct reg_order *later = a->decl > b->decl ? a : b;
            const struct reg_order *other = later == a ? b : a;
            struct jpath rp = jp_index(rsp, later->decl);
            struct jpath op = jp_key(&rp, "offset");

            ok = fail(ld, &op, false, "register '%s' (0x%" PRIx64 "..0x%" PRIx64 ") overlaps "
                      "register '%s' (0x%" PRIx64 "..0x%" PRIx64 ") in BAR %u", later->reg->name,
                      later->reg->offset, later->reg->offset + later->reg->width - 1,
                      other->reg->name, other->reg->offset,
                      other->reg->offset + other->reg->width - 1, later->reg->bar);
        }
    }
    if (ok) {
        for (size_t i = 0; i < n; i++) {
            sorted[i] = *ord[i].reg;
        }
        free(map->regs);
        map->regs = sorted;
        sorted = NULL;
    }
    free(ord);
    free(sorted);
    return ok;
}

/* ---- the "dma" section --------------------------------------------------------------------- */

/*
 * The string at p names a register ("REG") or, with fields allowed, a field ("REG.FIELD"). label
 * says where ("'start' in DMA engine 'dma'").
 */
static bool load_dma_ref(struct loader *ld, const struct regmap *map, json_t *v,
                         const struct jpath *p, const char *label, bool field_ok,
                         bool field_needed, struct regmap_dma_ref *out)
{
    const char *s, *dot;
    char name[256];
    size_t n;

    if (!json_is_string(v)) {
        return fail(ld, p, false, "%s must be a string naming a %s, not %s", label,
                    field_needed ? "field (\"REG.FIELD\")" : field_ok ?
                    "register or a field (\"REG\" or \"REG.FIELD\")" : "register",
                    type_name(v));
    }
    s = json_string_value(v);
    dot = strchr(s, '.');
    if (dot && !field_ok) {
        return fail(ld, p, false, "%s must name a register, not a field (\"%s\")", label, s);
    }
    if (!dot && field_needed) {
        return fail(ld, p, false, "%s must name a field (\"REG.FIELD\"), not \"%s\"", label, s);
    }
    n = dot ? (size_t)(dot - s) : strlen(s);
    if (n >= sizeof(name)) {
        n = sizeof(name) - 1;
    }
    memcpy(name, s, n);
    name[n] = '\0';
    out->reg = regmap_find_name(map, name);
    out->field = NULL;
    if (!out->reg) {
        return fail(ld, p, false, "%s: the map has no register '%s'", label, name);
    }
    if (dot && !(out->field = regmap_find_field(out->reg, dot + 1))) {
        return fail(ld, p, false, "%s: register '%s' has no field '%s'", label, name, dot + 1);
    }
    return true;
}

/* An address: "REG" or { "low": "REG", "high": "REG" } */
static bool load_dma_addr(struct loader *ld, const struct regmap *map, json_t *v,
                          const struct jpath *p, const char *label, struct regmap_dma_addr *out)
{
    struct regmap_dma_ref lo, hi;
    struct jpath lp = jp_key(p, "low"), hp = jp_key(p, "high");
    json_t *jl, *jh;
    char what[256];

    if (!json_is_object(v)) {
        if (!load_dma_ref(ld, map, v, p, label, false, false, &lo)) {
            return false;
        }
        out->low = lo.reg;
        out->high = NULL;
        return true;
    }
    snprintf(what, sizeof(what), "the address of %s", label);
    if (!check_keys(ld, v, p, what, ADDR_KEYS) ||
        !get_member(ld, v, p, what, "low", true, &jl) ||
        !get_member(ld, v, p, what, "high", true, &jh)) {
        return false;
    }
    snprintf(what, sizeof(what), "'low' of %s", label);
    if (!load_dma_ref(ld, map, jl, &lp, what, false, false, &lo)) {
        return false;
    }
    snprintf(what, sizeof(what), "'high' of %s", label);
    if (!load_dma_ref(ld, map, jh, &hp, what, false, false, &hi)) {
        return false;
    }
    if (lo.reg == hi.reg) {
        return fail(ld, &hp, false, "'low' and 'high' of %s are both register '%s'", label,
                    lo.reg->name);
    }
    if (lo.reg->width + hi.reg->width > 8) {
        return fail(ld, &hp, false, "'low' and 'high' of %s are %u bits together, more than 64",
                    label, 8 * (lo.reg->width + hi.reg->width));
    }
    out->low = lo.reg;
    out->high = hi.reg;
    return true;
}

/* A value of a field: it must fit the field's bits */
static bool load_field_value(struct loader *ld, json_t *obj, const struct jpath *p,
                             const char *what, const char *key, const struct regmap_dma_ref *f,
                             uint64_t *out)
{
    bool present;
    unsigned width = f->field->msb - f->field->lsb + 1;

    if (!get_number_member(ld, obj, p, what, key, true, &present, out)) {
        return false;
    }
    if (width < 64 && *out >> width) {
        struct jpath vp = jp_key(p, key);

        return fail(ld, &vp, false, "'%s' in %s: %" PRIu64 " does not fit field '%s' (%u bit%s)",
                    key, what, *out, f->field->name, width, width == 1 ? "" : "s");
    }
    return true;
}

static bool load_dma_direction(struct loader *ld, const struct regmap *map, json_t *v,
                               const struct jpath *p, const char *label,
                               struct regmap_dma_engine *e)
{
    struct jpath fp = jp_key(p, "field"), tp = jp_key(p, "from_device");
    json_t *jf;
    char what[256];

    if (json_is_string(v) && strcmp(json_string_value(v), "to_device") == 0) {
        e->direction = REGMAP_DMA_TO_DEVICE;
        return true;
    }
    if (json_is_string(v) && strcmp(json_string_value(v), "from_device") == 0) {
        e->direction = REGMAP_DMA_FROM_DEVICE;
        return true;
    }
    if (!json_is_object(v)) {
        return fail(ld, p, false, "%s must be \"to_device\", \"from_device\" or { \"field\": "
                    "\"REG.FIELD\", \"to_device\": N, \"from_device\": N }, not %s%s%s%s",
                    label, json_is_string(v) ? "\"" : "", json_is_string(v) ?
                    json_string_value(v) : type_name(v), json_is_string(v) ? "\"" : "", "");
    }
    e->direction = REGMAP_DMA_DIR_FIELD;
    snprintf(what, sizeof(what), "%s", label);
    if (!check_keys(ld, v, p, what, DIR_KEYS) ||
        !get_member(ld, v, p, what, "field", true, &jf)) {
        return false;
    }
    snprintf(what, sizeof(what), "'field' of %s", label);
    if (!load_dma_ref(ld, map, jf, &fp, what, true, true, &e->dir_field) ||
        !load_field_value(ld, v, p, label, "to_device", &e->dir_field, &e->to_device) ||
        !load_field_value(ld, v, p, label, "from_device", &e->dir_field, &e->from_device)) {
        return false;
    }
    if (e->to_device == e->from_device) {
        return fail(ld, &tp, false, "%s gives both directions the value %" PRIu64, label,
                    e->to_device);
    }
    return true;
}

/* One completion condition: "interrupt" or { "field": "REG.FIELD", "value": N } */
static bool load_dma_condition(struct loader *ld, const struct regmap *map, json_t *v,
                               const struct jpath *p, const char *label,
                               struct regmap_dma_engine *e)
{
    struct jpath fp = jp_key(p, "field");
    json_t *jf;
    char what[256];

    if (json_is_string(v) && strcmp(json_string_value(v), "interrupt") == 0) {
        if (e->done_by_interrupt) {
            return fail(ld, p, false, "%s names \"interrupt\" twice", label);
        }
        e->done_by_interrupt = true;
        return true;
    }
    if (!json_is_object(v)) {
        return fail(ld, p, false, "%s must be \"interrupt\" or { \"field\": \"REG.FIELD\", "
                    "\"value\": N }, not %s", label, type_name(v));
    }
    if (e->done_by_field) {
        return fail(ld, p, false, "%s has more than one field condition", label);
    }
    snprintf(what, sizeof(what), "%s", label);
    if (!check_keys(ld, v, p, what, DONE_KEYS) ||
        !get_member(ld, v, p, what, "field", true, &jf)) {
        return false;
    }
    snprintf(what, sizeof(what), "'field' of %s", label);
    if (!load_dma_ref(ld, map, jf, &fp, what, true, true, &e->done_field) ||
        !load_field_value(ld, v, p, label, "value", &e->done_field, &e->done_value)) {
        return false;
    }
    if (strcmp(e->done_field.reg->access, "wo") == 0) {
        return fail(ld, &fp, false, "%s: register '%s' is write-only: a read cannot show the "
                    "completion", label, e->done_field.reg->name);
    }
    e->done_by_field = true;
    return true;
}

static bool load_dma_engine(struct loader *ld, const struct regmap *map, json_t *je,
                            const struct jpath *ep, size_t index, struct regmap_dma_engine *e)
{
    const char *name;
    json_t *v, *src, *dst;
    char label[160], lbl2[200];
    struct jpath p;
    bool present;

    if (!json_is_object(je)) {
        return fail(ld, ep, false, "each entry of 'engines' must be an object, not %s",
                    type_name(je));
    }
    if (!check_keys(ld, je, ep, "DMA engine", ENGINE_KEYS) ||
        !get_name_member(ld, je, ep, "DMA engine", &name)) {
        return false;
    }
    if (!(e->name = dup_str(name))) {
        return out_of_memory(ld);
    }
    for (size_t j = 0; j < index; j++) {
        if (strcmp(map->dma->engines[j].name, name) == 0) {
            p = jp_key(ep, "name");
            return fail(ld, &p, false, "duplicate DMA engine name '%s'", name);
        }
    }
    snprintf(label, sizeof(label), "DMA engine '%s'", name);
    if (!optional_description(ld, je, ep, label, &e->description) ||
        !get_member(ld, je, ep, label, "length", true, &v) ||
        !get_member(ld, je, ep, label, "start", true, &v) ||
        !get_member(ld, je, ep, label, "direction", true, &v) ||
        !get_member(ld, je, ep, label, "completion", true, &v) ||
        !get_member(ld, je, ep, label, "source", false, &src) ||
        !get_member(ld, je, ep, label, "destination", false, &dst)) {
        return false;
    }
    /* direction first: it says which addresses the engine needs */
    p = jp_key(ep, "direction");
    snprintf(lbl2, sizeof(lbl2), "'direction' in %s", label);
    if (!load_dma_direction(ld, map, json_object_get(je, "direction"), &p, lbl2, e)) {
        return false;
    }
    if (e->direction != REGMAP_DMA_FROM_DEVICE && !src) {
        return fail(ld, ep, false, "%s: a transfer toward the device needs 'source', the "
                    "register of its memory address", label);
    }
    if (e->direction != REGMAP_DMA_TO_DEVICE && !dst) {
        return fail(ld, ep, false, "%s: a transfer from the device needs 'destination', the "
                    "register of its memory address", label);
    }
    if (src) {
        p = jp_key(ep, "source");
        snprintf(lbl2, sizeof(lbl2), "'source' in %s", label);
        if (!load_dma_addr(ld, map, src, &p, lbl2, &e->source)) {
            return false;
        }
    }
    if (dst) {
        p = jp_key(ep, "destination");
        snprintf(lbl2, sizeof(lbl2), "'destination' in %s", label);
        if (!load_dma_addr(ld, map, dst, &p, lbl2, &e->destination)) {
            return false;
        }
    }
    {
        struct regmap_dma_ref len;

        p = jp_key(ep, "length");
        snprintf(lbl2, sizeof(lbl2), "'length' in %s", label);
        if (!load_dma_ref(ld, map, json_object_get(je, "length"), &p, lbl2, false, false,
                          &len)) {
            return false;
        }
        e->length = len.reg;
    }
    p = jp_key(ep, "start");
    snprintf(lbl2, sizeof(lbl2), "'start' in %s", label);
    if (!load_dma_ref(ld, map, json_object_get(je, "start"), &p, lbl2, true, false, &e->start)) {
        return false;
    }
    if (strcmp(e->start.reg->access, "ro") == 0) {
        return fail(ld, &p, false, "%s: register '%s' is read-only: no write can start a "
                    "transfer", lbl2, e->start.reg->name);
    }
    p = jp_key(ep, "completion");
    snprintf(lbl2, sizeof(lbl2), "'completion' in %s", label);
    v = json_object_get(je, "completion");
    if (json_is_array(v)) {
        if (json_array_size(v) == 0) {
            return fail(ld, &p, false, "%s must not be empty", lbl2);
        }
        for (size_t i = 0; i < json_array_size(v); i++) {
            struct jpath cp = jp_index(&p, i);

            if (!load_dma_condition(ld, map, json_array_get(v, i), &cp, lbl2, e)) {
                return false;
            }
        }
    } else if (!load_dma_condition(ld, map, v, &p, lbl2, e)) {
        return false;
    }
    if (!get_number_member(ld, je, ep, label, "max_length", false, &present, &e->max_length)) {
        return false;
    }
    if (present && e->max_length == 0) {
        p = jp_key(ep, "max_length");
        return fail(ld, &p, false, "'max_length' in %s must be at least 1", label);
    }
    return true;
}

static bool load_dma(struct loader *ld, json_t *jd, const struct jpath *dp, struct regmap *map)
{
    struct jpath ap = jp_key(dp, "address_bits"), esp = jp_key(dp, "engines");
    json_t *engines;
    uint64_t bits;
    bool present;
    char *desc = NULL;

    if (!json_is_object(jd)) {
        return fail(ld, dp, false, "'dma' in map must be an object, not %s", type_name(jd));
    }
    if (!check_keys(ld, jd, dp, "dma", DMA_KEYS) ||
        !get_number_member(ld, jd, dp, "dma", "address_bits", true, &present, &bits) ||
        !get_member(ld, jd, dp, "dma", "engines", true, &engines) ||
        !optional_description(ld, jd, dp, "dma", &desc)) {
        return false;
    }
    free(desc);
    if (bits < 12 || bits > 64) {
        return fail(ld, &ap, false, "'address_bits' in dma must be 12..64, not %" PRIu64, bits);
    }
    if (!json_is_array(engines)) {
        return fail(ld, &esp, false, "'engines' in dma must be an array, not %s",
                    type_name(engines));
    }
    if (json_array_size(engines) == 0 || json_array_size(engines) > REGMAP_MAX_DMA_ENGINES) {
        return fail(ld, &esp, false, "'engines' in dma must hold 1 to %u engines, not %zu",
                    REGMAP_MAX_DMA_ENGINES, json_array_size(engines));
    }
    if (!(map->dma = calloc(1, sizeof(*map->dma))) ||
        !(map->dma->engines = calloc(json_array_size(engines), sizeof(*map->dma->engines)))) {
        return out_of_memory(ld);
    }
    map->dma->address_bits = (unsigned)bits;
    for (size_t i = 0; i < json_array_size(engines); i++) {
        struct jpath ep = jp_index(&esp, i);

        map->dma->n_engines = i + 1;
        if (!load_dma_engine(ld, map, json_array_get(engines, i), &ep, i,
                             &map->dma->engines[i])) {
            return false;
        }
    }
    return true;
}

static bool load_map(struct loader *ld, json_t *root, struct regmap *map)
{
    struct jpath top = { .depth = 0 };
    struct jpath mp = jp_key(&top, "match"), rsp = jp_key(&top, "registers");
    const char *name;
    json_t *match, *regs;

    if (!json_is_object(root)) {
        return fail(ld, &top, false, "a register map must be a JSON object, not %s",
                    type_name(root));
    }
    if (!check_keys(ld, root, &top, "map", MAP_KEYS) ||
        !get_string_member(ld, root, &top, "map", "name", true, &name) ||
        !get_member(ld, root, &top, "map", "match", true, &match) ||
        !get_member(ld, root, &top, "map", "registers", true, &regs)) {
        return false;
    }
    if (!*name) {
        struct jpath np = jp_key(&top, "name");

        return fail(ld, &np, false, "map name must not be empty");
    }
    if (!(map->name = dup_str(name))) {
        return out_of_memory(ld);
    }
    if (!load_match(ld, match, &mp, map)) {
        return false;
    }
    if (!json_is_array(regs)) {
        return fail(ld, &rsp, false, "'registers' in map must be an array, not %s",
                    type_name(regs));
    }
    if (json_array_size(regs) == 0) {
        return fail(ld, &rsp, false, "'registers' in map must not be empty");
    }
    map->n_regs = json_array_size(regs);
    if (!(map->regs = calloc(map->n_regs, sizeof(*map->regs)))) {
        map->n_regs = 0;
        return out_of_memory(ld);
    }
    for (size_t i = 0; i < map->n_regs; i++) {
        struct jpath rp = jp_index(&rsp, i);

        if (!load_register(ld, json_array_get(regs, i), &rp, &map->regs[i])) {
            return false;
        }
    }
    if (!check_and_sort_registers(ld, &rsp, map)) {
        return false;
    }
    /* after the sort: the engines point into the final register array */
    if (json_object_get(root, "dma")) {
        struct jpath dp = jp_key(&top, "dma");

        return load_dma(ld, json_object_get(root, "dma"), &dp, map);
    }
    return true;
}

/* The whole file in *text (NUL-terminated, for convenience); false with the reason in errno. */
static bool read_whole_file(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 0, n = 0;
    char *buf = NULL;

    if (!f) {
        return false;
    }
    for (;;) {
        size_t got;

        if (cap - n < 2) {
            size_t ncap = cap ? cap * 2 : 16384;
            char *nbuf;

            if (ncap > MAX_FILE_BYTES + 2u) {
                free(buf);
                fclose(f);
                errno = EFBIG;
                return false;
            }
            if (!(nbuf = realloc(buf, ncap))) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return false;
            }
            buf = nbuf;
            cap = ncap;
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            break;
        }
    }
    if (ferror(f)) {
        int e = errno ? errno : EIO;

        free(buf);
        fclose(f);
        errno = e;
        return false;
    }
    fclose(f);
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return true;
}

struct regmap *regmap_load(const char *path, char *err, size_t errlen)
{
    struct loader ld = { .file = path, .err = err, .errlen = errlen };
    struct regmap *map = NULL;
    char *text = NULL;
    json_error_t jerr;
    json_t *root;

    if (err && errlen) {
        err[0] = '\0';
    }
    if (!read_whole_file(path, &text, &ld.len)) {
        set_err(&ld, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    ld.text = text;
    root = json_loadb(text, ld.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        size_t pos = jerr.position > 0 ? (size_t)jerr.position : 0;
        struct textpos tp = pos_of_byte(text, ld.len, token_start(text, ld.len, pos));

        set_err(&ld, "%s:%u:%u: %s", path, tp.line, tp.col, jerr.text);
        free(text);
        return NULL;
    }
    map = calloc(1, sizeof(*map));
    if (!map || !(map->path = dup_str(path))) {
        out_of_memory(&ld);
    } else if (load_map(&ld, root, map)) {
        json_decref(root);
        free(text);
        return map;
    }
    regmap_free(map);
    json_decref(root);
    free(text);
    return NULL;
}

void regmap_free(struct regmap *map)
{
    if (!map) {
        return;
    }
    for (size_t i = 0; i < map->n_regs && map->regs; i++) {
        struct regmap_reg *r = &map->regs[i];

        for (size_t j = 0; j < r->n_fields && r->fields; j++) {
            struct regmap_field *f = &r->fields[j];

            for (size_t k = 0; k < f->n_values && f->values; k++) {
                free(f->values[k].name);
            }
            free(f->values);
            free(f->name);
            free(f->description);
        }
        free(r->fields);
        free(r->name);
        free(r->description);
    }
    if (map->dma) {
        for (size_t i = 0; i < map->dma->n_engines && map->dma->engines; i++) {
            free(map->dma->engines[i].name);
            free(map->dma->engines[i].description);
        }
        free(map->dma->engines);
        free(map->dma);
    }
    free(map->regs);
    free(map->ids);
    free(map->name);
    free(map->path);
    free(map);
}

/* ---- lookups and decoding ------------------------------------------------------------------- */

bool regmap_matches(const struct regmap *map, uint16_t vendor, uint16_t device)
{
    for (size_t i = 0; map && i < map->n_ids; i++) {
        if (map->ids[i].vendor == vendor && map->ids[i].device == device) {
            return true;
        }
    }
    return false;
}

const struct regmap_reg *regmap_find(const struct regmap *map, unsigned bar, uint64_t offset,
                                     unsigned size)
{
    size_t lo = 0, hi;
    const struct regmap_reg *r;
    uint64_t rel;

    if (!map || !map->n_regs) {
        return NULL;
    }
    if (size == 0) {
        size = 1;
    }
    hi = map->n_regs;
    while (lo < hi) { /* first register placed after (bar, offset) */
        size_t mid = lo + (hi - lo) / 2;
        const struct regmap_reg *m = &map->regs[mid];

        if (m->bar < bar || (m->bar == bar && m->offset <= offset)) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == 0) {
        return NULL;
    }
    r = &map->regs[lo - 1];
    if (r->bar != bar) {
        return NULL;
    }
    rel = offset - r->offset;
    if (rel >= r->width || size > r->width - rel) {
        return NULL;
    }
    return r;
}

const struct regmap_reg *regmap_find_name(const struct regmap *map, const char *name)
{
    for (size_t i = 0; map && name && i < map->n_regs; i++) {
        if (strcmp(map->regs[i].name, name) == 0) {
            return &map->regs[i];
        }
    }
    return NULL;
}

const struct regmap_field *regmap_find_field(const struct regmap_reg *reg, const char *name)
{
    for (size_t i = 0; reg && name && i < reg->n_fields; i++) {
        if (strcmp(reg->fields[i].name, name) == 0) {
            return &reg->fields[i];
        }
    }
    return NULL;
}

uint64_t regmap_field_value(const struct regmap_field *f, uint64_t reg_value)
{
    if (!f || f->lsb > 63 || f->msb < f->lsb || f->msb > 63) {
        return 0;
    }
    return (reg_value & bit_mask(f->msb, f->lsb)) >> f->lsb;
}

size_t regmap_access_fields(const struct regmap_reg *reg, uint64_t offset, unsigned size,
                            uint64_t value, struct regmap_field_value *out)
{
    size_t n = 0;
    unsigned lo_bit, hi_bit;

    if (!reg || size == 0 || size > 8 || offset < reg->offset ||
        offset - reg->offset >= reg->width) {
        return 0;
    }
    lo_bit = (unsigned)(offset - reg->offset) * 8;
    hi_bit = lo_bit + size * 8 - 1;
    if (size < 8) {
        value &= (1ull << (size * 8)) - 1;
    }
    value <<= lo_bit;
    for (size_t i = 0; i < reg->n_fields; i++) {
        const struct regmap_field *f = &reg->fields[i];
        struct regmap_field_value *fv = &out[n];

        if (f->lsb < lo_bit || f->msb > hi_bit) {
            continue;
        }
        fv->field = f;
        fv->value = regmap_field_value(f, value);
        fv->name = NULL;
        for (size_t k = 0; k < f->n_values && !fv->name; k++) {
            if (f->values[k].value == fv->value) {
                fv->name = f->values[k].name;
            }
        }
        n++;
    }
    return n;
}

size_t regmap_decode(const struct regmap_reg *reg, uint64_t offset, unsigned size, uint64_t value,
                     char *buf, size_t len)
{
    struct regmap_field_value fields[REGMAP_MAX_FIELDS];
    size_t used = 0, n;

    if (!buf || len == 0) {
        return 0;
    }
    buf[0] = '\0';
    n = regmap_access_fields(reg, offset, size, value, fields);
    for (size_t i = 0; i < n && used + 1 < len; i++) {
        const struct regmap_field *f = fields[i].field;
        int w;

        if (fields[i].name) {
            w = snprintf(buf + used, len - used, "%s%s=%s", used ? " " : "", f->name,
                         fields[i].name);
        } else if (f->msb == f->lsb) {
            w = snprintf(buf + used, len - used, "%s%s=%" PRIu64, used ? " " : "", f->name,
                         fields[i].value);
        } else {
            w = snprintf(buf + used, len - used, "%s%s=0x%" PRIx64, used ? " " : "", f->name,
                         fields[i].value);
        }
        if (w < 0) {
            break;
        }
        used = (size_t)w >= len - used ? len - 1 : used + (size_t)w;
    }
    return used;
}
