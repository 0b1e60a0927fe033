"""--build DIR for the test and bench runners: harness derives every path (QEMU, regdbg, the test
guest) from REGDBG_BUILD when it is imported, so the option must reach the environment before
that import, not after the runner parses its arguments."""

import argparse
import os
import sys


def export_from_argv(argv=None):
    """REGDBG_BUILD = the absolute --build of argv (default: build), unless already set."""
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--build", default="build")
    opts, _ = ap.parse_known_args(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("REGDBG_BUILD", os.path.abspath(opts.build))
