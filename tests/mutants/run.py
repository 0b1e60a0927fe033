#!/usr/bin/python3
"""Mutation testing of regdbg's own C code (`make mutants`; not part of `make test`).

Each entry of tests/mutants/catalogue.txt is one small change to the code (a flipped comparison,
an off-by-one bound, a dropped statement, a forced constant, a swapped operand). The runner copies
the source tree into a scratch folder (build/mutants/src), and for each entry in turn applies the
change there, builds what it touches (regdbg and the unit tests with the Makefile's own targets;
for the device and the shared headers, QEMU through qemu-device/build-qemu.sh in a cache of the
mutants' own, build/mutants/qemu-cache, never ~/.cache/regdbg), runs the tests the entry names
and puts the file back. A mutant is killed when one of those tests fails (or times out), killed
by the compiler when it does not build, and survives when every test passes. The runner prints
each mutant's fate with its times, then a summary per file, the survivors with the reason, and
the share killed. Exit status: 0 when every survivor is one the catalogue expects, 1 otherwise,
2 for a bad catalogue, a failing baseline or a build that fails without a mutation.

    tests/mutants/run.py                 every entry
    tests/mutants/run.py --only PATTERN  entries whose id or file contains PATTERN (or matches it
                                         as a glob); several patterns separated by commas
    tests/mutants/run.py --list          the catalogue, checked, without running anything
"""

import argparse
import fnmatch
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
CATALOGUE = os.path.join(HERE, "catalogue.txt")

KEYS = ("file", "what", "tests", "original", "replace", "expect")
REQUIRED = ("file", "what", "tests", "original", "replace")
# Tests that must never run here: test_install runs `make install`, which builds QEMU in the
# shared cache (~/.cache/regdbg).
FORBIDDEN_TESTS = ("test_install.",)
SAN_ENV = {
    "ASAN_OPTIONS": "abort_on_error=0:exitcode=86:detect_leaks=1",
    "UBSAN_OPTIONS": "halt_on_error=1:exitcode=87:print_stacktrace=1",
}
REGDBG_TARGETS = ["build/bin/regdbg", "build/asan/regdbg", "build/guest/regdbg-guest.elf"]
QEMU_REL = "build/bin/qemu-system-x86_64"
TARBALL = "qemu_10.0.2+ds.orig.tar.xz"


class CatalogueError(Exception):
    pass


class Entry:
    def __init__(self, ident, line):
        self.id = ident
        self.line = line
        self.fields = {}

    def __getattr__(self, name):
        if name in KEYS:
            return self.fields.get(name)
        raise AttributeError(name)

    @property
    def tokens(self):
        return self.fields["tests"].split()

    @property
    def kind(self):
        """device: QEMU only; header: QEMU and regdbg; debugger: regdbg only."""
        if self.file.startswith("qemu-device/"):
            return "device"
        if self.file.startswith("include/"):
            return "header"
        return "debugger"

    @property
    def expect_reason(self):
        """The reason of an `expect: survives - REASON` line, else None."""
        if not self.expect:
            return None
        return re.sub(r"^survives\s*[-\u2014:]*\s*", "", self.expect)


def parse_catalogue(path):
    """Entries in file order. Syntax (see the head of catalogue.txt):
    [id] starts an entry; `key: value` sets a field; a line that starts with `|` continues the
    previous field on a new line (what follows "| " is kept as it is); # starts a comment line."""
    entries, errors = [], []
    cur, last_key = None, None
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for n, raw in enumerate(lines, 1):
        line = raw.rstrip()
        if not line or line.startswith("#"):
            last_key = None if not line else last_key
            continue
        m = re.fullmatch(r"\[([A-Za-z0-9_./-]+)\]", line)
        if m:
            cur = Entry(m.group(1), n)
            entries.append(cur)
            last_key = None
            continue
        if line.startswith("|"):
            if cur is None or last_key is None:
                errors.append("%s:%d: a '|' line continues nothing" % (path, n))
                continue
            text = line[2:] if line.startswith("| ") else line[1:]
            cur.fields[last_key] += "\n" + text
            continue
        m = re.fullmatch(r"([a-z]+):\s?(.*)", line)
        if not m or cur is None:
            errors.append("%s:%d: expected [id], key: value, | continuation or # comment: %r"
                          % (path, n, raw))
            continue
        key, value = m.group(1), m.group(2).strip()
        if key not in KEYS:
            errors.append("%s:%d: [%s]: unknown key %r (keys: %s)" % (path, n, cur.id, key,
                                                                      ", ".join(KEYS)))
            continue
        if key in cur.fields:
            errors.append("%s:%d: [%s]: %s given twice" % (path, n, cur.id, key))
            continue
        cur.fields[key] = value
        last_key = key
    return entries, errors


def integration_tests(root):
    """Every integration test's name as tests/run.py matches -k against it: module.function."""
    names = []
    for path in sorted(glob.glob(os.path.join(root, "tests", "integration", "test_*.py"))):
        mod = os.path.basename(path)[:-3]
        with open(path, encoding="utf-8") as f:
            for m in re.finditer(r"^def (test_\w+)\(", f.read(), re.M):
                names.append("%s.%s" % (mod, m.group(1)))
    return names


def check_entries(entries, root):
    """Every problem of the catalogue against the source tree at root, as messages."""
    errors, seen = [], set()
    tests = integration_tests(root)
    for e in entries:
        where = "catalogue.txt:%d: [%s]" % (e.line, e.id)
        if e.id in seen:
            errors.append("%s: duplicate id" % where)
        seen.add(e.id)
        missing = [k for k in REQUIRED if k not in e.fields]
        if missing:
            errors.append("%s: missing %s" % (where, ", ".join(missing)))
            continue
        path = os.path.join(root, e.file)
        if not os.path.isfile(path):
            errors.append("%s: no file %s" % (where, e.file))
            continue
        if not (e.file.startswith(("debugger/", "views/", "include/regdbg/", "qemu-device/"))
                and e.file.endswith((".c", ".h"))):
            errors.append("%s: %s is not C code of debugger/, views/, include/regdbg/ or "
                          "qemu-device/" % (where, e.file))
        with open(path, encoding="utf-8") as f:
            text = f.read()
        count = text.count(e.original) if e.original else 0
        if count == 0:
            errors.append("%s: the original text is not in %s (the code changed: update the "
                          "entry): %r" % (where, e.file, e.original))
        elif count > 1:
            errors.append("%s: the original text occurs %d times in %s; it must occur exactly "
                          "once (quote more of it): %r" % (where, count, e.file, e.original))
        if e.original == e.replace:
            errors.append("%s: the replacement is the original" % where)
        if e.expect is not None and not re.match(r"survives\b", e.expect):
            errors.append("%s: expect must read 'survives - REASON'" % where)
        if e.expect is not None and not e.expect_reason:
            errors.append("%s: expect: survives needs a reason" % where)
        if not e.tokens:
            errors.append("%s: no tests" % where)
        for tok in e.tokens:
            kind, _, name = tok.partition(":")
            if kind in ("unit", "asan") and name:
                if not os.path.isfile(os.path.join(root, "tests", "unit", name + ".c")):
                    errors.append("%s: no unit test tests/unit/%s.c" % (where, name))
                continue
            matched = [t for t in tests if tok in t]
            if not matched:
                errors.append("%s: test pattern %r matches no integration test" % (where, tok))
            bad = [t for t in matched if t.startswith(FORBIDDEN_TESTS)]
            if bad:
                errors.append("%s: test pattern %r selects %s, which builds QEMU in the shared "
                              "cache; name the tests more narrowly" % (where, tok, bad[0]))
    return errors


def select(entries, patterns):
    if not patterns:
        return list(entries)
    pats = [p for p in re.split(r"[,\s]+", patterns) if p]
    return [e for e in entries
            if any(p in e.id or p in e.file or fnmatch.fnmatch(e.id, p) or
                   fnmatch.fnmatch(e.file, p) for p in pats)]


# ---- the scratch tree ---------------------------------------------------------------------------

def tree_files(root):
    """The files of the tree as git sees them: tracked and new, not ignored (no build output)."""
    out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others",
                          "--exclude-standard"], capture_output=True, check=True).stdout
    return sorted({p for p in out.decode().split("\0") if p and os.path.lexists(
        os.path.join(root, p))})


def same_file(a, b):
    if os.path.islink(a) or os.path.islink(b):
        return os.path.islink(a) and os.path.islink(b) and os.readlink(a) == os.readlink(b)
    try:
        if os.path.getsize(a) != os.path.getsize(b):
            return False
        with open(a, "rb") as fa, open(b, "rb") as fb:
            return fa.read() == fb.read()
    except OSError:
        return False


def sync_tree(src, dst):
    """Make dst a copy of src's files, touching only those that differ (so that make and ninja
    rebuild only what changed). dst/build is left alone."""
    files = tree_files(src)
    wanted = set(files)
    for rel in files:
        s, d = os.path.join(src, rel), os.path.join(dst, rel)
        if os.path.lexists(d) and same_file(s, d):
            continue
        os.makedirs(os.path.dirname(d), exist_ok=True)
        if os.path.lexists(d) or os.path.islink(d):
            os.unlink(d)
        if os.path.islink(s):
            os.symlink(os.readlink(s), d)
        else:
            shutil.copyfile(s, d)
            shutil.copymode(s, d)
    for dirpath, dirnames, filenames in os.walk(dst):
        rel_dir = os.path.relpath(dirpath, dst)
        if rel_dir == ".":
            dirnames[:] = [d for d in dirnames if d != "build"]
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if rel not in wanted:
                os.unlink(os.path.join(dirpath, name))


# ---- running things -----------------------------------------------------------------------------

class Runner:
    def __init__(self, opts):
        self.work = os.path.abspath(opts.workdir)
        self.src = os.path.join(self.work, "src")
        self.cache = os.path.abspath(opts.qemu_cache or os.path.join(self.work, "qemu-cache"))
        self.logs = os.path.join(self.work, "logs")
        self.pristine_qemu = os.path.join(self.work, "qemu-pristine")
        self.opts = opts
        self.qemu_dirty = False
        self.timeouts = {}
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGDBG_")}
        env["REGDBG_CACHE"] = self.cache   # never the shared ~/.cache/regdbg
        env.pop("MAKEFLAGS", None)
        env.pop("MFLAGS", None)
        env.pop("MAKELEVEL", None)
        self.env = env

    def run(self, args, timeout, env=None, cwd=None, grace=0):
        """(status or None on timeout, output, seconds). On a timeout the process first gets
        SIGINT and grace seconds to clean up after itself (tests/run.py then kills its QEMUs and
        the tmux servers of the TUI tests, which are out of its process group), then its whole
        process group is killed."""
        t0 = time.monotonic()
        proc = subprocess.Popen(args, cwd=cwd or self.src, env=env or self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
            status = proc.returncode
        except subprocess.TimeoutExpired:
            if grace:
                signal_quietly(proc.pid, signal.SIGINT)
                try:
                    proc.communicate(timeout=grace)
                except subprocess.TimeoutExpired:
                    pass
            signal_quietly(-proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            status = None
        except BaseException:
            signal_quietly(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=grace or 1)
            except subprocess.TimeoutExpired:
                pass
            signal_quietly(-proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        return status, out.decode(errors="replace"), time.monotonic() - t0

    def sweep(self):
        """Kill, by PID, every process still running a program of the scratch tree: what a test
        left behind (a QEMU started through tmux is outside every process group the runner
        knows). Returns how many there were."""
        root = os.path.join(os.path.realpath(self.src), "")
        killed = 0
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                exe = os.readlink("/proc/%s/exe" % pid)
            except OSError:
                continue
            if exe.startswith(root) and signal_quietly(int(pid), signal.SIGKILL):
                killed += 1
        return killed

    # -- builds

    def make(self, targets):
        return self.run(["make", "-j2", "--no-print-directory", "BUILD=build"] + targets,
                        timeout=1200)

    def build_qemu(self, first=False):
        """QEMU with the scratch tree's device, in the mutants' own cache (build-qemu.sh copies
        only the files that differ, so ninja recompiles only what a mutation touched)."""
        dl = os.path.join(self.cache, "dl")
        if not os.path.isfile(os.path.join(dl, TARBALL)):
            home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"),
                                                                      ".cache")
            shared = os.path.join(home, "regdbg", "dl", TARBALL)
            if os.path.isfile(shared):   # read only: saves a 39 MB download
                os.makedirs(dl, exist_ok=True)
                shutil.copyfile(shared, os.path.join(dl, TARBALL) + ".tmp")
                os.rename(os.path.join(dl, TARBALL) + ".tmp", os.path.join(dl, TARBALL))
        return self.run([os.path.join(self.src, "qemu-device", "build-qemu.sh"), "pinned",
                         os.path.join(self.src, QEMU_REL)], timeout=3600 if first else 1800)

    def unit_targets(self, tokens):
        out = []
        for tok in tokens:
            kind, _, name = tok.partition(":")
            if kind == "unit" and name:
                out.append("build/tests/" + name)
            elif kind == "asan" and name:
                out.append("build/asan/tests/" + name)
        return out

    def setup(self, selected):
        os.makedirs(self.src, exist_ok=True)
        os.makedirs(self.logs, exist_ok=True)
        t0 = time.monotonic()
        if self.sweep():
            say("killed processes an earlier run left running from %s" % self.src)
        sync_tree(TOP, self.src)
        say("scratch tree %s in step with %s" % (os.path.relpath(self.src, TOP), TOP))
        units = sorted({t for e in selected for t in self.unit_targets(e.tokens)})
        status, out, secs = self.make(REGDBG_TARGETS + units)
        log(os.path.join(self.logs, "setup-make.log"), out)
        if status != 0:
            fatal("the unmutated tree does not build (make %s):\n%s" % (
                " ".join(REGDBG_TARGETS + units), tail(out, 40)))
        say("built regdbg, the test guest and %d unit test(s) (%.0f s)" % (len(units), secs))
        first = not os.path.isfile(os.path.join(self.cache, "qemu-10.0.2", "build",
                                                "build.ninja"))
        if first:
            say("building QEMU with the device in %s, once (a few minutes)" % self.cache)
        status, out, secs = self.build_qemu(first)
        log(os.path.join(self.logs, "setup-qemu.log"), out)
        if status != 0:
            fatal("QEMU with the unmutated device does not build:\n%s" % tail(out, 40))
        shutil.copyfile(os.path.join(self.src, QEMU_REL), self.pristine_qemu)
        shutil.copymode(os.path.join(self.src, QEMU_REL), self.pristine_qemu)
        say("built QEMU with the device (%.0f s); setup took %.0f s" % (
            secs, time.monotonic() - t0))

    def restore_qemu(self):
        if self.qemu_dirty:
            dst = os.path.join(self.src, QEMU_REL)
            shutil.copyfile(self.pristine_qemu, dst + ".tmp")
            shutil.copymode(self.pristine_qemu, dst + ".tmp")
            os.rename(dst + ".tmp", dst)
            self.qemu_dirty = False

    # -- tests

    def run_token(self, tok, timeout):
        """(passed, what failed or '', output, seconds) for one test token."""
        kind, _, name = tok.partition(":")
        if kind in ("unit", "asan") and name:
            binary = os.path.join(self.src, "build", "tests" if kind == "unit" else "asan/tests",
                                  name)
            env = dict(self.env, **SAN_ENV)
            status, out, secs = self.run([binary], timeout, env=env)
            if status is None:
                return False, "%s timed out after %.0f s" % (tok, timeout), out, secs
            bad = [line for line in out.splitlines() if line.startswith("not ok")]
            if status != 0 or bad:
                why = bad[0][len("not ok - "):] if bad else "exit status %d" % status
                return False, "%s: %s" % (tok, why), out, secs
            return True, "", out, secs
        status, out, secs = self.run([sys.executable, "tests/run.py", "--build", "build", "-k",
                                      tok], timeout, grace=30)
        left = self.sweep()
        if left:
            out += "\n# the runner killed %d process(es) these tests left running\n" % left
        if status is None:
            return False, "-k %s timed out after %.0f s" % (tok, timeout), out, secs
        if status != 0 or "\nnot ok - " in "\n" + out:
            return False, first_failure(out) or "exit status %d" % status, out, secs
        return True, "", out, secs

    def own_timeout(self, tok):
        """The longest timeout tests/run.py gives one of the tests a -k token selects (0 for a
        unit test)."""
        kind, _, name = tok.partition(":")
        if kind in ("unit", "asan") and name:
            return 0
        with open(os.path.join(self.src, "tests", "run.py"), encoding="utf-8") as f:
            m = re.search(r"^DEFAULT_TIMEOUT = (\d+)", f.read(), re.M)
        default = int(m.group(1)) if m else 120
        longest = 0
        for path in glob.glob(os.path.join(self.src, "tests", "integration", "test_*.py")):
            mod = os.path.basename(path)[:-3]
            with open(path, encoding="utf-8") as f:
                text = f.read()
            own = {n: int(v) for n, v in re.findall(r"^(test_\w+)\.timeout = (\d+)", text, re.M)}
            for name in re.findall(r"^def (test_\w+)\(", text, re.M):
                if tok in "%s.%s" % (mod, name):
                    longest = max(longest, own.get(name, default))
        return longest

    def baseline(self, selected):
        """Every test the selected entries name must pass on the unmutated tree: a test that
        fails anyway would kill every mutant it covers."""
        tokens = []
        for e in selected:
            for t in e.tokens:
                if t not in tokens:
                    tokens.append(t)
        t0 = time.monotonic()
        failed = []
        for tok in tokens:
            ok, why, out, secs = self.run_token(tok, self.opts.timeout)
            log(os.path.join(self.logs, "baseline.log"), "== %s (%.1f s)\n%s" % (tok, secs, out),
                append=True)
            # a mutant may slow a test down a little; a hang is what the timeout is for, and it
            # comes after the tests' own timeouts, so that tests/run.py reports the hung test and
            # cleans up after it
            self.timeouts[tok] = min(self.opts.timeout, max(60.0, 4 * secs + 30,
                                                            self.own_timeout(tok) + 60))
            if not ok:
                failed.append("%s: %s" % (tok, why))
        if failed:
            fatal("these tests fail without any mutation (logs/baseline.log); fix them or "
                  "the catalogue first:\n  " + "\n  ".join(failed))
        say("baseline: the %d test selections pass unmutated (%.0f s)" % (
            len(tokens), time.monotonic() - t0))

    # -- one mutant

    def mutate(self, e):
        """Apply e, build, test, restore. Returns a result dict."""
        path = os.path.join(self.src, e.file)
        with open(path, encoding="utf-8") as f:
            original = f.read()
        if original.count(e.original) != 1:
            return {"fate": "error", "why": "original text not found exactly once in the "
                    "scratch copy"}
        logf = os.path.join(self.logs, e.id.replace("/", "_") + ".log")
        log(logf, "[%s] %s\n%s\n--- original\n%s\n--- replace\n%s\n" % (
            e.id, e.file, e.what, e.original, e.replace))
        res = {"build": 0.0, "tests": 0.0}
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original.replace(e.original, e.replace, 1))
            # -- build
            steps = []
            if e.kind in ("device", "header"):
                steps.append(("qemu", self.build_qemu))
                self.qemu_dirty = True
            else:
                self.restore_qemu()
            units = self.unit_targets(e.tokens)
            steps.append(("make", lambda: self.make(REGDBG_TARGETS + units)))
            for what, step in steps:
                status, out, secs = step()
                res["build"] += secs
                log(logf, "== build (%s): status %s, %.1f s\n%s" % (what, status, secs, out),
                    append=True)
                if status != 0:
                    res["fate"] = "compiler"
                    res["why"] = first_error(out) or "%s failed" % what
                    return res
            if self.opts.build_only:
                res["fate"] = "built"
                return res
            # -- tests: the first that fails kills the mutant
            for tok in e.tokens:
                timeout = self.timeouts.get(tok, self.opts.timeout)
                ok, why, out, secs = self.run_token(tok, timeout)
                res["tests"] += secs
                log(logf, "== %s: %s, %.1f s\n%s" % (tok, "pass" if ok else "FAIL", secs, out),
                    append=True)
                if not ok:
                    res["fate"] = "killed"
                    res["why"] = why
                    return res
            res["fate"] = "survived"
            return res
        finally:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original)


# ---- output -------------------------------------------------------------------------------------

def signal_quietly(pid, sig):
    """os.kill that tolerates a process already gone; True when the signal was sent."""
    try:
        os.kill(pid, sig)
        return True
    except OSError:
        return False


def say(msg):
    print("# " + msg, flush=True)


def fatal(msg):
    print("run.py: " + msg, file=sys.stderr, flush=True)
    sys.exit(2)


def tail(text, n):
    return "\n".join(text.rstrip().splitlines()[-n:])


def log(path, text, append=False):
    with open(path, "a" if append else "w", encoding="utf-8") as f:
        f.write(text if text.endswith("\n") else text + "\n")


def first_failure(out):
    """The first failing test of a tests/run.py output, as NAME: MESSAGE; for an exception, its
    last line (the exception itself) rather than "Traceback (most recent call last):"."""
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("not ok - "):
            continue
        text = line[len("not ok - "):]
        if text.endswith(": Traceback (most recent call last):"):
            rest = []
            for more in lines[i + 1:]:
                if more.startswith(("ok - ", "not ok - ", "# ")):
                    break
                if more.strip():
                    rest.append(more.strip())
            if rest:
                text = text[:-len("Traceback (most recent call last):")] + rest[-1]
        return text
    return None


def first_error(out):
    for line in out.splitlines():
        if re.search(r"\berror\b", line) and not line.startswith("make"):
            return line.strip()[:160]
    return None


def short(text, n=110):
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 3] + "..."


def list_catalogue(entries):
    width = max(len(e.id) for e in entries)
    for e in entries:
        print("%-*s  %-30s %s" % (width, e.id, e.file, e.what))
        print("%-*s  tests: %s%s" % (width, "", " ".join(e.tokens),
                                     ("\n%-*s  expect: survives - %s" % (width, "",
                                                                          e.expect_reason))
                                     if e.expect else ""))


def summary(results, started, logs):
    total = len(results)
    by_tests = [r for r in results if r["fate"] == "killed"]
    by_cc = [r for r in results if r["fate"] == "compiler"]
    survived = [r for r in results if r["fate"] == "survived"]
    killed = len(by_tests) + len(by_cc)
    print("\n== per file")
    files = {}
    for r in results:
        files.setdefault(r["entry"].file, []).append(r)
    width = max(len(f) for f in files)
    for f in sorted(files):
        rs = files[f]
        k = sum(1 for r in rs if r["fate"] in ("killed", "compiler"))
        cc = sum(1 for r in rs if r["fate"] == "compiler")
        print("%-*s  %2d/%-2d killed%s" % (width, f, k, len(rs),
                                           " (%d by the compiler)" % cc if cc else ""))
    unexpected = [r for r in survived if not r["entry"].expect]
    if survived:
        print("\n== survivors")
        for r in survived:
            e = r["entry"]
            reason = ("expected: " + e.expect_reason) if e.expect else \
                "no test catches it yet (a test to write)"
            print("%s (%s): %s\n    %s" % (e.id, e.file, e.what, reason))
    stale = [r for r in results if r["entry"].expect and r["fate"] in ("killed", "compiler")]
    if stale:
        print("\n== expected to survive but killed (drop the expect line?)")
        for r in stale:
            print("%s: %s" % (r["entry"].id, r["why"]))
    if by_cc:
        print("\n== killed by the compiler (prefer mutations that compile)")
        for r in by_cc:
            print("%s: %s" % (r["entry"].id, r["why"]))
    print("\n(what each mutation's build and tests printed: %s/ID.log, / in the id as _)"
          % os.path.relpath(logs, TOP))
    mins = (time.monotonic() - started) / 60
    equivalent = sum(1 for r in results if r["entry"].expect)
    print("\n%d/%d mutants killed (%.1f%%; %.1f%% of the %d not marked equivalent): %d by tests, "
          "%d by the compiler; %d survived (%d expected); %.1f min" % (
              killed, total, 100.0 * killed / total if total else 0,
              100.0 * killed / (total - equivalent) if total > equivalent else 0,
              total - equivalent, len(by_tests), len(by_cc), len(survived),
              len(survived) - len(unexpected), mins))
    return 1 if unexpected else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default=os.environ.get("MUTANTS", ""), metavar="PATTERN",
                    help="entries whose id or file contains PATTERN (default: $MUTANTS)")
    ap.add_argument("--list", action="store_true", help="list and check the catalogue")
    ap.add_argument("--build-only", action="store_true",
                    help="apply and build each mutant, run no test (finds those that do not "
                    "compile)")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip running the tests on the unmutated tree first")
    ap.add_argument("--timeout", type=float, default=600,
                    help="most seconds one test selection may take (default 600)")
    ap.add_argument("--workdir", default=os.path.join(TOP, "build", "mutants"),
                    help="scratch folder (default build/mutants)")
    ap.add_argument("--qemu-cache", metavar="DIR",
                    help="the mutants' QEMU build cache (default WORKDIR/qemu-cache); one tree "
                    "at a time may use it, never ~/.cache/regdbg")
    opts = ap.parse_args()
    shared = os.path.realpath(os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache"), "regdbg"))
    if opts.qemu_cache and os.path.realpath(opts.qemu_cache) == shared:
        fatal("--qemu-cache %s is the shared QEMU cache; give the mutants one of their own"
              % opts.qemu_cache)

    entries, errors = parse_catalogue(CATALOGUE)
    errors += check_entries(entries, TOP)
    if errors:
        fatal("the catalogue has problems; no mutant was run:\n  " + "\n  ".join(errors))
    selected = select(entries, opts.only)
    if opts.list:
        list_catalogue(selected)
        print("# %d of %d entries" % (len(selected), len(entries)))
        return 0
    if not selected:
        fatal("no entry matches %r (--list shows them)" % opts.only)

    started = time.monotonic()
    runner = Runner(opts)
    runner.setup(selected)
    if not opts.no_baseline and not opts.build_only:
        runner.baseline(selected)
    results = []
    width = max(len(e.id) for e in selected)
    try:
        for i, e in enumerate(selected, 1):
            t0 = time.monotonic()
            res = runner.mutate(e)
            res["entry"] = e
            results.append(res)
            fate = {"killed": "killed by " + res.get("why", ""),
                    "compiler": "killed by the compiler: " + res.get("why", ""),
                    "survived": "SURVIVED" + (" (expected)" if e.expect else ""),
                    "built": "builds",
                    "error": "ERROR: " + res.get("why", "")}[res["fate"]]
            print("[%2d/%d] %-*s %s (%.0f s: build %.0f, tests %.0f)" % (
                i, len(selected), width, e.id, short(fate), time.monotonic() - t0,
                res["build"] if "build" in res else 0, res["tests"] if "tests" in res else 0),
                flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted; the scratch tree is restored", flush=True)
        runner.sweep()
        runner.restore_qemu()
        if results and not opts.build_only:
            summary(results, started, runner.logs)
        return 130
    runner.sweep()
    runner.restore_qemu()
    if opts.build_only:
        bad = [r for r in results if r["fate"] != "built"]
        print("\n%d of %d mutants build; %.1f min" % (len(results) - len(bad), len(results),
                                                       (time.monotonic() - started) / 60))
        return 1 if bad else 0
    if any(r["fate"] == "error" for r in results):
        summary(results, started, runner.logs)
        return 2
    return summary(results, started, runner.logs)


if __name__ == "__main__":
    sys.exit(main())
