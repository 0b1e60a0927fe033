#!/usr/bin/python3
"""The layering rule of the source tree, checked (the Makefile runs this before it archives the
library; tests/integration/test_build.py runs it on the tree and on planted violations):

  debugger/*.[ch], the model library, includes no curses, getopt, views/ or debugger/cli/ header;
  the only process it spawns is QEMU, from debugger/launch.c; and, given the built archives
  (--lib), none of their objects needs a curses or getopt symbol, and only launch.o needs fork or
  exec.

usage: check-layers.py [--top DIR] [--lib ARCHIVE]...
Prints one line per violation ("FILE:LINE: ..." or "ARCHIVE(OBJECT): ...") and exits 1 when there
is any, 0 (silent) otherwise."""

import argparse
import glob
import os
import re
import subprocess
import sys

FORBIDDEN_SYSTEM = re.compile(r"^(n?cursesw?|term|getopt|panel|menu|form)\.h$|^ncursesw?/")
SPAWN = re.compile(r"\b(fork|vfork|execv|execvp|execve|execl|execlp|execle|posix_spawnp?|system|"
                   r"popen)\s*\(")
SPAWNER = "launch.c"
# symbols a library object must not need
CURSES_SYMBOLS = re.compile(r"^(initscr|endwin|newwin|delwin|wrefresh|refresh|wgetch|getch|"
                            r"mvwaddn?str|waddn?str|wattr_on|wattr_off|wattron|wattroff|"
                            r"start_color|init_pair|keypad|cbreak|noecho|curs_set|stdscr|"
                            r"COLS|LINES|setupterm|tigetstr|tputs)$")
GETOPT_SYMBOLS = re.compile(r"^(getopt|getopt_long|getopt_long_only|optarg|optind|opterr|"
                            r"optopt)$")
SPAWN_SYMBOLS = re.compile(r"^(fork|vfork|execv|execvp|execve|execl|execlp|execle|"
                           r"posix_spawnp?|system|popen)$")


C_NOISE = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)


def strip_comments(text):
    """C source without its comments and literals (newlines kept, for line numbers)."""
    return C_NOISE.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def check_sources(top):
    problems = []
    views = {os.path.basename(p) for p in glob.glob(os.path.join(top, "views", "*.h"))}
    cli = {os.path.basename(p) for p in glob.glob(os.path.join(top, "debugger", "cli", "*.h"))}
    for path in sorted(glob.glob(os.path.join(top, "debugger", "*.[ch]"))):
        rel = os.path.relpath(path, top)
        with open(path, errors="replace") as f:
            text = f.read()
        for no, line in enumerate(text.splitlines(), 1):
            m = re.match(r'\s*#\s*include\s*([<"])([^>"]+)[>"]', line)
            if not m:
                continue
            name = m.group(2)
            if FORBIDDEN_SYSTEM.search(name):
                problems.append("%s:%d: the library includes <%s>: curses and getopt belong to "
                                "views/ and debugger/cli/" % (rel, no, name))
            elif m.group(1) == '"' and (os.path.basename(name) in views or
                                        name.startswith(("views/", "../views"))):
                problems.append("%s:%d: the library includes \"%s\", a views/ header" % (rel, no,
                                                                                       name))
            elif m.group(1) == '"' and (os.path.basename(name) in cli or "cli/" in name):
                problems.append("%s:%d: the library includes \"%s\", a debugger/cli/ header"
                                % (rel, no, name))
        if os.path.basename(path) != SPAWNER:
            for no, line in enumerate(strip_comments(text).splitlines(), 1):
                m = SPAWN.search(line)
                if m:
                    problems.append("%s:%d: the library spawns a process (%s); only "
                                    "debugger/%s does (QEMU)" % (rel, no, m.group(1), SPAWNER))
    return problems


def check_archive(archive):
    r = subprocess.run(["nm", "-u", archive], capture_output=True, text=True)
    if r.returncode != 0:
        return ["%s: nm failed: %s" % (archive, r.stderr.strip())]
    problems, member = [], "?"
    for line in r.stdout.splitlines():
        line = line.strip()
        if line.endswith(":"):
            member = line[:-1]
            continue
        sym = line.split()[-1] if line else ""
        sym = sym.split("@")[0]
        if CURSES_SYMBOLS.match(sym) or GETOPT_SYMBOLS.match(sym):
            problems.append("%s(%s): needs %s" % (archive, member, sym))
        elif SPAWN_SYMBOLS.match(sym) and member != SPAWNER[:-2] + ".o":
            problems.append("%s(%s): needs %s: only %s.o spawns" % (archive, member, sym,
                                                                    SPAWNER[:-2]))
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--top", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--lib", action="append", default=[])
    opts = ap.parse_args()
    problems = check_sources(opts.top)
    for archive in opts.lib:
        problems += check_archive(archive)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
