/*
 * Unit tests of register maps (debugger/regmap.c): the shipped maps (the .json files in maps/,
 * loaded from the repo top) load and decode the test guest's accesses; lookups, field values and
 * decoding; a table of malformed maps, each rejected with its exact "FILE:LINE:COL: message"; and
 * the DMA sections of tests/fixtures/dma-maps/, each given the verdict its cases.json says.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "regmap.h"
#include "check.h"

#define BAYTRAIL_MAP "maps/dw-i2c-baytrail.json"
#define DEMO_MAP "maps/regdbg-demo.json"
#define EDU_MAP "maps/edu.json"

static char dir[] = "/tmp/regdbg-test-regmap-XXXXXX";

static void path_in_dir(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    int ok;

    if (!f) {
        return -1;
    }
    ok = fwrite(text, 1, strlen(text), f) == strlen(text);
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* Loads text as a map from the temp dir; NULL with the message in err on error. */
static struct regmap *load_text(const char *name, const char *text, char *err, size_t errlen)
{
    char path[256];

    path_in_dir(path, sizeof(path), name);
    if (write_file(path, text) < 0) {
        snprintf(err, errlen, "cannot write %s", path);
        return NULL;
    }
    return regmap_load(path, err, errlen);
}

static const char *decode(const struct regmap_reg *reg, uint64_t offset, unsigned size,
                          uint64_t value)
{
    static char buf[512];

    regmap_decode(reg, offset, size, value, buf, sizeof(buf));
    return buf;
}

/* ---- the shipped maps ------------------------------------------------------------------------ */

/* Every register offset of Linux's drivers/i2c/busses/i2c-designware-core.h, and the LPSS ones. */
static const struct { const char *name; uint64_t offset; } dw_offsets[] = {
    { "IC_CON", 0x00 },            { "IC_TAR", 0x04 },            { "IC_SAR", 0x08 },
    { "IC_DATA_CMD", 0x10 },       { "IC_SS_SCL_HCNT", 0x14 },    { "IC_SS_SCL_LCNT", 0x18 },
    { "IC_FS_SCL_HCNT", 0x1c },    { "IC_FS_SCL_LCNT", 0x20 },    { "IC_HS_SCL_HCNT", 0x24 },
    { "IC_HS_SCL_LCNT", 0x28 },    { "IC_INTR_STAT", 0x2c },      { "IC_INTR_MASK", 0x30 },
    { "IC_RAW_INTR_STAT", 0x34 },  { "IC_RX_TL", 0x38 },          { "IC_TX_TL", 0x3c },
    { "IC_CLR_INTR", 0x40 },       { "IC_CLR_RX_UNDER", 0x44 },   { "IC_CLR_RX_OVER", 0x48 },
    { "IC_CLR_TX_OVER", 0x4c },    { "IC_CLR_RD_REQ", 0x50 },     { "IC_CLR_TX_ABRT", 0x54 },
    { "IC_CLR_RX_DONE", 0x58 },    { "IC_CLR_ACTIVITY", 0x5c },   { "IC_CLR_STOP_DET", 0x60 },
    { "IC_CLR_START_DET", 0x64 },  { "IC_CLR_GEN_CALL", 0x68 },   { "IC_ENABLE", 0x6c },
    { "IC_STATUS", 0x70 },         { "IC_TXFLR", 0x74 },          { "IC_RXFLR", 0x78 },
    { "IC_SDA_HOLD", 0x7c },       { "IC_TX_ABRT_SOURCE", 0x80 }, { "IC_ENABLE_STATUS", 0x9c },
    { "IC_CLR_RESTART_DET", 0xa8 }, { "IC_COMP_PARAM_1", 0xf4 },  { "IC_COMP_VERSION", 0xf8 },
    { "IC_COMP_TYPE", 0xfc },      { "LPSS_PRIV_CLOCK_PARAMS", 0x800 },
    { "LPSS_PRIV_RESETS", 0x804 },
};

static void test_baytrail_loads(void)
{
    char err[512] = "";
    struct regmap *m = regmap_load(BAYTRAIL_MAP, err, sizeof(err));

    CHECK(m != NULL, "%.200s", err);
    if (!m) {
        return;
    }
    CHECK(strcmp(m->path, BAYTRAIL_MAP) == 0, "%s", m->path);
    CHECK(strcmp(m->name, "Synopsys DesignWare I2C (Intel BayTrail LPSS)") == 0, "%s", m->name);
    CHECK(m->n_ids == 7, "%zu ids", m->n_ids);
    for (uint16_t dev = 0x0f41; dev <= 0x0f47; dev++) {
        CHECK(regmap_matches(m, 0x8086, dev), "0x8086:0x%04x", dev);
    }
    CHECK(!regmap_matches(m, 0x8086, 0x0f40), "0f40");
    CHECK(!regmap_matches(m, 0x8086, 0x0f48), "0f48");
    CHECK(!regmap_matches(m, 0x1b36, 0x0f41), "vendor");
    CHECK(m->n_regs == sizeof(dw_offsets) / sizeof(dw_offsets[0]), "%zu registers", m->n_regs);
    for (size_t i = 0; i < sizeof(dw_offsets) / sizeof(dw_offsets[0]); i++) {
        const struct regmap_reg *r = regmap_find_name(m, dw_offsets[i].name);

        CHECK(r != NULL, "%s missing", dw_offsets[i].name);
        if (r) {
            CHECK(r->offset == dw_offsets[i].offset && r->bar == 0 && r->width == 4,
                  "%s at %u:0x%" PRIx64 " width %u", r->name, r->bar, r->offset, r->width);
            CHECK(regmap_find(m, 0, dw_offsets[i].offset, 4) == r, "find %s", r->name);
        }
    }
    for (size_t i = 1; i < m->n_regs; i++) {
        CHECK(m->regs[i - 1].offset < m->regs[i].offset, "not sorted at %zu", i);
    }
    regmap_free(m);
}

static void test_baytrail_details(void)
{
    char err[512] = "";
    struct regmap *m = regmap_load(BAYTRAIL_MAP, err, sizeof(err));
    const struct regmap_reg *r;
    const struct regmap_field *f;

    CHECK(m != NULL, "%.200s", err);
    if (!m) {
        return;
    }
    r = regmap_find_name(m, "IC_COMP_TYPE");
    CHECK(r && r->has_reset && r->reset == 0x44570140 && strcmp(r->access, "ro") == 0, "COMP_TYPE");
    r = regmap_find_name(m, "IC_CON");
    CHECK(r && strcmp(r->access, "rw") == 0 && !r->has_reset && r->n_fields == 9, "IC_CON");
    f = regmap_find_field(r, "SPEED");
    CHECK(f && f->msb == 2 && f->lsb == 1 && f->n_values == 3, "SPEED");
    CHECK(f && regmap_field_value(f, 0x63) == 1, "SPEED of 0x63");
    CHECK(regmap_find_field(r, "NOPE") == NULL, "NOPE");
    r = regmap_find_name(m, "IC_DATA_CMD");
    f = regmap_find_field(r, "CMD");
    CHECK(f && f->msb == 8 && f->lsb == 8 && f->n_values == 2 &&
          strcmp(f->values[1].name, "read") == 0 && f->values[1].value == 1, "CMD");
    r = regmap_find_name(m, "IC_TX_ABRT_SOURCE");
    f = regmap_find_field(r, "TX_FLUSH_CNT");
    CHECK(f && f->msb == 31 && f->lsb == 23, "TX_FLUSH_CNT");
    f = regmap_find_field(r, "ARB_LOST");
    CHECK(f && f->lsb == 12 && f->msb == 12, "ARB_LOST");
    r = regmap_find_name(m, "IC_CLR_INTR");
    CHECK(r && strcmp(r->access, "rc") == 0, "CLR_INTR");
    r = regmap_find_name(m, "IC_RAW_INTR_STAT");
    for (unsigned bit = 0; r && bit < r->n_fields; bit++) {
        static const char *const names[] = { "RX_UNDER", "RX_OVER", "RX_FULL", "TX_OVER",
                                             "TX_EMPTY", "RD_REQ", "TX_ABRT", "RX_DONE",
                                             "ACTIVITY", "STOP_DET", "START_DET", "GEN_CALL",
                                             "RESTART_DET" };

        CHECK(r->n_fields == 13 && strcmp(r->fields[bit].name, names[bit]) == 0 &&
              r->fields[bit].lsb == bit && r->fields[bit].msb == bit, "interrupt bit %u", bit);
    }
    CHECK(regmap_find_name(m, "IC_NOPE") == NULL, "IC_NOPE");
    regmap_free(m);
}

static void test_baytrail_decode(void)
{
    char err[512] = "";
    struct regmap *m = regmap_load(BAYTRAIL_MAP, err, sizeof(err));
    const char *s;

    CHECK(m != NULL, "%.200s", err);
    if (!m) {
        return;
    }
    s = decode(regmap_find(m, 0, 0x10, 4), 0x10, 4, 0x155);
    CHECK(strcmp(s, "DAT=0x55 CMD=read STOP=0 RESTART=0") == 0, "%.200s", s);
    s = decode(regmap_find(m, 0, 0x10, 4), 0x10, 4, 0x300);
    CHECK(strcmp(s, "DAT=0x0 CMD=read STOP=1 RESTART=0") == 0, "%.200s", s);
    s = decode(regmap_find(m, 0, 0x10, 4), 0x10, 4, 0x42);
    CHECK(strcmp(s, "DAT=0x42 CMD=write STOP=0 RESTART=0") == 0, "%.200s", s);
    s = decode(regmap_find(m, 0, 0x0, 4), 0x0, 4, 0x63);
    CHECK(strcmp(s, "MASTER_MODE=1 SPEED=std IC_10BITADDR_SLAVE=0 IC_10BITADDR_MASTER=0 "
                    "IC_RESTART_EN=1 IC_SLAVE_DISABLE=1 STOP_DET_IFADDRESSED=0 TX_EMPTY_CTRL=0 "
                    "RX_FIFO_FULL_HLD_CTRL=0") == 0, "%.200s", s);
    s = decode(regmap_find(m, 0, 0x0, 4), 0x0, 4, 0x65);
    CHECK(strncmp(s, "MASTER_MODE=1 SPEED=fast ", 25) == 0, "%.200s", s);
    s = decode(regmap_find(m, 0, 0x70, 4), 0x70, 4, 0x6);
    CHECK(strcmp(s, "ACTIVITY=0 TFNF=1 TFE=1 RFNE=0 RFF=0 MST_ACTIVITY=0 SLV_ACTIVITY=0") == 0,
          "%.200s", s);
    s = decode(regmap_find(m, 0, 0x9c, 4), 0x9c, 4, 0x1);
    CHECK(strcmp(s, "IC_EN=1 SLV_DISABLED_WHILE_BUSY=0 SLV_RX_DATA_LOST=0") == 0, "%.200s", s);
    s = decode(regmap_find(m, 0, 0x04, 4), 0x04, 4, 0x50);
    CHECK(strcmp(s, "IC_TAR=0x50 GC_OR_START=0 SPECIAL=0 IC_10BITADDR_MASTER=0") == 0, "%.200s", s);
    s = decode(regmap_find(m, 0, 0x6c, 4), 0x6c, 4, 0x1);
    CHECK(strcmp(s, "ENABLE=1 ABORT=0") == 0, "%.200s", s);
    s = decode(regmap_find(m, 0, 0xfc, 4), 0xfc, 4, 0x44570140);
    CHECK(strcmp(s, "") == 0, "COMP_TYPE has no fields: %.200s", s);
    s = decode(regmap_find(m, 0, 0xf4, 4), 0xf4, 4, 0x000f0fee);
    CHECK(strcmp(s, "APB_DATA_WIDTH=32bit MAX_SPEED_MODE=high HC_COUNT_VALUES=0 INTR_IO=1 "
                    "HAS_DMA=1 ADD_ENCODED_PARAMS=1 RX_BUFFER_DEPTH=0xf TX_BUFFER_DEPTH=0xf") == 0,
          "%.200s", s);
    s = decode(regmap_find(m, 0, 0x80, 4), 0x80, 4, 0x01811001);
    CHECK(strstr(s, "ABRT_7B_ADDR_NOACK=1 ") == s && strstr(s, " ARB_LOST=1 ") &&
          strstr(s, " TX_FLUSH_CNT=0x3") && strstr(s, " ABRT_USER_ABRT=1"), "%.200s", s);
    s = decode(regmap_find(m, 0, 0x800, 4), 0x800, 4, 0x80020003);
    CHECK(strcmp(s, "CLK_EN=1 M_VAL=0x1 N_VAL=0x2 CLK_UPDATE=1") == 0, "%.200s", s);
    s = decode(regmap_find(m, 0, 0x804, 4), 0x804, 4, 0x3);
    CHECK(strcmp(s, "RESET_FUNC=1 RESET_APB=1") == 0, "%.200s", s);
    regmap_free(m);
}

/* A narrow access decodes only the fields inside the bytes it touched. */
static void test_partial_access(void)
{
    char err[512] = "";
    struct regmap *m = regmap_load(BAYTRAIL_MAP, err, sizeof(err));
    const struct regmap_reg *r;
    const char *s;

    CHECK(m != NULL, "%.200s", err);
    if (!m) {
        return;
    }
    r = regmap_find(m, 0, 0x11, 1);
    CHECK(r && strcmp(r->name, "IC_DATA_CMD") == 0, "byte 1 of DATA_CMD");
    s = decode(r, 0x11, 1, 0x07);
    CHECK(strcmp(s, "CMD=read STOP=1 RESTART=1") == 0, "%.200s", s);
    s = decode(r, 0x10, 1, 0x155); /* only the low byte counts */
    CHECK(strcmp(s, "DAT=0x55") == 0, "%.200s", s);
    s = decode(r, 0x10, 2, 0x0155);
    CHECK(strcmp(s, "DAT=0x55 CMD=read STOP=0 RESTART=0") == 0, "%.200s", s);
    s = decode(r, 0x12, 2, 0xffff);
    CHECK(strcmp(s, "") == 0, "%.200s", s);
    /* SDA_HOLD's TX field spans bytes 0 and 1: a byte access shows neither it nor a part of it */
    r = regmap_find(m, 0, 0x7d, 1);
    s = decode(r, 0x7d, 1, 0xff);
    CHECK(strcmp(s, "") == 0, "%.200s", s);
    s = decode(r, 0x7e, 1, 0x01);
    CHECK(strcmp(s, "IC_SDA_RX_HOLD=0x1") == 0, "%.200s", s);
    s = decode(r, 0x7c, 2, 0x0030);
    CHECK(strcmp(s, "IC_SDA_TX_HOLD=0x30") == 0, "%.200s", s);
    /* outside the register, or nonsense sizes: nothing */
    s = decode(r, 0x80, 4, 0x1);
    CHECK(strcmp(s, "") == 0, "%.200s", s);
    s = decode(r, 0x7c, 0, 0x1);
    CHECK(strcmp(s, "") == 0, "%.200s", s);
    s = decode(NULL, 0, 4, 0x1);
    CHECK(strcmp(s, "") == 0, "%.200s", s);
    regmap_free(m);
}

static void test_find(void)
{
    char err[512] = "";
    struct regmap *m = regmap_load(BAYTRAIL_MAP, err, sizeof(err));

    CHECK(m != NULL, "%.200s", err);
    if (!m) {
        return;
    }
    CHECK(regmap_find(m, 0, 0x0c, 4) == NULL, "0x0c is a gap");
    CHECK(regmap_find(m, 0, 0x84, 4) == NULL, "0x84 is a gap");
    CHECK(regmap_find(m, 0, 0x100, 4) == NULL, "0x100 is beyond the DW registers");
    CHECK(regmap_find(m, 0, 0x808, 4) == NULL, "0x808 is past the LPSS ones");
    CHECK(regmap_find(m, 1, 0x0, 4) == NULL, "BAR 1 has nothing");
    CHECK(regmap_find(m, 0, 0x12, 4) == NULL, "straddles DATA_CMD and SS_SCL_HCNT");
    CHECK(regmap_find(m, 0, 0x13, 1) == regmap_find_name(m, "IC_DATA_CMD"), "last byte");
    CHECK(regmap_find(m, 0, 0x13, 0) == regmap_find_name(m, "IC_DATA_CMD"), "size 0 as 1");
    CHECK(regmap_find(m, 0, 0x10, 8) == NULL, "8 bytes span two registers");
    CHECK(regmap_find(m, 0, UINT64_MAX, 4) == NULL, "huge offset");
    CHECK(regmap_find(NULL, 0, 0, 4) == NULL, "NULL map");
    regmap_free(m);
}

/* The guest's i2c mode touches only registers the map knows; hammer and bench decode too. */
static void test_guest_accesses_decode(void)
{
    static const uint64_t i2c_offsets[] = { 0xfc, 0x6c, 0x9c, 0x00, 0x04, 0x14, 0x18, 0x30, 0x10,
                                            0x70, 0x34, 0x40 };
    char err[512] = "";
    struct regmap *bt = regmap_load(BAYTRAIL_MAP, err, sizeof(err));
    struct regmap *demo;
    const struct regmap_reg *r;
    const char *s;

    CHECK(bt != NULL, "%.200s", err);
    for (size_t i = 0; bt && i < sizeof(i2c_offsets) / sizeof(i2c_offsets[0]); i++) {
        CHECK(regmap_find(bt, 0, i2c_offsets[i], 4) != NULL, "0x%" PRIx64, i2c_offsets[i]);
    }
    regmap_free(bt);

    demo = regmap_load(DEMO_MAP, err, sizeof(err));
    CHECK(demo != NULL, "%.200s", err);
    if (!demo) {
        return;
    }
    CHECK(regmap_matches(demo, 0x1b36, 0x00ff) && !regmap_matches(demo, 0x1b36, 0x0100), "ids");
    CHECK(demo->n_regs == 5 && strcmp(demo->regs[0].name, "SCRATCH") == 0, "sorted, SCRATCH first");
    for (unsigned cpu = 0; cpu < 4; cpu++) {
        char name[32];

        snprintf(name, sizeof(name), "HAMMER_CPU%u", cpu);
        r = regmap_find(demo, 0, 0x100 + 4 * cpu, 4);
        CHECK(r && strcmp(r->name, name) == 0 && strcmp(r->access, "rw") == 0, "%s", name);
        s = decode(r, 0x100 + 4 * cpu, 4, ((uint64_t)cpu << 24) | 999);
        {
            char want[64];

            snprintf(want, sizeof(want), "CPU=0x%x COUNT=0x3e7", cpu);
            CHECK(strcmp(s, want) == 0, "%.200s", s);
        }
    }
    r = regmap_find(demo, 0, 0x4, 4);
    CHECK(r && strcmp(r->name, "SCRATCH") == 0 && r->n_fields == 0, "SCRATCH");
    CHECK(strcmp(decode(r, 0x4, 4, 1234), "") == 0, "SCRATCH has no fields");
    CHECK(regmap_find(demo, 0, 0x110, 4) == NULL, "0x110");
    regmap_free(demo);
}

/* ---- the format's corners, on maps written here ---------------------------------------------- */

static void test_format_features(void)
{
    static const char text[] =
        "{ \"name\": \"features\",\n"
        "  \"match\": [ { \"vendor\": 4660, \"device\": \"22136\" }, { \"vendor\": \"0XABCD\", \"device\": 1 } ],\n"
        "  \"registers\": [\n"
        "    { \"name\": \"WIDE\", \"bar\": 2, \"offset\": \"0xFFFFFFFFF8\", \"width\": 64, \"reset\": \"0xffffffffffffffff\",\n"
        "      \"fields\": [ { \"name\": \"ALL\", \"bits\": \"63:0\" } ] },\n"
        "    { \"name\": \"B0\", \"bar\": 1, \"offset\": 3, \"width\": 8, \"access\": \"w1c\",\n"
        "      \"fields\": [ { \"name\": \"LOW\", \"bits\": \"3:0\", \"values\": { \"idle\": 0, \"busy\": \"0xf\" } },\n"
        "                  { \"name\": \"HI\", \"bits\": \"7\", \"values\": { \"on\": 1 } } ] },\n"
        "    { \"name\": \"SAME_OFFSET_OTHER_BAR\", \"bar\": 2, \"offset\": 0, \"width\": 16, \"description\": \"d\" },\n"
        "    { \"name\": \"ZERO\", \"offset\": 0 }\n"
        "  ]\n"
        "}\n";
    char err[512] = "";
    struct regmap *m = load_text("features.json", text, err, sizeof(err));
    const struct regmap_reg *r;
    const char *s;

    CHECK(m != NULL, "%.200s", err);
    if (!m) {
        return;
    }
    CHECK(m->n_ids == 2 && m->ids[0].vendor == 0x1234 && m->ids[0].device == 0x5678 &&
          m->ids[1].vendor == 0xabcd && m->ids[1].device == 1, "ids");
    CHECK(m->n_regs == 4, "%zu", m->n_regs);
    CHECK(strcmp(m->regs[0].name, "ZERO") == 0 && strcmp(m->regs[1].name, "B0") == 0 &&
          strcmp(m->regs[2].name, "SAME_OFFSET_OTHER_BAR") == 0 &&
          strcmp(m->regs[3].name, "WIDE") == 0, "sorted by bar, offset");
    r = regmap_find_name(m, "ZERO");
    CHECK(r && r->bar == 0 && r->width == 4 && strcmp(r->access, "rw") == 0 && !r->has_reset &&
          r->description == NULL && r->n_fields == 0, "defaults");
    r = regmap_find(m, 2, 0xfffffffffcull, 4);
    CHECK(r && strcmp(r->name, "WIDE") == 0 && r->width == 8 && r->reset == UINT64_MAX, "WIDE");
    s = decode(r, 0xfffffffff8ull, 8, 0x8000000000000001ull);
    CHECK(strcmp(s, "ALL=0x8000000000000001") == 0, "%.200s", s);
    CHECK(r && regmap_field_value(&r->fields[0], UINT64_MAX) == UINT64_MAX, "63:0");
    r = regmap_find(m, 1, 3, 1);
    CHECK(r && strcmp(r->name, "B0") == 0 && strcmp(r->access, "w1c") == 0, "B0");
    s = decode(r, 3, 1, 0x8f);
    CHECK(strcmp(s, "LOW=busy HI=on") == 0, "%.200s", s);
    s = decode(r, 3, 1, 0x05);
    CHECK(strcmp(s, "LOW=0x5 HI=0") == 0, "unmatched enum prints the number: %.200s", s);
    CHECK(regmap_find(m, 1, 2, 1) == NULL && regmap_find(m, 1, 3, 2) == NULL, "B0 is one byte");
    r = regmap_find_name(m, "SAME_OFFSET_OTHER_BAR");
    CHECK(r && r->description && strcmp(r->description, "d") == 0, "description");
    regmap_free(m);
}

static void test_decode_small_buffer(void)
{
    char err[512] = "";
    struct regmap *m = regmap_load(BAYTRAIL_MAP, err, sizeof(err));
    const struct regmap_reg *r;
    char buf[12];
    size_t n;

    CHECK(m != NULL, "%.200s", err);
    if (!m) {
        return;
    }
    r = regmap_find_name(m, "IC_DATA_CMD");
    n = regmap_decode(r, 0x10, 4, 0x155, buf, sizeof(buf));
    CHECK(n == strlen(buf) && n == sizeof(buf) - 1 && strcmp(buf, "DAT=0x55 CM") == 0,
          "%zu '%.20s'", n, buf);
    n = regmap_decode(r, 0x10, 4, 0x155, buf, 1);
    CHECK(n == 0 && buf[0] == '\0', "%zu", n);
    n = regmap_decode(r, 0x10, 4, 0x155, buf, 9);
    CHECK(n == 8 && strcmp(buf, "DAT=0x55") == 0, "%zu '%.20s'", n, buf);
    n = regmap_decode(r, 0x10, 4, 0x155, NULL, 0);
    CHECK(n == 0, "%zu", n);
    regmap_free(m);
}

/* ---- malformed maps -------------------------------------------------------------------------- */

/* Lines 1-4 of most maps below; registers start on line 5, their '{' in column 5. */
#define HEAD                                                              \
    "{\n"                                                                 \
    "  \"name\": \"t\",\n"                                                \
    "  \"match\": [ { \"vendor\": \"0x1\", \"device\": \"0x2\" } ],\n"    \
    "  \"registers\": [\n"
#define TAIL "\n  ]\n}\n"
#define ONE_REG "    { \"name\": \"A\", \"offset\": \"0x0\" }"

static const struct {
    const char *file;
    const char *text;
    const char *error; /* after "DIR/FILE:" */
} bad_maps[] = {
    /* syntax errors, placed at the start of the offending token */
    { "missing-comma.json", "{\n  \"name\": \"t\"\n  \"match\": []\n}\n",
      "3:3: '}' expected near '\"match\"'" },
    { "trailing-comma.json",
      "{\n  \"name\": \"t\",\n  \"match\": [ { \"vendor\": 1, \"device\": 2 }, ],\n}\n",
      "3:44: unexpected token near ']'" },
    { "truncated.json", "{\n  \"name\": \"t\",\n", "3:1: string or '}' expected near end of file" },
    { "empty.json", "", "1:1: '[' or '{' expected near end of file" },
    { "duplicate-key.json", "{ \"name\": \"a\", \"name\": \"b\" }",
      "1:16: duplicate object key near '\"name\"'" },
    { "bad-literal-utf8.json", "{ \"name\": \"Gr\xc3\xb6\xc3\x9f" "e\", \"match\": tru }",
      "1:29: invalid token near 'tru'" },
    { "huge-integer.json", "{\n  \"name\": 123456789012345678901234567890 }",
      "2:11: too big integer" },
    { "bad-escape.json", "{\n\t\"name\": \"ab\\q\" }", "2:10: invalid escape near '\"ab\\q'" },

    /* structure: unknown, missing and mistyped keys */
    { "not-object.json", "[1]", "1:1: a register map must be a JSON object, not an array" },
    { "unknown-reg-key.json",
      HEAD "    { \"name\": \"A\", \"offset\": \"0x0\",\n      \"widht\": 32 }" TAIL,
      "6:7: unknown key 'widht' in register (expected one of: name, bar, offset, width, access, "
      "reset, description, fields)" },
    { "unknown-map-key.json",
      "{\n  \"zzz\": 1, \"aaa\": 2,\n  \"name\": \"t\", \"match\": [], \"registers\": [] }",
      "2:3: unknown key 'zzz' in map (expected one of: name, match, registers, dma)" },
    { "unknown-escaped-key.json",
      HEAD "    { \"name\": \"\xc3\x84\", \"offset\": \"0x0\", \"w\\u00e9\": 1 }" TAIL,
      "5:37: unknown key 'w\xc3\xa9' in register (expected one of: name, bar, offset, width, access, "
      "reset, description, fields)" },
    { "unknown-field-key.json",
      HEAD "    { \"name\": \"A\", \"offset\": \"0x0\", \"fields\": [\n"
           "        { \"name\": \"F\", \"bit\": \"0\" } ] }" TAIL,
      "6:24: unknown key 'bit' in field (expected one of: name, bits, description, values)" },
    { "unknown-match-key.json",
      "{\n  \"name\": \"t\",\n  \"match\": [ { \"vendor\": 1, \"devices\": 2 } ],\n"
      "  \"registers\": [\n" ONE_REG TAIL,
      "3:29: unknown key 'devices' in match entry (expected one of: vendor, device)" },
    { "missing-offset.json", HEAD "    { \"name\": \"A\" }" TAIL,
      "5:5: missing required key 'offset' in register" },
    { "missing-map-name.json",
      "{\n  \"match\": [ { \"vendor\": 1, \"device\": 2 } ],\n  \"registers\": [\n" ONE_REG TAIL,
      "1:1: missing required key 'name' in map" },
    { "missing-registers.json", "{ \"name\": \"t\", \"match\": [ { \"vendor\": 1, \"device\": 2 } ] }",
      "1:1: missing required key 'registers' in map" },
    { "missing-device.json",
      "{\n  \"name\": \"t\",\n  \"match\": [ { \"vendor\": \"0x1\" } ],\n  \"registers\": [\n" ONE_REG TAIL,
      "3:14: missing required key 'device' in match entry" },
    { "missing-bits.json",
      HEAD "    { \"name\": \"A\", \"offset\": \"0x0\", \"fields\": [\n        { \"name\": \"F\" } ] }" TAIL,
      "6:9: missing required key 'bits' in field" },
    { "name-not-string.json", HEAD "    { \"name\": 5, \"offset\": 0 }" TAIL,
      "5:15: 'name' in register must be a string, not an integer" },
    { "map-name-tab.json", "{\n\t\"name\": 7,\n\t\"match\": [],\n\t\"registers\": []\n}\n",
      "2:10: 'name' in map must be a string, not an integer" },
    { "match-crlf.json",
      "{\r\n  \"name\": \"t\",\r\n  \"match\": 5,\r\n  \"registers\": []\r\n}\r\n",
      "3:12: 'match' in map must be an array, not an integer" },
    { "match-empty.json", "{ \"name\": \"t\", \"match\": [], \"registers\": [] }",
      "1:25: 'match' in map must not be empty" },
    { "match-not-object.json",
      "{ \"name\": \"t\", \"match\": [ \"8086:0f41\" ], \"registers\": [] }",
      "1:27: each entry of 'match' must be an object, not a string" },
    { "registers-empty.json",
      "{\n  \"name\": \"t\",\n  \"match\": [ { \"vendor\": \"0x1\", \"device\": \"0x2\" } ],\n"
      "  \"registers\": []\n}\n",
      "4:16: 'registers' in map must not be empty" },
    { "register-not-object.json", HEAD "    null" TAIL,
      "5:5: each entry of 'registers' must be an object, not null" },
    { "fields-not-array.json", HEAD "    { \"name\": \"A\", \"offset\": \"0x0\", \"fields\": {} }" TAIL,
      "5:47: 'fields' in register must be an array, not an object" },
    { "values-not-object.json",
      HEAD "    { \"name\": \"A\", \"offset\": \"0x0\", \"fields\": [\n"
           "        { \"name\": \"F\", \"bits\": \"0\", \"values\": [ 1 ] } ] }" TAIL,
      "6:47: 'values' in field must be an object, not an array" },
    { "description-not-string.json",
      HEAD "    { \"name\": \"A\", \"offset\": \"0x0\", \"description\": false }" TAIL,
      "5:52: 'description' in register must be a string, not a boolean" },

    /* names */
    { "empty-reg-name.json", HEAD "    { \"name\": \"\", \"offset\": \"0x0\" }" TAIL,
      "5:15: register name must not be empty" },
    { "empty-map-name.json",
      "{ \"name\": \"\", \"match\": [ { \"vendor\": 1, \"device\": 2 } ], \"registers\": [ { \"name\": \"A\", "
      "\"offset\": 0 } ] }",
      "1:11: map name must not be empty" },
    { "space-in-name.json", HEAD "    { \"name\": \"A B\", \"offset\": \"0x0\" }" TAIL,
      "5:15: register name \"A B\" must not contain spaces, control characters or '='" },
    { "empty-enum-name.json",
      HEAD "    { \"name\": \"A\", \"offset\": \"0x0\", \"fields\": [\n"
           "        { \"name\": \"F\", \"bits\": \"0\", \"values\": { \"\": 1 } } ] }" TAIL,
      "6:49: value name must not be empty" },
    { "duplicate-reg-name.json",
      HEAD ONE_REG ",\n    { \"name\": \"A\", \"offset\": \"0x4\" }" TAIL,
      "6:15: duplicate register name 'A' (first at 5:15)" },
    { "duplicate-field-name.json",
      HEAD "    { \"name\": \"A\", \"offset\": \"0x0\", \"fields\": [\n"
           "        { \"name\": \"F\", \"bits\": \"0\" },\n"
           "        { \"name\": \"F\", \"bits\": \"1\" } ] }" TAIL,
      "7:19: duplicate field name 'F' in register 'A'" },

    /* numbers */
    { "offset-real.json", HEAD "    { \"name\": \"A\", \"offset\": 1.5 }" TAIL,
      "5:30: 'offset' in register must be an integer or a string such as \"0x1f\", not a real number" },
    { "offset-bad-hex.json", HEAD "    { \"name\": \"A\", \"offset\": \"0x1g\" }" TAIL,
      "5:30: 'offset' in register: \"0x1g\" is not a number (write \"0x\" and hex digits, or decimal "
      "digits)" },
    { "offset-negative.json", HEAD "    { \"name\": \"A\", \"offset\": -4 }" TAIL,
      "5:30: 'offset' in register must not be negative, not -4" },
    { "offset-too-big.json", HEAD "    { \"name\": \"A\", \"offset\": \"0x10000000000000000\" }" TAIL,
      "5:30: 'offset' in register: \"0x10000000000000000\" does not fit in 64 bits" },
    { "offset-2-40.json", HEAD "    { \"name\": \"A\", \"offset\": \"0x10000000000\" }" TAIL,
      "5:30: 'offset' in register must be below 0x10000000000 (2^40), not 0x10000000000" },
    { "offset-unaligned.json", HEAD "    { \"name\": \"A\", \"offset\": \"0x2\" }" TAIL,
      "5:30: offset 0x2 of register 'A' is not a multiple of its width (4 bytes)" },
    { "bar-6.json", HEAD "    { \"name\": \"A\", \"bar\": 6, \"offset\": \"0x0\" }" TAIL,
      "5:27: 'bar' in register must be 0..5, not 6" },
    { "width-12.json", HEAD "    { \"name\": \"A\", \"offset\": \"0x0\", \"width\": 12 }" TAIL,
      "5:46: 'width' in register must be 8, 16, 32 or 64 (bits), not 12" },
    { "access-rx.json", HEAD "    { \"name\": \"A\", \"offset\": \"0x0\", \"access\": \"rx\" }" TAIL,
      "5:47: 'access' in register must be one of rw, ro, wo, rc, w1c, not \"rx\"" },
    { "reset-too-wide.json",
      HEAD "    { \"name\": \"A\", \"offset\": \"0x0\", \"width\": 8, \"reset\": \"0x100\" }" TAIL,
      "5:58: reset value 0x100 of register 'A' does not fit in 8 bits" },
    { "vendor-17-bits.json",
      "{\n  \"name\": \"t\",\n  \"match\": [ { \"vendor\": \"0x18086\", \"device\": \"0x2\" } ],\n"
      "  \"registers\": [\n" ONE_REG TAIL,
      "3:26: 'vendor' in match entry must fit in 16 bits, not 0x18086" },
    { "duplicate-match.json",
      "{\n  \"name\": \"t\",\n  \"match\": [ { \"vendor\": 1, \"device\": 2 }, { \"vendor\": 1, \"device\": 2 } ],\n"
      "  \"registers\": [\n" ONE_REG TAIL,
      "3:44: duplicate match entry 0x0001:0x0002 (first at 3:14)" },

    /* overlaps */
    { "overlapping-regs.json",
      HEAD ONE_REG ",\n    { \"name\": \"B\", \"offset\": \"0x2\", \"width\": 16 }" TAIL,
      "6:30: register 'B' (0x2..0x3) overlaps register 'A' (0x0..0x3) in BAR 0" },
    { "overlapping-regs-reversed.json",
      HEAD "    { \"name\": \"A\", \"offset\": \"0xc\" },\n"
           "    { \"name\": \"B\", \"offset\": \"0x8\", \"width\": 64 }" TAIL,
      "6:30: register 'B' (0x8..0xf) overlaps register 'A' (0xc..0xf) in BAR 0" },
    { "same-offset.json",
      HEAD "    { \"name\": \"A\", \"bar\": 3, \"offset\": 8 },\n"
           "    { \"name\": \"B\", \"bar\": 3, \"offset\": 8, \"width\": 8 }" TAIL,
      "6:40: register 'B' (0x8..0x8) overlaps register 'A' (0x8..0xb) in BAR 3" },

    /* fields */
    { "bits-syntax.json",
      HEAD "    { \"name\": \"A\", \"offset\": \"0x0\", \"fields\": [\n"
           "        { \"name\": \"F\", \"bits\": \"8-9\" } ] }" TAIL,
      "6:32: 'bits' in field must be \"N\" or \"MSB:LSB\" (decimal bit numbers), not \"8-9\"" },
    { "bits-reversed.json",
      HEAD "    { \"name\": \"A\", \"offset\": \"0x0\", \"fields\": [\n"
           "        { \"name\": \"F\", \"bits\": \"0:7\" } ] }" TAIL,
      "6:32: 'bits' \"0:7\" of field 'F': the MSB (0) is below the LSB (7)" },
    { "bits-outside.json",
      HEAD "    { \"name\": \"A\", \"offset\": \"0x0\", \"width\": 8, \"fields\": [\n"
           "        { \"name\": \"F\", \"bits\": \"8\" } ] }" TAIL,
      "6:32: bits 8 of field 'F' lie outside register 'A' (8 bits wide)" },
    { "overlapping-fields.json",
      HEAD "    { \"name\": \"A\", \"offset\": \"0x0\", \"fields\": [\n"
           "        { \"name\": \"F\", \"bits\": \"7:0\" },\n"
           "        { \"name\": \"G\", \"bits\": \"3\" } ] }" TAIL,
      "7:32: field 'G' (bits 3:3) overlaps field 'F' (bits 7:0) in register 'A'" },
    { "enum-too-big.json",
      HEAD "    { \"name\": \"A\", \"offset\": \"0x0\", \"fields\": [\n"
           "        { \"name\": \"CMD\", \"bits\": \"8\", \"values\": { \"write\": 0, \"read\": 2 } } ] }" TAIL,
      "6:71: value 'read' = 2 of field 'CMD' does not fit in its 1 bit (register 'A')" },
    { "enum-same-value.json",
      HEAD "    { \"name\": \"A\", \"offset\": \"0x0\", \"fields\": [\n"
           "        { \"name\": \"F\", \"bits\": \"1:0\", \"values\": { \"a\": 1, \"b\": 1 } } ] }" TAIL,
      "6:64: values 'a' and 'b' of field 'F' are both 1" },
};

static void test_malformed_maps(void)
{
    for (size_t i = 0; i < sizeof(bad_maps) / sizeof(bad_maps[0]); i++) {
        char err[1024] = "", want[1024];
        struct regmap *m = load_text(bad_maps[i].file, bad_maps[i].text, err, sizeof(err));

        snprintf(want, sizeof(want), "%s/%s:%s", dir, bad_maps[i].file, bad_maps[i].error);
        CHECK(m == NULL, "%s loaded", bad_maps[i].file);
        if (strcmp(err, want) != 0) { /* every mismatch, not just the first */
            fprintf(stderr, "%s:\n  got  %s\n  want %s\n", bad_maps[i].file, err, want);
        }
        CHECK(strcmp(err, want) == 0, "%s:\n  got  %.200s\n  want %.200s", bad_maps[i].file, err,
              want);
        regmap_free(m);
    }
}

/* ---- DMA sections ------------------------------------------------------------------------------ */

/* QEMU's edu (docs/specs/edu.rst): its registers, and its DMA engine as the proxy uses it */
static void test_edu_map(void)
{
    char err[512] = "";
    struct regmap *m = regmap_load(EDU_MAP, err, sizeof(err));
    const struct regmap_dma_engine *e;

    CHECK(m != NULL, "%.200s", err);
    if (!m) {
        return;
    }
    CHECK(regmap_matches(m, 0x1234, 0x11e8) && m->n_ids == 1, "ids");
    CHECK(m->dma && m->dma->address_bits == 28 && m->dma->n_engines == 1, "dma section");
    if (!m->dma || m->dma->n_engines != 1) {
        regmap_free(m);
        return;
    }
    e = &m->dma->engines[0];
    CHECK(strcmp(e->name, "dma") == 0 && e->description, "%s", e->name);
    CHECK(e->source.low == regmap_find_name(m, "DMA_SRC") && !e->source.high &&
          e->destination.low == regmap_find_name(m, "DMA_DST") && !e->destination.high &&
          e->length == regmap_find_name(m, "DMA_CNT"), "addresses and length");
    CHECK(e->start.reg == regmap_find_name(m, "DMA_CMD") &&
          strcmp(e->start.field->name, "RUN") == 0, "start");
    CHECK(e->direction == REGMAP_DMA_DIR_FIELD && e->dir_field.reg == e->start.reg &&
          strcmp(e->dir_field.field->name, "DIRECTION") == 0 && e->to_device == 0 &&
          e->from_device == 1, "direction");
    CHECK(e->done_by_field && e->done_field.field == e->start.field && e->done_value == 0 &&
          e->done_by_interrupt, "completion");
    CHECK(e->max_length == 4096, "max_length %" PRIu64, e->max_length);
    /* the test firmware's 32-bit accesses to the 64-bit DMA registers decode */
    CHECK(strcmp(decode(regmap_find(m, 0, 0x98, 4), 0x98, 4, 0x7),
                 "RUN=1 DIRECTION=from_device IRQ=1") == 0, "%.200s",
          decode(regmap_find(m, 0, 0x98, 4), 0x98, 4, 0x7));
    CHECK(regmap_find(m, 0, 0x80, 4) == e->source.low, "DMA_SRC's low half");
    regmap_free(m);
    m = regmap_load(BAYTRAIL_MAP, err, sizeof(err));
    CHECK(m && !m->dma, "BayTrail's map has no DMA engine");
    regmap_free(m);
}

/*
 * The DMA sections both parsers read: tests/fixtures/dma-maps/, one map per case and cases.json,
 * which gives the debugger's verdict on each (tests/integration/test_dma_maps.py holds the proxy
 * to the same verdicts).
 */
#define DMA_MAPS "tests/fixtures/dma-maps"

static void test_dma_section_variants(void)
{
    char err[1024] = "";
    struct regmap *m;
    const struct regmap_dma_engine *e;

    /* fixed directions need only their side's address; halves; a list of completions; a start
       that is any write to a register */
    m = regmap_load(DMA_MAPS "/dma-halves.json", err, sizeof(err));
    CHECK(m && m->dma, "%.300s", err);
    if (m && m->dma) {
        e = &m->dma->engines[0];
        CHECK(e->direction == REGMAP_DMA_TO_DEVICE && e->source.low == regmap_find_name(m, "CNT") &&
              e->source.high == regmap_find_name(m, "IRQ") && !e->destination.low &&
              !e->start.field && e->done_by_interrupt && e->done_by_field && e->done_value == 3 &&
              e->max_length == 0x1000, "engine");
    }
    regmap_free(m);
    m = regmap_load(DMA_MAPS "/dma-from.json", err, sizeof(err));
    CHECK(m && m->dma && m->dma->engines[0].direction == REGMAP_DMA_FROM_DEVICE &&
          !m->dma->engines[0].done_by_field, "%.300s", err);
    regmap_free(m);
}

/* Every case of cases.json: an accepted map with its address width and engines, or the refusal
   with its exact "FILE:LINE:COL: message" */
static void test_dma_fixture_cases(void)
{
    json_error_t jerr;
    json_t *root = json_load_file(DMA_MAPS "/cases.json", 0, &jerr);
    json_t *cases = json_object_get(root, "cases"), *c;
    size_t i;

    CHECK(json_array_size(cases) > 0, "%s: %s", DMA_MAPS "/cases.json", jerr.text);
    json_array_foreach(cases, i, c) {
        const char *file = json_string_value(json_object_get(c, "map"));
        const char *want = json_string_value(json_object_get(c, "debugger"));
        char path[512], err[1024] = "", names[256] = "", want_names[256] = "";
        struct regmap *m;
        json_t *n;
        size_t k;

        if (!file || !want) {
            CHECK(0, "case %zu has no \"map\" or \"debugger\"", i);
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", DMA_MAPS, file);
        m = regmap_load(path, err, sizeof(err));
        if (strcmp(want, "ok") != 0) {
            char full[1024];

            snprintf(full, sizeof(full), "%s:%s", path, want);
            if (m || strcmp(err, full) != 0) { /* every mismatch, not just the first */
                fprintf(stderr, "%s:\n  got  %s\n  want %s\n", file, m ? "ok" : err, full);
            }
            CHECK(m == NULL, "%s loaded", file);
            CHECK(strcmp(err, full) == 0, "%s:\n  got  %.200s\n  want %.200s", file, err, full);
            regmap_free(m);
            continue;
        }
        CHECK(m && m->dma, "%s: %.300s", file, err);
        if (!m || !m->dma) {
            fprintf(stderr, "%s:\n  got  %s\n  want ok\n", file, err);
            regmap_free(m);
            continue;
        }
        for (k = 0; k < m->dma->n_engines; k++) {
            snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s ",
                     m->dma->engines[k].name);
        }
        json_array_foreach(json_object_get(c, "engines"), k, n) {
            snprintf(want_names + strlen(want_names), sizeof(want_names) - strlen(want_names),
                     "%s ", json_string_value(n));
        }
        CHECK(json_integer_value(json_object_get(c, "address_bits")) == m->dma->address_bits &&
              strcmp(names, want_names) == 0, "%s: address_bits %u, engines %s", file,
              m->dma->address_bits, names);
        regmap_free(m);
    }
    json_decref(root);
}

static void test_unreadable(void)
{
    char err[512] = "", path[256], want[512];
    struct regmap *m;

    path_in_dir(path, sizeof(path), "does-not-exist.json");
    m = regmap_load(path, err, sizeof(err));
    snprintf(want, sizeof(want), "%s: cannot read: No such file or directory", path);
    CHECK(m == NULL && strcmp(err, want) == 0, "%.200s", err);
    m = regmap_load(dir, err, sizeof(err)); /* a directory */
    CHECK(m == NULL && strncmp(err, dir, strlen(dir)) == 0, "%.200s", err);
    m = regmap_load(path, NULL, 0); /* no room for the message: still just NULL */
    CHECK(m == NULL, "NULL err");
    regmap_free(NULL);
}

int main(void)
{
    int status;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    RUN_TEST(test_baytrail_loads);
    RUN_TEST(test_baytrail_details);
    RUN_TEST(test_baytrail_decode);
    RUN_TEST(test_partial_access);
    RUN_TEST(test_find);
    RUN_TEST(test_guest_accesses_decode);
    RUN_TEST(test_format_features);
    RUN_TEST(test_decode_small_buffer);
    RUN_TEST(test_malformed_maps);
    RUN_TEST(test_edu_map);
    RUN_TEST(test_dma_section_variants);
    RUN_TEST(test_dma_fixture_cases);
    RUN_TEST(test_unreadable);
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
