/*
 * `regdbg launch` and `regdbg attach`: the interactive debugger. One poll() loop waits on the
 * terminal and the QMP socket, with a timeout that paces the frames; each turn drains the rings
 * (the producers make no system call, so there is no descriptor to wake us: the frame timer is
 * the ring's notifier), carries out the actions the key handlers returned, and redraws.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "commands.h"
#include "launch.h"
#include "session.h"
#include "stream.h"
#include "ui.h"

#define FRAME_NS (1000000000ull / 30)
#define DEFAULT_SCROLLBACK (2u << 20)
#define DRAIN_PER_TURN (4u << 20)
#define MAX_KEY_SAMPLES 4096


struct tui {
    struct session s;
    struct ui ui;
    bool quit;
    bool detach_only;           /* leave a launched QEMU running */
    struct launch launch;       /* launch: the QEMU regdbg started (s.launched_pid while it runs) */
    /* measurements for `make bench` (REGDBG_TUI_STATS=FILE) */
    const char *stats_path;
    uint64_t key_t[MAX_KEY_SAMPLES];
    uint64_t key_latency[MAX_KEY_SAMPLES];
    int n_keys, n_latency;
    uint64_t frames, max_frame_gap_ns, last_frame_ns;
    uint64_t max_fill_at_draw;  /* events published but not yet shown when a frame was drawn */
    uint64_t park_shown_t;      /* device time of a park not yet drawn, or 0 */
    uint64_t park_latency[256]; /* from an access parking to the screen showing it */
    int n_park_latency;
};

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

const char launch_usage[] =
    "usage: regdbg launch [--kvm|--tcg] [--map FILE]... [--rules FILE] [--scrollback N]\n"
    "                     -- QEMU-ARGS...\n"
    "\n"
    "Start the QEMU built with regdbg-proxy with a private QMP socket and the given arguments,\n"
    "and attach the debugger to it. QEMU's own output goes to a log file (its path is shown\n"
    "when QEMU fails). Quitting asks before it shuts that QEMU down; d detaches and leaves it\n"
    "running.\n"
    "\n"
    "  --kvm, --tcg     the accelerator (default: KVM when /dev/kvm is usable, else TCG)\n"
    "  --rules FILE     rules to set first (the : commands break, edit, inject, drop...;\n"
    "                   docs/rules.md), one per line; all of them, or none when one fails\n"
    "  --map FILE       a register map (JSON, docs/register-maps.md); repeatable. Maps are\n"
    "                   matched to proxies by vendor:device; the shipped ones are always loaded\n"
    "  --scrollback N   events kept for scrolling, filtering and search (default 2097152)\n"
    "\n"
    "example:\n"
    "  regdbg launch --tcg -- -machine q35 -m 64 -kernel fw.elf \\\n"
    "      -device regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,bar0-size=4096\n";

const char attach_usage[] =
    "usage: regdbg attach SOCKET [--map FILE]... [--rules FILE] [--scrollback N]\n"
    "\n"
    "Attach the debugger to a QEMU started with -qmp unix:SOCKET,server=on,wait=off and one or\n"
    "more -device regdbg-proxy. Quitting (q) leaves the VM running untouched; attaching again\n"
    "picks up where the ring is.\n"
    "\n"
    "example:\n"
    "  regdbg attach /tmp/qmp.sock --map my-device.json\n";

/* --- the `:` commands ------------------------------------------------------------------------ */

static int parse_filter(struct tui *t, const char *text, struct event_filter *f, char *err,
                        size_t errlen);

static int pc_help(void *opaque, const char *args, char *err, size_t errlen)
{
    struct tui *t = opaque;
    (void)args, (void)err, (void)errlen;
    t->ui.prev_view = t->ui.view;
    t->ui.view = VIEW_HELP;
    return 0;
}

static int pc_quit(void *opaque, const char *args, char *err, size_t errlen)
{
    struct tui *t = opaque;
    (void)args, (void)err, (void)errlen;
    t->quit = true;
    return 0;
}

static int pc_detach(void *opaque, const char *args, char *err, size_t errlen)
{
    struct tui *t = opaque;
    (void)args, (void)err, (void)errlen;
    t->quit = t->detach_only = true;
    return 0;
}

static int pc_stop(void *opaque, const char *args, char *err, size_t errlen)
{
    (void)args;
    return session_vm_stop(&((struct tui *)opaque)->s, err, errlen);
}

static int pc_cont(void *opaque, const char *args, char *err, size_t errlen)
{
    (void)args;
    return session_vm_cont(&((struct tui *)opaque)->s, err, errlen);
}

static int pc_reset(void *opaque, const char *args, char *err, size_t errlen)
{
    (void)args;
    return session_vm_reset(&((struct tui *)opaque)->s, err, errlen);
}

static int pc_filter(void *opaque, const char *args, char *err, size_t errlen)
{
    struct tui *t = opaque;
    struct event_filter f;

    if (!*args) {
        event_store_clear_filter(&t->s.store);
        t->ui.filter_text[0] = '\0';
        return 0;
    }
    if (parse_filter(t, args, &f, err, errlen) < 0) {
        return -1;
    }
    event_store_set_filter(&t->s.store, &f);
    snprintf(t->ui.filter_text, sizeof(t->ui.filter_text), "%s", args);
    t->ui.follow = true;
    return 0;
}

/* Move to the next match in direction; "search wrapped" (as vim says it) when it went round. */
static int search_step(struct tui *t, int direction, char *err, size_t errlen)
{
    bool wrapped;

    if (stream_search(&t->ui, direction, &wrapped) < 0) {
        snprintf(err, errlen, "no match for '%.127s'", t->ui.search);
        return -1;
    }
    if (wrapped) {
        ui_notice(&t->ui, false, "search wrapped: past the %s access, on from the %s",
                  direction > 0 ? "newest" : "oldest", direction > 0 ? "oldest" : "newest");
    } else {
        t->ui.notice[0] = '\0';
    }
    return 0;
}

static int pc_search(void *opaque, const char *args, char *err, size_t errlen)
{
    struct tui *t = opaque;

    snprintf(t->ui.search, sizeof(t->ui.search), "%.127s", args);
    t->ui.view = VIEW_STREAM;
    /* Following: the most recent match; paused: the next one after the cursor. */
    return search_step(t, t->ui.follow ? -1 : 1, err, errlen);
}

static int pc_record(void *opaque, const char *args, char *err, size_t errlen)
{
    struct tui *t = opaque;
    char path[PATH_MAX], dev[128] = "";
    int d = t->ui.cur_dev;

    if (!strcmp(args, "stop")) {
        if (session_record_stop(&t->s, err, errlen) < 0) {
            return -1;
        }
        ui_notice(&t->ui, false, "recording stopped: %llu events in %s, %llu dropped",
                  (unsigned long long)t->s.rec.written, t->s.rec.path,
                  (unsigned long long)t->s.rec.dropped);
        return 0;
    }
    if (sscanf(args, "%4095s %127s", path, dev) < 1) {
        snprintf(err, errlen, "usage: record FILE [DEVICE] | record stop");
        return -1;
    }
    if (dev[0] && (d = session_find_proxy(&t->s, dev)) < 0) {
        snprintf(err, errlen, "no device '%s'", dev);
        return -1;
    }
    if (session_record_start(&t->s, path, d, err, errlen) < 0) {
        return -1;
    }
    ui_notice(&t->ui, false, "recording %s into %s", t->s.proxies[d].id, path);
    return 0;
}

static int pc_view(void *opaque, const char *args, char *err, size_t errlen)
{
    struct tui *t = opaque;

    if (!strcmp(args, "stream")) {
        t->ui.view = VIEW_STREAM;
    } else if (!strcmp(args, "regs") || !strcmp(args, "registers")) {
        t->ui.view = VIEW_REGS;
    } else if (!strcmp(args, "devices")) {
        t->ui.view = VIEW_DEVICES;
    } else {
        snprintf(err, errlen, "view %s: expected stream, regs or devices", args);
        return -1;
    }
    return 0;
}

static int pc_device(void *opaque, const char *args, char *err, size_t errlen)
{
    struct tui *t = opaque;
    int d = session_find_proxy(&t->s, args);

    if (d < 0) {
        snprintf(err, errlen, "no device '%s'", args);
        return -1;
    }
    t->ui.cur_dev = d;
    t->ui.view = VIEW_REGS;
    return 0;
}

static int pc_rule(void *opaque, const char *line, char *err, size_t errlen)
{
    struct tui *t = opaque;
    struct rules_cmd cmd;

    if (session_rule_command(&t->s, line, t->ui.cur_dev, &cmd, err, errlen) < 0) {
        return -1;
    }
    if (cmd.kind == RCMD_INFO_RULES) {
        t->ui.view = VIEW_RULES;
    } else if (cmd.kind == RCMD_RULE && t->s.message[0]) {
        ui_notice(&t->ui, false, "%s", t->s.message);
        t->s.message[0] = '\0';
    }
    return 0;
}

const struct prompt_command prompt_commands[] = {
    { "help", "help", "show this help", pc_help },
    { "break", "break [r|w|rw] TARGET [if COND] [ignore N] [temp]",
      "stop the firmware on an access (TARGET: REG, REG.FIELD, barN+OFF[..END]; docs/rules.md)",
      pc_rule },
    { "edit", "edit w TARGET set M | clear M | = V", "change what the guest writes", pc_rule },
    { "inject", "inject r TARGET = V | or M | and M | xor M", "change what the guest reads",
      pc_rule },
    { "drop", "drop w TARGET", "the write never reaches the device", pc_rule },
    { "info", "info rules", "list the rules with their hit counts (the rules screen)", pc_rule },
    { "enable", "enable N...", "enable rules", pc_rule },
    { "disable", "disable N...", "disable rules", pc_rule },
    { "delete", "delete [N...]", "delete rules (all without N)", pc_rule },
    { "step", "step [N]", "park the next N accesses of the device shown by the registers screen",
      pc_rule },
    { "filter", "filter [dev=ID bar=N reg=NAME dir=r|w value=V[/MASK]]",
      "filter the stream and its history; no argument clears the filter", pc_filter },
    { "search", "search TEXT", "find a register name (part of it) or a value (0x55)", pc_search },
    { "record", "record FILE [DEVICE] | record stop", "record a device's accesses to a trace file "
      "(regdbg dump reads it)", pc_record },
    { "stop", "stop", "stop the VM", pc_stop },
    { "cont", "cont", "let the VM continue", pc_cont },
    { "reset", "reset", "system reset of the VM", pc_reset },
    { "view", "view stream|regs|devices", "switch screens", pc_view },
    { "device", "device ID", "show the registers of that device", pc_device },
    { "detach", "detach", "leave, and leave the VM running (even one regdbg launched)",
      pc_detach },
    { "quit", "quit", "leave (a VM regdbg launched is shut down)", pc_quit },
};
const int prompt_command_count = (int)(sizeof(prompt_commands) / sizeof(prompt_commands[0]));

static int run_prompt_command(struct tui *t, const char *line, char *err, size_t errlen)
{
    const char *full = line;   /* rules commands parse the whole line: columns point into it */
    char name[32];
    size_t n = 0;

    while (*line == ' ') {
        line++;
    }
    while (line[n] && line[n] != ' ' && n < sizeof(name) - 1) {
        name[n] = line[n];
        n++;
    }
    name[n] = '\0';
    line += n;
    while (*line == ' ') {
        line++;
    }
    if (!name[0]) {
        return 0;
    }
    if (session_is_rule_command(name)) {
        return pc_rule(t, full, err, errlen);
    }
    for (int i = 0; i < prompt_command_count; i++) {
        if (!strcmp(prompt_commands[i].name, name) ||
            (!strcmp(name, "q") && !strcmp(prompt_commands[i].name, "quit"))) {
            return prompt_commands[i].run(t, line, err, errlen);
        }
    }
    snprintf(err, errlen, "unknown command '%s' (:help lists them)", name);
    return -1;
}

static int parse_filter(struct tui *t, const char *text, struct event_filter *f, char *err,
                        size_t errlen)
{
    char buf[256], *save = NULL, *word;
    const char *reg = NULL;

    memset(f, 0, sizeof(*f));
    f->dev = f->bar = f->dir = f->reg = ANY;
    snprintf(buf, sizeof(buf), "%s", text);
    for (word = strtok_r(buf, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(word, '='), *end;
        const char *val;

        if (!eq) {
            snprintf(err, errlen, "filter: '%s' is not KEY=VALUE", word);
            return -1;
        }
        *eq = '\0';
        val = eq + 1;
        if (!strcmp(word, "dev")) {
            if ((f->dev = session_find_proxy(&t->s, val)) < 0) {
                snprintf(err, errlen, "filter: no device '%s'", val);
                return -1;
            }
        } else if (!strcmp(word, "bar")) {
            long b = strtol(val, &end, 0);
            if (*end || b < 0 || b >= REGDBG_NUM_BARS) {
                snprintf(err, errlen, "filter: bar=%s: expected 0 to 5", val);
                return -1;
            }
            f->bar = (int)b;
        } else if (!strcmp(word, "dir")) {
            if (!strcmp(val, "r") || !strcmp(val, "read")) {
                f->dir = REGDBG_DIR_READ;
            } else if (!strcmp(val, "w") || !strcmp(val, "write")) {
                f->dir = REGDBG_DIR_WRITE;
            } else {
                snprintf(err, errlen, "filter: dir=%s: expected r or w", val);
                return -1;
            }
        } else if (!strcmp(word, "reg")) {
            reg = val - buf + text;
            snprintf(f->reg_name, sizeof(f->reg_name), "%s", val);
        } else if (!strcmp(word, "value")) {
            char *slash = strchr(eq + 1, '/');
            if (slash) {
                *slash = '\0';
            }
            f->value = strtoull(val, &end, 0);
            if (*end || !*val) {
                snprintf(err, errlen, "filter: value=%s: expected a number", val);
                return -1;
            }
            f->mask = UINT64_MAX;
            if (slash) {
                f->mask = strtoull(slash + 1, &end, 0);
                if (*end || !slash[1]) {
                    snprintf(err, errlen, "filter: mask %s: expected a number", slash + 1);
                    return -1;
                }
            }
            f->value &= f->mask;
            f->has_value = true;
        } else {
            snprintf(err, errlen, "filter: unknown key '%s' (dev, bar, reg, dir, value)", word);
            return -1;
        }
    }
    if (reg) {
        /* The register must exist in some device's map (that device's, with dev=). */
        bool known = false;
        for (int d = 0; d < t->s.n_proxies && !known; d++) {
            const struct proxy *p = &t->s.proxies[d];
            if ((f->dev == ANY || f->dev == d) && p->map) {
                const struct regmap_reg *r = regmap_find_name(p->map, f->reg_name);
                if (r && f->dev == d) {
                    f->reg = (int)(r - p->map->regs);
                    f->reg_name[0] = '\0';
                }
                known = r != NULL;
            }
        }
        if (!known) {
            snprintf(err, errlen, "filter: no register '%s' in the register maps", f->reg_name);
            return -1;
        }
    }
    return 0;
}

/* --- actions -------------------------------------------------------------------------------- */

static void ask(struct tui *t, enum action on_yes, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void ask(struct tui *t, enum action on_yes, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(t->ui.confirm_question, sizeof(t->ui.confirm_question), fmt, ap);
    va_end(ap);
    t->ui.prompt = PROMPT_CONFIRM;
    t->ui.confirm_action = on_yes;
}

static void start_prompt(struct tui *t, enum prompt_kind kind)
{
    t->ui.prompt = kind;
    t->ui.prompt_len = 0;
    t->ui.prompt_text[0] = '\0';
    t->ui.notice[0] = '\0';
}

static void report(struct tui *t, int ret, const char *err)
{
    if (ret < 0) {
        ui_notice(&t->ui, true, "%s", err);
    }
}

static void perform(struct tui *t, enum action a);

/* Bring up the oldest parked access, if any and none is shown. */
static void check_parks(struct tui *t)
{
    if (!t->ui.parked && session_next_park(&t->s, &t->ui.park)) {
        t->ui.parked = true;
        t->ui.follow = true;
        t->park_shown_t = t->ui.park.park.t_ns;
    }
}

static void answer_park(struct tui *t, uint32_t verdict, uint64_t value)
{
    char err[256];

    if (!t->ui.parked) {
        return;
    }
    if (session_answer_park(&t->s, &t->ui.park, verdict, value, err, sizeof(err)) < 0) {
        ui_notice(&t->ui, true, "%s", err);
    }
    t->ui.parked = false;
    check_parks(t);
}

static int parse_value(const char *text, uint64_t *v, char *err, size_t errlen)
{
    char *end;

    while (*text == ' ') {
        text++;
    }
    *v = strtoull(text, &end, 0);
    while (*end == ' ') {
        end++;
    }
    if (!*text || *end || *text == '-') {
        snprintf(err, errlen, "'%.100s' is not a number (decimal, or hex with 0x)", text);
        return -1;
    }
    return 0;
}

static void submit_prompt(struct tui *t)
{
    char err[256] = "";
    enum prompt_kind kind = t->ui.prompt;
    char text[256];
    int ret = 0;

    snprintf(text, sizeof(text), "%s", t->ui.prompt_text);
    t->ui.prompt = PROMPT_NONE;
    switch (kind) {
    case PROMPT_COMMAND:
        if (text[0]) {
            snprintf(t->ui.last_command, sizeof(t->ui.last_command), "%s", text);
        }
        ret = run_prompt_command(t, text, err, sizeof(err));
        break;
    case PROMPT_SEARCH:
        ret = pc_search(t, text, err, sizeof(err));
        break;
    case PROMPT_FILTER:
        ret = pc_filter(t, text, err, sizeof(err));
        break;
    case PROMPT_PARK_VALUE:
    case PROMPT_PARK_SKIP: {
        uint64_t v;
        ret = parse_value(text, &v, err, sizeof(err));
        if (ret == 0) {
            answer_park(t, kind == PROMPT_PARK_VALUE ? REGDBG_VERDICT_VALUE : REGDBG_VERDICT_SKIP,
                        v);
        }
        break;
    }
    case PROMPT_EDIT_RULE: {
        struct rules_device devs[SESSION_MAX_PROXIES];
        struct rules_ctx ctx;
        struct rules_cmd cmd;
        struct rules_error perr;

        session_rules_ctx(&t->s, devs, &ctx);
        if (rules_parse(text, &ctx, &cmd, &perr) < 0) {
            snprintf(err, sizeof(err), "column %d: %.200s", perr.column, perr.message);
            ret = -1;
        } else if (cmd.kind != RCMD_RULE || cmd.spec.dev != t->ui.park.dev) {
            snprintf(err, sizeof(err), "give a break, edit, inject or drop rule of %s",
                     t->s.proxies[t->ui.park.dev].id);
            ret = -1;
        } else {
            ret = rule_replace(&t->s.proxies[cmd.spec.dev].rr, t->ui.park.park.rule,
                               &cmd.spec.rule, cmd.spec.ignore, cmd.spec.temp, cmd.spec.text,
                               err, sizeof(err));
            if (ret == 0) {
                ui_notice(&t->ui, false, "rule %d is now: %s",
                          SESSION_RULE_ID(cmd.spec.dev, t->ui.park.park.rule), cmd.spec.text);
            }
        }
        break;
    }
    default:
        break;
    }
    report(t, ret, err);
}

static void perform(struct tui *t, enum action a)
{
    struct session *s = &t->s;
    char err[256] = "";

    switch (a) {
    case ACT_NONE:
    case ACT_REDRAW:
        break;
    case ACT_QUIT:
        if (s->launched_pid && !s->qemu_gone) {
            ask(t, ACT_QUIT, "Quit and shut down the QEMU that regdbg launched (pid %d)?",
                (int)s->launched_pid);
        } else {
            t->quit = true;
        }
        break;
    case ACT_DETACH:
        t->quit = t->detach_only = true;
        break;
    case ACT_VM_STOP_CONT:
        report(t, strcmp(s->run_state, "running") == 0 ? session_vm_stop(s, err, sizeof(err))
                                                       : session_vm_cont(s, err, sizeof(err)),
               err);
        break;
    case ACT_VM_RESET:
        ask(t, ACT_VM_RESET, "Reset the VM (system_reset)?");
        break;
    case ACT_VIEW_STREAM:
        t->ui.view = VIEW_STREAM;
        break;
    case ACT_VIEW_REGS:
        t->ui.view = VIEW_REGS;
        break;
    case ACT_VIEW_DEVICES:
        t->ui.view = VIEW_DEVICES;
        break;
    case ACT_VIEW_HELP:
        if (t->ui.view != VIEW_HELP) {
            t->ui.prev_view = t->ui.view;
            t->ui.view = VIEW_HELP;
        }
        break;
    case ACT_VIEW_BACK:
        t->ui.notice[0] = '\0';
        if (t->ui.view == VIEW_HELP) {
            t->ui.view = t->ui.prev_view;
        }
        break;
    case ACT_PROMPT_COMMAND:
        start_prompt(t, PROMPT_COMMAND);
        break;
    case ACT_PROMPT_SEARCH:
        start_prompt(t, PROMPT_SEARCH);
        break;
    case ACT_PROMPT_FILTER:
        /* empty: what is typed is the new filter (Up brings back the one in force) */
        start_prompt(t, PROMPT_FILTER);
        break;
    case ACT_PROMPT_SUBMIT:
        submit_prompt(t);
        break;
    case ACT_PROMPT_CANCEL:
        t->ui.prompt = PROMPT_NONE;
        break;
    case ACT_CONFIRM_NO:
        t->ui.prompt = PROMPT_NONE;
        break;
    case ACT_CONFIRM_YES:
        t->ui.prompt = PROMPT_NONE;
        if (t->ui.confirm_action == ACT_QUIT) {
            t->quit = true;
        } else if (t->ui.confirm_action == ACT_VM_RESET) {
            report(t, session_vm_reset(s, err, sizeof(err)), err);
        }
        break;
    case ACT_SEARCH_NEXT:
    case ACT_SEARCH_PREV:
        if (!t->ui.search[0]) {
            ui_notice(&t->ui, true, "no search yet: / starts one");
        } else {
            report(t, search_step(t, a == ACT_SEARCH_NEXT ? 1 : -1, err, sizeof(err)), err);
        }
        break;
    case ACT_CLEAR_FILTER:
        event_store_clear_filter(&s->store);
        t->ui.filter_text[0] = '\0';
        break;
    case ACT_FOLLOW:
        if (t->ui.follow) {
            uint64_t count = event_store_view_count(&s->store);
            if (count) {
                stream_set_cursor(&t->ui, count - 1);
            }
        } else {
            t->ui.follow = true;
        }
        break;
    case ACT_VIEW_RULES:
        t->ui.view = VIEW_RULES;
        break;
    case ACT_PARK_CONTINUE:
        answer_park(t, REGDBG_VERDICT_CONTINUE, 0);
        break;
    case ACT_PARK_STOP_VM:
        answer_park(t, REGDBG_VERDICT_STOP_VM, 0);
        break;
    case ACT_PARK_STEP:
        rule_step(&s->proxies[t->ui.park.dev].rr, 1);
        answer_park(t, REGDBG_VERDICT_CONTINUE, 0);
        break;
    case ACT_PARK_VALUE:
        start_prompt(t, PROMPT_PARK_VALUE);
        break;
    case ACT_PARK_SKIP:
        if (t->ui.park.park.dir == REGDBG_DIR_WRITE) {
            answer_park(t, REGDBG_VERDICT_SKIP, 0);
        } else {
            start_prompt(t, PROMPT_PARK_SKIP);
        }
        break;
    case ACT_PARK_EDIT_RULE:
        if (t->ui.park.park.rule == REGDBG_RULE_NONE) {
            ui_notice(&t->ui, true, "a step parked this access: there is no rule to edit");
        } else {
            struct rule_info ri;
            rule_get(&s->proxies[t->ui.park.dev].rr, t->ui.park.park.rule, &ri);
            start_prompt(t, PROMPT_EDIT_RULE);
            snprintf(t->ui.prompt_text, sizeof(t->ui.prompt_text), "%s", ri.text);
            t->ui.prompt_len = (int)strlen(t->ui.prompt_text);
        }
        break;
    case ACT_NEXT_DEVICE:
        if (s->n_proxies) {
            t->ui.cur_dev = (t->ui.cur_dev + 1) % s->n_proxies;
            t->ui.vs[VIEW_REGS].top = t->ui.vs[VIEW_REGS].cursor = 0;
        }
        break;
    }
}

/* --- the loop ------------------------------------------------------------------------------- */

static void note_launched_exit(struct tui *t)
{
    if (t->s.launched_pid && launch_wait_exit(&t->launch, 0)) {
        t->s.launched_pid = 0;
        t->s.qemu_gone = true;
        launch_exit_text(&t->launch, t->s.qemu_gone_why, sizeof(t->s.qemu_gone_why));
        snprintf(t->s.run_state, sizeof(t->s.run_state), "gone");
    }
}

static void write_stats(struct tui *t)
{
    FILE *f;

    if (!t->stats_path || !(f = fopen(t->stats_path, "w"))) {
        return;
    }
    fprintf(f, "frames %llu\nmax_frame_gap_ns %llu\nevents %llu\nmax_fill_at_draw %llu\n",
            (unsigned long long)t->frames, (unsigned long long)t->max_frame_gap_ns,
            (unsigned long long)t->s.events_total, (unsigned long long)t->max_fill_at_draw);
    for (int d = 0; d < t->s.n_proxies; d++) {
        fprintf(f, "device %s produced %llu dropped %llu\n", t->s.proxies[d].id,
                (unsigned long long)(ring_reader_head(&t->s.proxies[d].rr) +
                                     ring_reader_dropped(&t->s.proxies[d].rr)),
                (unsigned long long)ring_reader_dropped(&t->s.proxies[d].rr));
    }
    for (int i = 0; i < t->n_latency; i++) {
        fprintf(f, "key_latency_ns %llu\n", (unsigned long long)t->key_latency[i]);
    }
    for (int i = 0; i < t->n_park_latency; i++) {
        fprintf(f, "park_shown_ns %llu\n", (unsigned long long)t->park_latency[i]);
    }
    fclose(f);
}

static int tui_loop(struct tui *t)
{
    uint64_t next_frame = session_now_ns();
    bool dirty = true;
    size_t drained = 0, busy = 1024;

    if (screen_init(&t->ui) < 0) {
        fprintf(stderr, "regdbg: cannot initialise the terminal (TERM=%s)\n",
                getenv("TERM") ? getenv("TERM") : "unset");
        return EXIT_RUNTIME;
    }
    while (!t->quit && !stop_signal) {
        struct pollfd fds[3] = { { .fd = STDIN_FILENO, .events = POLLIN } };
        int nfds = 1, timeout_ms, qmp_i = -1, park_i = -1;
        uint64_t now = session_now_ns();
        int key, pending = t->n_keys;

        timeout_ms = next_frame > now ? (int)((next_frame - now + 999999) / 1000000) : 0;
        /* A busy ring is drained every millisecond, so that lossless producers rarely wait. */
        if (drained >= busy && timeout_ms > 1) {
            timeout_ms = 1;
        }
        if (t->s.qmp && !t->s.qemu_gone) {
            qmp_i = nfds;
            fds[nfds++] = (struct pollfd){ .fd = qmp_fd(t->s.qmp), .events = POLLIN };
        }
        if (t->s.park_fd >= 0) {
            park_i = nfds;
            fds[nfds++] = (struct pollfd){ .fd = t->s.park_fd, .events = POLLIN };
        }
        if (poll(fds, (nfds_t)nfds, timeout_ms) < 0 && errno != EINTR) {
            break;
        }
        if (qmp_i >= 0 && (fds[qmp_i].revents & (POLLIN | POLLHUP | POLLERR))) {
            session_qmp_readable(&t->s);
            dirty = true;
        }
        if (park_i >= 0 && (fds[park_i].revents & POLLIN)) {
            session_park_ack(&t->s);
            /* show a park at once, not at the next frame */
            next_frame = 0;
            dirty = true;
        }
        if (t->ui.parked && !session_park_alive(&t->s, &t->ui.park)) {
            /* it went on without us: timed out, or the VM is being stopped */
            t->ui.parked = false;
            if (t->ui.prompt >= PROMPT_PARK_VALUE) {
                t->ui.prompt = PROMPT_NONE;
            }
            ui_notice(&t->ui, false, "the parked access went on (the VM stopped, or nobody "
                      "answered in time)");
            dirty = true;
        }
        if (!t->ui.parked) {
            check_parks(t);
            if (t->ui.parked) {
                next_frame = 0;
                dirty = true;
            }
        }
        while ((key = screen_getkey(&t->ui)) != SCREEN_NO_KEY) {
            if (t->n_keys < MAX_KEY_SAMPLES) {
                t->key_t[t->n_keys++] = session_now_ns();
            }
            perform(t, ui_key(&t->ui, key));
            dirty = true;
        }
        drained = session_drain(&t->s, DRAIN_PER_TURN);
        if (drained) {
            dirty = true;
        }
        now = session_now_ns();
        note_launched_exit(t);
        if (t->n_keys > pending || (dirty && now >= next_frame)) {
            session_tick(&t->s, now);
            if (t->s.message[0]) {
                ui_notice(&t->ui, false, "%s", t->s.message);
                t->s.message[0] = '\0';
            }
            for (int d = 0; d < t->s.n_proxies; d++) {
                uint64_t fill = ring_reader_fill(&t->s.proxies[d].rr);
                if (fill > t->max_fill_at_draw) {
                    t->max_fill_at_draw = fill;
                }
            }
            screen_draw(&t->ui);
            now = session_now_ns();
            for (int i = t->n_latency; i < t->n_keys; i++) {
                t->key_latency[i] = now - t->key_t[i];
            }
            t->n_latency = t->n_keys;
            if (t->park_shown_t && t->n_park_latency < 256) {
                t->park_latency[t->n_park_latency++] = now - t->park_shown_t;
            }
            t->park_shown_t = 0;
            if (t->last_frame_ns && now - t->last_frame_ns > t->max_frame_gap_ns) {
                t->max_frame_gap_ns = now - t->last_frame_ns;
            }
            t->last_frame_ns = now;
            t->frames++;
            next_frame = now + FRAME_NS;
            dirty = true; /* rates and "ago" columns change with time */
        }
    }
    screen_end();
    write_stats(t);
    return 0;
}

/* --- set-up --------------------------------------------------------------------------------- */

static int load_maps(struct tui *t, char **maps, int n_maps)
{
    char err[512];

    if (session_load_default_maps(&t->s, maps, n_maps, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg: %s\n", err);
        return -1;
    }
    return 0;
}

static void install_signals(void)
{
    struct sigaction sa = { .sa_handler = on_stop_signal };

    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static const char *rules_file;

static const struct option common_opts[] = {
    { "map", required_argument, NULL, 'm' },
    { "rules", required_argument, NULL, 'r' },
    { "scrollback", required_argument, NULL, 's' },
    { "kvm", no_argument, NULL, 'k' },
    { "tcg", no_argument, NULL, 't' },
    { "help", no_argument, NULL, 'h' },
    { 0 },
};

/* An option regdbg launch does not know is most likely QEMU's, given before "--". */
static int launch_bad_option(int argc, char **argv)
{
    struct cli_bad bad;

    cli_bad_arg(argc, argv, common_opts, "h", &bad);
    if (bad.kind != CLI_UNKNOWN) {
        return cli_bad_option("launch", argc, argv, common_opts, "h");
    }
    if (bad.index < 0) {
        fprintf(stderr, "regdbg launch: QEMU's arguments follow \"--\": regdbg launch [OPTIONS] "
                "-- QEMU-ARGS...\n");
    } else {
        const char *next = bad.index + 1 < argc && argv[bad.index + 1][0] != '-'
                           ? argv[bad.index + 1] : NULL;

        fprintf(stderr, "regdbg launch: QEMU's arguments follow \"--\": regdbg launch [OPTIONS] "
                "-- %s%s%s ...\n", argv[bad.index], next ? " " : "", next ? next : "");
    }
    return EXIT_USAGE;
}

static int parse_common(int argc, char **argv, char **maps, int *n_maps, size_t *scrollback,
                        int *accel, const char *usage, const char *cmd)
{
    const struct option *opts = common_opts;
    int opt;

    optind = 1;
    /* GNU getopt: options may follow SOCKET; QEMU's arguments follow "--" untouched */
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'm':
            if (*n_maps < SESSION_MAX_MAPS) {
                maps[(*n_maps)++] = optarg;
            }
            break;
        case 'r':
            rules_file = optarg;
            break;
        case 's': {
            char *end;
            unsigned long long v = strtoull(optarg, &end, 0);
            if (*end || v < 1000 || v > (1ull << 28)) {
                return -cli_usage_error(cmd, "--scrollback needs 1000 to 268435456 events");
            }
            *scrollback = (size_t)v;
            break;
        }
        case 'k':
        case 't':
            if (!accel) {
                return -cli_usage_error(cmd, "--%s is for launch", opt == 'k' ? "kvm" : "tcg");
            }
            *accel = opt;
            break;
        case 'h':
            fputs(usage, stdout);
            return 1;
        default:
            return -(accel ? launch_bad_option(argc, argv)
                           : cli_bad_option(cmd, argc, argv, opts, "h"));
        }
    }
    return 0;
}

static void print_log_tail(const struct launch *l)
{
    char tail[4096];

    launch_log_tail(l, tail, sizeof(tail));
    fprintf(stderr, "%s", tail);
}

/* QEMU refused its arguments: its exit status and what it said. */
static void exited_at_start(const struct launch *l)
{
    fprintf(stderr, "regdbg launch: QEMU exited at start (status %d):\n", launch_exit_code(l));
    print_log_tail(l);
}

static int run_attached(struct tui *t, const char *sock)
{
    char err[512];
    int status;

    if (session_attach(&t->s, sock, err, sizeof(err)) < 0) {
        /* A launched QEMU that refused its arguments: say that, not what it broke. */
        if (t->s.launched_pid && launch_wait_exit(&t->launch, 1000)) {
            exited_at_start(&t->launch);
            t->s.launched_pid = 0;
            return EXIT_RUNTIME;
        }
        fprintf(stderr, "regdbg: %s\n", err);
        return EXIT_RUNTIME;
    }
    if (rules_file && session_apply_rules_file(&t->s, rules_file, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg: %s\n", err);
        return EXIT_RUNTIME;
    }
    t->ui.s = &t->s;
    t->ui.follow = true;
    t->ui.session_start_ns = session_now_ns();
    t->ui.view = t->ui.prev_view = VIEW_STREAM;
    t->stats_path = getenv("REGDBG_TUI_STATS");
    install_signals();
    status = tui_loop(t);
    if (session_recording(&t->s)) {
        session_record_stop(&t->s, err, sizeof(err));
    }
    return status;
}

int cmd_attach(int argc, char **argv)
{
    static struct tui t;
    char *maps[SESSION_MAX_MAPS];
    int n_maps = 0, status;
    size_t scrollback = DEFAULT_SCROLLBACK;
    char err[256];

    status = parse_common(argc, argv, maps, &n_maps, &scrollback, NULL, attach_usage, "attach");
    if (status) {
        return status > 0 ? 0 : -status;
    }
    if (optind != argc - 1) {
        return optind < argc ? cli_usage_error("attach", "unexpected argument '%s' (give one "
                                               "QMP SOCKET)", argv[optind + 1])
                             : cli_usage_error("attach", "give the QMP SOCKET");
    }
    if (session_init(&t.s, scrollback, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg: %s\n", err);
        return EXIT_RUNTIME;
    }
    status = load_maps(&t, maps, n_maps) < 0 ? EXIT_RUNTIME : run_attached(&t, argv[optind]);
    if (stop_signal) {
        fprintf(stderr, "regdbg: %s, detached; the VM goes on\n", strsignal(stop_signal));
    }
    session_free(&t.s);
    return status;
}

int cmd_launch(int argc, char **argv)
{
    static struct tui t;
    char *maps[SESSION_MAX_MAPS];
    char err[256];
    int n_maps = 0, accel = 0, status;
    size_t scrollback = DEFAULT_SCROLLBACK;

    status = parse_common(argc, argv, maps, &n_maps, &scrollback, &accel, launch_usage,
                          "launch");
    if (status) {
        return status > 0 ? 0 : -status;
    }
    if (optind >= argc) {
        return cli_usage_error("launch", "give QEMU's arguments after --");
    }
    if (!accel) {
        accel = access("/dev/kvm", R_OK | W_OK) == 0 ? 'k' : 't';
    }
    if (session_init(&t.s, scrollback, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg: %s\n", err);
        return EXIT_RUNTIME;
    }
    if (load_maps(&t, maps, n_maps) < 0) {
        session_free(&t.s);
        return EXIT_RUNTIME;
    }
    if (launch_start(&t.launch, accel == 'k' ? "kvm" : "tcg", argc - optind, argv + optind, err,
                     sizeof(err)) < 0) {
        fprintf(stderr, "regdbg launch: %s\n", err);
        session_free(&t.s);
        return EXIT_RUNTIME;
    }
    t.s.launched_pid = t.launch.pid;
    /* Wait for QMP to listen, or for QEMU to refuse its arguments. */
    if (launch_wait_ready(&t.launch, 10000) < 0) {
        exited_at_start(&t.launch);
        launch_cleanup(&t.launch);
        session_free(&t.s);
        return EXIT_RUNTIME;
    }
    status = run_attached(&t, t.launch.qmp_path);
    if (t.s.launched_pid && t.detach_only) {
        fprintf(stderr, "regdbg: QEMU (pid %d) goes on; attach again with: regdbg attach %s\n",
                (int)t.launch.pid, t.launch.qmp_path);
        session_free(&t.s);
        return status;
    }
    if (t.s.launched_pid) {
        launch_stop(&t.launch, !t.s.qemu_gone && session_vm_quit(&t.s, err, sizeof(err)) < 0);
    }
    if (status != 0) {
        print_log_tail(&t.launch);
    }
    session_free(&t.s);
    launch_cleanup(&t.launch);
    return status;
}
