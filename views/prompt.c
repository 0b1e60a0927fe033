/*
 * The TUI's prompt: what runs each `:` command of the library's command table
 * (debugger/command_table.c: their names, usage and help), and what Enter does with each kind of
 * prompt (a command, a search, a filter, a value for the parked access, a rewritten rule). The
 * filter and the values are parsed by the library's rules module (rules_parse_filter,
 * rules_parse_value), by its one number rule.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller.h"
#include "stream.h"

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
int prompt_search_step(struct tui *t, int direction, char *err, size_t errlen)
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
    return prompt_search_step(t, t->ui.follow ? -1 : 1, err, errlen);
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
    } else if ((cmd.kind == RCMD_RULE || cmd.kind == RCMD_IRQ) && t->s.message[0]) {
        ui_notice(&t->ui, false, "%s", t->s.message);
        t->s.message[0] = '\0';
    }
    return 0;
}

/* What runs each : command; their names, usage and help are debugger/command_table.c's. */
typedef int (*prompt_run)(void *tui, const char *args, char *err, size_t errlen);
static const prompt_run prompt_runners[CMD_COUNT] = {
    [CMD_HELP] = pc_help, [CMD_FILTER] = pc_filter, [CMD_SEARCH] = pc_search,
    [CMD_RECORD] = pc_record, [CMD_STOP] = pc_stop, [CMD_CONT] = pc_cont, [CMD_RESET] = pc_reset,
    [CMD_VIEW] = pc_view, [CMD_DEVICE] = pc_device, [CMD_DETACH] = pc_detach, [CMD_QUIT] = pc_quit,
};

static int run_prompt_command(struct tui *t, const char *line, char *err, size_t errlen)
{
    const char *full = line;   /* rules commands parse the whole line: columns point into it */
    const struct command_def *c;
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
    c = !strcmp(name, "q") ? &command_table[CMD_QUIT] : command_find(name, strlen(name));
    if (c && (c->where & CMDW_PROMPT) && prompt_runners[c->id]) {
        return prompt_runners[c->id](t, line, err, errlen);
    }
    snprintf(err, errlen, "unknown command '%s' (:help lists them)", name);
    return -1;
}

static int parse_filter(struct tui *t, const char *text, struct event_filter *f, char *err,
                        size_t errlen)
{
    struct rules_device devs[SESSION_MAX_PROXIES];
    struct rules_ctx ctx;
    struct rules_error perr;

    session_rules_ctx(&t->s, devs, &ctx);
    if (rules_parse_filter(text, &ctx, f, &perr) < 0) {
        snprintf(err, errlen, "filter: column %d: %.200s", perr.column, perr.message);
        return -1;
    }
    return 0;
}

static int parse_value(const char *text, uint64_t *v, char *err, size_t errlen)
{
    struct rules_error perr;

    if (rules_parse_value(text, v, &perr) < 0) {
        snprintf(err, errlen, "column %d: %.200s", perr.column, perr.message);
        return -1;
    }
    return 0;
}

void prompt_submit(struct tui *t)
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
            tui_answer_park(t, kind == PROMPT_PARK_VALUE ? REGDBG_VERDICT_VALUE
                                                         : REGDBG_VERDICT_SKIP, v);
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
            snprintf(err, sizeof(err), "give a break, edit, inject, drop or on rule of %s",
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
    if (ret < 0) {
        ui_notice(&t->ui, true, "%s", err);
    }
}
