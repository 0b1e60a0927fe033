/*
 * libFuzzer target for the command language (debugger/rules_parse.c): the input is one line,
 * parsed against a context of one device and against one of three (two with the shipped DesignWare
 * I2C map, one without a map); a rule or an expect condition that compiles is run through
 * regdbg_rule_eval on a few accesses. A compiled program the evaluator calls malformed, an error
 * without a message or with a column outside the line, or a text that is not NUL-terminated
 * aborts. Build (the Makefile's fuzz variant: clang, libFuzzer, ASan and UBSan, linked with that
 * variant of libregdbg.a) and run from the repo top (the map is loaded from maps/):
 *
 *   make build/fuzz/fuzz_rules_parse
 *   build/fuzz/fuzz_rules_parse -max_total_time=60 tests/fuzz/corpus
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regmap.h"
#include "rules_parse.h"

#define MAP_PATH "maps/dw-i2c-baytrail.json"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct regmap *map;
static struct rules_device devs[3];
static struct rules_cmd cmd;

static void setup(void)
{
    char err[512];

    map = regmap_load(MAP_PATH, err, sizeof(err));
    if (!map) {
        fprintf(stderr, "fuzz_rules_parse: %s (run from the repo top)\n", err);
        abort();
    }
    devs[0] = (struct rules_device){ "i2c0", map, { 0x1000, 0, 0, 0, 0, 0 } };
    devs[1] = (struct rules_device){ "i2c1", map, { 0x1000, 0x100, 0, 0, 0, 0x10000 } };
    devs[2] = (struct rules_device){ "raw", NULL, { 0, 0, 0, 0, 0, 0 } };
}

static void check_program(const struct regdbg_rule *r)
{
    static const uint64_t values[] = { 0, 1, 0x155, 0xffffffff, UINT64_MAX };
    static const int32_t cpus[] = { 0, 1, -1 };

    if (r->n_code > REGDBG_RULE_MAX_CODE) {
        abort();
    }
    for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
        for (size_t c = 0; c < sizeof(cpus) / sizeof(cpus[0]); c++) {
            if (regdbg_rule_eval(r, values[v], (unsigned)(1u << (v % 4)), cpus[c],
                                 values[(v + 1) % 4]) < 0) {
                abort();    /* the compiler produced a program the evaluator rejects */
            }
        }
    }
}

static void parse_one(const char *line, size_t len, const struct rules_ctx *ctx)
{
    struct rules_error err;
    int rc = rules_parse(line, ctx, &cmd, &err);

    if (rc < 0) {
        if (rc != -1 || err.column < 1 || (size_t)err.column > len + 1 || err.message[0] == '\0' ||
            !memchr(err.message, '\0', sizeof(err.message))) {
            abort();
        }
        return;
    }
    if (rc != 0) {
        abort();
    }
    if (cmd.kind == RCMD_RULE) {
        const struct regdbg_rule *r = &cmd.spec.rule;

        if (!memchr(cmd.spec.text, '\0', sizeof(cmd.spec.text)) || cmd.spec.text[0] == '\0' ||
            cmd.spec.dev < 0 || cmd.spec.dev >= ctx->n_devs || r->start >= r->end || r->bar > 5 ||
            r->enabled != 1) {
            abort();
        }
        check_program(r);
        (void)regdbg_rule_apply(r, 0x12345678);
    } else if (cmd.kind == RCMD_EXPECT) {
        check_program(&cmd.cond);
    } else if (cmd.n_ids < 0 || cmd.n_ids > 64) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rules_ctx one = { devs, 1, NULL }, three = { devs, 3, NULL };
    char *line;

    if (!map) {
        setup();
    }
    line = malloc(size + 1);
    if (!line) {
        return 0;
    }
    memcpy(line, data, size);
    line[size] = '\0';
    parse_one(line, strlen(line), &one);
    parse_one(line, strlen(line), &three);
    free(line);
    return 0;
}
