/*
 * Unit tests of the guest code names (debugger/symbols.c) on real files made at test time: a
 * small program compiled with cc -g (64- and 32-bit), its stripped copies, nm lists of it (with
 * and without a bias), and files that are not symbols at all. Names are checked against nm's own
 * output and lines against addr2line's.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbols.h"
#include "check.h"

/* A failure message longer than check.h's buffer is cut: that is all right here. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

static char dir[] = "/tmp/regdbg-test-symbols-XXXXXX";

/* The program: three functions in a subfolder (its line table names it relative to the
   compilation directory), a loop so that lines differ within a function. */
static const char prog_c[] =
    "static volatile int sink;\n"
    "__attribute__((noinline)) static int helper(int x)\n"
    "{\n"
    "    return x * 3 + sink;\n"
    "}\n"
    "__attribute__((noinline)) int alpha(int x)\n"
    "{\n"
    "    for (int i = 0; i < x; i++) {\n"
    "        sink = helper(i);\n"
    "    }\n"
    "    return sink + 1;\n"
    "}\n"
    "void _start(void)\n"
    "{\n"
    "    for (;;) {\n"
    "        sink = alpha(sink);\n"
    "    }\n"
    "}\n";

static void path_in_dir(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

static int shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int shell(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return system(cmd);
}

/* One line of a command's output (the first), without its newline; "" when none. */
static void run_line(char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void run_line(char *out, size_t len, const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    FILE *p;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    out[0] = '\0';
    p = popen(cmd, "r");
    if (p) {
        if (!fgets(out, (int)len, p)) {
            out[0] = '\0';
        }
        pclose(p);
    }
    out[strcspn(out, "\n")] = '\0';
}

static int write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;

    if (fd >= 0) {
        close(fd);
    }
    return ok ? 0 : -1;
}

/* nm's view of an ELF: its code symbols. */
struct nm_sym {
    uint64_t addr, size;
    char type;
    char name[64];
};

static int nm_symbols(const char *elf, struct nm_sym *out, int max)
{
    char cmd[600], line[256];
    FILE *p;
    int n = 0;

    snprintf(cmd, sizeof(cmd), "nm -S %s", elf);
    p = popen(cmd, "r");
    while (p && n < max && fgets(line, sizeof(line), p)) {
        struct nm_sym s;

        if (sscanf(line, "%" SCNx64 " %" SCNx64 " %c %63s", &s.addr, &s.size, &s.type,
                   s.name) == 4 && strchr("tT", s.type)) {
            out[n++] = s;
        }
    }
    if (p) {
        pclose(p);
    }
    return n;
}

static char prog64[256], prog32[256];

/* Build the program for -m64 and -m32 (in dir/src, compiled from dir: relative names). */
static int build_programs(void)
{
    char src[300];

    snprintf(src, sizeof(src), "%s/src", dir);
    mkdir(src, 0755);
    path_in_dir(src, sizeof(src), "src/prog.c");
    if (write_file(src, prog_c, sizeof(prog_c) - 1) < 0) {
        return -1;
    }
    path_in_dir(prog64, sizeof(prog64), "prog64");
    path_in_dir(prog32, sizeof(prog32), "prog32");
    return shell("cd %s && cc -g -O1 -nostdlib -static -no-pie -Wl,-e,_start "
                 "-Wl,--build-id=none -o prog64 src/prog.c && cc -m32 -g -O1 -nostdlib -static "
                 "-no-pie -Wl,-e,_start -Wl,--build-id=none -o prog32 src/prog.c", dir);
}

static struct symbols *load(const char *spec, char *err, size_t len)
{
    struct symbols *s = symbols_new();

    if (s && symbols_add(s, spec, err, len) < 0) {
        symbols_free(s);
        return NULL;
    }
    return s;
}

/* Every function nm lists is found at its address and inside it, with its range from nm -S. */
static void check_names_against_nm(const char *elf, const char *spec, uint64_t bias,
                                   bool sized)
{
    struct nm_sym syms[32];
    int n = nm_symbols(elf, syms, 32);
    char err[512];
    struct symbols *s = load(spec, err, sizeof(err));

    CHECK(n == 3, "%s: nm lists %d functions", elf, n);
    CHECK(s, "%s: %s", spec, err);
    for (int i = 0; s && i < n; i++) {
        struct symbol_where w;
        uint64_t lo, hi, last = syms[i].addr + syms[i].size - 1;

        CHECK(symbols_lookup(s, syms[i].addr + bias, false, &w) && w.func &&
              strcmp(w.func, syms[i].name) == 0 && w.func_offset == 0 &&
              w.func_addr == syms[i].addr + bias, "%s: %s at 0x%" PRIx64 ": %s+0x%" PRIx64,
              spec, syms[i].name, syms[i].addr, w.func ? w.func : "(none)", w.func_offset);
        CHECK(symbols_lookup(s, last + bias, false, &w) && w.func &&
              strcmp(w.func, syms[i].name) == 0 && w.func_offset == syms[i].size - 1,
              "%s: the last byte of %s: %s", spec, syms[i].name, w.func ? w.func : "(none)");
        CHECK(symbols_function_range(s, syms[i].name, &lo, &hi, err, sizeof(err)) == 0 &&
              lo == syms[i].addr + bias && (sized ? hi == last + 1 + bias : hi > last + bias),
              "%s: range of %s: [0x%" PRIx64 ", 0x%" PRIx64 ") %s", spec, syms[i].name, lo, hi,
              err);
    }
    symbols_free(s);
}

static void test_elf_names_match_nm(void)
{
    check_names_against_nm(prog64, prog64, 0, true);
    check_names_against_nm(prog32, prog32, 0, true);
}

/* file:line of every address of the functions, as addr2line says. */
static void check_lines_against_addr2line(const char *elf)
{
    struct nm_sym syms[32];
    int n = nm_symbols(elf, syms, 32), compared = 0;
    char err[512];
    struct symbols *s = load(elf, err, sizeof(err));

    CHECK(s, "%s", err);
    for (int i = 0; s && i < n; i++) {
        for (uint64_t a = syms[i].addr; a < syms[i].addr + syms[i].size; a++) {
            struct symbol_where w;
            char want[512], got[512];

            run_line(want, sizeof(want), "addr2line -e %s 0x%" PRIx64, elf, a);
            want[strcspn(want, " ")] = '\0';    /* " (discriminator N)" */
            symbols_lookup(s, a, false, &w);
            snprintf(got, sizeof(got), "%s:%d", w.source ? w.source : "??", w.line);
            CHECK(strcmp(got, want) == 0, "%s 0x%" PRIx64 ": %s, addr2line says %s", elf, a,
                  got, want);
            CHECK(w.file && strcmp(w.file, "src/prog.c") == 0, "the line table's name: %s",
                  w.file ? w.file : "(none)");
            compared++;
        }
    }
    CHECK(compared > 20, "compared %d addresses", compared);
    symbols_free(s);
}

static void test_lines_match_addr2line(void)
{
    check_lines_against_addr2line(prog64);
    check_lines_against_addr2line(prog32);
}

/* The source path is resolved against the compilation directory, its lines are served. */
static void test_source_lines(void)
{
    char err[512], want[300];
    struct symbols *s = load(prog64, err, sizeof(err));
    uint64_t lo = 0, hi;
    struct symbol_where w;

    CHECK(s, "%s", err);
    CHECK(s && symbols_function_range(s, "helper", &lo, &hi, err, sizeof(err)) == 0, "%s", err);
    CHECK(s && symbols_lookup(s, lo, false, &w) && w.line, "helper has a line");
    path_in_dir(want, sizeof(want), "src/prog.c");
    CHECK(w.source && strcmp(w.source, want) == 0, "source %s", w.source ? w.source : "(none)");
    CHECK(s && w.line == 4 && strcmp(symbols_source_line(s, w.source, 4),
                                     "    return x * 3 + sink;") == 0, "line %d", w.line);
    CHECK(s && strcmp(symbols_source_line(s, w.source, 1), "static volatile int sink;") == 0 &&
          strcmp(symbols_source_line(s, w.source, 18), "}") == 0 &&
          !symbols_source_line(s, w.source, 19) && !symbols_source_line(s, w.source, 0),
          "first, last, past the end");
    /* cached: the text stays what it was read as */
    CHECK(shell("echo changed > %s", want) == 0, "rewrite");
    CHECK(s && strcmp(symbols_source_line(s, w.source, 1), "static volatile int sink;") == 0,
          "cached");
    CHECK(write_file(want, prog_c, sizeof(prog_c) - 1) == 0, "restore");
    CHECK(s && !symbols_source_line(s, "/nonexistent/x.c", 1), "missing source");
    symbols_free(s);
}

/* A source file that is gone: file and line are known, the source is not. */
static void test_unreadable_source(void)
{
    char err[512], path[300], src[300];
    struct symbols *s;
    struct symbol_where w;
    uint64_t lo = 0, hi;

    path_in_dir(path, sizeof(path), "src/prog.c");
    path_in_dir(src, sizeof(src), "src/prog.c.away");
    CHECK(rename(path, src) == 0, "move the source away");
    s = load(prog64, err, sizeof(err));
    CHECK(s && symbols_function_range(s, "alpha", &lo, &hi, err, sizeof(err)) == 0, "%s", err);
    CHECK(s && symbols_lookup(s, lo, false, &w) && w.file && w.line > 0 && !w.source,
          "file %s line %d source %s", w.file ? w.file : "-", w.line, w.source ? w.source : "-");
    symbols_free(s);
    CHECK(rename(src, path) == 0, "move it back");
}

/* strip --strip-debug: names without lines; strip --strip-all: refused. */
static void test_stripped(void)
{
    char err[512], path[300], all[300];
    struct symbols *s;
    struct symbol_where w;
    uint64_t lo = 0, hi;

    path_in_dir(path, sizeof(path), "prog64.nodebug");
    CHECK(shell("strip --strip-debug -o %s %s", path, prog64) == 0, "strip");
    check_names_against_nm(path, path, 0, true);
    s = load(path, err, sizeof(err));
    CHECK(s && symbols_function_range(s, "alpha", &lo, &hi, err, sizeof(err)) == 0, "%s", err);
    CHECK(s && symbols_lookup(s, lo + 2, false, &w) && strcmp(w.func, "alpha") == 0 &&
          !w.file && w.line == 0 && !w.source, "names only");
    symbols_free(s);

    path_in_dir(all, sizeof(all), "prog64.stripped");
    CHECK(shell("strip --strip-all -o %s %s", all, prog64) == 0, "strip");
    s = load(all, err, sizeof(err));
    CHECK(!s && strstr(err, all) && strstr(err, "neither function symbols nor line tables") &&
          strstr(err, "before strip"), "%s", err);
    symbols_free(s);
}

/* Copy an nm list with every address lowered by delta. */
static int shift_list(const char *from, const char *to, uint64_t delta)
{
    FILE *in = fopen(from, "r"), *out = fopen(to, "w");
    char name[256], type;
    uint64_t a;
    int n = 0;

    while (in && out && fscanf(in, "%" SCNx64 " %c %255s", &a, &type, name) == 3) {
        fprintf(out, "%016" PRIx64 " %c %s\n", a - delta, type, name);
        n++;
    }
    if (in) {
        fclose(in);
    }
    if (out) {
        fclose(out);
    }
    return n > 3 ? 0 : -1;
}

/* nm's own output is a source too; functions end at the next symbol. With a bias, the same
   answers moved by it. */
static void test_nm_list_and_bias(void)
{
    char map[300], lower[300], spec[400], err[512];

    path_in_dir(map, sizeof(map), "prog64.map");
    CHECK(shell("nm %s > %s", prog64, map) == 0, "nm");
    check_names_against_nm(prog64, map, 0, false);
    /* every address 0x1000 lower in the file, placed back with @0x1000 */
    path_in_dir(lower, sizeof(lower), "prog64-lower.map");
    CHECK(shift_list(map, lower, 0x1000) == 0, "write the lower list");
    snprintf(spec, sizeof(spec), "%s@0x1000", lower);
    check_names_against_nm(prog64, spec, 0, false);
    snprintf(spec, sizeof(spec), "%s@4096", lower);
    check_names_against_nm(prog64, spec, 0, false);
    /* and the ELF itself moved: negative and positive */
    snprintf(spec, sizeof(spec), "%s@-0x400000", prog64);
    check_names_against_nm(prog64, spec, (uint64_t)0 - 0x400000, true);
    snprintf(spec, sizeof(spec), "%s@0x7f0000000000", prog64);
    check_names_against_nm(prog64, spec, 0x7f0000000000ull, true);
    {
        struct symbols *s, *plain = load(prog64, err, sizeof(err));
        struct symbol_where w, want = { 0 };
        uint64_t lo = 0, hi;

        snprintf(spec, sizeof(spec), "%s@0x7f0000000000", prog64);
        s = load(spec, err, sizeof(err));
        CHECK(plain && symbols_function_range(plain, "alpha", &lo, &hi, err, sizeof(err)) == 0 &&
              symbols_lookup(plain, lo + 6, false, &want) && want.line > 0, "unmoved");
        CHECK(s && symbols_lookup(s, lo + 6 + 0x7f0000000000ull, false, &w) &&
              w.line == want.line && w.source && strcmp(w.source, want.source) == 0,
              "lines follow the bias: %d, unmoved %d", w.line, want.line);
        CHECK(s && !symbols_lookup(s, lo + 6, false, &w), "the unmoved address names nothing");
        symbols_free(s);
        symbols_free(plain);
    }
}

/* System.map and /proc/kallsyms: modules in brackets, tabs, undefined symbols without an
   address, capital hex; the last function reaches a bounded span. */
static void test_kallsyms_form(void)
{
    static const char list[] =
        "ffffffff81000000 T _text\n"
        "ffffffff81000000 T startup_64\n"
        "ffffffff81000100 t helper_a\n"
        "                 U undefined_thing\n"
        "ffffffff81000180 D some_data\n"
        "\n"
        "FFFFFFFFC0001000 t mod_fn\t[mymod]\n"
        "ffffffffc0001040 T mod_fn2\t[mymod]\n";
    char path[300], err[512];
    struct symbols *s;
    struct symbol_where w;
    uint64_t lo = 0, hi = 0;

    path_in_dir(path, sizeof(path), "kallsyms");
    CHECK(write_file(path, list, sizeof(list) - 1) == 0, "write");
    s = load(path, err, sizeof(err));
    CHECK(s, "%s", err);
    CHECK(s && symbols_lookup(s, 0xffffffff81000010ull, false, &w) &&
          strcmp(w.func, "_text") == 0 && w.func_offset == 0x10, "aliases: %s",
          w.func ? w.func : "-");
    CHECK(s && symbols_function_range(s, "startup_64", &lo, &hi, err, sizeof(err)) == 0 &&
          lo == 0xffffffff81000000ull && hi == 0xffffffff81000100ull, "alias range %s", err);
    CHECK(s && symbols_lookup(s, 0xffffffff8100017full, false, &w) &&
          strcmp(w.func, "helper_a") == 0, "ends at the data symbol");
    CHECK(s && !symbols_lookup(s, 0xffffffff81000180ull, false, &w), "data is not code");
    CHECK(s && symbols_lookup(s, 0xffffffffc0001001ull, false, &w) &&
          strcmp(w.func, "mod_fn") == 0, "module symbol");
    CHECK(s && symbols_function_range(s, "mod_fn2", &lo, &hi, err, sizeof(err)) == 0 &&
          hi - lo == 0x10000, "the last one's span: 0x%" PRIx64, hi - lo);
    CHECK(s && symbols_function_range(s, "undefined_thing", &lo, &hi, err, sizeof(err)) < 0 &&
          strstr(err, "no function undefined_thing"), "%s", err);
    symbols_free(s);

    /* kallsyms read without privilege */
    CHECK(write_file(path, "0000000000000000 T a\n0000000000000000 t b\n", 42) == 0, "write");
    s = load(path, err, sizeof(err));
    CHECK(!s && strstr(err, "address 0") && strstr(err, "as root"), "%s", err);
    symbols_free(s);
}

/* Lookups with the PC after the instruction use the byte before it. */
static void test_pc_after(void)
{
    char err[512], buf[128];
    struct symbols *s = load(prog64, err, sizeof(err));
    struct symbol_where w;
    uint64_t lo = 0, hi = 0, alo = 0, ahi;

    CHECK(s && symbols_function_range(s, "helper", &lo, &hi, err, sizeof(err)) == 0 &&
          symbols_function_range(s, "alpha", &alo, &ahi, err, sizeof(err)) == 0, "%s", err);
    /* the address after helper's last instruction is inside helper's last byte's successor */
    CHECK(s && symbols_lookup(s, hi, true, &w) && strcmp(w.func, "helper") == 0 &&
          w.func_offset == hi - lo, "after: %s+0x%" PRIx64, w.func ? w.func : "-",
          w.func_offset);
    CHECK(s && symbols_lookup(s, alo, false, &w) && strcmp(w.func, "alpha") == 0, "at");
    symbols_format(s, lo + 3, false, false, buf, sizeof(buf));
    CHECK(strcmp(buf, "helper+0x3") == 0, "%s", buf);
    symbols_format(s, lo, false, true, buf, sizeof(buf));
    CHECK(strcmp(buf, "prog.c:4") == 0, "%s", buf);
    symbols_format(s, 0x10, false, false, buf, sizeof(buf));
    CHECK(strcmp(buf, "0x10") == 0, "%s", buf);
    symbols_format(NULL, 0x1234, true, false, buf, sizeof(buf));
    CHECK(strcmp(buf, "0x1234") == 0 && symbols_count(NULL) == 0, "%s", buf);
    symbols_free(s);
}

/* Two sources: the first that covers a PC names it; a name at two addresses is ambiguous. */
static void test_two_sources(void)
{
    char err[512], spec[400];
    struct symbols *s = load(prog64, err, sizeof(err));
    uint64_t lo = 0, hi = 0;

    CHECK(s, "%s", err);
    snprintf(spec, sizeof(spec), "%s@0x100000", prog32);
    CHECK(s && symbols_add(s, spec, err, sizeof(err)) == 0 && symbols_count(s) == 2, "%s",
          err);
    CHECK(s && symbols_function_range(s, "alpha", &lo, &hi, err, sizeof(err)) < 0 &&
          strstr(err, "alpha is defined at several addresses") && strstr(err, prog64) &&
          strstr(err, prog32), "%s", err);
    symbols_free(s);
    s = load(prog64, err, sizeof(err));
    CHECK(s && symbols_add(s, prog64, err, sizeof(err)) == 0 &&
          symbols_function_range(s, "alpha", &lo, &hi, err, sizeof(err)) == 0,
          "the same address twice is one function: %s", err);
    symbols_free(s);
}

/* What is not a symbol source is refused with the file named and what to do; the set is left
   as it was. */
static void test_errors(void)
{
    char path[300], spec[400], err[512];
    struct symbols *s = symbols_new();
    unsigned char garbage[256];

    CHECK(s && symbols_add(s, prog64, err, sizeof(err)) == 0, "%s", err);

    path_in_dir(path, sizeof(path), "missing.elf");
    CHECK(symbols_add(s, path, err, sizeof(err)) < 0 && strstr(err, path) &&
          strstr(err, "No such file") && strstr(err, "nm ELF > FILE"), "%s", err);

    path_in_dir(path, sizeof(path), "bad.map");
    CHECK(write_file(path, "0000000000401000 T alpha\n0000000000401010 t beta\nhello world\n",
                     62) == 0, "write");
    CHECK(symbols_add(s, path, err, sizeof(err)) < 0 && strstr(err, path) &&
          strstr(err, "line 3 is not ADDRESS TYPE NAME") && strstr(err, "\"hello world\""),
          "%s", err);

    path_in_dir(path, sizeof(path), "garbage.bin");
    for (size_t i = 0; i < sizeof(garbage); i++) {
        garbage[i] = (unsigned char)(i * 37 + 11);
    }
    CHECK(write_file(path, garbage, sizeof(garbage)) == 0, "write");
    CHECK(symbols_add(s, path, err, sizeof(err)) < 0 && strstr(err, "neither an ELF nor an nm "
          "symbol list: line 1 is not ADDRESS TYPE NAME") && strstr(err, "\\x0b"), "%s", err);

    /* a NUL inside a line is a binary file, not the end of the list */
    path_in_dir(path, sizeof(path), "nul.map");
    CHECK(write_file(path, "0000000000401000 T alpha\n00000000\0 garbage\n", 43) == 0, "write");
    CHECK(symbols_add(s, path, err, sizeof(err)) < 0 && strstr(err, "line 2 is not ADDRESS") &&
          strstr(err, "\\x00"), "%s", err);

    path_in_dir(path, sizeof(path), "empty.map");
    CHECK(write_file(path, "", 0) == 0, "write");
    CHECK(symbols_add(s, path, err, sizeof(err)) < 0 && strstr(err, "no function symbols"),
          "%s", err);

    /* an AArch64 ELF: the program with its e_machine changed */
    path_in_dir(path, sizeof(path), "arm64.elf");
    CHECK(shell("cp %s %s && printf '\\267\\000' | dd of=%s bs=1 seek=18 conv=notrunc "
                "status=none", prog64, path, path) == 0, "patch");
    CHECK(symbols_add(s, path, err, sizeof(err)) < 0 && strstr(err, path) &&
          strstr(err, "is an ELF for AArch64 (machine 183), not x86 or x86-64"), "%s", err);

    path_in_dir(path, sizeof(path), "prog.o");
    CHECK(shell("cd %s && cc -g -c -o prog.o src/prog.c", dir) == 0, "cc -c");
    CHECK(symbols_add(s, path, err, sizeof(err)) < 0 && strstr(err, "relocatable object"),
          "%s", err);

    path_in_dir(path, sizeof(path), "fifo");
    CHECK(mkfifo(path, 0644) == 0, "mkfifo");
    CHECK(symbols_add(s, path, err, sizeof(err)) < 0 && strstr(err, "not a regular file"),
          "%s", err);

    snprintf(spec, sizeof(spec), "%s@0xzz", prog64);
    CHECK(symbols_add(s, spec, err, sizeof(err)) < 0 && strstr(err, "bad bias '0xzz'"), "%s",
          err);
    snprintf(spec, sizeof(spec), "%s@", prog64);
    CHECK(symbols_add(s, spec, err, sizeof(err)) < 0 && strstr(err, "bad bias ''"), "%s", err);
    snprintf(spec, sizeof(spec), "%s@-0x500000", prog64);
    CHECK(symbols_add(s, spec, err, sizeof(err)) < 0 && strstr(err, "below the 64-bit"), "%s",
          err);
    CHECK(symbols_add(s, "@0x10", err, sizeof(err)) < 0 && strstr(err, "no FILE"), "%s", err);

    /* a file whose name has an '@' of its own */
    path_in_dir(path, sizeof(path), "name@v2.map");
    CHECK(write_file(path, "0000000000401000 T alpha\n", 25) == 0, "write");
    CHECK(symbols_add(s, path, err, sizeof(err)) == 0, "%s", err);

    CHECK(symbols_count(s) == 2, "%d sources", symbols_count(s));
    symbols_free(s);
}

int main(void)
{
    int status;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    if (build_programs() != 0) {
        printf("not ok - build_programs: cc failed\n");
        return 1;
    }
    RUN_TEST(test_elf_names_match_nm);
    RUN_TEST(test_lines_match_addr2line);
    RUN_TEST(test_source_lines);
    RUN_TEST(test_unreadable_source);
    RUN_TEST(test_stripped);
    RUN_TEST(test_nm_list_and_bias);
    RUN_TEST(test_kallsyms_form);
    RUN_TEST(test_pc_after);
    RUN_TEST(test_two_sources);
    RUN_TEST(test_errors);
    status = TEST_SUMMARY();
    if (shell("rm -rf %s", dir) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
    return status;
}
