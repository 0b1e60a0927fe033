/*
 * Guest code names (symbols.h): each source (an ELF read with elfutils' libdwfl, or an nm-form
 * symbol list) becomes a table of functions sorted by address, with its bias; an ELF with DWARF
 * also answers file:line from its line tables. Also the cache of source files' text.
 *
 * Everything a lookup needs is prepared by symbols_add(): the line tables of every compilation
 * unit and libdwfl's address index are built, and every source file they name is resolved and
 * checked once, so that a lookup allocates nothing and finds libdwfl's lazy tables already made
 * (symbols.h promises read-only lookups).
 */
#include "symbols.h"

#include <ctype.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rules_parse.h"

/* The last symbol of an nm list has no next symbol to end it: it reaches this far. */
#define NM_LAST_SPAN 0x10000u
#define LIST_MAX_BYTES (1u << 30)
#define SOURCE_MAX_BYTES (64u << 20)
#define WHAT_TO_GIVE "give the guest code's ELF, or an nm-style list of its symbols " \
                     "(nm ELF > FILE, System.map, /proc/kallsyms)"

/* One function, in its source's own addresses (the bias not applied). */
struct func {
    uint64_t lo, hi;            /* [lo, hi) */
    const char *name;
};

/* A symbol while a source's table is built. */
struct entry {
    uint64_t lo;
    uint64_t size;              /* 0: unknown, the next symbol ends it */
    uint64_t limit;             /* it cannot reach past this (its section's end) */
    const char *name;
    int rank;                   /* among symbols at one address, the highest names it */
    bool code;                  /* a function; the others only end the one before them */
};

struct source {
    char *path;
    uint64_t bias;              /* added to the source's addresses, modulo 2^64 */
    struct func *funcs;         /* by address, not overlapping: what a PC lies in */
    size_t n_funcs;
    struct func *named;         /* every function name, aliases too: for ranges by name */
    size_t n_named;
    char *text;                 /* nm list: its text, where the names point */
    Dwfl *dwfl;                 /* ELF: the names point into its string table */
    Dwfl_Module *mod;
    Dwarf_Addr mod_bias;        /* libdwfl's address = the ELF's address + mod_bias */
    bool has_lines;
};

/* A source file named by a line table: the path that opens it, and whether it does. */
struct path_entry {
    char *path;
    bool readable;
};

/* A source file's text, cut into lines (symbols_source_line). */
struct text_file {
    char *path;
    char *text;                 /* NULL: not readable */
    char **lines;
    int n_lines;
};

struct symbols {
    struct source *src;
    int n_src;
    struct path_entry *paths;   /* open addressing, by path */
    size_t paths_cap, n_paths;
    struct text_file *files;
    int n_files;
};

struct symbols *symbols_new(void)
{
    return calloc(1, sizeof(struct symbols));
}

static void source_free(struct source *src)
{
    free(src->path);
    free(src->funcs);
    free(src->named);
    free(src->text);
    if (src->dwfl) {
        dwfl_end(src->dwfl);
    }
}

void symbols_free(struct symbols *s)
{
    if (!s) {
        return;
    }
    for (int i = 0; i < s->n_src; i++) {
        source_free(&s->src[i]);
    }
    free(s->src);
    for (size_t i = 0; i < s->paths_cap; i++) {
        free(s->paths[i].path);
    }
    free(s->paths);
    for (int i = 0; i < s->n_files; i++) {
        free(s->files[i].path);
        free(s->files[i].text);
        free(s->files[i].lines);
    }
    free(s->files);
    free(s);
}

int symbols_count(const struct symbols *s)
{
    return s ? s->n_src : 0;
}

/* --- the resolved source paths ------------------------------------------------------------- */

static uint64_t hash_str(const char *p)
{
    uint64_t h = 0xcbf29ce484222325ull;

    while (*p) {
        h = (h ^ (unsigned char)*p++) * 0x100000001b3ull;
    }
    return h;
}

static const struct path_entry *path_find(const struct symbols *s, const char *path)
{
    if (!s->paths_cap) {
        return NULL;
    }
    for (size_t i = hash_str(path) & (s->paths_cap - 1);; i = (i + 1) & (s->paths_cap - 1)) {
        if (!s->paths[i].path) {
            return NULL;
        }
        if (strcmp(s->paths[i].path, path) == 0) {
            return &s->paths[i];
        }
    }
}

/* Add path (checking once whether it can be read). 0, or -1 when out of memory. */
static int path_add(struct symbols *s, const char *path)
{
    size_t i;

    if (path_find(s, path)) {
        return 0;
    }
    if ((s->n_paths + 1) * 2 > s->paths_cap) {
        size_t cap = s->paths_cap ? s->paths_cap * 2 : 256;
        struct path_entry *t = calloc(cap, sizeof(*t));

        if (!t) {
            return -1;
        }
        for (size_t k = 0; k < s->paths_cap; k++) {
            if (s->paths[k].path) {
                for (i = hash_str(s->paths[k].path) & (cap - 1); t[i].path;
                     i = (i + 1) & (cap - 1)) {
                }
                t[i] = s->paths[k];
            }
        }
        free(s->paths);
        s->paths = t;
        s->paths_cap = cap;
    }
    for (i = hash_str(path) & (s->paths_cap - 1); s->paths[i].path;
         i = (i + 1) & (s->paths_cap - 1)) {
    }
    if (!(s->paths[i].path = strdup(path))) {
        return -1;
    }
    s->paths[i].readable = access(path, R_OK) == 0;
    s->n_paths++;
    return 0;
}

/* The path that opens file, a name from the line table of the unit whose comp_dir is given:
   relative names are relative to the compilation directory. false when it does not fit. */
static bool resolve_path(const char *file, const char *comp_dir, char *buf, size_t len)
{
    int n = file[0] == '/' || !comp_dir ? snprintf(buf, len, "%s", file)
                                        : snprintf(buf, len, "%s/%s", comp_dir, file);

    return n > 0 && (size_t)n < len;
}

static const char *comp_dir_of(Dwarf_Die *cu)
{
    Dwarf_Attribute attr;

    return cu ? dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr)) : NULL;
}

/* --- building a source's function table ------------------------------------------------------ */

static int entry_cmp(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;

    if (x->lo != y->lo) {
        return x->lo < y->lo ? -1 : 1;
    }
    if (x->code != y->code) {
        return x->code ? -1 : 1;
    }
    if (x->rank != y->rank) {
        return y->rank - x->rank;
    }
    return strcmp(x->name, y->name);
}

/*
 * The function table of a source from its symbols: at each address the best-ranked function
 * names the code; a function ends at its size, or else at the next symbol (or its section's
 * end), and never past the next symbol, so that the table does not overlap. 0, or -1 when out
 * of memory.
 */
static int build_funcs(struct source *src, struct entry *e, size_t n, uint64_t last_span)
{
    size_t n_code = 0;

    qsort(e, n, sizeof(*e), entry_cmp);
    for (size_t i = 0; i < n; i++) {
        n_code += e[i].code;
    }
    src->funcs = calloc(n_code ? n_code : 1, sizeof(*src->funcs));
    src->named = calloc(n_code ? n_code : 1, sizeof(*src->named));
    if (!src->funcs || !src->named) {
        return -1;
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        uint64_t lo = e[i].lo, hi;
        bool have_next;

        while (j < n && e[j].lo == lo) {
            j++;
        }
        if (!e[i].code) {
            i = j;
            continue;
        }
        have_next = j < n;
        if (e[i].size) {
            hi = e[i].size > UINT64_MAX - lo ? UINT64_MAX : lo + e[i].size;
        } else if (have_next) {
            hi = e[j].lo;
        } else {
            hi = last_span > UINT64_MAX - lo ? UINT64_MAX : lo + last_span;
        }
        if (have_next && hi > e[j].lo) {
            hi = e[j].lo;
        }
        if (hi > e[i].limit) {
            hi = e[i].limit;
        }
        if (hi <= lo) {
            hi = lo + 1;        /* a symbol at its section's very end still names its byte */
        }
        src->funcs[src->n_funcs++] = (struct func){ lo, hi, e[i].name };
        for (size_t k = i; k < j; k++) {
            if (e[k].code) {
                src->named[src->n_named++] = (struct func){ lo, hi, e[k].name };
            }
        }
        i = j;
    }
    return 0;
}

/* Does the bias move every function of src to an address that exists? Else the message. */
static int check_bias(const struct source *src, int64_t bias, char *err, size_t errlen)
{
    for (size_t i = 0; i < src->n_funcs; i++) {
        const struct func *f = &src->funcs[i];
        bool bad = bias < 0 ? f->lo < (uint64_t)0 - (uint64_t)bias
                            : f->lo > UINT64_MAX - (uint64_t)bias;

        if (bad) {
            snprintf(err, errlen, "%s: bias %s0x%" PRIx64 " moves %s (0x%" PRIx64 ") %s the "
                     "64-bit address space; give the bias that places the code where the guest "
                     "runs it", src->path, bias < 0 ? "-" : "",
                     bias < 0 ? (uint64_t)0 - (uint64_t)bias : (uint64_t)bias, f->name, f->lo,
                     bias < 0 ? "below" : "beyond");
            return -1;
        }
    }
    return 0;
}

/* --- nm-form lists -------------------------------------------------------------------------- */

/* The line as an error message quotes it: printable ASCII, the rest as \xNN, at most 40. */
static void quote_line(const char *p, size_t n, char *out, size_t len)
{
    size_t o = 0;

    for (size_t i = 0; i < n && i < 40 && o + 5 < len; i++) {
        unsigned char c = (unsigned char)p[i];

        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[o++] = (char)c;
        } else {
            o += (size_t)snprintf(out + o, len - o, "\\x%02x", c);
        }
    }
    if (n > 40 && o + 4 < len) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static char *next_word(char **p)
{
    char *w;

    while (**p == ' ' || **p == '\t') {
        (*p)++;
    }
    if (!**p) {
        return NULL;
    }
    w = *p;
    while (**p && **p != ' ' && **p != '\t') {
        (*p)++;
    }
    if (**p) {
        *(*p)++ = '\0';
    }
    return w;
}

static bool parse_hex(const char *w, uint64_t *out)
{
    size_t n = strlen(w);
    uint64_t v = 0;

    if (n > 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X')) {
        w += 2;
        n -= 2;
    }
    if (n == 0 || n > 16) {
        return false;
    }
    for (; *w; w++) {
        if (!isxdigit((unsigned char)*w)) {
            return false;
        }
        v = v << 4 | (uint64_t)(isdigit((unsigned char)*w) ? *w - '0' : (*w | 0x20) - 'a' + 10);
    }
    *out = v;
    return true;
}

/* nm's type letters: code, and the symbols that end the code before them (not absolute
   values, undefined or debugging symbols). */
static bool nm_code(char t)
{
    return strchr("tTwWi", t) != NULL;
}

static bool nm_bound(char t)
{
    return strchr("bBdDgGrRsSuvV", t) != NULL;
}

static int nm_rank(char t)
{
    return t == 'T' ? 3 : t == 'W' ? 2 : t == 't' ? 1 : 0;
}

/* Parse an nm list (size bytes of text, then a NUL; owned by src from now on). */
static int load_nm(struct source *src, char *text, size_t size, char *err, size_t errlen)
{
    struct entry *e = NULL;
    size_t n = 0, cap = 0, n_code = 0, nonzero = 0;
    char *line = text, *limit = text + size;
    int line_no = 0;

    src->text = text;
    while (line < limit) {
        /* by length, not by NUL: a NUL inside a line is a binary file, not the end */
        char *end = memchr(line, '\n', (size_t)(limit - line));
        char *p = line, *addr, *type, *name, *module, *extra;
        size_t len = end ? (size_t)(end - line) : (size_t)(limit - line);
        char orig[48];
        uint64_t a;
        bool nul;

        line_no++;
        if (end) {
            *end = '\0';
        }
        if (len && line[len - 1] == '\r') {
            line[--len] = '\0';
        }
        nul = memchr(line, '\0', len) != NULL;
        /* what the error quotes, before the words are cut apart */
        memcpy(orig, line, len < sizeof(orig) ? len : sizeof(orig));
        addr = next_word(&p);
        type = next_word(&p);
        name = next_word(&p);
        module = next_word(&p);
        extra = next_word(&p);
        if (!addr) {
            /* a blank line */
        } else if (!name && type && strlen(addr) == 1 && strchr("Uwv", addr[0])) {
            /* an undefined symbol: nm prints no address for it */
        } else if (!type || !name || extra || strlen(type) != 1 || !parse_hex(addr, &a) ||
                   (module && (module[0] != '[' || module[strlen(module) - 1] != ']')) || nul) {
            char q[200];

            quote_line(orig, len < sizeof(orig) ? len : sizeof(orig), q, sizeof(q));
            snprintf(err, errlen, "%s is neither an ELF nor an nm symbol list: line %d is not "
                     "ADDRESS TYPE NAME [[MODULE]]: \"%s\"; " WHAT_TO_GIVE, src->path, line_no,
                     q);
            free(e);
            return -1;
        } else if (nm_code(type[0]) || nm_bound(type[0])) {
            if (n == cap) {
                struct entry *t = realloc(e, (cap = cap ? cap * 2 : 1024) * sizeof(*e));

                if (!t) {
                    free(e);
                    snprintf(err, errlen, "%s: out of memory", src->path);
                    return -1;
                }
                e = t;
            }
            e[n++] = (struct entry){ .lo = a, .limit = UINT64_MAX, .name = name,
                                     .rank = nm_rank(type[0]), .code = nm_code(type[0]) };
            n_code += nm_code(type[0]);
            nonzero += a != 0;
        }
        if (!end) {
            break;
        }
        line = end + 1;
    }
    if (n_code == 0) {
        snprintf(err, errlen, "%s has no function symbols (no line of type t, T, w, W or i); "
                 WHAT_TO_GIVE, src->path);
        free(e);
        return -1;
    }
    if (nonzero == 0 && n > 1) {
        snprintf(err, errlen, "%s gives every symbol the address 0, as /proc/kallsyms does to "
                 "a reader without privilege: read it as root (or with kernel.kptr_restrict=0)",
                 src->path);
        free(e);
        return -1;
    }
    if (build_funcs(src, e, n, NM_LAST_SPAN) < 0) {
        free(e);
        snprintf(err, errlen, "%s: out of memory", src->path);
        return -1;
    }
    free(e);
    return 0;
}

/* The whole of fd as a NUL-terminated string (its size may be unknown, as /proc's files'). */
static char *read_text(int fd, size_t max, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);

    while (buf) {
        ssize_t r;

        if (n == cap) {
            char *t = cap >= max ? NULL : realloc(buf, (cap *= 2) + 1);

            if (!t) {
                free(buf);
                return NULL;
            }
            buf = t;
        }
        r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            free(buf);
            return NULL;
        }
        if (r == 0) {
            buf[n] = '\0';
            *len = n;
            return buf;
        }
        n += (size_t)r;
    }
    return NULL;
}

/* --- ELF ------------------------------------------------------------------------------------ */

/* Only the ELF's own DWARF: never a search of the system's debug folders or debuginfod (which
   would go to the network for a stripped ELF). */
static int own_debuginfo_only(Dwfl_Module *mod, void **userdata, const char *modname,
                              Dwarf_Addr base, const char *file_name, const char *debuglink,
                              GElf_Word crc, char **debuginfo_file_name)
{
    (void)mod, (void)userdata, (void)modname, (void)base, (void)file_name, (void)debuglink;
    (void)crc, (void)debuginfo_file_name;
    return -1;
}

static const Dwfl_Callbacks offline_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = own_debuginfo_only,
    .section_address = dwfl_offline_section_address,
};

static const char *machine_name(unsigned m)
{
    switch (m) {
    case 2: return "SPARC";
    case 8: return "MIPS";
    case 20: return "PowerPC";
    case 21: return "PowerPC 64";
    case 22: return "S/390";
    case 40: return "ARM";
    case 50: return "IA-64";
    case 183: return "AArch64";
    case 243: return "RISC-V";
    case 258: return "LoongArch";
    default: return "another architecture";
    }
}

/* The ELF header's checks, from its first bytes: x86 or x86-64, an executable or a shared
   object. */
static int check_elf_header(const char *path, const unsigned char *h, size_t n, char *err,
                            size_t errlen)
{
    unsigned machine, type;

    if (n < 20 || (h[4] != 1 && h[4] != 2) || (h[5] != 1 && h[5] != 2)) {
        snprintf(err, errlen, "%s is a damaged ELF (its header is cut or has an unknown class); "
                 WHAT_TO_GIVE, path);
        return -1;
    }
    type = h[5] == 1 ? (unsigned)(h[16] | h[17] << 8) : (unsigned)(h[16] << 8 | h[17]);
    machine = h[5] == 1 ? (unsigned)(h[18] | h[19] << 8) : (unsigned)(h[18] << 8 | h[19]);
    if (machine != 3 && machine != 62) {
        snprintf(err, errlen, "%s is an ELF for %s (machine %u), not x86 or x86-64: the guest "
                 "is an x86 machine; give the ELF of the code it runs", path,
                 machine_name(machine), machine);
        return -1;
    }
    if (type == 1) {
        snprintf(err, errlen, "%s is a relocatable object (.o, .ko), whose code has no address "
                 "yet: give the linked ELF, or for a kernel module its symbols as loaded "
                 "(grep '\\[MODULE\\]' /proc/kallsyms > FILE)", path);
        return -1;
    }
    if (type != 2 && type != 3) {
        snprintf(err, errlen, "%s is an ELF of type %u (not an executable or a shared object); "
                 WHAT_TO_GIVE, path, type);
        return -1;
    }
    return 0;
}

static int elf_rank(const GElf_Sym *sym)
{
    int bind = GELF_ST_BIND(sym->st_info), type = GELF_ST_TYPE(sym->st_info);

    return (bind == STB_GLOBAL ? 4 : bind == STB_WEAK ? 2 : 0) + (type != STT_NOTYPE);
}

/* The functions of the module's symbol table (and the data symbols that end them). */
static int elf_symbols(struct source *src, char *err, size_t errlen)
{
    int n = dwfl_module_getsymtab(src->mod);
    struct entry *e = calloc(n > 0 ? (size_t)n : 1, sizeof(*e));
    size_t k = 0;
    int ret;

    if (!e) {
        snprintf(err, errlen, "%s: out of memory", src->path);
        return -1;
    }
    for (int i = 1; i < n; i++) {
        GElf_Sym sym;
        GElf_Addr addr;
        GElf_Word shndx;
        GElf_Shdr shbuf, *sh;
        Elf *elf = NULL;
        Dwarf_Addr b = 0;
        const char *name = dwfl_module_getsym_info(src->mod, i, &sym, &addr, &shndx, &elf, &b);
        int type;
        bool code;

        if (!name || !name[0] || !elf || shndx == SHN_UNDEF || shndx == SHN_ABS ||
            shndx == SHN_COMMON) {
            continue;
        }
        type = GELF_ST_TYPE(sym.st_info);
        if (type == STT_SECTION || type == STT_FILE || type == STT_TLS) {
            continue;
        }
        sh = gelf_getshdr(elf_getscn(elf, shndx), &shbuf);
        if (!sh || !(sh->sh_flags & SHF_ALLOC)) {
            continue;
        }
        code = type == STT_FUNC || type == STT_GNU_IFUNC ||
               (type == STT_NOTYPE && (sh->sh_flags & SHF_EXECINSTR));
        e[k++] = (struct entry){
            .lo = addr - src->mod_bias, .size = code ? sym.st_size : 0,
            .limit = sh->sh_addr + sh->sh_size + (b - src->mod_bias), .name = name,
            .rank = elf_rank(&sym), .code = code,
        };
    }
    ret = build_funcs(src, e, k, NM_LAST_SPAN);
    free(e);
    if (ret < 0) {
        snprintf(err, errlen, "%s: out of memory", src->path);
    }
    return ret;
}

/* Load the line tables of every unit now, and resolve every file they name, so that lookups
   change nothing. */
static int elf_lines(struct symbols *s, struct source *src, char *err, size_t errlen)
{
    Dwarf_Addr dwbias, cubias;
    Dwarf_Die *cu = NULL;

    if (!dwfl_module_getdwarf(src->mod, &dwbias)) {
        return 0;               /* no DWARF: names only */
    }
    while ((cu = dwfl_module_nextcu(src->mod, cu, &cubias))) {
        const char *comp_dir = comp_dir_of(cu);
        Dwarf_Files *files;
        size_t n_files;

        if (!dwfl_onesrcline(cu, 0)) {
            continue;
        }
        src->has_lines = true;
        if (dwarf_getsrcfiles(cu, &files, &n_files) != 0) {
            continue;
        }
        for (size_t i = 0; i < n_files; i++) {
            const char *name = dwarf_filesrc(files, i, NULL, NULL);
            char path[PATH_MAX];

            if (name && resolve_path(name, comp_dir, path, sizeof(path)) &&
                path_add(s, path) < 0) {
                snprintf(err, errlen, "%s: out of memory", src->path);
                return -1;
            }
        }
    }
    if (src->has_lines && src->n_funcs) {
        /* the first lookup builds the module's address index: build it now */
        dwfl_module_getsrc(src->mod, src->funcs[0].lo + src->mod_bias);
    }
    return 0;
}

static int load_elf(struct symbols *s, struct source *src, char *err, size_t errlen)
{
    GElf_Addr mod_bias = 0;

    src->dwfl = dwfl_begin(&offline_callbacks);
    if (!src->dwfl) {
        snprintf(err, errlen, "%s: elfutils: %s", src->path, dwfl_errmsg(-1));
        return -1;
    }
    src->mod = dwfl_report_offline(src->dwfl, src->path, src->path, -1);
    if (!src->mod || dwfl_report_end(src->dwfl, NULL, NULL) != 0 ||
        !dwfl_module_getelf(src->mod, &mod_bias)) {
        snprintf(err, errlen, "%s: cannot read this ELF: %s; " WHAT_TO_GIVE, src->path,
                 dwfl_errmsg(-1));
        return -1;
    }
    src->mod_bias = mod_bias;
    if (elf_symbols(src, err, errlen) < 0 || elf_lines(s, src, err, errlen) < 0) {
        return -1;
    }
    if (!src->n_funcs && !src->has_lines) {
        snprintf(err, errlen, "%s has neither function symbols nor line tables (it was "
                 "stripped): give the ELF before strip, or an nm list made from it", src->path);
        return -1;
    }
    return 0;
}

/* --- adding a source ------------------------------------------------------------------------ */

/* "-0x1000", "4096": the bias; false when it is not a number. */
static bool parse_bias(const char *text, int64_t *out)
{
    bool negative = text[0] == '-';
    const char *digits = text + negative;
    uint64_t v;

    if (rules_parse_number(digits, strlen(digits), &v) != RULES_NUMBER_OK ||
        v > (negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX)) {
        return false;
    }
    *out = negative ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* Split "FILE@BIAS": a file whose own name has an '@' is taken whole when it exists. */
static int split_spec(const char *spec, char **path, int64_t *bias, char *err, size_t errlen)
{
    const char *at = strrchr(spec, '@');
    struct stat st;

    *bias = 0;
    if (!at || (!parse_bias(at + 1, bias) && stat(spec, &st) == 0)) {
        *path = strdup(spec);
    } else if (!parse_bias(at + 1, bias)) {
        snprintf(err, errlen, "symbols %s: bad bias '%s': give FILE@BIAS with BIAS a number, "
                 "0x hex or decimal, negative with a leading '-' (vmlinux@-0x1000)", spec,
                 at + 1);
        return -1;
    } else {
        *path = strndup(spec, (size_t)(at - spec));
    }
    if (!*path) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (!(*path)[0]) {
        snprintf(err, errlen, "symbols %s: no FILE before '@'", spec);
        free(*path);
        return -1;
    }
    return 0;
}

int symbols_add(struct symbols *s, const char *spec, char *err, size_t errlen)
{
    struct source src = { 0 };
    struct source *grown;
    unsigned char head[64];
    struct stat st;
    int64_t bias;
    ssize_t n;
    int fd;

    if (split_spec(spec, &src.path, &bias, err, errlen) < 0) {
        return -1;
    }
    src.bias = (uint64_t)bias;
    /* O_NONBLOCK: a FIFO given by mistake must not hold the start up */
    fd = open(src.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open symbols file %s: %s; " WHAT_TO_GIVE, src.path,
                 strerror(errno));
        goto fail;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file; " WHAT_TO_GIVE, src.path);
        close(fd);
        goto fail;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    n = pread(fd, head, sizeof(head), 0);
    if (n >= 4 && memcmp(head, "\177ELF", 4) == 0) {
        close(fd);
        if (check_elf_header(src.path, head, (size_t)n, err, errlen) < 0 ||
            load_elf(s, &src, err, errlen) < 0) {
            goto fail;
        }
    } else {
        size_t len;
        char *text = read_text(fd, LIST_MAX_BYTES, &len);

        close(fd);
        if (!text) {
            snprintf(err, errlen, "cannot read symbols file %s: %s", src.path,
                     errno ? strerror(errno) : "larger than 1 GiB");
            goto fail;
        }
        if (load_nm(&src, text, len, err, errlen) < 0) {
            goto fail;
        }
    }
    if (check_bias(&src, bias, err, errlen) < 0) {
        goto fail;
    }
    grown = realloc(s->src, (size_t)(s->n_src + 1) * sizeof(*s->src));
    if (!grown) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    s->src = grown;
    s->src[s->n_src++] = src;
    return 0;
fail:
    /* The resolved paths this source added stay: harmless, and other sources may share them. */
    source_free(&src);
    return -1;
}

/* --- lookups ---------------------------------------------------------------------------------- */

static const struct func *find_func(const struct source *src, uint64_t addr)
{
    size_t lo = 0, hi = src->n_funcs;

    /* the last function that starts at or before addr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (src->funcs[mid].lo <= addr) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == 0 || addr >= src->funcs[lo - 1].hi) {
        return NULL;
    }
    return &src->funcs[lo - 1];
}

static bool find_line(const struct symbols *s, const struct source *src, uint64_t addr,
                      struct symbol_where *out)
{
    Dwfl_Line *l = dwfl_module_getsrc(src->mod, addr + src->mod_bias);
    const char *file;
    const struct path_entry *pe;
    char path[PATH_MAX];
    int line = 0;

    if (!l || !(file = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL)) || line <= 0) {
        return false;
    }
    out->file = file;
    out->line = line;
    pe = resolve_path(file, comp_dir_of(dwfl_linecu(l)), path, sizeof(path))
         ? path_find(s, path) : NULL;
    out->source = pe && pe->readable ? pe->path : NULL;
    return true;
}

bool symbols_lookup(const struct symbols *s, uint64_t pc, bool after, struct symbol_where *out)
{
    uint64_t at = after ? pc - 1 : pc;

    memset(out, 0, sizeof(*out));
    for (int i = 0; s && i < s->n_src && (!out->func || !out->line); i++) {
        const struct source *src = &s->src[i];
        uint64_t addr = at - src->bias;

        if (!out->func) {
            const struct func *f = find_func(src, addr);

            if (f) {
                out->func = f->name;
                out->func_addr = f->lo + src->bias;
                out->func_offset = pc - out->func_addr;
            }
        }
        if (!out->line && src->has_lines) {
            find_line(s, src, addr, out);
        }
    }
    return out->func || out->line;
}

int symbols_function_range(const struct symbols *s, const char *name, uint64_t *lo, uint64_t *hi,
                           char *err, size_t errlen)
{
    int found = 0;
    bool differ = false;
    size_t used = 0;

    for (int i = 0; s && i < s->n_src; i++) {
        for (size_t k = 0; k < s->src[i].n_named; k++) {
            const struct func *f = &s->src[i].named[k];

            if (strcmp(f->name, name) != 0) {
                continue;
            }
            if (found && f->lo + s->src[i].bias != *lo) {
                differ = true;
            }
            if (!found) {
                *lo = f->lo + s->src[i].bias;
                *hi = f->hi + s->src[i].bias;
            }
            if (found < 8 && used < errlen) {
                int n = snprintf(err + used, errlen - used, "%s0x%" PRIx64 " (%s)",
                                 found ? ", " : "", f->lo + s->src[i].bias, s->src[i].path);
                used += n > 0 ? (size_t)n : 0;
            }
            found++;
        }
    }
    if (!found) {
        snprintf(err, errlen, "no function %s in the symbols (%s)", name,
                 symbols_count(s) ? "give the --symbols FILE that defines it"
                                  : "no --symbols FILE was given");
        return -1;
    }
    if (differ) {
        char *where = strndup(err, errlen);

        snprintf(err, errlen, "%s is defined at several addresses: %s%s; name one by its "
                 "address range instead", name, where ? where : "", found > 8 ? ", ..." : "");
        free(where);
        return -1;
    }
    if (errlen) {
        err[0] = '\0';
    }
    return 0;
}

/* Cut text into lines in place. */
static int split_lines(struct text_file *f)
{
    int cap = 256;

    f->lines = malloc((size_t)cap * sizeof(*f->lines));
    for (char *p = f->text; f->lines && *p;) {
        char *end = strchr(p, '\n');

        if (f->n_lines == cap) {
            char **t = realloc(f->lines, (size_t)(cap *= 2) * sizeof(*t));

            if (!t) {
                return -1;
            }
            f->lines = t;
        }
        f->lines[f->n_lines++] = p;
        if (!end) {
            break;
        }
        *end = '\0';
        if (end > p && end[-1] == '\r') {
            end[-1] = '\0';
        }
        p = end + 1;
    }
    return f->lines ? 0 : -1;
}

const char *symbols_source_line(struct symbols *s, const char *source, int line)
{
    struct text_file *f = NULL;

    if (!s || !source || line <= 0) {
        return NULL;
    }
    for (int i = 0; i < s->n_files && !f; i++) {
        if (strcmp(s->files[i].path, source) == 0) {
            f = &s->files[i];
        }
    }
    if (!f) {
        struct text_file *t = realloc(s->files, (size_t)(s->n_files + 1) * sizeof(*t));
        int fd;

        if (!t) {
            return NULL;
        }
        s->files = t;
        f = &s->files[s->n_files];
        memset(f, 0, sizeof(*f));
        if (!(f->path = strdup(source))) {
            return NULL;
        }
        s->n_files++;
        /* an unreadable file is remembered as such: not tried again on every line drawn */
        fd = open(source, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd >= 0) {
            struct stat st;
            size_t len;

            if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
                f->text = read_text(fd, SOURCE_MAX_BYTES, &len);
            }
            close(fd);
            if (f->text && split_lines(f) < 0) {
                free(f->text);
                free(f->lines);
                f->text = NULL;
                f->lines = NULL;
                f->n_lines = 0;
            }
        }
    }
    return f->text && line <= f->n_lines ? f->lines[line - 1] : NULL;
}

void symbols_format(const struct symbols *s, uint64_t pc, bool after, bool by_line, char *buf,
                    size_t len)
{
    struct symbol_where w;

    if (!symbols_lookup(s, pc, after, &w)) {
        snprintf(buf, len, "0x%" PRIx64, pc);
    } else if (w.line && (by_line || !w.func)) {
        const char *base = strrchr(w.file, '/');

        snprintf(buf, len, "%s:%d", base ? base + 1 : w.file, w.line);
    } else {
        snprintf(buf, len, "%s+0x%" PRIx64, w.func, w.func_offset);
    }
}
