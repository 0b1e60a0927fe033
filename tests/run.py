#!/usr/bin/python3
"""regdbg's test runner (`make test`): runs the C unit tests (optimised and ASan+UBSan builds), then
every test_* function of tests/integration/test_*.py against the real QEMU, each with a timeout,
and ends with the line "N passed, N failed, N skipped". A test that cannot run on this machine
(only KVM-dependent ones, when /dev/kvm is unusable) raises harness.Skip: it is printed as
"skip - NAME: reason" and counted as skipped, never as passed; the exit status is 1 when anything
failed (or nothing ran at all), skips alone are not a failure."""

import argparse
import glob
import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))

import build_dir  # noqa: E402

build_dir.export_from_argv()
import harness  # noqa: E402

DEFAULT_TIMEOUT = 120


class Context:
    """What a test function gets: a temp dir, and QEMUs/recorders that are cleaned up after it."""

    def __init__(self):
        self.tmpdir = harness.TempDir()
        self.owned = []

    def tmp(self, name):
        return self.tmpdir(name)

    def qemu(self, *args, **kwargs):
        q = harness.Qemu(self.tmpdir, *args, **kwargs)
        self.owned.append(q)
        return q

    def recorder(self, *args):
        r = harness.Recorder(*args)
        self.owned.append(r)
        return r

    def cleanup(self):
        for thing in reversed(self.owned):
            try:
                thing.kill()
            except Exception:
                pass
        self.tmpdir.cleanup()


class Timeout(Exception):
    pass


def on_alarm(signum, frame):
    raise Timeout()


def run_unit(binary, results):
    name = os.path.relpath(binary, os.getcwd())
    try:
        r = subprocess.run([binary], capture_output=True, timeout=300,
                           env=dict(os.environ, **harness.SAN_ENV))
    except subprocess.TimeoutExpired:
        print("not ok - %s: timed out" % name)
        results["failed"] += 1
        return
    out = r.stdout.decode(errors="replace")
    counted = 0
    for line in out.splitlines():
        m = re.match(r"(not ok|ok) - (.*)", line)
        if m:
            counted += 1
            ok = m.group(1) == "ok"
            results["passed" if ok else "failed"] += 1
            print("%s - %s: %s" % (m.group(1), name, m.group(2)))
    if r.returncode != 0 and (counted == 0 or "not ok" not in out):
        results["failed"] += 1
        print("not ok - %s: exit status %d\n%s" % (name, r.returncode,
                                                   r.stderr.decode(errors="replace")[-3000:]))


FUZZ_SECONDS = 15


def run_fuzzer(binary, results):
    """A libFuzzer target for a bounded time; new inputs go to a scratch folder, not the
    committed seed corpus."""
    name = os.path.basename(binary)
    corpus = os.path.join(HERE, "fuzz", "corpus")
    scratch = harness.TempDir()
    try:
        r = subprocess.run([binary, "-max_total_time=%d" % FUZZ_SECONDS, "-timeout=5",
                            "-rss_limit_mb=2048", scratch.path, corpus], capture_output=True,
                           timeout=FUZZ_SECONDS + 120)
    except subprocess.TimeoutExpired:
        results["failed"] += 1
        print("not ok - fuzz %s: did not stop" % name)
        return
    finally:
        scratch.cleanup()
    # libFuzzer ends with a recommended dictionary and then "Done N runs in S second(s)": say
    # only the latter
    done = [line for line in r.stderr.decode(errors="replace").splitlines()
            if line.startswith("Done ")]
    if r.returncode == 0:
        results["passed"] += 1
        print("ok - fuzz %s for %d s: %s" % (name, FUZZ_SECONDS, done[-1] if done else ""))
    else:
        results["failed"] += 1
        print("not ok - fuzz %s found a crash:\n%s" % (name, r.stderr.decode(
            errors="replace")[-4000:]))


def load_module(path):
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("-k", dest="pattern", help="only tests whose name contains this")
    opts = ap.parse_args()
    results = {"passed": 0, "failed": 0, "skipped": 0}
    started = time.monotonic()

    if not opts.pattern:
        for binary in sorted(glob.glob(os.path.join(opts.build, "tests", "test_*")) +
                             glob.glob(os.path.join(opts.build, "asan", "tests", "test_*"))):
            run_unit(binary, results)
        for binary in sorted(glob.glob(os.path.join(opts.build, "fuzz", "fuzz_*"))):
            run_fuzzer(binary, results)

    signal.signal(signal.SIGALRM, on_alarm)
    for path in sorted(glob.glob(os.path.join(HERE, "integration", "test_*.py"))):
        mod = load_module(path)
        for name in [n for n in dir(mod) if n.startswith("test_")]:
            full = "%s.%s" % (os.path.basename(path)[:-3], name)
            if opts.pattern and opts.pattern not in full:
                continue
            fn = getattr(mod, name)
            ctx = Context()
            t0 = time.monotonic()
            signal.alarm(getattr(fn, "timeout", DEFAULT_TIMEOUT))
            try:
                fn(ctx)
                signal.alarm(0)
                results["passed"] += 1
                print("ok - %s (%.1f s)" % (full, time.monotonic() - t0))
            except harness.Skip as e:
                signal.alarm(0)
                results["skipped"] += 1
                print("skip - %s: %s" % (full, e))
            except Timeout:
                results["failed"] += 1
                print("not ok - %s: timed out after %d s" % (full, getattr(fn, "timeout",
                                                                          DEFAULT_TIMEOUT)))
            except harness.TestFailure as e:
                signal.alarm(0)
                results["failed"] += 1
                print("not ok - %s: %s" % (full, e))
            except Exception:
                signal.alarm(0)
                results["failed"] += 1
                print("not ok - %s: %s" % (full, traceback.format_exc()))
            finally:
                signal.alarm(0)
                ctx.cleanup()
            sys.stdout.flush()

    print("# %.0f s" % (time.monotonic() - started))
    print("%d passed, %d failed, %d skipped" % (results["passed"], results["failed"],
                                                results["skipped"]))
    # a run that ran nothing (a -k that matches no test) is a failure; skips alone are not
    return 1 if results["failed"] or not (results["passed"] + results["skipped"]) else 0


if __name__ == "__main__":
    sys.exit(main())
