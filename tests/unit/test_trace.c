/*
 * Unit tests of the trace file format (debugger/trace_file.c): round trip, and every kind of damage
 * reported with its place while the records before it are still read.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace_file.h"
#include "check.h"

static char dir[] = "/tmp/regdbg-test-trace-XXXXXX";

static void path_in_dir(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

static void sample_header(struct regdbg_trace_header *h)
{
    struct regdbg_shm_header sh;

    memset(&sh, 0, sizeof(sh));
    snprintf(sh.dev_id, sizeof(sh.dev_id), "i2c0");
    sh.vendor_id = 0x8086;
    sh.device_id = 0x0f41;
    sh.class_code = 0x0c8000;
    sh.bars[0].size = 4096;
    sh.bars[0].type = REGDBG_BAR_MEM32;
    trace_header_from_shm(h, &sh);
    h->start_monotonic_ns = 1000;
}

static struct regdbg_trace_record sample_record(uint64_t i)
{
    struct regdbg_trace_record r = {
        .seq = i, .t_ns = 2000 + i, .offset = (i * 4) % 4096, .value = i * 0x01010101u,
        .orig_value = i * 0x01010101u, .cpu = (int32_t)(i % 2), .rule = REGDBG_RULE_NONE,
        .bar = 0, .size = 4, .dir = (uint8_t)(i % 2), .kind = REGDBG_REC_ACCESS,
    };
    return r;
}

static int write_sample(const char *path, unsigned n)
{
    struct regdbg_trace_header h;
    struct trace_writer *w;
    char err[256];

    sample_header(&h);
    w = trace_writer_open(path, &h, err, sizeof(err));
    if (!w) {
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        struct regdbg_trace_record r = sample_record(i);
        if (trace_writer_add(w, &r, err, sizeof(err)) < 0) {
            return -1;
        }
    }
    return trace_writer_close(w, err, sizeof(err));
}

/* Read all records; return how many were read and the final status. */
static unsigned read_all(const char *path, enum trace_read_status *final, char *err, size_t len)
{
    struct trace_reader *r = trace_reader_open(path, err, len);
    struct regdbg_trace_record rec;
    unsigned n = 0;

    if (!r) {
        *final = TRACE_IO_ERROR;
        return 0;
    }
    while ((*final = trace_reader_next(r, &rec, err, len)) == TRACE_RECORD) {
        struct regdbg_trace_record want = sample_record(n);
        CHECK(memcmp(&rec, &want, sizeof(rec)) == 0, "record %u differs", n);
        n++;
    }
    trace_reader_close(r);
    return n;
}

static void test_round_trip(void)
{
    char path[256], err[256];
    enum trace_read_status st;
    struct trace_reader *r;

    path_in_dir(path, sizeof(path), "round.trace");
    CHECK(write_sample(path, 100000) == 0, "write");
    CHECK(read_all(path, &st, err, sizeof(err)) == 100000, "count");
    CHECK(st == TRACE_EOF, "status %d: %s", st, err);
    r = trace_reader_open(path, err, sizeof(err));
    CHECK(r && strcmp(trace_reader_header(r)->dev_id, "i2c0") == 0 &&
          trace_reader_header(r)->vendor_id == 0x8086 &&
          trace_reader_header(r)->bars[0].size == 4096, "header fields");
    trace_reader_close(r);
}

static void test_truncated_record(void)
{
    char path[256], err[256];
    enum trace_read_status st;

    path_in_dir(path, sizeof(path), "trunc.trace");
    CHECK(write_sample(path, 10) == 0, "write");
    /* The first record is a full one (64 bytes), the rest are short (32). */
    CHECK(truncate(path, REGDBG_TRACE_HEADER_SIZE + 64 + 6 * 32 + 20) == 0, "truncate");
    CHECK(read_all(path, &st, err, sizeof(err)) == 7, "the 7 whole records are read");
    CHECK(st == TRACE_PARTIAL && strstr(err, "truncated") && strstr(err, "20 stray bytes"),
          "status %d: %s", st, err);
}

static void test_truncated_header(void)
{
    char path[256], err[256];

    path_in_dir(path, sizeof(path), "trunc-header.trace");
    CHECK(write_sample(path, 1) == 0, "write");
    CHECK(truncate(path, 100) == 0, "truncate");
    CHECK(trace_reader_open(path, err, sizeof(err)) == NULL, "opened a cut header");
    CHECK(strstr(err, "truncated") && strstr(err, "100 of 256"), "%s", err);
}

static void test_foreign_file(void)
{
    char path[256], err[256];
    int fd;

    path_in_dir(path, sizeof(path), "foreign");
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, "#!/bin/sh\necho hello\n", 21) == 21, "write");
    close(fd);
    CHECK(trace_reader_open(path, err, sizeof(err)) == NULL, "opened a shell script");
    CHECK(strstr(err, "not a regdbg trace file"), "%s", err);
    path_in_dir(path, sizeof(path), "missing");
    CHECK(trace_reader_open(path, err, sizeof(err)) == NULL && strstr(err, "No such file"),
          "%s", err);
}

static void patch(const char *path, off_t at, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY);

    CHECK(fd >= 0 && pwrite(fd, data, len, at) == (ssize_t)len, "patch");
    close(fd);
}

static void test_newer_version(void)
{
    char path[256], err[256];
    uint32_t v = 7;

    path_in_dir(path, sizeof(path), "v7.trace");
    CHECK(write_sample(path, 3) == 0, "write");
    patch(path, 8, &v, sizeof(v));
    CHECK(trace_reader_open(path, err, sizeof(err)) == NULL, "opened version 7");
    CHECK(strstr(err, "version 7"), "%s", err);
}

static void test_corrupt_record(void)
{
    char path[256], err[256];
    enum trace_read_status st;
    uint8_t bad_bar = 7 | 2 << 3;
    uint8_t bad_size = 3;
    uint8_t bad_kind = 0x7f;

    path_in_dir(path, sizeof(path), "corrupt.trace");
    CHECK(write_sample(path, 10) == 0, "write");
    patch(path, REGDBG_TRACE_HEADER_SIZE + 64 + 4 * 32 + 1, &bad_bar, 1);
    CHECK(read_all(path, &st, err, sizeof(err)) == 5, "records before the damage");
    CHECK(st == TRACE_CORRUPT && strstr(err, "byte 448") && strstr(err, "record 5") &&
          strstr(err, "BAR number"), "status %d: %s", st, err);

    CHECK(write_sample(path, 10) == 0, "write");
    patch(path, REGDBG_TRACE_HEADER_SIZE + 2, &bad_size, 1);
    CHECK(read_all(path, &st, err, sizeof(err)) == 0, "nothing before the damage");
    CHECK(st == TRACE_CORRUPT && strstr(err, "byte 256") && strstr(err, "size is not"),
          "status %d: %s", st, err);

    CHECK(write_sample(path, 10) == 0, "write");
    patch(path, REGDBG_TRACE_HEADER_SIZE + 64 + 2 * 32, &bad_kind, 1);
    CHECK(read_all(path, &st, err, sizeof(err)) == 3, "records before the damage");
    CHECK(st == TRACE_CORRUPT && strstr(err, "unknown record kind"), "status %d: %s", st, err);
}

static void test_sequence_backwards(void)
{
    char path[256], err[256];
    enum trace_read_status st;
    uint32_t seq_lo = 1;

    path_in_dir(path, sizeof(path), "backwards.trace");
    CHECK(write_sample(path, 10) == 0, "write");
    patch(path, REGDBG_TRACE_HEADER_SIZE + 64 + 3 * 32 + 24, &seq_lo, sizeof(seq_lo));
    CHECK(read_all(path, &st, err, sizeof(err)) == 4, "records before the damage");
    CHECK(st == TRACE_CORRUPT && strstr(err, "sequence check fails"), "status %d: %s", st, err);
}

/* A record written twice (a copy glitch, a recorder that wrote one position twice): the reader
   stops at the second copy, whose seq does not go forward, and says where. */
static void test_duplicated_record(void)
{
    char path[256], err[256];
    enum trace_read_status st;
    unsigned char buf[REGDBG_TRACE_HEADER_SIZE + 64 + 9 * 32];
    FILE *f;
    int fd;

    path_in_dir(path, sizeof(path), "duplicate.trace");
    CHECK(write_sample(path, 10) == 0, "write");
    f = fopen(path, "rb");
    CHECK(f && fread(buf, 1, sizeof(buf), f) == sizeof(buf), "read back");
    if (f) {
        fclose(f);
    }
    /* header, full record 0, full record 0 again, short records 1-9 */
    fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(fd >= 0 && write(fd, buf, REGDBG_TRACE_HEADER_SIZE + 64) ==
          REGDBG_TRACE_HEADER_SIZE + 64 &&
          write(fd, buf + REGDBG_TRACE_HEADER_SIZE, sizeof(buf) - REGDBG_TRACE_HEADER_SIZE) ==
          (ssize_t)(sizeof(buf) - REGDBG_TRACE_HEADER_SIZE), "write the duplicate");
    close(fd);
    CHECK(read_all(path, &st, err, sizeof(err)) == 1, "records before the duplicate");
    CHECK(st == TRACE_CORRUPT && strstr(err, "is corrupt at byte 320 (record 1): sequence number "
          "goes backwards"), "status %d: %s", st, err);

    /* the same with a full record in the middle: records 0-4, then record 4 again */
    {
        struct regdbg_trace_header h;
        struct trace_writer *w;
        struct regdbg_trace_record r;
        unsigned char full[64];

        sample_header(&h);
        w = trace_writer_open(path, &h, err, sizeof(err));
        CHECK(w, "open: %s", err);
        for (unsigned i = 0; w && i < 5; i++) {
            r = sample_record(i);
            r.flags = i == 4 ? REGDBG_EV_EDITED : 0;    /* record 4 is a full one */
            CHECK(trace_writer_add(w, &r, err, sizeof(err)) == 0, "add %u: %s", i, err);
        }
        CHECK(w && trace_writer_close(w, err, sizeof(err)) == 0, "close: %s", err);
        fd = open(path, O_RDWR);
        CHECK(fd >= 0 && pread(fd, full, 64, REGDBG_TRACE_HEADER_SIZE + 64 + 3 * 32) == 64 &&
              full[0] == REGDBG_DISK_FULL, "the full record 4");
        CHECK(pwrite(fd, full, 64, REGDBG_TRACE_HEADER_SIZE + 2 * 64 + 3 * 32) == 64,
              "append its copy");
        close(fd);
    }
    {
        struct trace_reader *rd = trace_reader_open(path, err, sizeof(err));
        struct regdbg_trace_record rec;
        unsigned n = 0;

        CHECK(rd, "open: %s", err);
        while (rd && (st = trace_reader_next(rd, &rec, err, sizeof(err))) == TRACE_RECORD) {
            CHECK(rec.seq == n, "record %u has seq %llu", n, (unsigned long long)rec.seq);
            n++;
        }
        trace_reader_close(rd);
        CHECK(n == 5, "%u records before the duplicate", n);
        CHECK(st == TRACE_CORRUPT && strstr(err, "is corrupt at byte 480 (record 5): sequence "
              "number goes backwards"), "status %d: %s", st, err);
    }
}

static void test_growing_file(void)
{
    char path[256], grow[256], err[256];
    struct regdbg_trace_record rec, r0 = sample_record(0), r1 = sample_record(1);
    struct trace_reader *r;
    unsigned char *data;
    FILE *f;
    int fd;

    /* A complete file to copy from in pieces, as a recorder would write it. */
    path_in_dir(path, sizeof(path), "whole.trace");
    CHECK(write_sample(path, 2) == 0, "write");
    data = malloc(REGDBG_TRACE_HEADER_SIZE + 96);
    f = fopen(path, "rb");
    CHECK(f && fread(data, 1, REGDBG_TRACE_HEADER_SIZE + 96, f) == REGDBG_TRACE_HEADER_SIZE + 96,
          "read back");
    if (f) {
        fclose(f);
    }
    path_in_dir(grow, sizeof(grow), "growing.trace");
    fd = open(grow, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(write(fd, data, REGDBG_TRACE_HEADER_SIZE + 40) == REGDBG_TRACE_HEADER_SIZE + 40,
          "write");
    r = trace_reader_open(grow, err, sizeof(err));
    CHECK(r != NULL, "%s", err);
    if (!r) {
        close(fd);
        free(data);
        return;
    }
    CHECK(trace_reader_next(r, &rec, err, sizeof(err)) == TRACE_PARTIAL, "half a record");
    CHECK(write(fd, data + REGDBG_TRACE_HEADER_SIZE + 40, 56) == 56, "append");
    CHECK(trace_reader_next(r, &rec, err, sizeof(err)) == TRACE_RECORD &&
          memcmp(&rec, &r0, sizeof(rec)) == 0, "the completed record");
    CHECK(trace_reader_next(r, &rec, err, sizeof(err)) == TRACE_RECORD &&
          memcmp(&rec, &r1, sizeof(rec)) == 0, "the next record");
    CHECK(trace_reader_next(r, &rec, err, sizeof(err)) == TRACE_EOF, "end");
    trace_reader_close(r);
    close(fd);
    free(data);
}

static void test_rich_records_round_trip(void)
{
    char path[256], err[256];
    struct regdbg_trace_header h;
    struct regdbg_trace_record in[5], out;
    struct trace_writer *w;
    struct trace_reader *r;
    unsigned n = 0;

    /* Records a rule touched, 64-bit offsets, drops and the end: all must come back as written. */
    in[0] = sample_record(7);
    in[1] = sample_record(8);
    in[1].flags = REGDBG_EV_EDITED;
    in[1].orig_value = 0x1234;
    in[1].rule = 3;
    in[1].guest_pc = 0xfffff0;
    in[2] = (struct regdbg_trace_record){ .seq = 9, .t_ns = 5, .value = 42,
                                          .cpu = REGDBG_CPU_NONE, .rule = REGDBG_RULE_NONE,
                                          .kind = REGDBG_REC_DROP };
    in[3] = sample_record(9);
    in[3].offset = 0x100000000ull;
    in[3].size = 8;
    in[3].bar = 2;
    in[4] = (struct regdbg_trace_record){ .t_ns = 6, .value = 3, .orig_value = 42,
                                          .cpu = REGDBG_CPU_NONE, .rule = REGDBG_RULE_NONE,
                                          .kind = REGDBG_REC_END };
    path_in_dir(path, sizeof(path), "rich.trace");
    sample_header(&h);
    w = trace_writer_open(path, &h, err, sizeof(err));
    for (unsigned i = 0; w && i < 5; i++) {
        CHECK(trace_writer_add(w, &in[i], err, sizeof(err)) == 0, "add");
    }
    CHECK(w && trace_writer_close(w, err, sizeof(err)) == 0, "close");
    r = trace_reader_open(path, err, sizeof(err));
    while (r && trace_reader_next(r, &out, err, sizeof(err)) == TRACE_RECORD && n < 5) {
        CHECK(memcmp(&out, &in[n], sizeof(out)) == 0, "record %u differs", n);
        n++;
    }
    CHECK(n == 5, "read %u records: %s", n, err);
    trace_reader_close(r);
}

/* The writer never writes an access its own reader would refuse: what follows stays readable. */
static void test_writer_refuses_impossible_access(void)
{
    static const struct {
        uint8_t size, dir, bar;
        uint16_t flags;
        uint8_t mode;
        const char *why;
    } bad[] = {
        { 0, 0, 0, 0, 0, "access size is not 1, 2, 4 or 8 (size 0, dir 0, BAR 0, flags 0x0, "
          "mode 0)" },
        { 4, 4, 0, 0, 0, "direction is neither read nor write (size 4, dir 4, BAR 0" },
        { 4, 2, 0, 0, 0, "an interrupt event with a size or a BAR (size 4, dir 2, BAR 0" },
        { 4, 1, 0, REGDBG_EV_IRQ_MSI, 0, "flags has unknown bits (size 4, dir 1, BAR 0, "
          "flags 0x200" },
        { 4, 1, 6, 0, 0, "BAR number is out of range (size 4, dir 1, BAR 6" },
        { 4, 1, 0, 0x200, 0, "flags has unknown bits (size 4, dir 1, BAR 0, flags 0x200, "
          "mode 0)" },
        { 4, 1, 0, REGDBG_EV_PC_AFTER, 0, "flag pc-after without flag pc" },
        { 4, 1, 0, REGDBG_EV_PC, REGDBG_MODE_MAX + 1, "CPU mode is out of range (size 4, dir 1, "
          "BAR 0, flags 0x80, mode 8)" },
    };
    char path[256], err[256];
    struct regdbg_trace_header h;
    struct trace_writer *w;
    enum trace_read_status st;

    path_in_dir(path, sizeof(path), "refuse.trace");
    sample_header(&h);
    w = trace_writer_open(path, &h, err, sizeof(err));
    CHECK(w, "open: %s", err);
    if (!w) {
        return;
    }
    for (unsigned i = 0; i < 2; i++) {
        struct regdbg_trace_record r = sample_record(i);
        CHECK(trace_writer_add(w, &r, err, sizeof(err)) == 0, "add %u: %s", i, err);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct regdbg_trace_record r = sample_record(2);
        r.size = bad[i].size;
        r.dir = bad[i].dir;
        r.bar = bad[i].bar;
        r.flags = bad[i].flags;
        r.cpu_mode = bad[i].mode;
        CHECK(trace_writer_add(w, &r, err, sizeof(err)) < 0 && strstr(err, "refusing to write "
              "access seq 2 into ") && strstr(err, bad[i].why), "case %zu: %s", i, err);
    }
    {
        struct regdbg_trace_record r = sample_record(2);
        CHECK(trace_writer_add(w, &r, err, sizeof(err)) == 0, "add 2: %s", err);
    }
    CHECK(trace_writer_close(w, err, sizeof(err)) == 0, "close: %s", err);
    CHECK(read_all(path, &st, err, sizeof(err)) == 3 && st == TRACE_EOF, "status %d: %s", st,
          err);
}

/* Accesses with their guest PC: the untouched ones in the 32-byte form with PC, the others in
   full records; everything comes back as written, the ring's guest_pc setting too. */
static void test_pc_records_round_trip(void)
{
    static const uint8_t want_kinds[] = { REGDBG_DISK_FULL, REGDBG_DISK_SHORT_PC,
                                          REGDBG_DISK_FULL, REGDBG_DISK_FULL,
                                          REGDBG_DISK_SHORT_PC, REGDBG_DISK_SHORT,
                                          REGDBG_DISK_FULL, REGDBG_DISK_FULL,
                                          REGDBG_DISK_SHORT_PC };
    enum { N = sizeof(want_kinds) };
    char path[256], err[256];
    struct regdbg_trace_header h;
    struct regdbg_shm_header sh;
    struct regdbg_trace_record in[N], out;
    struct trace_writer *w;
    struct trace_reader *r;
    unsigned char buf[N * 64];
    size_t at = 0, len;
    unsigned n = 0;
    FILE *f;

    for (unsigned i = 0; i < N; i++) {
        in[i] = sample_record(i);
        if (i != 0 && i != 5) {
            in[i].flags = REGDBG_EV_PC;
            in[i].cpu_mode = REGDBG_MODE_PROT32;
            in[i].guest_pc = 0x10117b + i;
        }
    }
    in[2].flags |= REGDBG_EV_PC_AFTER;          /* full: the short form has no room for it */
    in[2].cpu_mode = REGDBG_MODE_LONG64;
    in[2].guest_pc = 0xffffffff81000000ull;
    in[3].size = 8;                             /* full: a 64-bit value */
    in[3].value = in[3].orig_value = 0x1122334455667788ull;
    in[4].size = 1;
    in[4].cpu = REGDBG_CPU_NONE;
    in[4].cpu_mode = REGDBG_MODE_REAL;
    in[4].value = in[4].orig_value = 0xab;
    in[6].offset = 0x100000000ull;              /* full: a 64-bit offset */
    in[7].rule = 5;                             /* full: a rule touched it */
    in[7].flags |= REGDBG_EV_EDITED;
    in[7].orig_value = 1;
    in[8].cpu_mode = REGDBG_MODE_COMPAT16;
    path_in_dir(path, sizeof(path), "pc.trace");
    memset(&sh, 0, sizeof(sh));
    sh.guest_pc = 1;
    trace_header_from_shm(&h, &sh);
    w = trace_writer_open(path, &h, err, sizeof(err));
    for (unsigned i = 0; w && i < N; i++) {
        CHECK(trace_writer_add(w, &in[i], err, sizeof(err)) == 0, "add %u: %s", i, err);
    }
    CHECK(w && trace_writer_close(w, err, sizeof(err)) == 0, "close");
    r = trace_reader_open(path, err, sizeof(err));
    CHECK(r && trace_reader_header(r)->guest_pc == 1 &&
          trace_reader_header(r)->version == REGDBG_TRACE_VERSION, "header: %s", err);
    while (r && trace_reader_next(r, &out, err, sizeof(err)) == TRACE_RECORD && n < N) {
        CHECK(memcmp(&out, &in[n], sizeof(out)) == 0, "record %u differs: flags 0x%x mode %u "
              "pc 0x%llx", n, out.flags, out.cpu_mode, (unsigned long long)out.guest_pc);
        n++;
    }
    CHECK(n == N, "read %u records: %s", n, err);
    trace_reader_close(r);
    f = fopen(path, "rb");
    len = f && fseek(f, REGDBG_TRACE_HEADER_SIZE, SEEK_SET) == 0 ? fread(buf, 1, sizeof(buf), f)
                                                                : 0;
    if (f) {
        fclose(f);
    }
    for (unsigned i = 0; i < N; i++) {
        CHECK(at < len && buf[at] == want_kinds[i], "record %u is kind 0x%02x, wanted 0x%02x", i,
              at < len ? buf[at] : 0, want_kinds[i]);
        at += at < len && buf[at] == REGDBG_DISK_FULL ? 64 : 32;
    }
    CHECK(at == len, "%zu bytes of records, %zu read", at, len);
}

/* Damage in what version 2 added: the mode, the PC flags, the short record with PC. */
static void test_pc_records_damage(void)
{
    static const struct {
        unsigned at;            /* from the first record */
        uint8_t byte;
        const char *why;
    } damage[] = {
        { 60, 8, "record 0): CPU mode is out of range" },
        { 57, 0x02, "record 0): flags has unknown bits" },          /* bit 9 */
        { 56, 0x00, "record 0): flag pc-after without flag pc" },   /* PC cleared, AFTER kept */
        { 61, 1, "record 0): reserved bits are set" },
        { 64 + 20, 9, "record 1): CPU mode is out of range" },
        { 64 + 1, 3 << 3, "record 1): access size is not 1, 2 or 4" },
        { 64 + 22, 1, "record 1): reserved bits are set" },
    };
    char path[256], err[256];
    struct regdbg_trace_header h;
    struct regdbg_trace_record rec[2] = { sample_record(0), sample_record(1) };
    enum trace_read_status st = TRACE_EOF;
    struct trace_writer *w;

    rec[0].flags = REGDBG_EV_PC | REGDBG_EV_PC_AFTER;
    rec[1].flags = REGDBG_EV_PC;
    path_in_dir(path, sizeof(path), "pc-damage.trace");
    for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
        struct trace_reader *r;
        struct regdbg_trace_record out;

        sample_header(&h);
        w = trace_writer_open(path, &h, err, sizeof(err));
        CHECK(w && trace_writer_add(w, &rec[0], err, sizeof(err)) == 0 &&
              trace_writer_add(w, &rec[1], err, sizeof(err)) == 0 &&
              trace_writer_close(w, err, sizeof(err)) == 0, "write: %s", err);
        patch(path, REGDBG_TRACE_HEADER_SIZE + damage[i].at, &damage[i].byte, 1);
        r = trace_reader_open(path, err, sizeof(err));
        while (r && (st = trace_reader_next(r, &out, err, sizeof(err))) == TRACE_RECORD) {
        }
        trace_reader_close(r);
        CHECK(st == TRACE_CORRUPT && strstr(err, damage[i].why), "case %zu: status %d: %s", i,
              st, err);
    }
}

/* A file of version 1 (before PCs) is still read; what version 2 added is damage in it. */
static void test_version_1_is_read(void)
{
    char path[256], err[256];
    enum trace_read_status st;
    uint32_t v1 = 1;
    uint8_t kind = REGDBG_DISK_SHORT_PC, mode = REGDBG_MODE_PROT32;
    struct trace_reader *r;

    path_in_dir(path, sizeof(path), "v1.trace");
    CHECK(write_sample(path, 10) == 0, "write");
    patch(path, 8, &v1, sizeof(v1));
    CHECK(read_all(path, &st, err, sizeof(err)) == 10 && st == TRACE_EOF, "status %d: %s", st,
          err);
    r = trace_reader_open(path, err, sizeof(err));
    CHECK(r && trace_reader_header(r)->version == 1 && trace_reader_header(r)->guest_pc == 0,
          "header");
    trace_reader_close(r);
    /* the byte of the mode was reserved in version 1 */
    patch(path, REGDBG_TRACE_HEADER_SIZE + 60, &mode, 1);
    CHECK(read_all(path, &st, err, sizeof(err)) == 0 && st == TRACE_CORRUPT &&
          strstr(err, "reserved bits are set"), "status %d: %s", st, err);
    /* and the short record with PC did not exist */
    CHECK(write_sample(path, 10) == 0, "write");
    patch(path, 8, &v1, sizeof(v1));
    patch(path, REGDBG_TRACE_HEADER_SIZE + 64 + 32, &kind, 1);
    CHECK(read_all(path, &st, err, sizeof(err)) == 2 && st == TRACE_CORRUPT &&
          strstr(err, "unknown record kind"), "status %d: %s", st, err);
    v1 = 0;
    patch(path, 8, &v1, sizeof(v1));
    CHECK(trace_reader_open(path, err, sizeof(err)) == NULL &&
          strstr(err, "version 0; this regdbg reads versions 1 to 5"), "%s", err);
}

/* Version 3: where the guest placed a BAR, read back as written; damage in it; none before. */
static void test_bar_records(void)
{
    char path[256], err[256];
    struct regdbg_trace_header h;
    struct trace_writer *w;
    struct trace_reader *r;
    struct regdbg_trace_record out, in[5] = {
        { .kind = REGDBG_REC_BAR, .bar = 0, .value = REGDBG_BAR_UNMAPPED, .t_ns = 1,
          .offset = 0x0008 },
        { .kind = REGDBG_REC_BAR, .bar = 0, .value = 0xfebfe000, .t_ns = 2, .offset = 0x0008 },
        sample_record(0),
        { .kind = REGDBG_REC_BAR, .bar = 2, .value = 0x800000000ull, .t_ns = 3,
          .offset = REGDBG_PCI_UNKNOWN },
        sample_record(1),
    };
    static const struct {
        unsigned at;            /* from the first record */
        uint8_t byte;
        const char *why;
    } damage[] = {
        { 1, 1, "a BAR record for a BAR the header does not describe" },
        { 1, 6, "a BAR record for a BAR the header does not describe" },
        { 2, 2, "reserved bits are set" },
        { 5, 1, "reserved bits are set" },
        { 24, 1, "reserved bits are set" },
    };
    enum trace_read_status st = TRACE_EOF;
    unsigned n = 0;
    uint32_t v2 = 2;

    path_in_dir(path, sizeof(path), "bars.trace");
    sample_header(&h);
    h.bars[2].size = 1 << 20;
    h.bars[2].type = REGDBG_BAR_MEM64;
    w = trace_writer_open(path, &h, err, sizeof(err));
    for (unsigned i = 0; w && i < 5; i++) {
        CHECK(trace_writer_add(w, &in[i], err, sizeof(err)) == 0, "add %u: %s", i, err);
    }
    CHECK(w && trace_writer_close(w, err, sizeof(err)) == 0, "close");
    r = trace_reader_open(path, err, sizeof(err));
    while (r && trace_reader_next(r, &out, err, sizeof(err)) == TRACE_RECORD && n < 5) {
        CHECK(out.kind == in[n].kind && out.bar == in[n].bar && out.value == in[n].value &&
              out.t_ns == in[n].t_ns && out.offset == in[n].offset, "record %u: kind %u bar %u "
              "address 0x%llx pci 0x%llx", n, out.kind, out.bar,
              (unsigned long long)out.value, (unsigned long long)out.offset);
        n++;
    }
    CHECK(n == 5, "read %u records: %s", n, err);
    trace_reader_close(r);
    /* the writer refuses what the reader would */
    w = trace_writer_open(path, &h, err, sizeof(err));
    in[0].bar = 6;
    CHECK(w && trace_writer_add(w, &in[0], err, sizeof(err)) < 0 && strstr(err, "BAR 6"),
          "a BAR record of BAR 6: %s", err);
    in[0].bar = 0;
    trace_writer_close(w, err, sizeof(err));
    for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
        w = trace_writer_open(path, &h, err, sizeof(err));
        CHECK(w && trace_writer_add(w, &in[1], err, sizeof(err)) == 0 &&
              trace_writer_close(w, err, sizeof(err)) == 0, "write: %s", err);
        patch(path, REGDBG_TRACE_HEADER_SIZE + damage[i].at, &damage[i].byte, 1);
        CHECK(read_all(path, &st, err, sizeof(err)) == 0 && st == TRACE_CORRUPT &&
              strstr(err, damage[i].why), "case %zu: status %d: %s", i, st, err);
    }
    /* before version 3 the kind did not exist */
    w = trace_writer_open(path, &h, err, sizeof(err));
    CHECK(w && trace_writer_add(w, &in[1], err, sizeof(err)) == 0 &&
          trace_writer_close(w, err, sizeof(err)) == 0, "write: %s", err);
    patch(path, 8, &v2, sizeof(v2));
    CHECK(read_all(path, &st, err, sizeof(err)) == 0 && st == TRACE_CORRUPT &&
          strstr(err, "unknown record kind"), "status %d: %s", st, err);
}

/* An interrupt event as the device publishes it (regdbg/abi.h): seq i, INTx pin A. */
static struct regdbg_trace_record irq_record(uint64_t i, uint8_t what, uint8_t action,
                                             uint8_t source)
{
    struct regdbg_trace_record r = {
        .seq = i, .t_ns = 2000 + i, .offset = 1, .value = what, .orig_value = action,
        .cpu = REGDBG_CPU_NONE, .rule = REGDBG_RULE_NONE, .dir = REGDBG_DIR_IRQ,
        .kind = REGDBG_REC_ACCESS, .irq_source = source,
    };
    return r;
}

/* Interrupt events between accesses: full records, every field back as written, and the
   accesses after them still in the short form (their sequence numbers go on). */
static void test_irq_records_round_trip(void)
{
    static const uint8_t want_kinds[] = { REGDBG_DISK_FULL, REGDBG_DISK_FULL, REGDBG_DISK_FULL,
                                          REGDBG_DISK_SHORT, REGDBG_DISK_FULL, REGDBG_DISK_FULL,
                                          REGDBG_DISK_FULL, REGDBG_DISK_SHORT };
    enum { N = sizeof(want_kinds) };
    char path[256], err[256];
    struct regdbg_trace_header h;
    struct regdbg_trace_record in[N], out;
    struct trace_writer *w;
    struct trace_reader *r;
    unsigned char buf[N * 64];
    size_t at = 0, len;
    unsigned n = 0;
    FILE *f;

    in[0] = sample_record(0);
    /* a rule fired on that write, on vCPU 1, whose PC the access had */
    in[1] = irq_record(1, REGDBG_IRQ_RAISED, REGDBG_IRQ_PULSE, REGDBG_IRQ_SRC_RULE);
    in[1].rule = 3;
    in[1].cpu = 1;
    in[1].flags = REGDBG_EV_PC | REGDBG_EV_PC_AFTER;
    in[1].cpu_mode = REGDBG_MODE_LONG64;
    in[1].guest_pc = 0xffffffff81000010ull;
    in[2] = irq_record(2, REGDBG_IRQ_LOWERED, REGDBG_IRQ_PULSE, REGDBG_IRQ_SRC_RULE);
    in[2].rule = 3;
    in[3] = sample_record(3);
    /* an MSI the guest's command register blocked, from the debugger */
    in[4] = irq_record(4, REGDBG_IRQ_MSI, REGDBG_IRQ_ASSERT, REGDBG_IRQ_SRC_DEBUGGER);
    in[4].flags = REGDBG_EV_IRQ_MSI | REGDBG_EV_IRQ_BLOCKED;
    in[4].offset = 0;
    /* what the host engineer's thread publishes: nobody asked */
    in[5] = irq_record(5, REGDBG_IRQ_HOST_MASKED, 0, REGDBG_IRQ_SRC_HOST);
    in[6] = irq_record(6, REGDBG_IRQ_LOWERED, 0, REGDBG_IRQ_SRC_DEVICE);
    in[6].offset = 4;
    in[7] = sample_record(7);
    path_in_dir(path, sizeof(path), "irq.trace");
    sample_header(&h);
    w = trace_writer_open(path, &h, err, sizeof(err));
    for (unsigned i = 0; w && i < N; i++) {
        CHECK(trace_writer_add(w, &in[i], err, sizeof(err)) == 0, "add %u: %s", i, err);
    }
    CHECK(w && trace_writer_close(w, err, sizeof(err)) == 0, "close");
    r = trace_reader_open(path, err, sizeof(err));
    CHECK(r && trace_reader_header(r)->version == REGDBG_TRACE_VERSION, "header: %s", err);
    while (r && trace_reader_next(r, &out, err, sizeof(err)) == TRACE_RECORD && n < N) {
        CHECK(memcmp(&out, &in[n], sizeof(out)) == 0, "record %u differs: dir %u value %llu "
              "source %u rule %u flags 0x%x", n, out.dir, (unsigned long long)out.value,
              out.irq_source, out.rule, out.flags);
        n++;
    }
    CHECK(n == N, "read %u records: %s", n, err);
    trace_reader_close(r);
    f = fopen(path, "rb");
    len = f && fseek(f, REGDBG_TRACE_HEADER_SIZE, SEEK_SET) == 0 ? fread(buf, 1, sizeof(buf), f)
                                                                : 0;
    if (f) {
        fclose(f);
    }
    for (unsigned i = 0; i < N; i++) {
        CHECK(at < len && buf[at] == want_kinds[i], "record %u is kind 0x%02x, wanted 0x%02x", i,
              at < len ? buf[at] : 0, want_kinds[i]);
        if (at < len && in[i].dir == REGDBG_DIR_IRQ) {
            CHECK(buf[at + 3] == REGDBG_DIR_IRQ && buf[at + 61] == in[i].irq_source,
                  "record %u: dir byte %u, source byte %u", i, buf[at + 3], buf[at + 61]);
        }
        at += at < len && buf[at] == REGDBG_DISK_FULL ? 64 : 32;
    }
    CHECK(at == len, "%zu bytes of records, %zu read", at, len);
}

/* Damage in an interrupt event's record, and one in a file older than interrupt events. */
static void test_irq_records_damage(void)
{
    static const struct {
        unsigned at;            /* into the record */
        uint8_t byte;
        const char *why;
    } damage[] = {
        { 2, 4, "an interrupt event with a size or a BAR" },
        { 1, 1, "an interrupt event with a size or a BAR" },
        { 32, 0, "unknown interrupt event" },
        { 32, 7, "unknown interrupt event" },
        { 40, 4, "unknown interrupt request" },
        { 61, 0, "unknown interrupt source" },
        { 61, 5, "unknown interrupt source" },
        { 24, 5, "INTx pin out of range" },
        { 24, 0, "INTx pin out of range" },
        { 56, REGDBG_EV_EDITED, "flags has bits an interrupt event does not have" },
        { 58, 0, "interrupt rule and source disagree" },    /* rule 0xff00 */
        { 60, 9, "CPU mode is out of range" },
        { 62, 1, "a DMA event's fields in another record" },
        { 3, 4, "direction is neither read nor write" },
    };
    char path[256], err[256];
    struct regdbg_trace_header h;
    struct regdbg_trace_record rec = irq_record(0, REGDBG_IRQ_RAISED, REGDBG_IRQ_ASSERT,
                                                REGDBG_IRQ_SRC_DEBUGGER);
    enum trace_read_status st = TRACE_EOF;
    struct trace_writer *w;
    uint32_t v3 = 3;

    path_in_dir(path, sizeof(path), "irq-damage.trace");
    for (size_t i = 0; i <= sizeof(damage) / sizeof(damage[0]); i++) {
        struct trace_reader *r;
        struct regdbg_trace_record out;
        bool older = i == sizeof(damage) / sizeof(damage[0]);

        sample_header(&h);
        w = trace_writer_open(path, &h, err, sizeof(err));
        CHECK(w && trace_writer_add(w, &rec, err, sizeof(err)) == 0 &&
              trace_writer_close(w, err, sizeof(err)) == 0, "write: %s", err);
        if (older) {
            /* the same record in a version 3 file: a direction that did not exist */
            patch(path, 8, &v3, sizeof(v3));
        } else {
            patch(path, REGDBG_TRACE_HEADER_SIZE + damage[i].at, &damage[i].byte, 1);
        }
        r = trace_reader_open(path, err, sizeof(err));
        while (r && (st = trace_reader_next(r, &out, err, sizeof(err))) == TRACE_RECORD) {
        }
        trace_reader_close(r);
        CHECK(st == TRACE_CORRUPT && strstr(err, older ? "record 0): direction is neither read "
                                                         "nor write" : damage[i].why),
              "case %zu: status %d: %s", i, st, err);
    }
}

/* The writer refuses an interrupt event its reader would refuse. */
static void test_writer_refuses_impossible_irq(void)
{
    char path[256], err[256];
    struct regdbg_trace_header h;
    struct trace_writer *w;

    path_in_dir(path, sizeof(path), "irq-refuse.trace");
    sample_header(&h);
    w = trace_writer_open(path, &h, err, sizeof(err));
    CHECK(w, "open: %s", err);
    for (unsigned i = 0; w && i < 4; i++) {
        struct regdbg_trace_record r = irq_record(0, REGDBG_IRQ_MSI, REGDBG_IRQ_PULSE,
                                                  REGDBG_IRQ_SRC_RULE);
        const char *why = i == 0 ? "interrupt rule and source disagree"
                        : i == 1 ? "INTx pin out of range" : i == 2 ? "MSI vector out of range"
                        : "unknown interrupt event";

        r.rule = i == 0 ? REGDBG_RULE_NONE : 1;
        r.offset = i == 1 ? 0 : i == 2 ? 32 : 1;
        r.flags = i == 2 ? REGDBG_EV_IRQ_MSI : 0;
        r.value = i == 3 ? REGDBG_IRQ_WHAT_MAX + 1 : r.value;
        CHECK(trace_writer_add(w, &r, err, sizeof(err)) < 0 && strstr(err, why), "case %u: %s",
              i, err);
    }
    CHECK(w && trace_writer_close(w, err, sizeof(err)) == 0, "close: %s", err);
}

/* Version 5: DMA events (regdbg/abi.h) in full records, read back as written; damage in them;
   none before version 5; the one-line form dump and the stream print. */
static void test_dma_records(void)
{
    char path[256], err[256], line[256];
    struct regdbg_trace_header h;
    struct regdbg_shm_header sh;
    struct regdbg_event ev;
    struct trace_writer *w;
    struct trace_reader *r;
    struct regdbg_trace_record out, in[4] = {
        sample_record(0),
        { .kind = REGDBG_REC_ACCESS, .seq = 1, .t_ns = 2001, .dir = REGDBG_DIR_WRITE, .size = 8,
          .offset = 0x80, .value = 0x2db92f000ull, .orig_value = 0x100000, .cpu = 0,
          .flags = REGDBG_EV_DMA_ADDR, .rule = REGDBG_RULE_NONE },
        { .kind = REGDBG_REC_ACCESS, .seq = 2, .t_ns = 2002, .dir = REGDBG_DIR_DMA, .size = 0,
          .offset = 0x100000, .value = 0x2db92f000ull, .orig_value = 4096, .guest_pc = 31137,
          .cpu = 0, .rule = REGDBG_RULE_NONE, .dma_what = REGDBG_DMA_START },
        { .kind = REGDBG_REC_ACCESS, .seq = 3, .t_ns = 2003, .dir = REGDBG_DIR_DMA, .size = 1,
          .bar = 2, .offset = 0x8000000, .orig_value = 4097, .cpu = REGDBG_CPU_NONE,
          .flags = REGDBG_EV_DMA_FROM_DEVICE, .rule = REGDBG_RULE_NONE,
          .dma_what = REGDBG_DMA_REFUSED, .dma_why = REGDBG_DMA_WHY_ADDRESS },
    };
    static const struct {
        unsigned at;            /* in the DMA record */
        uint8_t byte;
        const char *why;
    } damage[] = {
        { 62, 0, "DMA event of an unknown kind" },
        { 62, 5, "DMA event of an unknown kind" },
        { 63, 9, "DMA event with an unknown reason" },
        { 56, 1, "flags has unknown bits" },            /* edited: not for a DMA event */
        { 2, 4, "DMA event of an engine out of range" },
        { 60, 4, "DMA event with a rule, a CPU mode or an interrupt source" },
        { 61, 1, "reserved bits are set" },             /* an interrupt source */
    };
    enum trace_read_status st = TRACE_EOF;
    unsigned n = 0;
    uint32_t v4 = 4;
    uint8_t byte;

    path_in_dir(path, sizeof(path), "dma.trace");
    memset(&sh, 0, sizeof(sh));
    sh.bars[0].size = 1 << 20;
    sh.bars[0].type = REGDBG_BAR_MEM32;
    sh.bars[2].size = 4096;
    sh.bars[2].type = REGDBG_BAR_MEM32;
    sh.dma_mode = REGDBG_DMA_MODE_BOUNCE;
    sh.dma_address_bits = 28;
    sh.dma_buffer_size = 2 << 20;
    trace_header_from_shm(&h, &sh);
    w = trace_writer_open(path, &h, err, sizeof(err));
    for (unsigned i = 0; w && i < 4; i++) {
        CHECK(trace_writer_add(w, &in[i], err, sizeof(err)) == 0, "add %u: %s", i, err);
    }
    CHECK(w && trace_writer_close(w, err, sizeof(err)) == 0, "close");
    r = trace_reader_open(path, err, sizeof(err));
    CHECK(r && trace_reader_header(r)->dma_mode == REGDBG_DMA_MODE_BOUNCE &&
          trace_reader_header(r)->dma_address_bits == 28 &&
          trace_reader_header(r)->dma_buffer_size == 2 << 20, "header: %s", err);
    while (r && trace_reader_next(r, &out, err, sizeof(err)) == TRACE_RECORD && n < 4) {
        CHECK(memcmp(&out, &in[n], sizeof(out)) == 0, "record %u differs", n);
        n++;
    }
    CHECK(n == 4, "read %u records: %s", n, err);
    trace_reader_close(r);
    trace_dma_format(&in[2], line, sizeof(line));
    CHECK(strcmp(line, "start to-device guest=0x100000 len=4096 buffer=0x2db92f000 "
                 "copy_ns=31137") == 0, "%s", line);
    trace_dma_format(&in[3], line, sizeof(line));
    CHECK(strcmp(line, "refused from-device guest=0x8000000 len=4097 why=address: not all of it "
                 "is the guest's RAM") == 0, "%s", line);
    CHECK(trace_dma_format(&in[3], line, 12) == 11 && strcmp(line, "refused fro") == 0, "%s",
          line);
    /* from the ring: the copy's time is in guest_pc's room */
    memset(&ev, 0, sizeof(ev));
    ev.dir = REGDBG_DIR_DMA;
    ev.dma_what = REGDBG_DMA_DONE;
    ev.dma_copy_ns = 777;
    ev.size = 1;
    trace_record_from_event(&out, &ev);
    CHECK(out.dir == REGDBG_DIR_DMA && out.dma_what == REGDBG_DMA_DONE && out.guest_pc == 777 &&
          out.size == 1, "from the event");
    /* the writer refuses what the reader would */
    w = trace_writer_open(path, &h, err, sizeof(err));
    in[2].dma_what = 0;
    CHECK(w && trace_writer_add(w, &in[2], err, sizeof(err)) < 0 &&
          strstr(err, "DMA event of an unknown kind"), "what 0: %s", err);
    in[2].dma_what = REGDBG_DMA_START;
    in[0].dma_why = REGDBG_DMA_WHY_LENGTH;
    CHECK(w && trace_writer_add(w, &in[0], err, sizeof(err)) < 0 &&
          strstr(err, "a DMA event's fields in another record"), "access: %s", err);
    in[0].dma_why = 0;
    trace_writer_close(w, err, sizeof(err));
    for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
        w = trace_writer_open(path, &h, err, sizeof(err));
        CHECK(w && trace_writer_add(w, &in[2], err, sizeof(err)) == 0 &&
              trace_writer_close(w, err, sizeof(err)) == 0, "write: %s", err);
        patch(path, REGDBG_TRACE_HEADER_SIZE + damage[i].at, &damage[i].byte, 1);
        CHECK(read_all(path, &st, err, sizeof(err)) == 0 && st == TRACE_CORRUPT &&
              strstr(err, damage[i].why), "case %zu: status %d: %s", i, st, err);
    }
    /* an access may not carry the DMA event's flag or fields */
    w = trace_writer_open(path, &h, err, sizeof(err));
    CHECK(w && trace_writer_add(w, &in[1], err, sizeof(err)) == 0 &&
          trace_writer_close(w, err, sizeof(err)) == 0, "write: %s", err);
    byte = REGDBG_EV_DMA_FROM_DEVICE >> 8 | REGDBG_EV_DMA_ADDR >> 8;
    patch(path, REGDBG_TRACE_HEADER_SIZE + 57, &byte, 1);
    CHECK(read_all(path, &st, err, sizeof(err)) == 0 && st == TRACE_CORRUPT &&
          strstr(err, "flags has unknown bits"), "status %d: %s", st, err);
    byte = REGDBG_DMA_START;
    patch(path, REGDBG_TRACE_HEADER_SIZE + 57, (uint8_t[]){ REGDBG_EV_DMA_ADDR >> 8 }, 1);
    patch(path, REGDBG_TRACE_HEADER_SIZE + 62, &byte, 1);
    CHECK(read_all(path, &st, err, sizeof(err)) == 0 && st == TRACE_CORRUPT &&
          strstr(err, "a DMA event's fields in another record"), "status %d: %s", st, err);
    /* before version 5 there were none: no direction 3, the bytes reserved */
    w = trace_writer_open(path, &h, err, sizeof(err));
    CHECK(w && trace_writer_add(w, &in[2], err, sizeof(err)) == 0 &&
          trace_writer_close(w, err, sizeof(err)) == 0, "write: %s", err);
    patch(path, 8, &v4, sizeof(v4));
    CHECK(read_all(path, &st, err, sizeof(err)) == 0 && st == TRACE_CORRUPT &&
          strstr(err, "direction is neither read nor write"), "status %d: %s", st, err);
    w = trace_writer_open(path, &h, err, sizeof(err));
    CHECK(w && trace_writer_add(w, &in[1], err, sizeof(err)) == 0 &&
          trace_writer_close(w, err, sizeof(err)) == 0, "write: %s", err);
    patch(path, 8, &v4, sizeof(v4));
    byte = REGDBG_DMA_START;
    patch(path, REGDBG_TRACE_HEADER_SIZE + 62, &byte, 1);
    CHECK(read_all(path, &st, err, sizeof(err)) == 0 && st == TRACE_CORRUPT &&
          strstr(err, "reserved bits are set"), "status %d: %s", st, err);
}

static void test_flags_str(void)
{
    char buf[64];

    trace_flags_str(0, buf, sizeof(buf));
    CHECK(strcmp(buf, "") == 0, "%s", buf);
    trace_flags_str(REGDBG_EV_EDITED | REGDBG_EV_TIMED_OUT, buf, sizeof(buf));
    CHECK(strcmp(buf, "edited,timed-out") == 0, "%s", buf);
    /* an interrupt's line is its own column: only "blocked" is news */
    trace_flags_str(REGDBG_EV_IRQ_MSI | REGDBG_EV_IRQ_BLOCKED | REGDBG_EV_PC, buf, sizeof(buf));
    CHECK(strcmp(buf, "blocked") == 0, "%s", buf);
    trace_flags_str(REGDBG_EV_DROPPED | REGDBG_EV_DMA_ADDR, buf, sizeof(buf));
    CHECK(strcmp(buf, "dropped,dma-addr") == 0, "%s", buf);
    CHECK(strcmp(trace_irq_what_name(REGDBG_IRQ_HOST_UNMASKED), "host-unmasked") == 0 &&
          strcmp(trace_irq_what_name(0), "unknown") == 0 &&
          strcmp(trace_irq_what_name(REGDBG_IRQ_WHAT_MAX + 1), "unknown") == 0 &&
          strcmp(trace_irq_action_name(REGDBG_IRQ_PULSE), "pulse") == 0 &&
          strcmp(trace_irq_action_name(0), "") == 0 &&
          strcmp(trace_irq_source_name(REGDBG_IRQ_SRC_DEVICE), "device") == 0, "irq names");
}

int main(void)
{
    int status;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    RUN_TEST(test_round_trip);
    RUN_TEST(test_truncated_record);
    RUN_TEST(test_truncated_header);
    RUN_TEST(test_foreign_file);
    RUN_TEST(test_newer_version);
    RUN_TEST(test_corrupt_record);
    RUN_TEST(test_sequence_backwards);
    RUN_TEST(test_duplicated_record);
    RUN_TEST(test_growing_file);
    RUN_TEST(test_rich_records_round_trip);
    RUN_TEST(test_writer_refuses_impossible_access);
    RUN_TEST(test_pc_records_round_trip);
    RUN_TEST(test_pc_records_damage);
    RUN_TEST(test_version_1_is_read);
    RUN_TEST(test_bar_records);
    RUN_TEST(test_irq_records_round_trip);
    RUN_TEST(test_irq_records_damage);
    RUN_TEST(test_writer_refuses_impossible_irq);
    RUN_TEST(test_dma_records);
    RUN_TEST(test_flags_str);
    status = TEST_SUMMARY();
    {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "could not remove %s\n", dir);
        }
    }
    return status;
}
