/*
 * `regdbg dump`: print a trace file as text (one line per access, in the spirit of Linux
 * mmiotrace), as JSON lines or as CSV, each access decoded by register and field with the
 * register maps the debugger picks for the device, and its guest PC named by --symbols; --follow
 * keeps reading while a recording grows.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "regmap.h"
#include "ring_reader.h"
#include "session.h"
#include "symbols.h"
#include "trace_file.h"

const char dump_usage[] =
    "usage: regdbg dump FILE [--format text|json|csv] [--follow] [--map FILE]...\n"
    "                   [--symbols FILE[@BIAS]]...\n"
    "\n"
    "Print the accesses and interrupt events of a trace file written by `regdbg record`,\n"
    "accesses decoded by register and\n"
    "field with the register map of the device (the shipped maps and --map ones, chosen by\n"
    "vendor:device as the debugger chooses them).\n"
    "text: one line per access: direction (R/W), width in bytes, seconds since the recording\n"
    "      began, CPU, device, BAR+offset, the register and an arrow (<- written, -> read)\n"
    "      when the map names it, value, then flags and the original value when a rule\n"
    "      changed it, the guest PC when it is known: pc=0x10117b, pc=0x10117d(after) when it\n"
    "      is the address after the instruction, mode=prot32 when the vCPU's mode is new, and\n"
    "      with --symbols the function+offset and (file:line); last, after two spaces, the\n"
    "      fields (SPEED=fast: a field's value by the name the map gives it, else a number).\n"
    "      Lines starting with # are markers (the proxy's dma= when it has a dma-map, dropped\n"
    "      events, end, BAR placements). Bytes of the device id and of names other than\n"
    "      printable ASCII show as \\xNN. An interrupt event is a line\n"
    "      I - TIME CPU DEV LINE WHAT by=SOURCE[:RULE][(ACTION)] [blocked] [pc=...]: LINE\n"
    "      INTA-INTD or MSI0, WHAT raised, lowered, msi, unchanged, host-masked or\n"
    "      host-unmasked, SOURCE debugger, rule, host or device, ACTION assert, deassert or\n"
    "      pulse. A DMA event of a proxy with dma-map= is a line of its own: D, the time, CPU\n"
    "      and device, dmaN (the engine), start|done|refused|blocked, to-device|from-device,\n"
    "      guest=ADDRESS len=BYTES, buffer=ADDRESS (the bounce buffer), copy_ns=NS (the copy),\n"
    "      why=WORD: the reason of a refusal or a block.\n"
    "json: one object per access with the keys seq, t_ns, cpu, dev, bar, off, size, dir (\"r\"\n"
    "      or \"w\"), value, reg (the register's name, null outside every register), fields\n"
    "      (an object: each field's number, null outside every register), flags (and orig,\n"
    "      rule when a rule touched the access; pc, mode, and pc_after: true, when the PC is\n"
    "      known; with --symbols also sym \"func+0xoff\" and src \"file:line\", null when\n"
    "      unknown). An interrupt event has dir \"irq\" and the keys irq (what happened), line\n"
    "      (\"intx\" with pin, or \"msi\" with vector), source, action and rule when there are,\n"
    "      flags ([\"blocked\"] or []) and the PC keys. A DMA event: seq, t_ns, cpu, dev, bar,\n"
    "      dir \"dma\", engine, what, direction, guest, len, buffer, copy_ns (and why).\n"
    "csv:  a header row, then one row per access with a column for each json key (fields as\n"
    "      the text shows them, flags comma-separated, absent values empty), quoted as\n"
    "      RFC 4180 says: for spreadsheets and pandas.read_csv. An interrupt event's row has\n"
    "      dir irq, off its pin or vector, value what happened and fields line=, source= and\n"
    "      action=. A DMA event's row has dir dma, off its guest address, size its engine,\n"
    "      value its buffer, orig its length and fields the text form's description.\n"
    "A damaged file is reported after the events that precede the damage.\n"
    "\n"
    "  --format F   text (default), json or csv\n"
    "  -f, --follow keep reading as the file grows, until the recording ends or Ctrl-C;\n"
    "               waits for FILE when the recording has not created it yet\n"
    "  --map FILE   a register map to add to the shipped ones (a file or a folder; repeatable)\n"
    CLI_SYMBOLS_HELP
    "\n"
    "examples:\n"
    "  regdbg dump i2c.trace | less\n"
    "  regdbg dump i2c.trace --format json | jq 'select(.reg == \"IC_CON\") | .fields.SPEED'\n"
    "  regdbg dump i2c.trace --format csv > i2c.csv\n"
    "  regdbg dump fw.trace --symbols fw.elf --symbols option-rom.map@0xc0000\n";

/* What a dump knows besides the file: the names of the PCs, the mode each vCPU was last seen
   in (the text shows a mode when it changes). */
struct dump_ctx {
    const struct symbols *syms;
    const struct regmap *map;               /* the device's, or NULL */
    uint8_t last_mode[RING_MAX_CPU + 2];    /* by cpu + 1; [0] for no vCPU and odd ones */
};

enum dump_format { FORMAT_TEXT, FORMAT_JSON, FORMAT_CSV };

#define MODE_NOT_SEEN 0xff

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Has the access's vCPU changed mode since its last access with a PC (or is this its first)? */
static bool mode_is_new(struct dump_ctx *d, const struct regdbg_trace_record *r)
{
    size_t i = r->cpu >= 0 && r->cpu <= RING_MAX_CPU ? (size_t)r->cpu + 1 : 0;
    bool changed = d->last_mode[i] != r->cpu_mode;

    d->last_mode[i] = r->cpu_mode;
    return changed;
}

/* The guest PC of a record and its names, as " pc=0x... mode=... func+0x4 (file:line)" */
static void print_pc_text(struct dump_ctx *d, const struct regdbg_trace_record *r)
{
    char sym[CLI_NAME_LEN], src[CLI_NAME_LEN], text[4 * CLI_NAME_LEN];

    printf(" pc=0x%" PRIx64 "%s", r->guest_pc, r->flags & REGDBG_EV_PC_AFTER ? "(after)" : "");
    if (mode_is_new(d, r)) {
        printf(" mode=%s", trace_cpu_mode_name(r->cpu_mode));
    }
    cli_pc_names(d->syms, r->guest_pc, r->flags & REGDBG_EV_PC_AFTER, sym, src);
    if (sym[0]) {
        cli_escape_name(sym, text, sizeof(text));
        printf(" %s", text);
    }
    if (src[0]) {
        cli_escape_name(src, text, sizeof(text));
        printf(" (%s)", text);
    }
}

/* "INTA" for INTx pin 1, "MSI0" for MSI vector 0: where an interrupt event happened. */
static void irq_line_text(const struct regdbg_trace_record *r, char *buf, size_t len)
{
    if (r->flags & REGDBG_EV_IRQ_MSI) {
        snprintf(buf, len, "MSI%" PRIu64, r->offset);
    } else {
        snprintf(buf, len, "INT%c", (char)('A' + (r->offset - 1) % 4));
    }
}

/*
 * An interrupt event: "I - TIME CPU DEV INTA raised by=rule:3(pulse)", the same columns as an
 * access's, with the pin or vector where the BAR+offset goes and what happened as the value.
 */
static void print_irq_text(struct dump_ctx *d, const struct regdbg_trace_record *r,
                           bool negative, uint64_t mag, const char *cpu, const char *dev)
{
    char line[16];

    irq_line_text(r, line, sizeof(line));
    printf("I - %s%" PRIu64 ".%09" PRIu64 " %s %s %s %s by=%s", negative ? "-" : "",
           mag / 1000000000u, mag % 1000000000u, cpu, dev[0] ? dev : "-", line,
           trace_irq_what_name((uint8_t)r->value), trace_irq_source_name(r->irq_source));
    if (r->rule != REGDBG_RULE_NONE) {
        printf(":%u", r->rule);
    }
    if (r->orig_value) {
        printf("(%s)", trace_irq_action_name((uint8_t)r->orig_value));
    }
    if (r->flags & REGDBG_EV_IRQ_BLOCKED) {
        printf(" blocked");
    }
    if (r->flags & REGDBG_EV_PC) {
        print_pc_text(d, r);
    }
    putchar('\n');
}

static void print_text(struct dump_ctx *d, const struct regdbg_trace_record *r,
                       const struct regdbg_trace_header *h, const char *dev)
{
    /* Time since the start, sign and magnitude apart: the difference may be any 64-bit value. */
    bool negative = r->t_ns < h->start_monotonic_ns;
    uint64_t mag = negative ? h->start_monotonic_ns - r->t_ns : r->t_ns - h->start_monotonic_ns;
    const struct regmap_reg *reg;
    char flags[64];
    char cpu[16];

    if (r->kind == REGDBG_REC_DROP) {
        printf("# dropped %" PRIu64 " events here (ring full or producer gone)\n", r->value);
        return;
    }
    if (r->kind == REGDBG_REC_END) {
        printf("# end of recording: %" PRIu64 " events, %" PRIu64 " dropped\n", r->value,
               r->orig_value);
        return;
    }
    if (r->kind == REGDBG_REC_BAR) {
        printf("# bar%u ", r->bar);
        if (r->value == REGDBG_BAR_UNMAPPED) {
            printf("unmapped");
        } else {
            printf("at 0x%" PRIx64, r->value);
        }
        if (r->offset != REGDBG_PCI_UNKNOWN) {
            printf(" (PCI %02" PRIx64 ":%02" PRIx64 ".%" PRIu64 ")", r->offset >> 8,
                   (r->offset >> 3) & 0x1f, r->offset & 7);
        }
        putchar('\n');
        return;
    }
    if (r->cpu == REGDBG_CPU_NONE) {
        snprintf(cpu, sizeof(cpu), "-");
    } else {
        snprintf(cpu, sizeof(cpu), "cpu%d", r->cpu);
    }
    if (r->dir == REGDBG_DIR_IRQ) {
        print_irq_text(d, r, negative, mag, cpu, dev);
        return;
    }
    if (r->dir == REGDBG_DIR_DMA) {
        char text[256];

        trace_dma_format(r, text, sizeof(text));
        printf("D %s%" PRIu64 ".%09" PRIu64 " %s %s dma%u %s\n", negative ? "-" : "",
               mag / 1000000000u, mag % 1000000000u, cpu, dev[0] ? dev : "-", r->size, text);
        return;
    }
    reg = d->map ? regmap_find(d->map, r->bar, r->offset, r->size) : NULL;
    printf("%c %u %s%" PRIu64 ".%09" PRIu64 " %s %s bar%u+0x%04" PRIx64, r->dir ==
           REGDBG_DIR_WRITE ? 'W' : 'R', r->size, negative ? "-" : "", mag / 1000000000u,
           mag % 1000000000u, cpu, dev[0] ? dev : "-", r->bar, r->offset);
    if (reg) {
        /* as the stream view names it: IC_CON, IC_CON+1 for an access inside it */
        printf(" %s", reg->name);
        if (r->offset != reg->offset || r->size != reg->width) {
            printf("+%" PRIu64, r->offset - reg->offset);
        }
        printf(" %s", r->dir == REGDBG_DIR_WRITE ? "<-" : "->");
    }
    printf(" 0x%0*" PRIx64, r->size * 2, r->value);
    trace_flags_str(r->flags, flags, sizeof(flags));
    if (flags[0]) {
        printf(" %s", flags);
    }
    if (r->value != r->orig_value) {
        printf(" orig=0x%0*" PRIx64, r->size * 2, r->orig_value);
    }
    if (r->rule != REGDBG_RULE_NONE) {
        printf(" rule=%u", r->rule);
    }
    if (r->flags & REGDBG_EV_PC) {
        print_pc_text(d, r);
    }
    if (reg) {
        char fields[1024];

        /* last, as in the stream view: the one column of varying length */
        if (regmap_decode(reg, r->offset, r->size, r->value, fields, sizeof(fields))) {
            printf("  %s", fields);
        }
    }
    putchar('\n');
}

/* "reg" and "fields" of an access: the register's name and each field's number (a field's values
   keep one type, whatever names the map gives some of them), null outside every register. */
/* A proxy with dma-map=: what it did with the device's DMA, as the first text line */
static void print_dma_header(const struct regdbg_trace_header *h)
{
    if (!h->dma_address_bits) {
        return;
    }
    if (h->dma_mode == REGDBG_DMA_MODE_BOUNCE) {
        printf("# dma=bounce: bounce buffers of %" PRIu64 " bytes (%s), the device's DMA "
               "addresses below 2^%u\n", h->dma_buffer_size,
               h->dma_buffer_size >= (2u << 20) ? "a hugetlbfs page" : "one page: no hugepage",
               h->dma_address_bits);
    } else {
        printf("# dma=off: the host's bus master stays off; DMA starts are flagged blocked\n");
    }
}

static void print_json_reg(const struct dump_ctx *d, const struct regdbg_trace_record *r)
{
    const struct regmap_reg *reg = d->map ? regmap_find(d->map, r->bar, r->offset, r->size)
                                          : NULL;
    struct regmap_field_value fields[REGMAP_MAX_FIELDS];
    size_t n;

    if (!reg) {
        fputs(",\"reg\":null,\"fields\":null", stdout);
        return;
    }
    fputs(",\"reg\":", stdout);
    cli_print_json_string(reg->name);
    fputs(",\"fields\":{", stdout);
    n = regmap_access_fields(reg, r->offset, r->size, r->value, fields);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? "," : "", stdout);
        cli_print_json_string(fields[i].field->name);
        printf(":%" PRIu64, fields[i].value);
    }
    putchar('}');
}

/* The PC keys of a JSON record: pc, mode, pc_after, and with symbols sym and src */
static void print_pc_json(const struct dump_ctx *d, const struct regdbg_trace_record *r)
{
    printf(",\"pc\":%" PRIu64 ",\"mode\":\"%s\"%s", r->guest_pc, trace_cpu_mode_name(r->cpu_mode),
           r->flags & REGDBG_EV_PC_AFTER ? ",\"pc_after\":true" : "");
    if (symbols_count(d->syms)) {
        char sym[CLI_NAME_LEN], src[CLI_NAME_LEN];

        cli_pc_names(d->syms, r->guest_pc, r->flags & REGDBG_EV_PC_AFTER, sym, src);
        fputs(",\"sym\":", stdout);
        cli_print_json_string(sym);
        fputs(",\"src\":", stdout);
        cli_print_json_string(src);
    }
}

/*
 * An interrupt event: seq, t_ns, cpu, dev, dir "irq", irq (what happened), line ("intx" with its
 * pin, "msi" with its vector), source, action (when one was asked), rule (when one fired it),
 * flags (["blocked"] or []), and the PC keys of the access that fired it.
 */
static void print_irq_json(const struct dump_ctx *d, const struct regdbg_trace_record *r,
                           const char *dev_json)
{
    bool msi = r->flags & REGDBG_EV_IRQ_MSI;

    printf("{\"seq\":%" PRIu64 ",\"t_ns\":%" PRIu64 ",\"cpu\":%d,\"dev\":%s,\"dir\":\"irq\","
           "\"irq\":\"%s\",\"line\":\"%s\",\"%s\":%" PRIu64 ",\"source\":\"%s\"", r->seq,
           r->t_ns, r->cpu, dev_json, trace_irq_what_name((uint8_t)r->value),
           msi ? "msi" : "intx", msi ? "vector" : "pin", r->offset,
           trace_irq_source_name(r->irq_source));
    if (r->orig_value) {
        printf(",\"action\":\"%s\"", trace_irq_action_name((uint8_t)r->orig_value));
    }
    if (r->rule != REGDBG_RULE_NONE) {
        printf(",\"rule\":%u", r->rule);
    }
    printf(",\"flags\":[%s]", r->flags & REGDBG_EV_IRQ_BLOCKED ? "\"blocked\"" : "");
    if (r->flags & REGDBG_EV_PC) {
        print_pc_json(d, r);
    }
    puts("}");
}

static void print_json(const struct dump_ctx *d, const struct regdbg_trace_record *r,
                       const char *dev_json)
{
    bool first = true;

    if (r->kind != REGDBG_REC_ACCESS) {
        return;
    }
    if (r->dir == REGDBG_DIR_IRQ) {
        print_irq_json(d, r, dev_json);
        return;
    }
    if (r->dir == REGDBG_DIR_DMA) {
        printf("{\"seq\":%" PRIu64 ",\"t_ns\":%" PRIu64 ",\"cpu\":%d,\"dev\":%s,\"bar\":%u,"
               "\"dir\":\"dma\",\"engine\":%u,\"what\":\"%s\",\"direction\":\"%s\","
               "\"guest\":%" PRIu64 ",\"len\":%" PRIu64 ",\"buffer\":%" PRIu64 ",\"copy_ns\":%"
               PRIu64, r->seq, r->t_ns, r->cpu, dev_json, r->bar, r->size,
               trace_dma_what_name(r->dma_what),
               r->flags & REGDBG_EV_DMA_FROM_DEVICE ? "from-device" : "to-device", r->offset,
               r->orig_value, r->value, r->guest_pc);
        if (r->dma_why) {
            printf(",\"why\":\"%s\"", trace_dma_why_name(r->dma_why));
        }
        puts("}");
        return;
    }
    printf("{\"seq\":%" PRIu64 ",\"t_ns\":%" PRIu64 ",\"cpu\":%d,\"dev\":%s,\"bar\":%u,"
           "\"off\":%" PRIu64 ",\"size\":%u,\"dir\":\"%c\",\"value\":%" PRIu64,
           r->seq, r->t_ns, r->cpu, dev_json, r->bar, r->offset, r->size,
           r->dir == REGDBG_DIR_WRITE ? 'w' : 'r', r->value);
    print_json_reg(d, r);
    fputs(",\"flags\":[", stdout);
    for (unsigned i = 0; i < TRACE_N_FLAGS; i++) {
        /* the PC's flags are keys of their own */
        if ((r->flags & (1u << i)) &&
            !((1u << i) & (REGDBG_EV_PC | REGDBG_EV_PC_AFTER))) {
            printf("%s\"%s\"", first ? "" : ",", trace_flag_names[i]);
            first = false;
        }
    }
    putchar(']');
    if (r->value != r->orig_value || r->rule != REGDBG_RULE_NONE) {
        printf(",\"orig\":%" PRIu64, r->orig_value);
    }
    if (r->rule != REGDBG_RULE_NONE) {
        printf(",\"rule\":%u", r->rule);
    }
    if (r->flags & REGDBG_EV_PC) {
        print_pc_json(d, r);
    }
    puts("}");
}

/* ---- CSV ----------------------------------------------------------------------------------- */

/* Is text valid UTF-8 (jansson checks it as it makes a string)? */
static bool is_utf8(const char *text)
{
    json_t *j = json_string(text);
    bool ok = j != NULL;

    json_decref(j);
    return ok;
}

/*
 * One CSV cell, after a comma unless it is the first of its row: as it is, or between double
 * quotes with the quotes inside doubled when it holds a comma, a quote or a line break (RFC 4180).
 * Control characters, and the bytes of text that is not UTF-8, go as \xNN: a CSV file is read in
 * terminals too.
 */
static void csv_cell(const char *text, bool first)
{
    bool plain = true, ascii = true;

    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        plain &= *p >= 0x20 && *p < 0x7f && *p != ',' && *p != '"';
        ascii &= *p < 0x80;
    }
    if (!first) {
        putchar(',');
    }
    if (plain) {
        fputs(text, stdout);
        return;
    }
    bool utf8 = ascii || is_utf8(text);

    putchar('"');
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"') {
            fputs("\"\"", stdout);
        } else if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && !utf8)) {
            printf("\\x%02x", *p);
        } else {
            putchar(*p);
        }
    }
    putchar('"');
}

static void csv_number(uint64_t v)
{
    printf(",%" PRIu64, v);
}

static void print_csv_header(const struct dump_ctx *d)
{
    /* the keys of the JSON form, in its order */
    fputs("seq,t_ns,cpu,dev,bar,off,size,dir,value,reg,fields,flags,orig,rule,pc,mode,pc_after",
          stdout);
    fputs(symbols_count(d->syms) ? ",sym,src\n" : "\n", stdout);
}

static void print_csv(struct dump_ctx *d, const struct regdbg_trace_record *r, const char *dev)
{
    const struct regmap_reg *reg;
    char fields[1024] = "", flags[128] = "";
    size_t used = 0;
    bool irq;
    bool touched = r->value != r->orig_value || r->rule != REGDBG_RULE_NONE;

    if (r->kind != REGDBG_REC_ACCESS) {
        return;
    }
    irq = r->dir == REGDBG_DIR_IRQ;
    reg = d->map && !irq && r->dir != REGDBG_DIR_DMA ?
          regmap_find(d->map, r->bar, r->offset, r->size) : NULL;
    if (reg) {
        regmap_decode(reg, r->offset, r->size, r->value, fields, sizeof(fields));
    } else if (irq) {
        /* an interrupt has no register: its other keys go where the fields go */
        snprintf(fields, sizeof(fields), "line=%s source=%s%s%s",
                 r->flags & REGDBG_EV_IRQ_MSI ? "msi" : "intx",
                 trace_irq_source_name(r->irq_source), r->orig_value ? " action=" : "",
                 trace_irq_action_name((uint8_t)r->orig_value));
    }
    if (r->dir == REGDBG_DIR_DMA) {
        /* a DMA event: off its guest address, size its engine, value its buffer, orig its
           length, fields what the text form says */
        trace_dma_format(r, fields, sizeof(fields));
        touched = true;
    }
    for (unsigned i = 0; i < TRACE_N_FLAGS; i++) {
        /* the PC's flags are columns of their own, as in JSON */
        if ((r->flags & (1u << i)) &&
            !((1u << i) & (REGDBG_EV_PC | REGDBG_EV_PC_AFTER | REGDBG_EV_IRQ_MSI))) {
            used += (size_t)snprintf(flags + used, sizeof(flags) - used, "%s%s",
                                     used ? "," : "", trace_flag_names[i]);
        }
    }
    printf("%" PRIu64 ",%" PRIu64 ",%d", r->seq, r->t_ns, r->cpu);
    csv_cell(dev, false);
    if (irq) {
        printf(",,%" PRIu64 ",,irq,%s", r->offset, trace_irq_what_name((uint8_t)r->value));
        touched = false;        /* orig_value is the action, in the fields */
    } else {
        printf(",%u,%" PRIu64 ",%u,%s,%" PRIu64, r->bar, r->offset, r->size,
               r->dir == REGDBG_DIR_DMA ? "dma" : r->dir == REGDBG_DIR_WRITE ? "w" : "r",
               r->value);
    }
    csv_cell(reg ? reg->name : "", false);
    csv_cell(fields, false);
    csv_cell(flags, false);
    if (touched) {
        csv_number(r->orig_value);
    } else {
        putchar(',');
    }
    if (r->rule != REGDBG_RULE_NONE) {
        csv_number(r->rule);
    } else {
        putchar(',');
    }
    if (r->flags & REGDBG_EV_PC) {
        csv_number(r->guest_pc);
        printf(",%s,%s", trace_cpu_mode_name(r->cpu_mode),
               r->flags & REGDBG_EV_PC_AFTER ? "true" : "");
    } else {
        fputs(",,,", stdout);
    }
    if (symbols_count(d->syms)) {
        char sym[CLI_NAME_LEN] = "", src[CLI_NAME_LEN] = "";

        if (r->flags & REGDBG_EV_PC) {
            cli_pc_names(d->syms, r->guest_pc, r->flags & REGDBG_EV_PC_AFTER, sym, src);
        }
        csv_cell(sym, false);
        csv_cell(src, false);
    }
    putchar('\n');
}

int cmd_dump(int argc, char **argv)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'F' },
        { "follow", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { "symbols", required_argument, NULL, CLI_SYMBOLS },
        { "map", required_argument, NULL, 'm' },
        { 0 },
    };
    static struct dump_ctx d;
    static struct session maps;     /* the maps, loaded as the debugger loads them */
    const char *sym_specs[CLI_MAX_SYMBOLS];
    struct symbols *syms = NULL;
    int n_syms = 0;
    const char *path, *format = "text";
    struct trace_reader *r;
    struct regdbg_trace_record rec;
    bool follow = false, ended = false, maps_ready = false;
    enum dump_format fmt;
    char **map_files;
    int n_maps = 0;
    char *dev_json;
    char dev_text[4 * REGDBG_DEV_ID_LEN + 1];
    char err[512];
    int opt, status = 0;

    /* every --map fits in argc entries */
    map_files = calloc((size_t)argc, sizeof(*map_files));
    if (!map_files) {
        fprintf(stderr, "regdbg dump: out of memory\n");
        return EXIT_RUNTIME;
    }
    optind = 1;
    while ((opt = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
        switch (opt) {
        case 'F': format = optarg; break;
        case 'f': follow = true; break;
        case 'm': map_files[n_maps++] = optarg; break;
        case 'h': fputs(dump_usage, stdout); free(map_files); return 0;
        case CLI_SYMBOLS:
            if (cli_symbols_option("dump", sym_specs, &n_syms, optarg)) {
                free(map_files);
                return EXIT_USAGE;
            }
            break;
        default:
            free(map_files);
            return cli_bad_option("dump", argc, argv, opts, "fh");
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "regdbg dump: give exactly one trace FILE; try 'regdbg dump --help'\n");
        free(map_files);
        return EXIT_USAGE;
    }
    if (!strcmp(format, "text")) {
        fmt = FORMAT_TEXT;
    } else if (!strcmp(format, "json")) {
        fmt = FORMAT_JSON;
    } else if (!strcmp(format, "csv")) {
        fmt = FORMAT_CSV;
    } else {
        fprintf(stderr, "regdbg dump: --format %s: expected text, json or csv\n", format);
        free(map_files);
        return EXIT_USAGE;
    }
    path = argv[optind];
    if ((status = cli_load_symbols("dump", sym_specs, n_syms, &syms))) {
        free(map_files);
        return status;
    }
    /* The maps as the debugger picks them: the shipped ones, then --map; a bad one is told
       before anything is printed. */
    if (session_init(&maps, 1024, err, sizeof(err)) < 0 ||
        (maps_ready = true, session_load_default_maps(&maps, map_files, n_maps, err,
                                                      sizeof(err)) < 0)) {
        fprintf(stderr, "regdbg dump: %s\n", err);
        status = EXIT_RUNTIME;
        goto out;
    }
    d.syms = syms;
    memset(d.last_mode, MODE_NOT_SEEN, sizeof(d.last_mode));
    if (follow) {
        struct sigaction sa = { .sa_handler = on_interrupt };
        struct stat st;

        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        /* The recording may not have begun yet: wait for its file and header, as tail -F
           does, so that the reader can be started first. */
        while (!interrupted && (stat(path, &st) < 0 ? errno == ENOENT :
                                S_ISREG(st.st_mode) && st.st_size < REGDBG_TRACE_HEADER_SIZE)) {
            struct timespec ts = { 0, 50 * 1000000L };
            nanosleep(&ts, NULL);
        }
    }
    r = trace_reader_open(path, err, sizeof(err));
    if (!r) {
        fprintf(stderr, "regdbg dump: %s\n", err);
        status = EXIT_RUNTIME;
        goto out;
    }
    d.map = session_map_for(&maps, trace_reader_header(r)->vendor_id,
                            trace_reader_header(r)->device_id);
    cli_escape_name(trace_reader_header(r)->dev_id, dev_text, sizeof(dev_text));
    {
        /* JSON escapes control characters itself; an id that is not UTF-8 goes as its text
           form, so that the output stays valid JSON. */
        json_t *dev = json_string(trace_reader_header(r)->dev_id);

        if (!dev) {
            dev = json_string(dev_text);
        }
        dev_json = json_dumps(dev, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
        json_decref(dev);
    }
    if (fmt == FORMAT_CSV) {
        print_csv_header(&d);
    }
    if (fmt == FORMAT_TEXT) {
        print_dma_header(trace_reader_header(r));
    }
    for (;;) {
        enum trace_read_status st = trace_reader_next(r, &rec, err, sizeof(err));

        if (st == TRACE_RECORD) {
            if (fmt == FORMAT_JSON) {
                print_json(&d, &rec, dev_json ? dev_json : "\"\"");
            } else if (fmt == FORMAT_CSV) {
                print_csv(&d, &rec, trace_reader_header(r)->dev_id);
            } else {
                print_text(&d, &rec, trace_reader_header(r), dev_text);
            }
            if (rec.kind == REGDBG_REC_DROP && fmt != FORMAT_TEXT) {
                fprintf(stderr, "regdbg dump: %" PRIu64 " events dropped before seq %" PRIu64
                        "\n", rec.value, rec.seq);
            }
            if (rec.kind == REGDBG_REC_END) {
                ended = true;
                if (follow) {
                    break;
                }
            }
            continue;
        }
        if (follow && !interrupted && (st == TRACE_EOF || st == TRACE_PARTIAL)) {
            struct timespec ts = { 0, 50 * 1000000L };
            fflush(stdout);
            nanosleep(&ts, NULL);
            continue;
        }
        if (st == TRACE_EOF) {
            if (!ended && !follow) {
                fprintf(stderr, "regdbg dump: note: %s has no end record; the recording was "
                        "interrupted or is still running\n", path);
            }
            break;
        }
        if (st == TRACE_PARTIAL && follow) {
            break;
        }
        fflush(stdout);
        fprintf(stderr, "regdbg dump: %s\n", err);
        status = EXIT_RUNTIME;
        break;
    }
    free(dev_json);
    trace_reader_close(r);
out:
    if (maps_ready) {
        session_free(&maps);
    }
    free(map_files);
    symbols_free(syms);
    return status;
}
