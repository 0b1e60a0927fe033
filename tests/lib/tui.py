"""The tmux harness of the TUI tests (tests/integration/test_tui.py): a private tmux server per
terminal that runs a command (regdbg) in its only pane, keys sent with send-keys, the screen read
back with capture-pane (as text, or as cells with their SGR attributes), polling with a timeout;
and the processes below a pane, found through /proc, so that a test can tell regdbg and QEMU
apart and kill exactly what it started."""

import glob
import os
import re
import shlex
import signal
import subprocess
import time

from harness import SAN_ENV, TOP, TestFailure, check, wait_for


def proc_stat(pid):
    """(ppid, start time, comm) of a process, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    comm = data[data.index("(") + 1:data.rindex(")")]
    rest = data[data.rindex(")") + 2:].split()
    return int(rest[1]), rest[19], comm


def descendants(root):
    """Every living process below root: [(pid, start time, comm)]."""
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name))
            if st:
                children.setdefault(st[0], []).append((int(name), st[1], st[2]))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child[0])
    return out


def alive(pid):
    """True while pid runs (a zombie counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Term:
    """One terminal: a private tmux server (-S SOCKET) whose only pane runs
    `bash -c 'COMMAND; echo EXIT=$?; sleep 60'`, so that the shell shows again after COMMAND ends.
    Added to t.owned: cleanup kills the server and anything still running below it."""

    def __init__(self, t, name, command, cols=120, rows=30, env=None):
        self.name = name
        self.cols, self.rows = cols, rows
        self.sock = t.tmp(name + ".tmux")
        self.san_log = t.tmp(name + "-san")
        conf = t.tmp(name + ".tmux.conf")
        with open(conf, "w") as f:
            # No tmux status bar: the pane is the whole COLSxROWS window.
            f.write("set -g status off\nset -g history-limit 0\n")
        self.tmux = ["tmux", "-S", self.sock, "-f", conf]
        full_env = {"TERM": "xterm-256color",
                    "ASAN_OPTIONS": SAN_ENV["ASAN_OPTIONS"] + ":log_path=" + self.san_log + "-asan",
                    "UBSAN_OPTIONS": SAN_ENV["UBSAN_OPTIONS"] + ":log_path=" + self.san_log +
                    "-ubsan"}
        full_env.update(env or {})
        unset = [k for k, v in full_env.items() if v is None]
        inner = "env %s %s %s" % (" ".join("-u " + k for k in unset),
                                  " ".join(shlex.quote("%s=%s" % (k, v))
                                           for k, v in full_env.items() if v is not None),
                                  " ".join(shlex.quote(a) for a in command))
        script = "cd %s; %s; echo EXIT=$?; sleep 60" % (shlex.quote(TOP), inner)
        self.server_pid = None
        t.owned.append(self)
        env_tmux = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
        subprocess.run(self.tmux + ["new-session", "-d", "-x", str(cols), "-y", str(rows),
                                    "-s", "main", "bash -c " + shlex.quote(script)],
                       check=True, timeout=10, env=env_tmux, stdin=subprocess.DEVNULL)
        self.server_pid = int(self.display("#{pid}"))
        self.pane_pid = int(self.display("#{pane_pid}"))

    def tm(self, *args):
        r = subprocess.run(self.tmux + list(args), capture_output=True, timeout=10)
        if r.returncode != 0:
            raise TestFailure("tmux %s: %s" % (" ".join(args), r.stderr.decode(errors="replace")))
        return r.stdout.decode(errors="replace")

    def display(self, fmt):
        return self.tm("display-message", "-p", "-t", "main", fmt).strip()

    def keys(self, *keys):
        """Named keys (Enter, Escape, NPage, C-c) or single characters, one by one."""
        for k in keys:
            self.tm("send-keys", "-t", "main", k)

    def type(self, text):
        self.tm("send-keys", "-t", "main", "-l", text)

    def lines(self, join=False):
        """The screen, one string per row (trailing blanks cut)."""
        out = self.tm("capture-pane", "-p", "-t", "main", *(["-J"] if join else []))
        if out.endswith("\n"):
            out = out[:-1]
        return out.split("\n")

    def text(self):
        return "\n".join(self.lines())

    def styled(self):
        """The screen as rows of (char, attrs), attrs a frozenset of SGR codes in effect."""
        out = self.tm("capture-pane", "-p", "-e", "-t", "main")
        rows, state = [], {}
        for line in out.split("\n"):
            cells, i = [], 0
            while i < len(line):
                m = re.match(r"\x1b\[([0-9;:]*)m", line[i:])
                if m:
                    sgr(state, m.group(1))
                    i += m.end()
                    continue
                if line[i] == "\x1b":      # some other sequence: skip it
                    m = re.match(r"\x1b[\[\]()][0-9;?]*[A-Za-z]?", line[i:])
                    i += m.end() if m else 1
                    continue
                cells.append((line[i], frozenset(state.values())))
                i += 1
            rows.append(cells)
        return rows

    def wait(self, pred, timeout, what):
        """Poll the screen until pred(lines) is true; its value is returned."""
        deadline = time.monotonic() + timeout
        last = []
        while True:
            last = self.lines()
            value = pred(last)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TestFailure("%s: timed out after %.1f s waiting for %s; screen:\n%s"
                                  % (self.name, timeout, what, "\n".join(last)))
            time.sleep(0.05)

    def wait_text(self, needle, timeout=10):
        return self.wait(lambda ls: any(needle in ln for ln in ls), timeout, repr(needle))

    def regdbg_pid(self, timeout=10):
        """The pid of the regdbg running in the pane (bash's child)."""
        def find():
            for pid, _, comm in descendants(self.pane_pid):
                if comm == "regdbg":
                    return pid
            return None
        return wait_for(find, timeout, "regdbg to start in " + self.name)

    def wait_exit(self, timeout=15):
        """Wait for the shell's EXIT= line; returns regdbg's exit status."""
        lines = self.wait(lambda ls: [ln for ln in ls if ln.startswith("EXIT=")], timeout,
                          "regdbg to exit (EXIT= line)")
        return int(lines[-1][5:])

    def check_clean_exit(self, timeout=15):
        """regdbg exited with status 0, the terminal left the alternate screen, no sanitizer
        report."""
        status = self.wait_exit(timeout)
        check(status == 0, "%s: regdbg exit status %d; screen:\n%s" % (self.name, status,
                                                                        self.text()))
        check(self.display("#{alternate_on}") == "0", "%s: the terminal is still in the alternate "
              "screen after regdbg exited" % self.name)
        self.check_sanitizers()

    def check_sanitizers(self):
        reports = glob.glob(self.san_log + "*")
        if reports:
            text = ""
            for r in reports:
                with open(r, errors="replace") as f:
                    text += f.read()[-6000:]
            raise TestFailure("%s: sanitizer report:\n%s" % (self.name, text))

    def kill(self):
        procs = descendants(self.server_pid) if self.server_pid else []
        subprocess.run(self.tmux + ["kill-server"], capture_output=True, timeout=10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(alive(p[0]) for p in procs):
            time.sleep(0.05)
        for pid, start, _ in procs:
            st = proc_stat(pid)
            if st and st[1] == start:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        self.server_pid = None


def sgr(state, params):
    """Apply one SGR sequence to state (a dict: category -> code)."""
    codes = [c for c in re.split("[;:]", params) if c != ""] or ["0"]
    i = 0
    while i < len(codes):
        c = int(codes[i])
        if c == 0:
            state.clear()
        elif c in (1, 2, 3, 4, 5, 7, 8, 9):
            state["a%d" % c] = "a%d" % c
        elif c in (22,):
            state.pop("a1", None)
            state.pop("a2", None)
        elif 23 <= c <= 29:
            state.pop("a%d" % (c - 20), None)
        elif 30 <= c <= 37 or 90 <= c <= 97:
            state["fg"] = "fg%d" % c
        elif c == 39:
            state.pop("fg", None)
        elif 40 <= c <= 47 or 100 <= c <= 107:
            state["bg"] = "bg%d" % c
        elif c == 49:
            state.pop("bg", None)
        elif c in (38, 48):
            kind = "fg" if c == 38 else "bg"
            if i + 1 < len(codes) and codes[i + 1] == "5":
                state[kind] = "%s256_%s" % (kind, codes[i + 2] if i + 2 < len(codes) else "")
                i += 2
            elif i + 1 < len(codes) and codes[i + 1] == "2":
                state[kind] = "%srgb" % kind
                i += 4
        i += 1


def highlighted_rows(styled, first, last):
    """Rows in [first, last] drawn as the cursor: reverse video, or a white background."""
    out = []
    for y in range(first, min(last, len(styled) - 1) + 1):
        cells = [a for ch, a in styled[y] if ch != " "]
        if cells and sum(1 for a in cells if "a7" in a or "bg47" in a or "bg107" in a) \
                > len(cells) // 2:
            out.append(y)
    return out


def has_colour(styled):
    return any(any(x.startswith(("fg", "bg")) for x in a) for row in styled for _, a in row)
