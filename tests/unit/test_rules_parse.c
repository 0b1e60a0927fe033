/*
 * Unit tests of the command language (debugger/rules_parse.c, docs/rules.md), against the shipped
 * DesignWare I2C map (loaded from the repo top): a table of valid rules, each checked field by field
 * with its condition run by regdbg_rule_eval on sample accesses and its operation by
 * regdbg_rule_apply; tables of the other commands and of expect conditions; the limits of the
 * condition bytecode; and a table of invalid lines, each with its exact message and column.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "regdbg/abi.h"
#include "regmap.h"
#include "rules_parse.h"
#include "check.h"

#define BAYTRAIL_MAP "maps/dw-i2c-baytrail.json"

#define ALL UINT64_MAX
#define R REGDBG_RULE_DIR_READ
#define W REGDBG_RULE_DIR_WRITE
#define RW (REGDBG_RULE_DIR_READ | REGDBG_RULE_DIR_WRITE)

static struct regmap *map;
/* One device with BAR 0 of 4 KiB and no other BAR. */
static struct rules_device one_dev[1];
/* Two devices with the same map, and one without a map whose BAR sizes are unknown. */
static struct rules_device three_devs[3];
static struct rules_ctx ctx1 = { one_dev, 1, NULL };
static struct rules_ctx ctx3 = { three_devs, 3, NULL };
/* One anonymous device (no id), as a proxy without a qdev id is. */
static struct rules_device anon_dev[1];
static struct rules_ctx ctx_anon = { anon_dev, 1, NULL };

static struct rules_cmd cmd;   /* large: kept out of the stack */

static const struct rules_ctx *ctx_of(int which)
{
    return which == 3 ? &ctx3 : which == 4 ? &ctx_anon : which == 0 ? NULL : &ctx1;
}

/* An access a condition is evaluated on, and the result wanted; a size of 0 ends a list. */
struct sample {
    uint64_t value;
    unsigned size;
    int32_t cpu;
    int want;
};

/* Evaluate r on every sample; CHECK each result. */
static void check_samples(const char *line, const struct regdbg_rule *r, const struct sample *s)
{
    for (int i = 0; i < 8 && s[i].size; i++) {
        int got = regdbg_rule_eval(r, s[i].value, s[i].size, s[i].cpu, REGDBG_PC_UNKNOWN);

        CHECK(got == s[i].want, "'%s' on value 0x%" PRIx64 " size %u cpu %d: %d, wanted %d", line,
              s[i].value, s[i].size, s[i].cpu, got, s[i].want);
    }
}

/* ---- valid rules ------------------------------------------------------------------------------- */

struct valid_rule {
    int ctx;                    /* 0: none; 1: one device; 3: three devices; 4: anonymous */
    const char *line;
    const char *text;           /* the canonical text */
    int dev;
    uint8_t kind, dirs, bar, op;
    uint64_t start, end, operand, mask;
    uint32_t ignore;
    bool temp;
    const char *reg, *field;    /* names, or NULL */
    uint8_t uses_value;
    uint8_t n_code;
    struct sample samples[8];
    uint64_t apply_in, apply_out;   /* regdbg_rule_apply, for edit and inject */
};

static const struct valid_rule valid_rules[] = {
    { 1, "break w IC_DATA_CMD if CMD == 1", "break w i2c0:IC_DATA_CMD if CMD == 1", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x10, 0x14, 0, ALL, 0, false, "IC_DATA_CMD", NULL, 1, 4,
      { { 0x100, 4, 0, 1 }, { 0x55, 4, 0, 0 }, { 0x155, 4, 1, 1 }, { 0x355, 4, 0, 1 } }, 0, 0 },
    { 1, "break IC_CON", "break rw i2c0:IC_CON", 0,
      REGDBG_RULE_BREAK, RW, 0, 0, 0x0, 0x4, 0, ALL, 0, false, "IC_CON", NULL, 0, 0,
      { { 0, 4, 0, 1 }, { 0xff, 1, -1, 1 } }, 0, 0 },
    { 1, "break r IC_STATUS if TFE && !RFNE", "break r i2c0:IC_STATUS if TFE && !RFNE", 0,
      REGDBG_RULE_BREAK, R, 0, 0, 0x70, 0x74, 0, ALL, 0, false, "IC_STATUS", NULL, 1, 6,
      { { 0x4, 4, 0, 1 }, { 0xc, 4, 0, 0 }, { 0x0, 4, 0, 0 }, { 0x6, 4, 0, 1 } }, 0, 0 },
    { 1, "break rw i2c0:IC_CON.SPEED if SPEED == fast && size == 4 ignore 3 temp",
      "break rw i2c0:IC_CON.SPEED if SPEED == fast && size == 4 ignore 3 temp", 0,
      REGDBG_RULE_BREAK, RW, 0, 0, 0x0, 0x4, 0, ALL, 3, true, "IC_CON", "SPEED", 1, 8,
      { { 0x4, 4, 0, 1 }, { 0x4, 2, 0, 0 }, { 0x2, 4, 0, 0 }, { 0x65, 4, 3, 1 } }, 0, 0 },
    { 1, "break w IC_DATA_CMD if value.CMD == read && DAT == 0x55",
      "break w i2c0:IC_DATA_CMD if value.CMD == read && DAT == 0x55", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x10, 0x14, 0, ALL, 0, false, "IC_DATA_CMD", NULL, 1, 9,
      { { 0x155, 4, 0, 1 }, { 0x55, 4, 0, 0 }, { 0x156, 4, 0, 0 }, { 0x755, 4, 0, 1 } }, 0, 0 },
    { 1, "break w IC_DATA_CMD if CMD != write", "break w i2c0:IC_DATA_CMD if CMD != write", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x10, 0x14, 0, ALL, 0, false, "IC_DATA_CMD", NULL, 1, 4,
      { { 0x100, 4, 0, 1 }, { 0xff, 4, 0, 0 } }, 0, 0 },
    /* IC_TAR is both the register and its 10-bit field */
    { 1, "break w IC_TAR if IC_TAR == 0x55 || SPECIAL", "break w i2c0:IC_TAR if IC_TAR == 0x55 || SPECIAL", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x4, 0x8, 0, ALL, 0, false, "IC_TAR", NULL, 1, 7,
      { { 0x55, 4, 0, 1 }, { 0x800, 4, 0, 1 }, { 0x56, 4, 0, 0 }, { 0x455, 4, 0, 1 } }, 0, 0 },
    { 1, "break w IC_CON if cpu == 1", "break w i2c0:IC_CON if cpu == 1", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x0, 0x4, 0, ALL, 0, false, "IC_CON", NULL, 0, 3,
      { { 0, 4, 1, 1 }, { 0, 4, 0, 0 }, { 0, 4, -1, 0 } }, 0, 0 },
    { 1, "break w IC_CON if cpu == 0xffffffffffffffff", "break w i2c0:IC_CON if cpu == 0xffffffffffffffff", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x0, 0x4, 0, ALL, 0, false, "IC_CON", NULL, 0, 3,
      { { 0, 4, -1, 1 }, { 0, 4, 0, 0 } }, 0, 0 },
    /* C precedence: & binds tighter than |, == tighter than &, < tighter than == */
    { 1, "break w IC_CON if (value & 0x3) == 3 | value > 100",
      "break w i2c0:IC_CON if (value & 0x3) == 3 | value > 100", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x0, 0x4, 0, ALL, 0, false, "IC_CON", NULL, 1, 9,
      { { 3, 4, 0, 1 }, { 101, 4, 0, 1 }, { 2, 4, 0, 0 }, { 7, 4, 0, 1 } }, 0, 0 },
    { 1, "break w IC_CON if value & 3 == 3", "break w i2c0:IC_CON if value & 3 == 3", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x0, 0x4, 0, ALL, 0, false, "IC_CON", NULL, 1, 5,
      { { 2, 4, 0, 0 }, { 1, 4, 0, 1 }, { 3, 4, 0, 1 } }, 0, 0 },
    { 1, "break w IC_CON if value < 5 == 1", "break w i2c0:IC_CON if value < 5 == 1", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x0, 0x4, 0, ALL, 0, false, "IC_CON", NULL, 1, 5,
      { { 4, 4, 0, 1 }, { 5, 4, 0, 0 } }, 0, 0 },
    { 1, "break w IC_CON if value == 1 || value == 2 && size == 1",
      "break w i2c0:IC_CON if value == 1 || value == 2 && size == 1", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x0, 0x4, 0, ALL, 0, false, "IC_CON", NULL, 1, 11,
      { { 1, 4, 0, 1 }, { 2, 4, 0, 0 }, { 2, 1, 0, 1 }, { 1, 1, 0, 1 } }, 0, 0 },
    { 1, "break w IC_CON if value <= 2 && value >= 1 && value != 0 && value < 3 && value > 0",
      "break w i2c0:IC_CON if value <= 2 && value >= 1 && value != 0 && value < 3 && value > 0", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x0, 0x4, 0, ALL, 0, false, "IC_CON", NULL, 1, 19,
      { { 0, 4, 0, 0 }, { 1, 4, 0, 1 }, { 2, 4, 0, 1 }, { 3, 4, 0, 0 } }, 0, 0 },
    { 1, "break w IC_CON if !!value", "break w i2c0:IC_CON if !!value", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x0, 0x4, 0, ALL, 0, false, "IC_CON", NULL, 1, 3,
      { { 0, 4, 0, 0 }, { 5, 4, 0, 1 } }, 0, 0 },
    { 1, "break w IC_COMP_PARAM_1 if MAX_SPEED_MODE == high && APB_DATA_WIDTH != 8bit",
      "break w i2c0:IC_COMP_PARAM_1 if MAX_SPEED_MODE == high && APB_DATA_WIDTH != 8bit", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0xf4, 0xf8, 0, ALL, 0, false, "IC_COMP_PARAM_1", NULL, 1, 9,
      { { 0xc, 4, 0, 0 }, { 0xd, 4, 0, 1 }, { 0x9, 4, 0, 0 } }, 0, 0 },
    { 1, "edit w IC_CON set 0x20", "edit w i2c0:IC_CON set 0x20", 0,
      REGDBG_RULE_EDIT, W, 0, REGDBG_OP_SET, 0x0, 0x4, 0x20, ALL, 0, false, "IC_CON", NULL, 0, 0,
      { { 0, 4, 0, 1 } }, 0x1, 0x21 },
    { 1, "edit w IC_CON clear 1", "edit w i2c0:IC_CON clear 1", 0,
      REGDBG_RULE_EDIT, W, 0, REGDBG_OP_CLEAR, 0x0, 0x4, 0x1, ALL, 0, false, "IC_CON", NULL, 0, 0,
      { { 0, 4, 0, 1 } }, 0x3, 0x2 },
    { 1, "edit w IC_CON = 0x63", "edit w i2c0:IC_CON = 0x63", 0,
      REGDBG_RULE_EDIT, W, 0, REGDBG_OP_ASSIGN, 0x0, 0x4, 0x63, ALL, 0, false, "IC_CON", NULL, 0, 0,
      { { 0, 4, 0, 1 } }, 0x1, 0x63 },
    { 1, "edit w IC_CON.SPEED = fast", "edit w i2c0:IC_CON.SPEED = fast", 0,
      REGDBG_RULE_EDIT, W, 0, REGDBG_OP_ASSIGN, 0x0, 0x4, 0x4, 0x6, 0, false, "IC_CON", "SPEED", 0, 0,
      { { 0, 4, 0, 1 } }, 0x63, 0x65 },
    { 1, "edit w IC_CON.SPEED = 1 if MASTER_MODE temp", "edit w i2c0:IC_CON.SPEED = 1 if MASTER_MODE temp", 0,
      REGDBG_RULE_EDIT, W, 0, REGDBG_OP_ASSIGN, 0x0, 0x4, 0x2, 0x6, 0, true, "IC_CON", "SPEED", 1, 2,
      { { 0x1, 4, 0, 1 }, { 0x6, 4, 0, 0 } }, 0x65, 0x63 },
    /* set / clear / or / xor on a field: the operand is shifted, the mask stays all ones */
    { 1, "edit w IC_DATA_CMD.CMD set 1", "edit w i2c0:IC_DATA_CMD.CMD set 1", 0,
      REGDBG_RULE_EDIT, W, 0, REGDBG_OP_SET, 0x10, 0x14, 0x100, ALL, 0, false, "IC_DATA_CMD", "CMD", 0, 0,
      { { 0, 4, 0, 1 } }, 0x55, 0x155 },
    { 1, "edit w IC_DATA_CMD.STOP clear 1 ignore 2", "edit w i2c0:IC_DATA_CMD.STOP clear 1 ignore 2", 0,
      REGDBG_RULE_EDIT, W, 0, REGDBG_OP_CLEAR, 0x10, 0x14, 0x200, ALL, 2, false, "IC_DATA_CMD", "STOP", 0, 0,
      { { 0, 4, 0, 1 } }, 0x255, 0x55 },
    { 1, "inject r IC_STATUS = 0x6", "inject r i2c0:IC_STATUS = 0x6", 0,
      REGDBG_RULE_INJECT, R, 0, REGDBG_OP_ASSIGN, 0x70, 0x74, 0x6, ALL, 0, false, "IC_STATUS", NULL, 0, 0,
      { { 0, 4, 0, 1 } }, 0x1f, 0x6 },
    { 1, "inject r IC_STATUS or 0x4", "inject r i2c0:IC_STATUS or 0x4", 0,
      REGDBG_RULE_INJECT, R, 0, REGDBG_OP_OR, 0x70, 0x74, 0x4, ALL, 0, false, "IC_STATUS", NULL, 0, 0,
      { { 0, 4, 0, 1 } }, 0x1, 0x5 },
    { 1, "inject r IC_STATUS and 0xfb", "inject r i2c0:IC_STATUS and 0xfb", 0,
      REGDBG_RULE_INJECT, R, 0, REGDBG_OP_AND, 0x70, 0x74, 0xfb, ALL, 0, false, "IC_STATUS", NULL, 0, 0,
      { { 0, 4, 0, 1 } }, 0x1f, 0x1b },
    { 1, "inject r IC_STATUS.TFE xor 1", "inject r i2c0:IC_STATUS.TFE xor 1", 0,
      REGDBG_RULE_INJECT, R, 0, REGDBG_OP_XOR, 0x70, 0x74, 0x4, ALL, 0, false, "IC_STATUS", "TFE", 0, 0,
      { { 0, 4, 0, 1 } }, 0x6, 0x2 },
    { 1, "inject r IC_DATA_CMD.DAT = 0x55", "inject r i2c0:IC_DATA_CMD.DAT = 0x55", 0,
      REGDBG_RULE_INJECT, R, 0, REGDBG_OP_ASSIGN, 0x10, 0x14, 0x55, 0xff, 0, false, "IC_DATA_CMD", "DAT", 0, 0,
      { { 0, 4, 0, 1 } }, 0x1aa, 0x155 },
    { 1, "inject r IC_DATA_CMD.DAT and 0x0f", "inject r i2c0:IC_DATA_CMD.DAT and 0x0f", 0,
      REGDBG_RULE_INJECT, R, 0, REGDBG_OP_AND, 0x10, 0x14, 0x0f, 0xff, 0, false, "IC_DATA_CMD", "DAT", 0, 0,
      { { 0, 4, 0, 1 } }, 0x1aa, 0x10a },
    { 1, "inject r IC_COMP_PARAM_1.APB_DATA_WIDTH = 32bit if size == 4",
      "inject r i2c0:IC_COMP_PARAM_1.APB_DATA_WIDTH = 32bit if size == 4", 0,
      REGDBG_RULE_INJECT, R, 0, REGDBG_OP_ASSIGN, 0xf4, 0xf8, 0x2, 0x3, 0, false, "IC_COMP_PARAM_1",
      "APB_DATA_WIDTH", 0, 3, { { 0, 4, 0, 1 }, { 0, 2, 0, 0 } }, 0xff, 0xfe },
    { 1, "inject r IC_SDA_HOLD.IC_SDA_RX_HOLD = 0xff", "inject r i2c0:IC_SDA_HOLD.IC_SDA_RX_HOLD = 0xff", 0,
      REGDBG_RULE_INJECT, R, 0, REGDBG_OP_ASSIGN, 0x7c, 0x80, 0xff0000, 0xff0000, 0, false, "IC_SDA_HOLD",
      "IC_SDA_RX_HOLD", 0, 0, { { 0, 4, 0, 1 } }, 0x12345678, 0x12ff5678 },
    { 1, "drop w IC_ENABLE if ENABLE == 0 temp", "drop w i2c0:IC_ENABLE if ENABLE == 0 temp", 0,
      REGDBG_RULE_DROP, W, 0, 0, 0x6c, 0x70, 0, ALL, 0, true, "IC_ENABLE", NULL, 1, 4,
      { { 0, 4, 0, 1 }, { 1, 4, 0, 0 }, { 2, 4, 0, 1 } }, 0, 0 },
    { 1, "break w bar0+0x10", "break w i2c0:bar0+0x10", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x10, 0x11, 0, ALL, 0, false, NULL, NULL, 0, 0,
      { { 0, 4, 0, 1 } }, 0, 0 },
    { 1, "break r bar0+16..0x20 if size == 1", "break r i2c0:bar0+0x10..0x20 if size == 1", 0,
      REGDBG_RULE_BREAK, R, 0, 0, 0x10, 0x20, 0, ALL, 0, false, NULL, NULL, 0, 3,
      { { 0, 1, 0, 1 }, { 0, 4, 0, 0 } }, 0, 0 },
    { 1, "break w bar0+0xFFF", "break w i2c0:bar0+0xfff", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0xfff, 0x1000, 0, ALL, 0, false, NULL, NULL, 0, 0,
      { { 0, 4, 0, 1 } }, 0, 0 },
    { 1, "break w i2c0:bar0+0X0..0x1000 if value", "break w i2c0:bar0+0x0..0x1000 if value", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x0, 0x1000, 0, ALL, 0, false, NULL, NULL, 1, 1,
      { { 0, 4, 0, 0 }, { 9, 4, 0, 1 } }, 0, 0 },
    { 1, "inject r bar0+0x70 = 0xffffffffffffffff", "inject r i2c0:bar0+0x70 = 0xffffffffffffffff", 0,
      REGDBG_RULE_INJECT, R, 0, REGDBG_OP_ASSIGN, 0x70, 0x71, ALL, ALL, 0, false, NULL, NULL, 0, 0,
      { { 0, 4, 0, 1 } }, 0x12, ALL },
    /* options in any order; canonical order in the text */
    { 1, "break w IC_CON temp ignore 4294967295 if value", "break w i2c0:IC_CON if value ignore 4294967295 temp", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x0, 0x4, 0, ALL, 4294967295u, true, "IC_CON", NULL, 1, 1,
      { { 1, 4, 0, 1 } }, 0, 0 },
    { 1, "  break\tw   IC_CON   if   (value==1)||( !SPEED)  # a comment: break x y", "break w i2c0:IC_CON if (value == 1) || (!SPEED)", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x0, 0x4, 0, ALL, 0, false, "IC_CON", NULL, 1, 7,
      { { 1, 4, 0, 1 }, { 2, 4, 0, 0 }, { 0, 4, 0, 1 } }, 0, 0 },
    { 1, "break w IC_CON#comment", "break w i2c0:IC_CON", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x0, 0x4, 0, ALL, 0, false, "IC_CON", NULL, 0, 0,
      { { 1, 4, 0, 1 } }, 0, 0 },
    { 1, "break w IC_CON if value == 0x10#comment", "break w i2c0:IC_CON if value == 0x10", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x0, 0x4, 0, ALL, 0, false, "IC_CON", NULL, 1, 3,
      { { 0x10, 4, 0, 1 } }, 0, 0 },
    { 1, "break w IC_CON\r\n", "break w i2c0:IC_CON", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x0, 0x4, 0, ALL, 0, false, "IC_CON", NULL, 0, 0,
      { { 1, 4, 0, 1 } }, 0, 0 },
    { 1, "break w LPSS_PRIV_RESETS", "break w i2c0:LPSS_PRIV_RESETS", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x804, 0x808, 0, ALL, 0, false, "LPSS_PRIV_RESETS", NULL, 0, 0,
      { { 1, 4, 0, 1 } }, 0, 0 },
    /* several devices */
    { 3, "break w i2c1:IC_CON", "break w i2c1:IC_CON", 1,
      REGDBG_RULE_BREAK, W, 0, 0, 0x0, 0x4, 0, ALL, 0, false, "IC_CON", NULL, 0, 0,
      { { 1, 4, 0, 1 } }, 0, 0 },
    { 3, "edit w i2c1:IC_CON.SPEED = high", "edit w i2c1:IC_CON.SPEED = high", 1,
      REGDBG_RULE_EDIT, W, 0, REGDBG_OP_ASSIGN, 0x0, 0x4, 0x6, 0x6, 0, false, "IC_CON", "SPEED", 0, 0,
      { { 1, 4, 0, 1 } }, 0x1, 0x7 },
    { 3, "break rw raw:bar2+0x100..0x200000000", "break rw raw:bar2+0x100..0x200000000", 2,
      REGDBG_RULE_BREAK, RW, 2, 0, 0x100, 0x200000000, 0, ALL, 0, false, NULL, NULL, 0, 0,
      { { 1, 4, 0, 1 } }, 0, 0 },
    /* an anonymous device: no prefix in the text */
    { 4, "break w IC_CON if SPEED", "break w IC_CON if SPEED", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x0, 0x4, 0, ALL, 0, false, "IC_CON", NULL, 1, 2,
      { { 2, 4, 0, 1 }, { 1, 4, 0, 0 } }, 0, 0 },
    { 4, "drop w bar0+0x6c..0x70", "drop w bar0+0x6c..0x70", 0,
      REGDBG_RULE_DROP, W, 0, 0, 0x6c, 0x70, 0, ALL, 0, false, NULL, NULL, 0, 0,
      { { 2, 4, 0, 1 } }, 0, 0 },
    { 3, "break w i2c0:bar0+0x10 if value == 1", "break w i2c0:bar0+0x10 if value == 1", 0,
      REGDBG_RULE_BREAK, W, 0, 0, 0x10, 0x11, 0, ALL, 0, false, NULL, NULL, 1, 3,
      { { 1, 4, 0, 1 } }, 0, 0 },
    /* interrupts as the action of a rule: op is the enum regdbg_irq_action */
    { 1, "on w bar0+0x10 irq pulse", "on w i2c0:bar0+0x10 irq pulse", 0,
      REGDBG_RULE_IRQ, W, 0, REGDBG_IRQ_PULSE, 0x10, 0x11, 0, ALL, 0, false, NULL, NULL, 0, 0,
      { { 0, 4, 0, 1 } }, 0, 0 },
    { 1, "on w IC_DATA_CMD if CMD == read irq assert",
      "on w i2c0:IC_DATA_CMD if CMD == read irq assert", 0, REGDBG_RULE_IRQ, W, 0,
      REGDBG_IRQ_ASSERT, 0x10, 0x14, 0, ALL, 0, false, "IC_DATA_CMD", NULL, 1, 4,
      { { 0x100, 4, 0, 1 }, { 0x55, 4, 0, 0 } }, 0, 0 },
    /* irq among the options, in any order; canonical: if, ignore, temp, then irq */
    { 1, "on r IC_CLR_INTR irq deassert temp ignore 2",
      "on r i2c0:IC_CLR_INTR ignore 2 temp irq deassert", 0, REGDBG_RULE_IRQ, R, 0,
      REGDBG_IRQ_DEASSERT, 0x40, 0x44, 0, ALL, 2, true, "IC_CLR_INTR", NULL, 0, 0,
      { { 0, 4, 0, 1 } }, 0, 0 },
    { 3, "on rw i2c1:IC_ENABLE if ENABLE irq pulse", "on rw i2c1:IC_ENABLE if ENABLE irq pulse", 1,
      REGDBG_RULE_IRQ, RW, 0, REGDBG_IRQ_PULSE, 0x6c, 0x70, 0, ALL, 0, false, "IC_ENABLE", NULL, 1,
      2, { { 1, 4, 0, 1 }, { 0, 4, 0, 0 } }, 0, 0 },
};

static void test_valid_rules(void)
{
    for (size_t i = 0; i < sizeof(valid_rules) / sizeof(valid_rules[0]); i++) {
        const struct valid_rule *v = &valid_rules[i];
        const struct regdbg_rule *r = &cmd.spec.rule;
        struct rules_error err;
        int rc = rules_parse(v->line, ctx_of(v->ctx), &cmd, &err);

        CHECK(rc == 0, "'%s': %d: column %d: %s", v->line, rc, err.column, err.message);
        if (rc != 0) {
            continue;
        }
        CHECK(cmd.kind == RCMD_RULE, "'%s': kind %d", v->line, cmd.kind);
        CHECK(strcmp(cmd.spec.text, v->text) == 0, "'%s': text '%s'", v->line, cmd.spec.text);
        CHECK(cmd.spec.dev == v->dev, "'%s': dev %d", v->line, cmd.spec.dev);
        CHECK(r->enabled == 1, "'%s': enabled %u", v->line, r->enabled);
        CHECK(r->kind == v->kind, "'%s': rule kind %u", v->line, r->kind);
        CHECK(r->dirs == v->dirs, "'%s': dirs %u", v->line, r->dirs);
        CHECK(r->bar == v->bar, "'%s': bar %u", v->line, r->bar);
        CHECK(r->op == v->op, "'%s': op %u", v->line, r->op);
        CHECK(r->start == v->start && r->end == v->end, "'%s': [0x%" PRIx64 ", 0x%" PRIx64 ")",
              v->line, r->start, r->end);
        CHECK(r->operand == v->operand, "'%s': operand 0x%" PRIx64, v->line, r->operand);
        CHECK(r->mask == v->mask, "'%s': mask 0x%" PRIx64, v->line, r->mask);
        CHECK(cmd.spec.ignore == v->ignore, "'%s': ignore %u", v->line, cmd.spec.ignore);
        CHECK(cmd.spec.temp == v->temp, "'%s': temp %d", v->line, cmd.spec.temp);
        CHECK(r->uses_value == v->uses_value, "'%s': uses_value %u", v->line, r->uses_value);
        CHECK(r->n_code == v->n_code, "'%s': n_code %u", v->line, r->n_code);
        CHECK(atomic_load(&r->seq) == 0 && atomic_load(&r->hits) == 0 &&
              atomic_load(&r->ignore_left) == 0 && atomic_load(&r->temp_left) == 0,
              "'%s': seq/hits/ignore_left/temp_left not left at 0", v->line);
        CHECK(v->reg ? cmd.spec.reg && strcmp(cmd.spec.reg->name, v->reg) == 0 : !cmd.spec.reg,
              "'%s': reg %s", v->line, cmd.spec.reg ? cmd.spec.reg->name : "NULL");
        CHECK(v->field ? cmd.spec.field && strcmp(cmd.spec.field->name, v->field) == 0
                       : !cmd.spec.field,
              "'%s': field %s", v->line, cmd.spec.field ? cmd.spec.field->name : "NULL");
        check_samples(v->line, r, v->samples);
        if (v->kind == REGDBG_RULE_EDIT || v->kind == REGDBG_RULE_INJECT) {
            uint64_t got = regdbg_rule_apply(r, v->apply_in);

            CHECK(got == v->apply_out, "'%s': apply(0x%" PRIx64 ") = 0x%" PRIx64 ", wanted 0x%" PRIx64,
                  v->line, v->apply_in, got, v->apply_out);
        }
    }
}

/* ---- the other commands ------------------------------------------------------------------------ */

struct valid_cmd {
    const char *line;
    enum rules_cmd_kind kind;
    int n_ids;
    int ids[4];
    uint32_t count;
    double timeout_s;
    bool has_value;
    uint64_t value;
};

static const struct valid_cmd valid_cmds[] = {
    { "", RCMD_EMPTY, 0, { 0 }, 0, 0, false, 0 },
    { "   \t ", RCMD_EMPTY, 0, { 0 }, 0, 0, false, 0 },
    { "\n", RCMD_EMPTY, 0, { 0 }, 0, 0, false, 0 },
    { "# just a comment", RCMD_EMPTY, 0, { 0 }, 0, 0, false, 0 },
    { "   # break w NOWHERE", RCMD_EMPTY, 0, { 0 }, 0, 0, false, 0 },
    { "info rules", RCMD_INFO_RULES, 0, { 0 }, 0, 0, false, 0 },
    { "info rules # all of them", RCMD_INFO_RULES, 0, { 0 }, 0, 0, false, 0 },
    { "enable 1", RCMD_ENABLE, 1, { 1 }, 0, 0, false, 0 },
    { "disable 2 3", RCMD_DISABLE, 2, { 2, 3 }, 0, 0, false, 0 },
    { "delete", RCMD_DELETE, 0, { 0 }, 0, 0, false, 0 },
    { "delete 0 7 0x10 2147483647", RCMD_DELETE, 4, { 0, 7, 16, 2147483647 }, 0, 0, false, 0 },
    { "step", RCMD_STEP, 0, { 0 }, 1, 0, false, 0 },
    { "step 10", RCMD_STEP, 0, { 0 }, 10, 0, false, 0 },
    { "step 0x10", RCMD_STEP, 0, { 0 }, 16, 0, false, 0 },
    { "step 4294967295", RCMD_STEP, 0, { 0 }, 4294967295u, 0, false, 0 },
    { "wait", RCMD_WAIT, 0, { 0 }, 0, 0, false, 0 },
    { "wait 5", RCMD_WAIT, 0, { 0 }, 0, 5.0, false, 0 },
    { "wait 0.25", RCMD_WAIT, 0, { 0 }, 0, 0.25, false, 0 },
    { "wait 007 # seconds", RCMD_WAIT, 0, { 0 }, 0, 7.0, false, 0 },
    { "wait 999999999.5", RCMD_WAIT, 0, { 0 }, 0, 999999999.5, false, 0 },
    { "continue", RCMD_CONTINUE, 0, { 0 }, 0, 0, false, 0 },
    { "continue 0x155", RCMD_CONTINUE, 0, { 0 }, 0, 0, true, 0x155 },
    { "continue 0", RCMD_CONTINUE, 0, { 0 }, 0, 0, true, 0 },
    { "skip", RCMD_SKIP, 0, { 0 }, 0, 0, false, 0 },
    { "skip 18446744073709551615", RCMD_SKIP, 0, { 0 }, 0, 0, true, UINT64_MAX },
    { "print", RCMD_PRINT, 0, { 0 }, 0, 0, false, 0 },
    { "irq pulse", RCMD_IRQ, 0, { 0 }, 0, 0, false, 0 },
    { "irq assert i2c0 # the only one", RCMD_IRQ, 0, { 0 }, 0, 0, false, 0 },
};

static void test_valid_cmds(void)
{
    for (size_t i = 0; i < sizeof(valid_cmds) / sizeof(valid_cmds[0]); i++) {
        const struct valid_cmd *v = &valid_cmds[i];
        struct rules_error err;
        int rc = rules_parse(v->line, &ctx1, &cmd, &err);

        CHECK(rc == 0, "'%s': %d: column %d: %s", v->line, rc, err.column, err.message);
        if (rc != 0) {
            continue;
        }
        CHECK(cmd.kind == v->kind, "'%s': kind %d", v->line, cmd.kind);
        CHECK(cmd.n_ids == v->n_ids, "'%s': n_ids %d", v->line, cmd.n_ids);
        for (int k = 0; k < v->n_ids && k < cmd.n_ids; k++) {
            CHECK(cmd.ids[k] == v->ids[k], "'%s': ids[%d] = %d", v->line, k, cmd.ids[k]);
        }
        CHECK(cmd.count == v->count, "'%s': count %u", v->line, cmd.count);
        CHECK(cmd.timeout_s == v->timeout_s, "'%s': timeout %g", v->line, cmd.timeout_s);
        CHECK(cmd.has_value == v->has_value && cmd.value == v->value,
              "'%s': has_value %d value 0x%" PRIx64, v->line, cmd.has_value, cmd.value);
        CHECK(cmd.spec.text[0] == '\0', "'%s': text '%s'", v->line, cmd.spec.text);
    }
}

/* irq: the action, and the device named, the only one, or none (-1: the caller's choice). */
static void test_irq_cmds(void)
{
    static const struct {
        int ctx;
        const char *line;
        uint8_t action;
        int dev;
    } cases[] = {
        { 1, "irq assert", REGDBG_IRQ_ASSERT, 0 },
        { 1, "irq deassert i2c0", REGDBG_IRQ_DEASSERT, 0 },
        { 3, "irq pulse", REGDBG_IRQ_PULSE, -1 },
        { 3, "  irq pulse raw  # the one without a map", REGDBG_IRQ_PULSE, 2 },
        { 3, "irq assert i2c1", REGDBG_IRQ_ASSERT, 1 },
        { 0, "irq pulse", REGDBG_IRQ_PULSE, -1 },
        { 4, "irq pulse", REGDBG_IRQ_PULSE, 0 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rules_error err;
        int rc = rules_parse(cases[i].line, ctx_of(cases[i].ctx), &cmd, &err);

        CHECK(rc == 0 && cmd.kind == RCMD_IRQ && cmd.irq_action == cases[i].action &&
              cmd.spec.dev == cases[i].dev && cmd.def == &command_table[CMD_IRQ],
              "'%s': %d kind %d action %u dev %d: %s", cases[i].line, rc, cmd.kind,
              cmd.irq_action, cmd.spec.dev, rc ? err.message : "");
    }
}

/* ---- expect ------------------------------------------------------------------------------------ */

struct valid_expect {
    int ctx;
    const char *line;
    uint8_t uses_value, n_code;
    struct sample samples[8];
};

static const struct valid_expect valid_expects[] = {
    { 1, "expect CMD == read && STOP", 1, 7,
      { { 0x300, 4, 0, 1 }, { 0x100, 4, 0, 0 }, { 0x200, 4, 0, 0 } } },
    { 1, "expect value == 0x155 && size == 4", 1, 7,
      { { 0x155, 4, 0, 1 }, { 0x155, 2, 0, 0 }, { 0x154, 4, 0, 0 } } },
    /* ACTIVITY is bit 8 of IC_INTR_STAT (the first register having it) and bit 0 of IC_STATUS */
    { 1, "expect ACTIVITY == 1", 1, 4, { { 0x100, 4, 0, 1 }, { 0x1, 4, 0, 0 } } },
    { 1, "expect IC_STATUS.ACTIVITY == 1", 1, 4, { { 0x100, 4, 0, 0 }, { 0x1, 4, 0, 1 } } },
    { 1, "expect value.TFE", 1, 2, { { 0x4, 4, 0, 1 }, { 0x1, 4, 0, 0 } } },
    { 1, "expect cpu == 0 || cpu == 1", 0, 7, { { 0, 4, 0, 1 }, { 0, 4, 1, 1 }, { 0, 4, 2, 0 } } },
    { 1, "expect APB_DATA_WIDTH == 16bit", 1, 4, { { 0x1, 4, 0, 1 }, { 0x2, 4, 0, 0 } } },
    { 1, "expect SPEED == high # comment", 1, 4, { { 0x6, 4, 0, 1 }, { 0x2, 4, 0, 0 } } },
    { 3, "expect DAT == 0x55", 1, 4, { { 0x155, 4, 0, 1 }, { 0x56, 4, 0, 0 } } },
    { 0, "expect size == 4", 0, 3, { { 0, 4, 0, 1 }, { 0, 1, 0, 0 } } },
};

static void test_valid_expects(void)
{
    for (size_t i = 0; i < sizeof(valid_expects) / sizeof(valid_expects[0]); i++) {
        const struct valid_expect *v = &valid_expects[i];
        struct rules_error err;
        int rc = rules_parse(v->line, ctx_of(v->ctx), &cmd, &err);

        CHECK(rc == 0, "'%s': %d: column %d: %s", v->line, rc, err.column, err.message);
        if (rc != 0) {
            continue;
        }
        CHECK(cmd.kind == RCMD_EXPECT, "'%s': kind %d", v->line, cmd.kind);
        CHECK(cmd.cond.uses_value == v->uses_value, "'%s': uses_value %u", v->line,
              cmd.cond.uses_value);
        CHECK(cmd.cond.n_code == v->n_code, "'%s': n_code %u", v->line, cmd.cond.n_code);
        check_samples(v->line, &cmd.cond, v->samples);
    }
}

/* ---- the bytecode ------------------------------------------------------------------------------ */

/* Equal constants share a slot; the code is the postfix form of the condition. */
static void test_code_shape(void)
{
    const struct regdbg_rule *r = &cmd.spec.rule;
    struct rules_error err;
    int rc = rules_parse("break w IC_DATA_CMD if CMD == 1 && size == 1 || !DAT", &ctx1, &cmd, &err);
    static const struct regdbg_insn want[] = {
        { REGDBG_INSN_VALUE, 0, 0, 0 }, { REGDBG_INSN_FIELD, 0, 8, 1 }, { REGDBG_INSN_CONST, 0, 0, 0 },
        { REGDBG_INSN_EQ, 0, 0, 0 }, { REGDBG_INSN_SIZE, 0, 0, 0 }, { REGDBG_INSN_CONST, 0, 0, 0 },
        { REGDBG_INSN_EQ, 0, 0, 0 }, { REGDBG_INSN_LAND, 0, 0, 0 }, { REGDBG_INSN_VALUE, 0, 0, 0 },
        { REGDBG_INSN_FIELD, 0, 0, 8 }, { REGDBG_INSN_NOT, 0, 0, 0 }, { REGDBG_INSN_LOR, 0, 0, 0 },
    };

    CHECK(rc == 0, "%s", err.message);
    CHECK(r->n_code == sizeof(want) / sizeof(want[0]), "n_code %u", r->n_code);
    for (unsigned i = 0; i < r->n_code && i < sizeof(want) / sizeof(want[0]); i++) {
        CHECK(memcmp(&r->code[i], &want[i], sizeof(want[i])) == 0, "insn %u: %u %u %u %u", i,
              r->code[i].op, r->code[i].arg, r->code[i].shift, r->code[i].width);
    }
    CHECK(r->consts[0] == 1 && r->consts[1] == 0, "consts %" PRIu64 " %" PRIu64, r->consts[0],
          r->consts[1]);

    /* eight different numbers fit, and a repeat takes no new slot */
    rc = rules_parse("break w IC_CON if value == (1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 1)", &ctx1, &cmd, &err);
    CHECK(rc == 0, "%s", err.message);
    CHECK(rc != 0 || (r->consts[7] == 8 && r->n_code == 19 && r->code[9].arg == 0),
          "consts[7] %" PRIu64 " n_code %u", r->consts[7], r->n_code);
    CHECK(regdbg_rule_eval(r, 15, 4, 0, REGDBG_PC_UNKNOWN) == 1 &&
          regdbg_rule_eval(r, 9, 4, 0, REGDBG_PC_UNKNOWN) == 0, "eval");
}

/* pc in conditions: an exact PC, a range (end exclusive), and what an unknown PC does */
static void test_pc_conditions(void)
{
    static const struct { const char *line; uint64_t pc; int want; } cases[] = {
        { "break w IC_CON if pc == 0x1000a4", 0x1000a4, 1 },
        { "break w IC_CON if pc == 0x1000a4", 0x1000a5, 0 },
        { "break w IC_CON if pc == 0x1000a4", REGDBG_PC_UNKNOWN, 0 },
        { "break w IC_CON if pc in 0x100000..0x100400", 0xfffff, 0 },
        { "break w IC_CON if pc in 0x100000..0x100400", 0x100000, 1 },
        { "break w IC_CON if pc in 0x100000..0x100400", 0x1003ff, 1 },
        { "break w IC_CON if pc in 0x100000..0x100400", 0x100400, 0 },
        { "break w IC_CON if pc in 0x100000..0x100400", REGDBG_PC_UNKNOWN, 0 },
        { "break w IC_CON if pc in 16..32 && value == 1", 20, 1 },
        { "break w IC_CON if !(pc in 16..32) || cpu == 1", 20, 0 },
    };
    struct rules_error err;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = rules_parse(cases[i].line, &ctx1, &cmd, &err);

        CHECK(rc == 0, "'%s': %s", cases[i].line, err.message);
        CHECK(cmd.spec.rule.uses_pc == 1, "'%s': uses_pc", cases[i].line);
        CHECK(regdbg_rule_eval(&cmd.spec.rule, 1, 4, 0, cases[i].pc) == cases[i].want,
              "'%s' at pc 0x%llx: want %d", cases[i].line, (unsigned long long)cases[i].pc,
              cases[i].want);
    }
    CHECK(rules_parse("break w IC_CON if value in 1..3", &ctx1, &cmd, &err) == 0 &&
          cmd.spec.rule.uses_pc == 0 && cmd.spec.rule.uses_value == 1 &&
          regdbg_rule_eval(&cmd.spec.rule, 2, 4, 0, 0) == 1 &&
          regdbg_rule_eval(&cmd.spec.rule, 3, 4, 0, 0) == 0, "value in 1..3");
    CHECK(rules_parse("break w IC_CON if SPEED in 1..3", &ctx1, &cmd, &err) == 0 &&
          regdbg_rule_eval(&cmd.spec.rule, 0x4, 4, 0, 0) == 1 &&
          regdbg_rule_eval(&cmd.spec.rule, 0x6, 4, 0, 0) == 0, "a field in a range");
    CHECK(rules_parse("break w IC_CON if cpu == 1", &ctx1, &cmd, &err) == 0 &&
          cmd.spec.rule.uses_pc == 0, "no pc, no uses_pc");
    CHECK(rules_parse("break w IC_CON if 5 in 1..3", &ctx1, &cmd, &err) == -1 &&
          strstr(err.message, "'in' needs a plain operand"), "%s", err.message);
    CHECK(rules_parse("break w IC_CON if pc in 3..3", &ctx1, &cmd, &err) == -1 &&
          strstr(err.message, "is not after the start"), "%s", err.message);
    CHECK(rules_parse("break w IC_CON if pc in 3", &ctx1, &cmd, &err) == -1 &&
          strstr(err.message, "expected '..'"), "%s", err.message);
    /* from FUNC without symbols: says how to give them */
    CHECK(rules_parse("break w IC_CON from i2c_init", &ctx1, &cmd, &err) == -1 &&
          err.column == 21 && strstr(err.message, "--symbols FILE"), "%s", err.message);
    CHECK(rules_parse("expect pc == 0x10", &ctx1, &cmd, &err) == 0 && cmd.kind == RCMD_EXPECT &&
          cmd.cond.uses_pc == 1 && regdbg_rule_eval(&cmd.cond, 0, 4, 0, 0x10) == 1,
          "expect pc");
    CHECK(rules_parse("gdb", &ctx1, &cmd, &err) == 0 && cmd.kind == RCMD_GDB, "gdb");
    CHECK(rules_parse("gdb 1", &ctx1, &cmd, &err) == -1, "gdb takes no argument");
}

/* A condition of exactly REGDBG_RULE_MAX_CODE instructions compiles; one more does not. */
static void test_code_limit(void)
{
    static const char clauses[] = "value == 1 || value == 2 || value == 3 || value == 4 || "
                                  "value == 5 || value == 6 || value == 7 || value == 8";
    char line[512];
    struct rules_error err;
    int rc;

    snprintf(line, sizeof(line), "break w IC_CON if !(%s)", clauses);   /* 8 * 3 + 7 + 1 */
    rc = rules_parse(line, &ctx1, &cmd, &err);
    CHECK(rc == 0, "%s", err.message);
    CHECK(cmd.spec.rule.n_code == REGDBG_RULE_MAX_CODE, "n_code %u", cmd.spec.rule.n_code);
    CHECK(regdbg_rule_eval(&cmd.spec.rule, 5, 4, 0, REGDBG_PC_UNKNOWN) == 0 &&
          regdbg_rule_eval(&cmd.spec.rule, 9, 4, 0, REGDBG_PC_UNKNOWN) == 1,
          "eval");

    /* the 33rd instruction is the outer '!', emitted last */
    snprintf(line, sizeof(line), "break w IC_CON if !!(%s)", clauses);
    rc = rules_parse(line, &ctx1, &cmd, &err);
    CHECK(rc == -1 && err.column == 19 &&
          strcmp(err.message, "condition too long (at most 32 operations)") == 0,
          "%d: column %d: %s", rc, err.column, err.message);

    /* deep nesting is refused, not recursed into without bound */
    memset(line, '(', sizeof(line));
    memcpy(line, "expect ", 7);
    line[sizeof(line) - 1] = '\0';
    rc = rules_parse(line, &ctx1, &cmd, &err);
    CHECK(rc == -1 && err.column == 72 &&
          strcmp(err.message, "condition nested too deeply (at most 64 levels)") == 0,
          "%d: column %d: %s", rc, err.column, err.message);
    memset(line, '!', sizeof(line));
    memcpy(line, "expect ", 7);
    line[sizeof(line) - 1] = '\0';
    rc = rules_parse(line, &ctx1, &cmd, &err);
    CHECK(rc == -1 && err.column == 72 &&
          strcmp(err.message, "condition nested too deeply (at most 64 levels)") == 0,
          "%d: column %d: %s", rc, err.column, err.message);
}

/* The canonical text is cut with "..." rather than overflowing. */
static void test_long_text(void)
{
    char line[1024];
    size_t n;
    struct rules_error err;
    int rc;

    n = (size_t)snprintf(line, sizeof(line), "break w IC_CON if ");
    for (int i = 0; i < 10; i++) {
        n += (size_t)snprintf(line + n, sizeof(line) - n, "%sRX_FIFO_FULL_HLD_CTRL", i ? " || " : "");
    }
    rc = rules_parse(line, &ctx1, &cmd, &err);
    CHECK(rc == 0, "%s", err.message);
    n = strlen(cmd.spec.text);
    CHECK(n == sizeof(cmd.spec.text) - 1 && strcmp(cmd.spec.text + n - 3, "...") == 0, "text '%s'",
          cmd.spec.text);
}

/* NULL err and ctx are allowed; out is zeroed on every call. */
static void test_api_edges(void)
{
    struct rules_error err;

    CHECK(rules_parse("break w IC_CON", &ctx1, &cmd, NULL) == 0, "NULL err");
    CHECK(rules_parse("break w IC_NOPE", &ctx1, &cmd, NULL) == -1, "NULL err, error");
    CHECK(rules_parse("step 3", NULL, &cmd, &err) == 0 && cmd.count == 3, "NULL ctx");
    CHECK(cmd.spec.text[0] == '\0' && cmd.spec.rule.kind == 0, "out not zeroed");
    CHECK(rules_parse("break w IC_CON", NULL, &cmd, &err) == -1 && err.column == 9 &&
          strcmp(err.message, "unknown register 'IC_CON' (no devices)") == 0, "%d: %s", err.column,
          err.message);
    CHECK(rules_parse("print", &ctx1, &cmd, &err) == 0 && err.column == 0 && err.message[0] == '\0',
          "err not cleared");
}

/* ---- invalid lines ----------------------------------------------------------------------------- */

struct invalid {
    int ctx;
    const char *line;
    int column;
    const char *message;
};

static const struct invalid invalids[] = {
    /* commands */
    { 1, "brek w IC_CON", 1, "unknown command 'brek'; did you mean break?" },
    { 1, "Break w IC_CON", 1, "unknown command 'Break'; did you mean break?" },
    { 1, "frobnicate", 1, "unknown command 'frobnicate'" },
    { 1, "42", 1, "expected a command" },
    { 1, "  = 1", 3, "expected a command" },
    /* directions */
    { 1, "break x IC_CON", 7, "expected r, w, rw or a target" },
    { 1, "break W IC_CON", 7, "expected r, w, rw or a target" },
    { 1, "break", 6, "expected r, w, rw or a target" },
    { 1, "break 0x10", 7, "expected r, w, rw or a target" },
    { 1, "edit IC_CON set 1", 6, "edit needs w" },
    { 1, "edit r IC_CON set 1", 6, "edit needs w" },
    { 1, "edit", 5, "edit needs w" },
    { 1, "inject w IC_CON = 1", 8, "inject needs r" },
    { 1, "inject rw IC_CON = 1", 8, "inject needs r" },
    { 1, "drop IC_CON", 6, "drop needs w" },
    { 1, "drop r IC_CON", 6, "drop needs w" },
    /* targets */
    { 1, "break w", 8, "expected a target (REGISTER, REGISTER.FIELD or barN+OFFSET) after 'w'" },
    { 1, "break w IC_DATA_CMDD", 9, "unknown register 'IC_DATA_CMDD' on i2c0; did you mean IC_DATA_CMD?" },
    { 1, "break w ic_con", 9, "unknown register 'ic_con' on i2c0; did you mean IC_CON?" },
    { 1, "break w IC_CLR_RX", 9, "unknown register 'IC_CLR_RX' on i2c0" },
    { 1, "break w IC_CLR_RX_OVR", 9,
      "unknown register 'IC_CLR_RX_OVR' on i2c0; did you mean IC_CLR_RX_OVER, IC_CLR_TX_OVER or IC_CLR_RX_DONE?" },
    { 1, "break IC_CONN", 7, "unknown register 'IC_CONN' on i2c0; did you mean IC_CON?" },
    { 1, "break w IC_CON.", 16, "expected a field name after 'IC_CON.'" },
    { 1, "break w IC_CON.SPEEDD", 16, "unknown field 'SPEEDD' in IC_CON; did you mean SPEED?" },
    { 1, "break w IC_TXFLR.X", 18, "unknown field 'X' in IC_TXFLR (it has no fields)" },
    { 1, "break w i2c9:IC_CON", 9, "unknown device 'i2c9'; devices: i2c0" },
    { 3, "break w i2c9:IC_CON", 9, "unknown device 'i2c9'; devices: i2c0, i2c1, raw" },
    { 1, "break w i2c0:", 14, "expected a register or barN+OFFSET after 'i2c0:'" },
    { 1, "break w i2c0:0x10", 14, "expected a register or barN+OFFSET after 'i2c0:'" },
    { 3, "break w IC_CON", 9, "register 'IC_CON' is on i2c0 and i2c1; say which, e.g. i2c0:IC_CON" },
    { 3, "break w IC_CONN", 9, "unknown register 'IC_CONN' on any device; did you mean IC_CON?" },
    { 3, "break w raw:IC_CON", 13, "unknown register 'IC_CON' on raw (it has no register map)" },
    { 3, "break w bar0+0x10", 9, "bar0 of which device? prefix it with one of i2c0, i2c1, raw" },
    { 0, "break w bar0+0x10", 9, "no device to put bar0 on" },
    { 1, "break w bar7+0x10", 9, "no BAR 7 (BARs are 0 to 5)" },
    { 1, "break w bar123456789012345678901234567890+0", 9, "no BAR 12345678901234567890... (BARs are 0 to 5)" },
    { 1, "break w bar1+0x10", 9, "i2c0 has no BAR 1" },
    { 4, "break w bar1+0x10", 9, "the unnamed device has no BAR 1" },
    { 4, "break w IC_CONN", 9, "unknown register 'IC_CONN' on the unnamed device; did you mean IC_CON?" },
    { 1, "break w bar0", 13, "expected '+' and an offset after 'bar0'" },
    { 1, "break w bar0 + ", 15, "expected an offset after '+'" },
    { 1, "break w bar0+x", 14, "expected an offset after '+'" },
    { 1, "break w bar0+0x1000", 14, "offset 0x1000 is outside BAR 0 of i2c0 (size 0x1000)" },
    { 1, "break w bar0+0x10..0x1001", 20, "end 0x1001 is outside BAR 0 of i2c0 (size 0x1000)" },
    { 1, "break w bar0+0x10..0x10", 20, "end 0x10 is not after the start 0x10 (the end is exclusive)" },
    { 1, "break w bar0+0x10..8", 20, "end 0x8 is not after the start 0x10 (the end is exclusive)" },
    { 1, "break w bar0+0x10..", 20, "expected an end offset after '..'" },
    { 1, "break w bar0+0x10.0x20", 18, "unexpected '.'" },
    { 3, "break w raw:bar0+0xffffffffffffffff", 18, "offset 0xffffffffffffffff is too large" },
    { 1, "break w bar0+0x1g", 14, "invalid number '0x1g' (numbers are decimal or 0x hex)" },
    { 1, "break w bar0+0x", 14, "invalid number '0x' (numbers are decimal or 0x hex)" },
    { 1, "break w bar0+12ab", 14, "invalid number '12ab' (numbers are decimal or 0x hex)" },
    /* operations */
    { 1, "edit w IC_CON", 14, "expected set, clear or '=' after the target" },
    { 1, "edit w IC_CON or 1", 15, "expected set, clear or '=' after the target" },
    { 1, "edit w IC_CON set", 18, "expected a mask after 'set'" },
    { 1, "edit w IC_CON = ", 16, "expected a value after '='" },
    { 1, "edit w IC_CON == 1", 15, "expected set, clear or '=' after the target" },
    { 1, "inject r IC_CON", 16, "expected '=', or, and or xor after the target" },
    { 1, "inject r IC_CON set 1", 17, "expected '=', or, and or xor after the target" },
    { 1, "inject r IC_CON xor", 20, "expected a mask after 'xor'" },
    { 1, "edit w IC_CON.SPEED = 4", 23, "value '4' does not fit field SPEED (2 bits)" },
    { 1, "edit w IC_DATA_CMD.CMD set 2", 28, "value '2' does not fit field CMD (1 bit)" },
    { 1, "edit w IC_CON = 0x100000000", 17, "value '0x100000000' does not fit register IC_CON (32 bits)" },
    { 1, "edit w IC_CON.SPEED = fsat", 23, "unknown value 'fsat' for SPEED; did you mean fast?" },
    { 1, "edit w IC_CON.SPEED = slow", 23, "unknown value 'slow' for SPEED (values: std fast high)" },
    { 1, "edit w IC_CON = fast", 17, "expected a value after '='" },
    { 1, "inject r IC_STATUS = 0x10000000000000000", 22,
      "number '0x10000000000000000' is too large for 64 bits" },
    { 1, "inject r IC_STATUS = 18446744073709551616", 22,
      "number '18446744073709551616' is too large for 64 bits" },
    /* conditions */
    { 1, "break w IC_CON if value ==", 27, "expected a value after '=='" },
    { 1, "break w IC_CON if value ==   # comment", 27, "expected a value after '=='" },
    { 1, "break w IC_CON if", 18, "expected a condition after 'if'" },
    { 1, "break w IC_CON if )", 19, "expected a condition after 'if'" },
    { 1, "break w IC_CON if value = 1", 25, "unexpected '='; did you mean '=='?" },
    { 1, "break w IC_CON if value == 1 2", 30, "unexpected '2'" },
    { 1, "break w IC_CON if value 1", 25, "unexpected '1'" },
    { 1, "break w IC_CON if (value == 1", 30, "expected ')' to close the '(' at column 19, not end of line" },
    { 1, "break w IC_CON if (value == 1]", 30, "expected ')' to close the '(' at column 19, not ']'" },
    { 1, "break w IC_CON if value == 1)", 29, "unexpected ')'" },
    { 1, "break w IC_CON if value && && 1", 28, "expected a value after '&&'" },
    { 1, "break w IC_CON if !", 20, "expected a value after '!'" },
    { 1, "break w IC_CON if value == -1", 28, "expected a value after '=='" },
    { 1, "break w IC_CON if value.", 25, "expected a field name after '.'" },
    { 1, "break w IC_CON if value.CMD", 25, "unknown field 'CMD' in IC_CON" },
    { 1, "break w IC_CON if CMD == read", 19, "unknown field 'CMD' in IC_CON" },
    { 1, "break w IC_CON if SPEEED == 1", 19, "unknown field 'SPEEED' in IC_CON; did you mean SPEED?" },
    { 1, "break w IC_CON if valeu == 1", 19, "unknown field 'valeu' in IC_CON; did you mean value?" },
    { 1, "break w IC_CON if SPEED == fsat", 28, "unknown value 'fsat' for SPEED; did you mean fast?" },
    { 1, "break w IC_CON if SPEED < slow", 27, "unknown value 'slow' for SPEED (values: std fast high)" },
    { 1, "break w IC_CON if SPEED == (fast)", 29, "unknown field 'fast' in IC_CON" },
    { 1, "expect CMD != raed", 15, "unknown value 'raed' for CMD; did you mean read?" },
    { 1, "break w IC_CON if MASTER_MODE == fast", 34, "unknown field 'fast' in IC_CON" },
    { 1, "break w IC_TXFLR if CMD", 21,
      "unknown name 'CMD' (IC_TXFLR has no fields; use value, size, cpu, pc and numbers)" },
    { 1, "break w bar0+0x10 if CMD", 22,
      "unknown name 'CMD' (a BAR range has no fields; use value, size, cpu, pc and numbers)" },
    { 1, "break w IC_CON if value == 0x10000000000000000", 28,
      "number '0x10000000000000000' is too large for 64 bits" },
    { 1, "break w IC_CON if value == 99999999999999999999", 28,
      "number '99999999999999999999' is too large for 64 bits" },
    { 1, "break w IC_CON if value == 0b101", 28, "invalid number '0b101' (numbers are decimal or 0x hex)" },
    { 1, "break w IC_CON if 1|2|3|4|5|6|7|8|9", 35, "too many different numbers in the condition (at most 8)" },
    { 1, "break w IC_CON if value == \"1\"", 28, "expected a value after '=='" },
    { 1, "break w IC_CON if value == 1 \xc3\xa9", 30, "unexpected '\\xc3\\xa9'" },
    { 1, "break w IC_CON if value == \x01", 28, "expected a value after '=='" },
    { 1, "break w IC_CON \x01", 16, "unexpected '\\x01'" },
    /* options */
    { 1, "break r IC_CON foo", 16, "unexpected 'foo'" },
    { 1, "break w IC_CON iff 1", 16, "unexpected 'iff'; did you mean if?" },
    { 1, "break w IC_CON tmp", 16, "unexpected 'tmp'; did you mean temp?" },
    { 1, "break w IC_CON if value temp temp", 30, "duplicate 'temp'" },
    { 1, "break w IC_CON if value if size", 25, "duplicate 'if'" },
    { 1, "break w IC_CON ignore 1 ignore 2", 25, "duplicate 'ignore'" },
    { 1, "break w IC_CON ignore", 22, "expected a count after 'ignore'" },
    { 1, "break w IC_CON ignore -1", 23, "expected a count after 'ignore'" },
    { 1, "break w IC_CON ignore 4294967296", 23, "ignore count too large (at most 4294967295)" },
    { 1, "drop w IC_CON = 1", 15, "unexpected '='" },
    /* on ... irq, and irq */
    { 1, "on IC_CON irq pulse", 4, "on needs r, w or rw: the accesses that fire it" },
    { 1, "on", 3, "on needs r, w or rw: the accesses that fire it" },
    { 1, "on w IC_CON", 12, "expected 'irq assert', 'irq deassert' or 'irq pulse': what the "
      "interrupt does" },
    { 1, "on w IC_ENABLE if ENABLE irq", 29, "expected assert, deassert or pulse after 'irq'" },
    { 1, "on w IC_CON irq puls", 17, "expected assert, deassert or pulse, not 'puls'; did you mean "
      "pulse?" },
    { 1, "on w IC_CON irq 1", 17, "expected assert, deassert or pulse, not '1'" },
    { 1, "on w IC_CON irq pulse irq assert", 23, "duplicate 'irq'" },
    { 1, "on w IC_CON irq pulse foo", 23, "unexpected 'foo'" },
    { 1, "on w IC_CON iqr pulse", 13, "unexpected 'iqr'; did you mean irq?" },
    { 1, "break w IC_CON irq pulse", 16, "unexpected 'irq'" },
    { 1, "edit w IC_CON = 1 irq pulse", 19, "unexpected 'irq'" },
    { 1, "irq", 4, "expected assert, deassert or pulse after 'irq'" },
    { 1, "irq raise", 5, "expected assert, deassert or pulse, not 'raise'" },
    { 1, "irq Pulse", 5, "expected assert, deassert or pulse, not 'Pulse'; did you mean pulse?" },
    { 1, "irq pulse i2c9", 11, "unknown device 'i2c9'; devices: i2c0" },
    { 3, "irq pulse i2c0 i2c1", 16, "unexpected 'i2c1'" },
    { 1, "irq pulse +", 11, "expected a device after 'pulse', not '+'" },
    { 0, "irq pulse dev0", 11, "unknown device 'dev0' (no devices)" },
    /* the other commands */
    { 1, "info", 5, "expected 'rules' after 'info'" },
    { 1, "info breakpoints", 6, "expected 'rules' after 'info'" },
    { 1, "info rules 1", 12, "unexpected '1'" },
    { 1, "enable", 7, "expected a rule number after 'enable'" },
    { 1, "disable x", 9, "expected a rule number" },
    { 1, "delete 1 x", 10, "expected a rule number" },
    { 1, "delete 1,2", 9, "expected a rule number" },
    { 1, "delete 2147483648", 8, "rule number too large (at most 2147483647)" },
    { 1, "enable 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 "
         "33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64 65",
      191, "too many rule numbers (at most 64)" },
    { 1, "step 0", 6, "step count must be 1 to 4294967295" },
    { 1, "step 4294967296", 6, "step count must be 1 to 4294967295" },
    { 1, "step x", 6, "unexpected 'x'" },
    { 1, "step 1 2", 8, "unexpected '2'" },
    { 1, "wait 0", 6, "the timeout must be greater than 0 (leave it out to wait without limit)" },
    { 1, "wait 0.0", 6, "the timeout must be greater than 0 (leave it out to wait without limit)" },
    { 1, "wait 1.", 6, "invalid timeout '1.' (seconds, e.g. 10 or 0.5)" },
    { 1, "wait 1e5", 6, "invalid timeout '1e5' (seconds, e.g. 10 or 0.5)" },
    { 1, "wait 0x10", 6, "invalid timeout '0x10' (seconds, e.g. 10 or 0.5)" },
    { 1, "wait 1.5.2", 6, "invalid timeout '1.5.2' (seconds, e.g. 10 or 0.5)" },
    { 1, "wait 1000000000", 6, "timeout too large (at most 999999999 seconds)" },
    { 1, "wait .5", 6, "unexpected '.'" },
    { 1, "wait 5 s", 8, "unexpected 's'" },
    { 1, "continue x", 10, "unexpected 'x'" },
    { 1, "continue 0x1ffffffffffffffff", 10, "number '0x1ffffffffffffffff' is too large for 64 bits" },
    { 1, "skip 1 2", 8, "unexpected '2'" },
    { 1, "print 1", 7, "unexpected '1'" },
    { 1, "expect", 7, "expected a condition after 'expect'" },
    { 1, "expect FOO", 8, "unknown field 'FOO'" },
    { 1, "expect TFEE", 8, "unknown field 'TFEE'; did you mean TFE?" },
    { 1, "expect IC_STATUS.NOPE", 18, "unknown field 'NOPE' in IC_STATUS" },
    { 1, "expect IC_STATUS.", 18, "expected a field name after '.'" },
    { 1, "expect value == 1 junk", 19, "unexpected 'junk'" },
    { 0, "expect CMD", 8, "unknown name 'CMD' (no register map has fields; use value, size, cpu, pc and numbers)" },
};

static void test_invalid(void)
{
    for (size_t i = 0; i < sizeof(invalids) / sizeof(invalids[0]); i++) {
        const struct invalid *v = &invalids[i];
        struct rules_error err;
        int rc = rules_parse(v->line, ctx_of(v->ctx), &cmd, &err);

        CHECK(rc == -1, "'%s': accepted", v->line);
        CHECK(err.column == v->column && strcmp(err.message, v->message) == 0,
              "'%s': column %d: %s (wanted column %d: %s)", v->line, err.column, err.message,
              v->column, v->message);
    }
}

/* The closest-name helper that regdbg's command line uses for a misspelled command. */
static void test_closest_name(void)
{
    static const char *const names[] = { "launch", "attach", "batch", "record", "dump", "scan",
                                         "qemu-args", "help", "version" };
    static const struct { const char *word, *want; } cases[] = {
        { "recrod", "record" }, { "lanch", "launch" }, { "Attach", "attach" },
        { "dumpp", "dump" }, { "qemu_args", "qemu-args" }, { "verison", "version" },
        { "bach", "batch" }, { "record", "record" }, { "frobnicate", NULL }, { "x", NULL },
        { "", NULL }, { "recordingsession", NULL },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = rules_closest_name(cases[i].word, names,
                                             sizeof(names) / sizeof(names[0]));

        CHECK(cases[i].want ? got && strcmp(got, cases[i].want) == 0 : got == NULL,
              "'%s': got %s, want %s", cases[i].word, got ? got : "NULL",
              cases[i].want ? cases[i].want : "NULL");
    }
    CHECK(rules_closest_name("abc", names, 0) == NULL, "no names");
}

/* The one number rule: 0x hex, everything else decimal, a leading zero is not octal. */
static void test_numbers(void)
{
    static const struct { const char *text; enum rules_number want; uint64_t value; } cases[] = {
        { "0", RULES_NUMBER_OK, 0 }, { "10", RULES_NUMBER_OK, 10 }, { "010", RULES_NUMBER_OK, 10 },
        { "0010", RULES_NUMBER_OK, 10 }, { "08", RULES_NUMBER_OK, 8 }, { "09", RULES_NUMBER_OK, 9 },
        { "0x10", RULES_NUMBER_OK, 16 }, { "0X1f", RULES_NUMBER_OK, 31 },
        { "0x010", RULES_NUMBER_OK, 16 }, { "0xDeadBeef", RULES_NUMBER_OK, 0xdeadbeef },
        { "18446744073709551615", RULES_NUMBER_OK, UINT64_MAX },
        { "0xffffffffffffffff", RULES_NUMBER_OK, UINT64_MAX },
        { "0x0000000000000000000001", RULES_NUMBER_OK, 1 },
        { "18446744073709551616", RULES_NUMBER_BIG, 0 },
        { "99999999999999999999999", RULES_NUMBER_BIG, 0 },
        { "0x10000000000000000", RULES_NUMBER_BIG, 0 },
        { "", RULES_NUMBER_BAD, 0 }, { "0x", RULES_NUMBER_BAD, 0 }, { "0X", RULES_NUMBER_BAD, 0 },
        { "x10", RULES_NUMBER_BAD, 0 }, { "12ab", RULES_NUMBER_BAD, 0 },
        { "10 ", RULES_NUMBER_BAD, 0 }, { " 10", RULES_NUMBER_BAD, 0 },
        { "-1", RULES_NUMBER_BAD, 0 }, { "+1", RULES_NUMBER_BAD, 0 },
        { "0x1g", RULES_NUMBER_BAD, 0 }, { "0b101", RULES_NUMBER_BAD, 0 },
        { "0o17", RULES_NUMBER_BAD, 0 }, { "1e3", RULES_NUMBER_BAD, 0 },
        { "1.5", RULES_NUMBER_BAD, 0 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t v = 12345;
        enum rules_number got = rules_parse_number(cases[i].text, strlen(cases[i].text), &v);

        CHECK(got == cases[i].want, "'%s': got %d, want %d", cases[i].text, (int)got,
              (int)cases[i].want);
        CHECK(got != RULES_NUMBER_OK || v == cases[i].value, "'%s': got %llu, want %llu",
              cases[i].text, (unsigned long long)v, (unsigned long long)cases[i].value);
    }
    /* only the n characters given are read */
    {
        uint64_t v = 0;
        CHECK(rules_parse_number("1234", 2, &v) == RULES_NUMBER_OK && v == 12, "prefix: %llu",
              (unsigned long long)v);
    }
    /* the rules language agrees: step 010 is ten steps, and a value of 010 in a condition is ten */
    {
        struct rules_cmd c;
        struct rules_error e;

        CHECK(rules_parse("step 010", NULL, &c, &e) == 0 && c.count == 10, "step 010: %u",
              c.count);
        CHECK(rules_parse("continue 010", NULL, &c, &e) == 0 && c.has_value && c.value == 10,
              "continue 010: %llu", (unsigned long long)c.value);
    }
}

static void test_value(void)
{
    static const struct { const char *text; int ret; uint64_t value; int column;
                          const char *message; } cases[] = {
        { "010", 0, 10, 0, NULL }, { "  0x10  ", 0, 16, 0, NULL }, { "7", 0, 7, 0, NULL },
        { "", -1, 0, 1, "expected a number" }, { "   ", -1, 0, 4, "expected a number" },
        { "0x", -1, 0, 1, "invalid number '0x' (numbers are decimal or 0x hex)" },
        { " -1", -1, 0, 2, "invalid number '-1' (numbers are decimal or 0x hex)" },
        { "12 34", -1, 0, 4, "unexpected '34' after the number" },
        { "18446744073709551616", -1, 0, 1,
          "number '18446744073709551616' is too large for 64 bits" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rules_error e = { 0, "" };
        uint64_t v = 0;
        int ret = rules_parse_value(cases[i].text, &v, &e);

        CHECK(ret == cases[i].ret, "'%s': returned %d", cases[i].text, ret);
        if (ret == 0) {
            CHECK(v == cases[i].value, "'%s': %llu", cases[i].text, (unsigned long long)v);
        } else {
            CHECK(e.column == cases[i].column && strcmp(e.message, cases[i].message) == 0,
                  "'%s': column %d: %s", cases[i].text, e.column, e.message);
        }
    }
}

static void test_filter(void)
{
    struct event_filter f;
    struct rules_error e = { 0, "" };
    static const struct { const char *text; int column; const char *message; } bad[] = {
        { "bogus=1", 1, "unknown key 'bogus' (dev, bar, reg, dir, value, irq)" },
        { "dir=w reg=NO_SUCH_REG", 11, "no register 'NO_SUCH_REG' in the register maps" },
        { "dir=x", 5, "dir=x: expected r, w or irq" },
        { "irq=up", 5, "irq=up: expected raised, lowered, msi, unchanged, host-masked or "
          "host-unmasked" },
        { "irq=", 5, "irq=: expected raised, lowered, msi, unchanged, host-masked or "
          "host-unmasked" },
        { "bar=9", 5, "bar=9: expected 0 to 5" }, { "bar=", 5, "bar=: expected 0 to 5" },
        { "dev=nope", 5, "no device 'nope'" },
        { "value=zz", 7, "value=zz: expected a number" },
        { "value=", 7, "value=: expected a number" },
        { "value=1/", 9, "mask : expected a number" },
        { "value=1/0x", 9, "mask 0x: expected a number" },
        { "  justaword", 3, "'justaword' is not KEY=VALUE" },
        { "dev=raw reg=IC_CON", 13, "no register 'IC_CON' in the register maps" },
    };

    CHECK(rules_parse_filter("", &ctx3, &f, &e) == 0 && f.dev == ANY && f.bar == ANY &&
          f.dir == ANY && f.reg == ANY && !f.has_value && !f.reg_name[0], "empty filter");
    CHECK(rules_parse_filter("value=010", &ctx3, &f, &e) == 0 && f.has_value && f.value == 10 &&
          f.mask == UINT64_MAX, "value=010 is ten: %llu", (unsigned long long)f.value);
    CHECK(rules_parse_filter("value=0x13/0x0f", &ctx3, &f, &e) == 0 && f.value == 3 &&
          f.mask == 0xf, "value/mask: %llx/%llx", (unsigned long long)f.value,
          (unsigned long long)f.mask);
    CHECK(rules_parse_filter("value=010/010", &ctx3, &f, &e) == 0 && f.value == 10 &&
          f.mask == 10, "value=010/010: %llu/%llu", (unsigned long long)f.value,
          (unsigned long long)f.mask);
    CHECK(rules_parse_filter(" dev=i2c1  bar=0 dir=w reg=IC_CON ", &ctx3, &f, &e) == 0 &&
          f.dev == 1 && f.bar == 0 && f.dir == 1 && f.reg == (int)(regmap_find_name(map, "IC_CON") -
          map->regs) && !f.reg_name[0], "dev bar dir reg: %s", e.message);
    CHECK(rules_parse_filter("dir=read reg=IC_CON", &ctx3, &f, &e) == 0 && f.dev == ANY &&
          f.dir == 0 && f.reg == ANY && strcmp(f.reg_name, "IC_CON") == 0, "reg on any device");
    CHECK(rules_parse_filter("bar=05", &ctx3, &f, &e) == 0 && f.bar == 5, "bar=05");
    CHECK(rules_parse_filter("dir=irq", &ctx3, &f, &e) == 0 && f.dir == REGDBG_DIR_IRQ &&
          !f.irq_what, "dir=irq: %s", e.message);
    CHECK(rules_parse_filter("dev=i2c1 irq=msi", &ctx3, &f, &e) == 0 && f.dev == 1 &&
          f.dir == ANY && f.irq_what == REGDBG_IRQ_MSI, "irq=msi: %s", e.message);
    CHECK(rules_parse_filter("irq=host-unmasked", &ctx3, &f, &e) == 0 &&
          f.irq_what == REGDBG_IRQ_HOST_UNMASKED, "irq=host-unmasked: %s", e.message);
    CHECK(rules_parse_filter("", &ctx3, &f, &e) == 0 && f.irq_what == 0, "no irq= : any");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        e = (struct rules_error){ 0, "" };
        CHECK(rules_parse_filter(bad[i].text, &ctx3, &f, &e) == -1 &&
              e.column == bad[i].column && strcmp(e.message, bad[i].message) == 0,
              "'%s': column %d: %s", bad[i].text, e.column, e.message);
    }
    CHECK(rules_parse_filter("dev=i2c0", NULL, &f, NULL) == -1, "no devices, err NULL");
}

/* The command table drives the parser's dispatch: every command it marks for the rules language
   parses (no "unknown command"), every other one is unknown to the parser. */
static void test_command_table(void)
{
    char buf[300];

    for (int i = 0; i < CMD_COUNT; i++) {
        const struct command_def *c = &command_table[i];
        struct rules_cmd out;
        struct rules_error e = { 0, "" };
        int ret = rules_parse(c->name, &ctx1, &out, &e);
        bool unknown = ret < 0 && strncmp(e.message, "unknown command", 15) == 0;

        CHECK(c->id == (enum command_id)i, "entry %d has id %d", i, (int)c->id);
        CHECK(command_find(c->name, strlen(c->name)) == c, "command_find(%s)", c->name);
        CHECK(c->rules_language ? !unknown : unknown, "%s: %d %s", c->name, ret, e.message);
        CHECK(ret < 0 || out.def == c, "%s: def", c->name);
        CHECK(c->where != 0 && c->usage && c->help && strncmp(c->usage, c->name,
              strlen(c->name)) == 0, "%s: where, usage, help", c->name);
    }
    CHECK(command_find("brea", 4) == NULL && command_find("breakx", 6) == NULL, "prefixes");
    CHECK(strcmp(command_list(CMDW_RULES_FILE, buf, sizeof(buf)),
                 "break, edit, inject, drop, on, enable, disable, delete, irq") == 0,
          "rules file: %s", buf);
    CHECK(strcmp(command_list(CMDW_PROMPT | CMDW_BATCH, buf, sizeof(buf)),
                 "break, edit, inject, drop, on, info rules, enable, disable, delete, irq, step")
          == 0, "prompt and batch: %s", buf);
    CHECK(strcmp(command_where_text(CMDW_PROMPT | CMDW_BATCH, buf, sizeof(buf)),
                 "prompt, batch") == 0, "where: %s", buf);
    CHECK(strcmp(command_where_text(CMDW_RULES_FILE | CMDW_BATCH, buf, sizeof(buf)),
                 "rules file, batch") == 0, "where: %s", buf);
}

int main(void)
{
    char err[512];

    map = regmap_load(BAYTRAIL_MAP, err, sizeof(err));
    if (!map) {
        printf("not ok - cannot load %s: %s\n", BAYTRAIL_MAP, err);
        return 1;
    }
    one_dev[0] = (struct rules_device){ "i2c0", map, { 0x1000, 0, 0, 0, 0, 0 } };
    three_devs[0] = (struct rules_device){ "i2c0", map, { 0x1000, 0, 0, 0, 0, 0 } };
    three_devs[1] = (struct rules_device){ "i2c1", map, { 0x1000, 0, 0, 0, 0, 0 } };
    three_devs[2] = (struct rules_device){ "raw", NULL, { 0, 0, 0, 0, 0, 0 } };
    anon_dev[0] = (struct rules_device){ NULL, map, { 0x1000, 0, 0, 0, 0, 0 } };

    RUN_TEST(test_valid_rules);
    RUN_TEST(test_valid_cmds);
    RUN_TEST(test_irq_cmds);
    RUN_TEST(test_valid_expects);
    RUN_TEST(test_code_shape);
    RUN_TEST(test_code_limit);
    RUN_TEST(test_pc_conditions);
    RUN_TEST(test_long_text);
    RUN_TEST(test_api_edges);
    RUN_TEST(test_invalid);
    RUN_TEST(test_closest_name);
    RUN_TEST(test_numbers);
    RUN_TEST(test_value);
    RUN_TEST(test_filter);
    RUN_TEST(test_command_table);
    regmap_free(map);
    return TEST_SUMMARY();
}
