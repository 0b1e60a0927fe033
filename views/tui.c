/*
 * The interactive program (`regdbg launch`, `regdbg attach`): its set-up and its loop. One poll()
 * loop waits on the terminal, the QMP socket and the park doorbell, with a timeout that paces the
 * frames; each turn drains the rings (the producers make no system call, so there is no
 * descriptor to wake us: the frame timer is the ring's notifier), carries out the actions the key
 * handlers returned, and redraws. The `:` prompt is views/prompt.c; QEMU is started and waited for
 * by the library's launcher (debugger/launch.c).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "controller.h"
#include "stream.h"
#include "tui.h"

#define FRAME_NS (1000000000ull / 30)
#define DRAIN_PER_TURN (4u << 20)
#define QMP_LISTEN_TIMEOUT_MS 10000

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
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

/* Bring up the oldest parked access, if any and none is shown. */
static void check_parks(struct tui *t)
{
    if (!t->ui.parked && session_next_park(&t->s, &t->ui.park)) {
        t->ui.parked = true;
        t->ui.follow = true;
        t->park_shown_t = t->ui.park.park.t_ns;
    }
}

void tui_answer_park(struct tui *t, uint32_t verdict, uint64_t value)
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

/* G at a park: the VM stops after the access; the status line says where and how gdb attaches */
static void tui_gdb_handoff(struct tui *t)
{
    struct session_gdb g;
    char err[256];

    if (!t->ui.parked) {
        return;
    }
    if (session_gdb_handoff(&t->s, &t->ui.park, NULL, &g, err, sizeof(err)) < 0) {
        ui_notice(&t->ui, true, "gdb: %s", err);
    } else if (g.park_pc_known) {
        ui_notice(&t->ui, false, "VM stopped at 0x%llx, %llu bytes after the access's %s 0x%llx"
                  "%s; %s", (unsigned long long)g.stop_pc,
                  (unsigned long long)(g.stop_pc - g.park_pc),
                  g.park_pc_after ? "next instruction" : "instruction",
                  (unsigned long long)g.park_pc, g.started ? " (gdbstub started)" : "",
                  g.command);
    } else {
        ui_notice(&t->ui, false, "VM stopped at 0x%llx%s; %s", (unsigned long long)g.stop_pc,
                  g.started ? " (gdbstub started)" : "", g.command);
    }
    t->ui.parked = false;
    check_parks(t);
}

static void perform(struct tui *t, enum action a)
{
    struct session *s = &t->s;
    char err[256] = "";

    switch (a) {
    case ACT_NONE:
    case ACT_REDRAW:
    case ACT_COUNT:
    case ACT_DIFF_NEXT:         /* the diff screen's (views/diff_view.c) */
    case ACT_DIFF_PREV:
    case ACT_DIFF_NEXT_RUN:
        break;
    case ACT_MOVE_UP:
    case ACT_MOVE_DOWN:
    case ACT_PAGE_UP:
    case ACT_PAGE_DOWN:
    case ACT_MOVE_FIRST:
    case ACT_MOVE_LAST:
        ui_view_ops(t->ui.view)->request(&t->ui, a);   /* the view moves; it never draws here */
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
        prompt_submit(t);
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
            report(t, prompt_search_step(t, a == ACT_SEARCH_NEXT ? 1 : -1, err, sizeof(err)), err);
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
    case ACT_WHO:
        t->ui.who = t->ui.who == WHO_HIDDEN ? WHO_FUNC : t->ui.who == WHO_FUNC ? WHO_LINE
                                                                              : WHO_HIDDEN;
        if (t->ui.who != WHO_HIDDEN && !s->symbols) {
            ui_notice(&t->ui, false, "no --symbols given: the column shows guest PCs");
        }
        break;
    case ACT_PARK_CONTINUE:
        tui_answer_park(t, REGDBG_VERDICT_CONTINUE, 0);
        break;
    case ACT_PARK_STOP_VM:
        tui_answer_park(t, REGDBG_VERDICT_STOP_VM, 0);
        break;
    case ACT_PARK_GDB:
        tui_gdb_handoff(t);
        break;
    case ACT_PARK_STEP:
        rule_step(&s->proxies[t->ui.park.dev].rr, 1);
        tui_answer_park(t, REGDBG_VERDICT_CONTINUE, 0);
        break;
    case ACT_PARK_VALUE:
        start_prompt(t, PROMPT_PARK_VALUE);
        break;
    case ACT_PARK_SKIP:
        if (t->ui.park.park.dir == REGDBG_DIR_WRITE) {
            tui_answer_park(t, REGDBG_VERDICT_SKIP, 0);
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
        return EXIT_FAILURE;
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

static void install_signals(void)
{
    struct sigaction sa = { .sa_handler = on_stop_signal };

    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* An empty session with the shipped maps and the --map ones, and the --symbols (cmd: the
   command that names them in an error). */
static int start_session(struct tui *t, const struct tui_options *o, const char *cmd)
{
    char err[1024];

    if (session_init(&t->s, o->scrollback, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg: %s\n", err);
        return -1;
    }
    for (int i = 0; i < o->n_symbols; i++) {
        if (session_add_symbols(&t->s, o->symbols[i], err, sizeof(err)) < 0) {
            fprintf(stderr, "regdbg %s: --symbols: %s\n", cmd, err);
            session_free(&t->s);
            return -1;
        }
    }
    if (session_load_default_maps(&t->s, o->maps, o->n_maps, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg: %s\n", err);
        session_free(&t->s);
        return -1;
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

static int run_attached(struct tui *t, const struct tui_options *o, const char *sock)
{
    char err[512];
    int status;

    if (session_attach(&t->s, sock, err, sizeof(err)) < 0) {
        /* A launched QEMU that refused its arguments: say that, not what it broke. */
        if (t->s.launched_pid && launch_wait_exit(&t->launch, 1000)) {
            exited_at_start(&t->launch);
            t->s.launched_pid = 0;
            return EXIT_FAILURE;
        }
        fprintf(stderr, "regdbg: %s\n", err);
        return EXIT_FAILURE;
    }
    if (o->rules && session_apply_rules_file(&t->s, o->rules, err, sizeof(err)) < 0) {
        fprintf(stderr, "regdbg: %s\n", err);
        return EXIT_FAILURE;
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

int tui_attach(const struct tui_options *o, const char *qmp_path)
{
    static struct tui t;
    int status;

    if (start_session(&t, o, "attach") < 0) {
        return EXIT_FAILURE;
    }
    status = run_attached(&t, o, qmp_path);
    if (stop_signal) {
        fprintf(stderr, "regdbg: %s, detached; the VM goes on\n", strsignal(stop_signal));
    }
    session_free(&t.s);
    return status;
}

/* launch_start() with QEMU's gdbstub on gdb_port (-gdb tcp::PORT) when it is not 0 */
static int launch_with_gdb(struct launch *l, const char *accel, int gdb_port, int argc,
                           char **argv, char *err, size_t errlen)
{
    char **args;
    char dev[32];
    int rc;

    if (!gdb_port) {
        return launch_start(l, accel, argc, argv, err, errlen);
    }
    args = calloc((size_t)argc + 2, sizeof(*args));
    if (!args) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(args, argv, (size_t)argc * sizeof(*args));
    snprintf(dev, sizeof(dev), "tcp::%d", gdb_port);
    args[argc] = "-gdb";
    args[argc + 1] = dev;
    rc = launch_start(l, accel, argc + 2, args, err, errlen);
    free(args);
    return rc;
}

int tui_launch(const struct tui_options *o, const char *accel, int qemu_argc, char **qemu_argv)
{
    static struct tui t;
    char err[256];
    int status;

    if (start_session(&t, o, "launch") < 0) {
        return EXIT_FAILURE;
    }
    if (launch_with_gdb(&t.launch, accel, o->gdb_port, qemu_argc, qemu_argv, err,
                        sizeof(err)) < 0) {
        fprintf(stderr, "regdbg launch: %s\n", err);
        session_free(&t.s);
        return EXIT_FAILURE;
    }
    t.s.launched_pid = t.launch.pid;
    /* Wait for QMP to listen, or for QEMU to refuse its arguments. */
    if (launch_wait_ready(&t.launch, QMP_LISTEN_TIMEOUT_MS) < 0) {
        exited_at_start(&t.launch);
        launch_cleanup(&t.launch);
        session_free(&t.s);
        return EXIT_FAILURE;
    }
    status = run_attached(&t, o, t.launch.qmp_path);
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
