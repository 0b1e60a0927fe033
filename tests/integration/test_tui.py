"""The interactive debugger (`regdbg launch` / `regdbg attach`) in a real terminal: tmux runs the
ASan+UBSan regdbg against a real QEMU whose test guest loops the DesignWare I2C sequence; keys go in
with send-keys and the screen is read back with capture-pane. Each test has its own tmux server,
QEMU and temp folder, ends regdbg the way a user would and checks its exit status, that the terminal
is restored and that no sanitizer report was written (stderr is the terminal, so reports go to
files with log_path=)."""

import json
import os
import re
import shutil
import signal
import time

from harness import (GUEST, REGDBG, Qmp, RingHeader, TestFailure, check, dump_json, regdbg,
                     require_kvm, rule_table, wait_for)
from tui import Term, alive, has_colour, highlighted_rows, proc_stat

PROXY = "regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,bar0-size=4096"
APPEND = "mode=i2c loops=0 delay=50"
# The BAR0 offsets the guest's i2c mode touches, by the names maps/dw-i2c-baytrail.json gives them.
I2C_REGS = {0xFC: "IC_COMP_TYPE", 0x6C: "IC_ENABLE", 0x9C: "IC_ENABLE_STATUS", 0x00: "IC_CON",
            0x04: "IC_TAR", 0x14: "IC_SS_SCL_HCNT", 0x18: "IC_SS_SCL_LCNT", 0x30: "IC_INTR_MASK",
            0x10: "IC_DATA_CMD", 0x70: "IC_STATUS", 0x34: "IC_RAW_INTR_STAT",
            0x40: "IC_CLR_INTR"}

# One stream line (views/stream.c ui_format_event), as capture-pane shows it (trailing blanks cut).
EVENT_RE = re.compile(r"^([ -])\s*(\d+)\.(\d{6}) (\S+)\s+(\S+)\s+([RW])(\d) (\S+)\s+(->|<-) "
                      r"0x([0-9a-f]+)(?:  (.*))?$")


# --- QEMU and regdbg ----------------------------------------------------------------------------

def launch_args(test_qmp):
    """regdbg launch with the demo guest; test_qmp is the test's own QMP socket."""
    return [REGDBG, "launch", "--tcg", "--", "-machine", "q35", "-nodefaults", "-display", "none",
            "-m", "64", "-device", PROXY, "-kernel", GUEST, "-append", APPEND,
            "-qmp", "unix:%s,server=on,wait=off" % test_qmp]


class Launched:
    """regdbg launch in a terminal, and the test's own QMP connection to the QEMU it started."""

    def __init__(self, t, name="launch", cols=120, rows=30, env=None):
        self.qmp_path = t.tmp(name + "-test-qmp.sock")
        self.term = Term(t, name, launch_args(self.qmp_path), cols, rows, env)
        try:
            self.qmp = Qmp(self.qmp_path, timeout=20)
        except TestFailure as e:
            raise TestFailure("%s; the terminal shows:\n%s" % (e, self.term.text()))
        t.owned.append(self.qmp)
        self.qmp.kill = self.qmp.close
        self.shm = self.qmp.cmd("qom-get", path="/machine/peripheral/i2c0", property="shm")
        self.qemu_pid = RingHeader(self.shm).qemu_pid
        t.owned.append(_QemuCleanup(self.qemu_pid))


class _QemuCleanup:
    """Kills a QEMU that a test left running (one regdbg launched and left), unless it is gone;
    its rings, memfds, go with it."""

    def __init__(self, qemu_pid):
        self.qemu_pid = qemu_pid
        st = proc_stat(qemu_pid)
        self.start = st[1] if st else None

    def kill(self):
        st = proc_stat(self.qemu_pid)
        if self.start and st and st[1] == self.start:
            try:
                os.kill(self.qemu_pid, signal.SIGKILL)
            except OSError:
                pass
            wait_for(lambda: not alive(self.qemu_pid), 5, "QEMU to die")


class _RemoveDir:
    def __init__(self, path):
        self.path = path

    def kill(self):
        shutil.rmtree(self.path, ignore_errors=True)


def start_guest_qemu(t, name="vm"):
    """A QEMU of our own running the looping guest; q.qmp_path is for regdbg, q.qmp for us."""
    q = t.qemu([PROXY], qtest=False, accel="tcg", name=name,
               extra=["-kernel", GUEST, "-append", APPEND])
    q.shm = q.shm_path("/machine/peripheral/i2c0")
    return q


def events_on(lines, first=1, last=None):
    """Parsed stream lines: dicts with sign, t (µs), cpu, dev, dir, size, reg, value, fields."""
    out = []
    for ln in lines[first:last]:
        m = EVENT_RE.match(ln)
        if m:
            sign, sec, usec, cpu, dev, d, size, reg, arrow, value, fields = m.groups()
            out.append({"t": (-1 if sign == "-" else 1) * (int(sec) * 1000000 + int(usec)),
                        "cpu": cpu, "dev": dev, "dir": d, "size": int(size), "reg": reg,
                        "arrow": arrow, "value": int(value, 16), "fields": fields or "",
                        "line": ln})
    return out


def stream_rows(term, lines):
    """The view area of the screen: between the status line and the notice line."""
    return lines[1:len(lines) - 2]


def wait_events(term, pred=lambda evs: len(evs) >= 5, timeout=30, what="register accesses"):
    return term.wait(lambda ls: (lambda evs: evs if pred(evs) else None)(
        events_on(stream_rows(term, ls), 0)), timeout, what)


def data_cmd_fields(v):
    return "DAT=0x%x CMD=%s STOP=%d RESTART=%d" % (v & 0xFF, "read" if v & 0x100 else "write",
                                                  (v >> 9) & 1, (v >> 10) & 1)


def status_line(lines):
    return lines[0] if lines else ""


def qmp_status(qmp):
    return qmp.cmd("query-status")["status"]


def quit_launched(term):
    term.keys("q")
    term.wait_text("[y/N]", 5)
    term.keys("y")
    term.check_clean_exit(20)


# --- the tests ----------------------------------------------------------------------------------

def test_tui_launch_stream_decodes_registers(t):
    lt = Launched(t, cols=150, rows=60)
    term = lt.term
    # A whole iteration of the guest's sequence (46 accesses) fits in the 57 rows of the stream.
    evs = wait_events(term, lambda evs: any(e["reg"] == "IC_DATA_CMD" and e["dir"] == "W"
                                            and e["value"] == 0x300 for e in evs)
                      and any(e["reg"] == "IC_ENABLE" and e["dir"] == "W" for e in evs),
                      30, "writes to IC_DATA_CMD and IC_ENABLE")
    lines = term.lines()
    check(status_line(lines).startswith(" regdbg  VM: running  |  1 device"), lines[0])
    check("Quit" in lines[-1], "key bar: %r" % lines[-1])
    names = set(I2C_REGS.values())
    for e in evs:
        check(e["dev"] == "i2c0" and e["cpu"] == "c0" and e["size"] == 4, "line: " + e["line"])
        check(e["reg"] in names, "an access not decoded to a register the guest uses: " + e["line"])
        check(e["arrow"] == ("<-" if e["dir"] == "W" else "->"), e["line"])
        if e["reg"] == "IC_DATA_CMD":
            check(e["fields"] == data_cmd_fields(e["value"]), "IC_DATA_CMD fields: " + e["line"])
        if e["reg"] == "IC_ENABLE":
            check(e["fields"].startswith("ENABLE=%d ABORT=0" % (e["value"] & 1)),
                  "IC_ENABLE fields: " + e["line"])
        if e["reg"] == "IC_CON" and e["dir"] == "W":
            # 0x63: bits 0, 1 (SPEED=1), 5 and 6; the line may be cut at the screen's edge.
            full = ("MASTER_MODE=1 SPEED=std IC_10BITADDR_SLAVE=0 IC_10BITADDR_MASTER=0 "
                    "IC_RESTART_EN=1 IC_SLAVE_DISABLE=1 STOP_DET_IFADDRESSED=0 TX_EMPTY_CTRL=0 "
                    "RX_FIFO_FULL_HLD_CTRL=0")
            check(e["value"] == 0x63 and len(e["fields"]) > 40 and full.startswith(e["fields"]),
                  "IC_CON fields: " + e["line"])
    writes = [e["value"] for e in evs if e["reg"] == "IC_DATA_CMD" and e["dir"] == "W"]
    check(0x300 in writes, "no IC_DATA_CMD write of 0x300 (read + STOP): %r" % writes)
    times = [e["t"] for e in evs]
    check(times == sorted(times), "stream lines out of time order")
    # It is live: newer accesses keep arriving.
    newest = times[-1]
    wait_events(term, lambda evs: evs and evs[-1]["t"] > newest, 10, "newer accesses")
    # Space pauses the stream on the newest line (a cursor shows) while the guest goes on; Space
    # again follows the newest accesses (no cursor).
    term.keys("Space")
    wait_for(lambda: len(highlighted_rows(term.styled(), 1, term.rows - 3)) == 1, 5,
             "a cursor after Space")
    view = term.lines()[1:-2]
    head = RingHeader(lt.shm).head
    wait_for(lambda: RingHeader(lt.shm).head > head + 100, 10, "the guest to go on")
    time.sleep(0.1)
    check(term.lines()[1:-2] == view, "the paused stream moved")
    term.keys("Space")
    wait_for(lambda: not highlighted_rows(term.styled(), 1, term.rows - 3)
             and term.lines()[1:-2] != view, 5, "Space to follow again")
    quit_launched(term)


test_tui_launch_stream_decodes_registers.timeout = 90


def test_tui_stop_and_cont_with_s(t):
    stats = t.tmp("stats.txt")
    lt = Launched(t, env={"REGDBG_TUI_STATS": stats})
    term = lt.term
    wait_events(term)
    term.wait(lambda ls: "VM: running" in ls[0], 10, "VM: running")
    check(qmp_status(lt.qmp) == "running", "QMP disagrees before s")
    for _ in range(2):
        term.keys("s")
        term.wait(lambda ls: "VM: paused" in ls[0], 5, "VM: paused after s")
        check(qmp_status(lt.qmp) == "paused", "status line says paused, QMP says %s"
              % qmp_status(lt.qmp))
        # Paused for real: the guest makes no access.
        head = RingHeader(lt.shm).head
        time.sleep(0.3)
        check(RingHeader(lt.shm).head == head, "the ring moved while the VM was paused")
        term.keys("s")
        term.wait(lambda ls: "VM: running" in ls[0], 5, "VM: running after s")
        check(qmp_status(lt.qmp) == "running", "status line says running, QMP says %s"
              % qmp_status(lt.qmp))
        wait_for(lambda: RingHeader(lt.shm).head > head, 5, "the guest to run again")
    # Stopped from elsewhere (the test's QMP): the status line follows QEMU's STOP/RESUME events.
    lt.qmp.cmd("stop")
    term.wait(lambda ls: "VM: paused" in ls[0], 5, "VM: paused after a QMP stop")
    lt.qmp.cmd("cont")
    term.wait(lambda ls: "VM: running" in ls[0], 5, "VM: running after a QMP cont")
    # R asks first; n leaves the VM alone, y resets it.
    term.keys("R")
    term.wait(lambda ls: ls[-2] == "Reset the VM (system_reset)? [y/N]", 5, "the reset question")
    term.keys("n")
    term.wait(lambda ls: ls[-2] == "", 5, "the question to go away")
    # The guest writes its iteration number to IC_DATA_CMD: 0 once, until the reset starts it
    # over (it would take 256 iterations, 13 s, to wrap around).
    term.keys("f")
    term.type("dir=w reg=IC_DATA_CMD value=0")
    term.keys("Enter")
    one = wait_events(term, lambda evs: len(evs) == 1, 5, "one write of 0 to IC_DATA_CMD")
    term.keys("R")
    term.wait_text("[y/N]", 5)
    term.keys("y")
    term.wait_text("the VM was reset", 5)
    check(qmp_status(lt.qmp) == "running", "not running after the reset")
    two = wait_events(term, lambda evs: len(evs) == 2, 15, "the guest to start over after the "
                      "reset (a second write of 0 to IC_DATA_CMD)")
    check(two[0]["line"] == one[0]["line"] and two[1]["t"] > one[0]["t"], "%r %r" % (one, two))
    term.keys("F")
    quit_launched(term)
    # REGDBG_TUI_STATS: written on exit; one latency per key (4 x s, R n, f + 30 typed + Enter,
    # R y, F, q y).
    with open(stats) as f:
        text = f.read()
    frames = int(re.search(r"^frames (\d+)$", text, re.M).group(1))
    events = int(re.search(r"^events (\d+)$", text, re.M).group(1))
    dev = re.search(r"^device i2c0 produced (\d+) dropped (\d+)$", text, re.M)
    latencies = [int(x) for x in re.findall(r"^key_latency_ns (\d+)$", text, re.M)]
    check(frames > 10 and events > 100 and dev and int(dev.group(2)) == 0
          and int(dev.group(1)) >= events, "stats:\n" + text)
    keys = 4 + 2 + 1 + len("dir=w reg=IC_DATA_CMD value=0") + 1 + 2 + 1 + 2
    check(len(latencies) == keys and max(latencies) < 2e9, "%d key latencies for %d keys: %r"
          % (len(latencies), keys, latencies))


test_tui_stop_and_cont_with_s.timeout = 90


def test_tui_filter(t):
    lt = Launched(t, cols=120, rows=40)
    term = lt.term
    wait_events(term, lambda evs: any(e["reg"] == "IC_DATA_CMD" and e["dir"] == "W"
                                      for e in evs) or len(evs) > 30)
    term.keys("f")
    term.wait(lambda ls: ls[-2].startswith("filter:"), 5, "the filter prompt")
    term.type("dir=w reg=IC_DATA_CMD")
    term.wait(lambda ls: ls[-2] == "filter: dir=w reg=IC_DATA_CMD", 5, "the typed filter echoed")
    term.keys("Enter")
    term.wait(lambda ls: "FILTER dir=w reg=IC_DATA_CMD" in ls[0], 5, "FILTER on the status line")
    # The history is filtered too: the screen fills with IC_DATA_CMD writes only.
    evs = term.wait(lambda ls: (lambda evs: evs if len(evs) >= 20 and all(
        e["reg"] == "IC_DATA_CMD" and e["dir"] == "W" for e in evs) else None)(
        events_on(stream_rows(term, ls), 0)), 10, "20 IC_DATA_CMD writes and nothing else")
    lines = term.lines()
    for ln in stream_rows(term, lines):
        check(ln == "" or EVENT_RE.match(ln), "a stream row that is not an access: %r" % ln)
    for e in events_on(stream_rows(term, lines), 0):
        check(e["reg"] == "IC_DATA_CMD" and e["dir"] == "W", "filtered stream shows: " + e["line"])
        check(e["fields"] == data_cmd_fields(e["value"]), e["line"])
    # The guest writes i & 0xff then 0x300 per iteration: consecutive, nothing missing.
    vals = [e["value"] for e in evs]
    start = vals.index(0x300) + 1 if vals[0] == 0x300 else 0
    pairs = vals[start:]
    for k in range(0, len(pairs) - 1, 2):
        check(pairs[k + 1] == 0x300 and pairs[k] < 0x100, "writes out of pattern: %r" % vals)
        if k >= 2:
            check(pairs[k] == (pairs[k - 2] + 1) & 0xFF, "iterations missing from the filtered "
                  "stream: %r" % vals)
    # F clears it: other registers are back, FILTER is gone.
    term.keys("F")
    term.wait(lambda ls: "FILTER" not in ls[0] and any(
        e["reg"] != "IC_DATA_CMD" for e in events_on(stream_rows(term, ls), 0)), 5,
        "the filter cleared by F")
    # Bad filters: an error on the notice line, nothing filtered, regdbg goes on.
    # (the column of the offending word, as the rules language names it)
    for text, error in [("bogus=1", "filter: column 1: unknown key 'bogus' (dev, bar, reg, dir, "
                         "value, irq)"),
                        ("reg=NO_SUCH_REG", "filter: column 5: no register 'NO_SUCH_REG' in the "
                         "register maps"),
                        ("dir=x", "filter: column 5: dir=x: expected r, w or irq"),
                        ("bar=9", "filter: column 5: bar=9: expected 0 to 5"),
                        ("dev=nope", "filter: column 5: no device 'nope'"),
                        ("value=zz", "filter: column 7: value=zz: expected a number"),
                        ("justaword", "filter: column 1: 'justaword' is not KEY=VALUE")]:
        term.keys("f")
        term.wait(lambda ls: ls[-2] == "filter:", 5, "an empty filter prompt")
        term.type(text)
        term.keys("Enter")
        term.wait(lambda ls: ls[-2] == error, 5, "the error %r" % error)
        check("FILTER" not in term.lines()[0], "a bad filter was applied: %r" % text)
    # Longer than the prompt's buffer and the screen: cut, refused, nothing breaks.
    term.keys("f")
    term.type("dir=w " + "x" * 300)
    term.keys("Enter")
    term.wait(lambda ls: ls[-2].startswith("filter: column 7: 'xxxxxxxx"), 5, "the long filter refused")
    term.keys("/")
    term.type("y" * 300)
    term.keys("Enter")
    term.wait(lambda ls: ls[-2].startswith("no match for 'yyyyyyyy"), 5,
              "the long search refused")
    newest = events_on(stream_rows(term, term.lines()), 0)[-1]["t"]
    wait_events(term, lambda evs: evs and evs[-1]["t"] > newest, 10, "the stream to go on")
    # A value filter with a mask works too.
    term.keys("f")
    term.type("value=0x300/0xf00")
    term.keys("Enter")
    term.wait(lambda ls: "FILTER value=0x300/0xf00" in ls[0] and (lambda evs: len(evs) >= 5 and all(
        e["value"] & 0xF00 == 0x300 for e in evs))(events_on(stream_rows(term, ls), 0)), 10,
        "only values with 0x3.. in bits 8-11")
    quit_launched(term)


test_tui_filter.timeout = 90


def test_tui_search(t):
    lt = Launched(t, cols=120, rows=40)
    term = lt.term
    # Half a second of history: about 8 iterations, so 8 IC_CLR_INTR reads.
    wait_events(term, lambda evs: len(evs) >= 30 and evs[-1]["t"] > 500000, 30,
                "half a second of accesses")
    # Stop the VM so that the history stops growing and the matches stay put.
    term.keys("s")
    term.wait(lambda ls: "VM: paused" in ls[0], 5, "VM: paused")
    time.sleep(0.2)
    term.keys("/")
    term.wait(lambda ls: ls[-2].startswith("search:"), 5, "the search prompt")
    term.type("IC_CLR_INTR")
    term.keys("Enter")

    def cursor_line():
        st = term.styled()
        rows = highlighted_rows(st, 1, len(st) - 3)
        if len(rows) != 1:
            return None
        return "".join(ch for ch, _ in st[rows[0]]).rstrip(), rows[0]

    def wait_cursor(what, pred=lambda ln: True):
        return wait_for(lambda: (lambda c: c if c and pred(c[0]) else None)(cursor_line()), 5,
                        what + "; screen:\n" + term.text())

    first, _ = wait_cursor("one highlighted line after /IC_CLR_INTR",
                           lambda ln: "IC_CLR_INTR" in ln)
    check(EVENT_RE.match(first), "the cursor is not on an access: %r" % first)
    check(not term.lines()[-2].startswith("no "), "search reported: " + term.lines()[-2])
    # Nothing newer matches (the VM is stopped and the search found the most recent one): n
    # wraps to the oldest match and says so, N wraps back.
    term.keys("n")
    oldest_match, _ = wait_cursor("n to wrap to the oldest IC_CLR_INTR",
                                  lambda ln: "IC_CLR_INTR" in ln and ln != first)
    term.wait(lambda ls: ls[-2] == "search wrapped: past the newest access, on from the oldest",
              5, "n to say that the search wrapped")
    check(events_on(["", oldest_match])[0]["t"] < events_on(["", first])[0]["t"],
          "n wrapped to a newer line: %r after %r" % (oldest_match, first))
    term.keys("N")
    wait_cursor("N to wrap back to the newest match", lambda ln: ln == first)
    term.wait(lambda ls: ls[-2] == "search wrapped: past the oldest access, on from the newest",
              5, "N to say that the search wrapped")
    term.keys("N")
    older, _ = wait_cursor("N to move to an older IC_CLR_INTR",
                           lambda ln: "IC_CLR_INTR" in ln and ln != first)
    check("wrapped" not in term.lines()[-2], "N without wrapping says: " + term.lines()[-2])
    check(events_on(["", older])[0]["t"] < events_on(["", first])[0]["t"],
          "N went to a newer line: %r after %r" % (older, first))
    term.keys("N")
    oldest, _ = wait_cursor("N again", lambda ln: "IC_CLR_INTR" in ln and ln not in (first, older))
    check(events_on(["", oldest])[0]["t"] < events_on(["", older])[0]["t"], "N went forward")
    term.keys("n")
    wait_cursor("n back to the newer match", lambda ln: ln == older)
    term.keys("n")
    wait_cursor("n back to the first match", lambda ln: ln == first)
    # A value, searched from the oldest line on: 0x300 is what the guest writes to IC_DATA_CMD.
    term.keys("g")
    wait_for(lambda: (lambda c: c and c[1] == 1)(cursor_line()), 5,
             "g to put the cursor on the oldest line, at the top; screen:\n" + term.text())
    term.keys("/")
    term.type("0x300")
    term.keys("Enter")
    wait_cursor("/0x300", lambda ln: "<- 0x00000300" in ln and "IC_DATA_CMD" in ln)
    # No match: said so, the cursor stays.
    before = cursor_line()[0]
    term.keys("/")
    term.type("NO_SUCH_THING")
    term.keys("Enter")
    term.wait_text("no match for 'NO_SUCH_THING'", 5)
    check(cursor_line()[0] == before, "a failed search moved the cursor")
    # End follows the newest line again (no cursor).
    term.keys("G", "s")
    term.wait(lambda ls: "VM: running" in ls[0], 5, "VM: running")
    wait_for(lambda: not highlighted_rows(term.styled(), 1, term.rows - 3), 5,
             "the cursor to go away when following")
    quit_launched(term)


test_tui_search.timeout = 90


def test_tui_search_while_following_finds_the_newest_access(t):
    """While following, / goes to "the most recent match"; the newest access itself counts."""
    lt = Launched(t, cols=120, rows=40)
    term = lt.term
    wait_events(term, lambda evs: len(evs) >= 30, 30, "a screenful of accesses")
    # Stop the VM in the 50 ms pause after an iteration: the newest access is then the guest's
    # last of the iteration, the write IC_ENABLE <- 0.
    for _ in range(20):
        lt.qmp.cmd("stop")
        time.sleep(0.15)
        evs = events_on(stream_rows(term, term.lines()), 0)
        if evs and evs[-1]["reg"] == "IC_ENABLE" and evs[-1]["value"] == 0:
            break
        lt.qmp.cmd("cont")
        time.sleep(0.02)
    else:
        raise TestFailure("could not stop the VM after an iteration")
    term.wait(lambda ls: "VM: paused" in ls[0], 5, "VM: paused")
    newest = evs[-1]["line"]
    term.keys("/")
    term.type("IC_ENABLE")
    term.keys("Enter")
    st = wait_for(lambda: (lambda s: s if highlighted_rows(s, 1, len(s) - 3) else None)(
        term.styled()), 5, "a highlighted line")
    row = highlighted_rows(st, 1, len(st) - 3)[0]
    got = "".join(ch for ch, _ in st[row]).rstrip()
    check(got == newest, "searching IC_ENABLE while following highlighted\n  %s\ninstead of the "
          "newest access, which matches:\n  %s" % (got, newest))
    quit_launched(term)


test_tui_search_while_following_finds_the_newest_access.timeout = 90


def test_tui_search_from_the_newest_line_wraps(t):
    """Paused on the newest line (Space), / has nothing newer to find: it wraps to the oldest
    match, as less and vim do, and says so; before, it found nothing although N would."""
    lt = Launched(t, cols=120, rows=40)
    term = lt.term
    # Half a second of history: several iterations, so several IC_CLR_INTR reads.
    wait_events(term, lambda evs: len(evs) >= 30 and evs[-1]["t"] > 500000, 30,
                "half a second of accesses")
    term.keys("s")
    term.wait(lambda ls: "VM: paused" in ls[0], 5, "VM: paused")
    term.keys("Space")
    newest = wait_for(lambda: (lambda st: (lambda rows: "".join(
        ch for ch, _ in st[rows[0]]).rstrip() if len(rows) == 1 else None)(
        highlighted_rows(st, 1, len(st) - 3)))(term.styled()), 5,
        "Space to put the cursor on the newest line")
    check(events_on(["", newest]), "the cursor is not on an access: %r" % newest)
    term.keys("/")
    term.type("IC_CLR_INTR")
    term.keys("Enter")
    term.wait(lambda ls: ls[-2] == "search wrapped: past the newest access, on from the oldest",
              5, "/ from the newest line to wrap")
    st = term.styled()
    rows = highlighted_rows(st, 1, len(st) - 3)
    check(len(rows) == 1, "one highlighted line after the search; screen:\n" + term.text())
    got = "".join(ch for ch, _ in st[rows[0]]).rstrip()
    check("IC_CLR_INTR" in got and events_on(["", got])[0]["t"] < events_on(["", newest])[0]["t"],
          "the wrapped search highlighted %r (the newest line was %r)" % (got, newest))
    term.keys("g")
    term.keys("/")
    term.type("IC_CLR_INTR")
    term.keys("Enter")
    st = wait_for(lambda: (lambda st: st if len(highlighted_rows(st, 1, len(st) - 3)) == 1 and
                           "IC_CLR_INTR" in "".join(ch for ch, _ in st[highlighted_rows(
                               st, 1, len(st) - 3)[0]]) else None)(term.styled()), 5,
                  "/ from the oldest line; screen:\n" + term.text())
    check(term.lines()[-2] == "", "a search that did not wrap says: %r" % term.lines()[-2])
    quit_launched(term)


test_tui_search_from_the_newest_line_wraps.timeout = 90


def test_tui_filter_and_search_prompts_start_empty(t):
    """f opens an empty prompt even while a filter is in force: what is typed is the new filter,
    not appended to the old one; Up brings the old one back to change it. The same for /."""
    lt = Launched(t, cols=120, rows=40)
    term = lt.term
    wait_events(term, lambda evs: len(evs) >= 10, 30, "accesses")
    term.keys("f")
    term.type("dir=w")
    term.keys("Enter")
    term.wait(lambda ls: "FILTER dir=w" in ls[0], 5, "FILTER dir=w")
    term.keys("f")
    term.wait(lambda ls: ls[-2].startswith("filter:"), 5, "the filter prompt")
    check(term.lines()[-2] == "filter:", "the filter prompt starts with %r" % term.lines()[-2])
    term.type("reg=IC_DATA_CMD")
    term.wait(lambda ls: ls[-2] == "filter: reg=IC_DATA_CMD", 5, "only the typed filter")
    term.keys("Enter")
    term.wait(lambda ls: "FILTER reg=IC_DATA_CMD" in ls[0], 5, "the new filter in force")
    evs = wait_events(term, lambda evs: len(evs) >= 5 and all(e["reg"] == "IC_DATA_CMD"
                                                             for e in evs), 10,
                      "IC_DATA_CMD accesses only")
    # Up: the filter in force, to change it
    term.keys("f", "Up")
    term.wait(lambda ls: ls[-2] == "filter: reg=IC_DATA_CMD", 5, "Up to bring back the filter")
    term.type(" dir=w")
    term.keys("Enter")
    term.wait(lambda ls: "FILTER reg=IC_DATA_CMD dir=w" in ls[0], 5, "the changed filter")
    # the search prompt too
    term.keys("/")
    term.type("IC_DATA_CMD")
    term.keys("Enter")
    term.keys("/")
    term.wait(lambda ls: ls[-2].startswith("search:"), 5, "the search prompt")
    check(term.lines()[-2] == "search:", "the search prompt starts with %r" % term.lines()[-2])
    term.keys("Up")
    term.wait(lambda ls: ls[-2] == "search: IC_DATA_CMD", 5, "Up to bring back the search")
    term.keys("Escape")
    quit_launched(term)


test_tui_filter_and_search_prompts_start_empty.timeout = 90


def _help_table(what):
    """The rows of `regdbg help --keys` or `--commands` (tab-separated, # comments)."""
    r = regdbg("help", what)
    check(r.returncode == 0 and r.stderr == "", "regdbg help %s: %d %s"
          % (what, r.returncode, r.stderr))
    rows = [ln.split("\t") for ln in r.stdout.splitlines() if not ln.startswith("#")]
    check(rows and all(len(row) == 4 for row in rows), "regdbg help %s: %r" % (what, r.stdout))
    return rows


def test_tui_help_lists_every_key_and_command(t):
    """The help screen shows every key and every : command the program itself lists (its key and
    command tables, through regdbg help --keys and --commands, at run time)."""
    keys = _help_table("--keys")
    cmds = [c for c in _help_table("--commands") if "prompt" in c[2].split(", ")]
    check(len(keys) >= 20, "the keys of regdbg help --keys: %r" % keys)
    check(len(cmds) >= 10, "the : commands of regdbg help --commands: %r" % cmds)
    lt = Launched(t, cols=160, rows=24)
    term = lt.term
    wait_events(term)
    term.keys("2")
    term.wait_text("REGISTER", 5)
    term.keys("?")
    term.wait(lambda ls: ls[1] == "Keys", 5, "the help screen")
    seen = []
    tops = []
    for _ in range(12):
        view = stream_rows(term, term.lines())
        tops.append(view[0])
        for ln in view:
            if ln not in seen:
                seen.append(ln)
        if any(ln.startswith("  quit ") for ln in view) and len(tops) > 2 and \
                tops[-1] == tops[-2]:
            break
        before = term.lines()
        term.keys("NPage")
        # A key redraws at once; give it a moment and take what is there.
        try:
            term.wait(lambda ls: ls[1:-2] != before[1:-2], 1, "PgDn to scroll")
        except TestFailure:
            pass
    text = "\n".join(seen)
    # Long entries wrap onto the next lines: compare with whitespace folded.
    flat = " ".join(text.split())
    missing = []
    for keyname, _, _, help_text in keys:
        want = " ".join(("%s %s" % (keyname, help_text)).split())
        if want not in flat:
            missing.append("key %s: %r" % (keyname, want))
    for name, usage, _, help_text in cmds:
        want = " ".join(("%s %s %s" % (name, usage, help_text)).split())
        if want not in flat:
            missing.append("command %s: %r" % (name, want))
    check(not missing, "missing from the help screen:\n  %s\nseen:\n%s"
          % ("\n  ".join(missing), text))
    check("Commands (type : first)" in seen, "no commands header")
    # Esc goes back to the screen help was opened from.
    term.keys("Escape")
    term.wait(lambda ls: any(ln.startswith("REGISTER ") for ln in ls), 5,
              "Esc back to the registers screen")
    term.keys("1", "?", "g")
    term.wait(lambda ls: ls[1] == "Keys", 5, "the help screen, at its top after g")
    term.keys("Escape")
    wait_events(term, timeout=5, what="Esc back to the stream")
    # Each PgDn moves the help text by a page (the help has no visible cursor to move instead).
    term.keys("?", "g")
    term.wait(lambda ls: ls[1] == "Keys", 5, "the help screen, at its top after g")
    term.keys("NPage")
    time.sleep(0.5)
    after = term.lines()
    quit_launched(term)
    check(after[1] != "Keys", "the first PgDn on the help screen does not scroll it (%d rows "
          "of %d help lines shown); screen after PgDn:\n%s"
          % (term.rows - 3, len(keys) + 3 + len(cmds), "\n".join(after)))


test_tui_help_lists_every_key_and_command.timeout = 90


def _pci_device(qmp, qdev_id):
    def walk(devices):
        for d in devices:
            if d.get("qdev_id") == qdev_id:
                return d
            bridge = d.get("pci_bridge")
            if bridge:
                found = walk(bridge.get("devices", []))
                if found:
                    return found
        return None
    for bus in qmp.cmd("query-pci"):
        found = walk(bus["devices"])
        if found:
            return found
    return None


def test_tui_registers_and_devices_screens(t):
    lt = Launched(t, cols=150, rows=40)
    term = lt.term
    wait_events(term, lambda evs: any(e["reg"] == "IC_DATA_CMD" and e["dir"] == "W"
                                      for e in evs) or len(evs) > 30)
    lt.qmp.cmd("stop")
    term.wait(lambda ls: "VM: paused" in ls[0], 5, "VM: paused")
    term.keys("2")
    term.wait_text("REGISTER", 5)
    lines = term.lines()
    check(lines[1].startswith("i2c0: Synopsys DesignWare I2C"), lines[1])
    check(re.match(r"REGISTER\s+BAR\+OFF\s+LAST READ\s+LAST WRITE\s+READS\s+WRITES\s+AGO\s+"
                   r"LAST WRITER\s+FIELDS", lines[2]), lines[2])
    rows = {}
    for ln in lines[3:-2]:
        m = re.match(r"(\S+)\s+(\d)\+0x([0-9a-f]+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\S+)"
                     r"\s+(\S+)(?:  (.*))?$", ln)
        if m:
            rows[m.group(1)] = m.groups()
    check("IC_DATA_CMD" in rows, "no IC_DATA_CMD row:\n" + "\n".join(lines))
    _, bar, off, last_read, last_write, reads, writes, ago, writer, fields = rows["IC_DATA_CMD"]
    fields = fields.strip() if fields else fields     # after the writer column's padding
    # The guest PC of the last write (no --symbols here: the PC itself)
    check(re.match(r"0x[0-9a-f]+$", writer), "IC_DATA_CMD's last writer: %r" % writer)
    reads, writes = int(reads), int(writes)
    check(bar == "0" and int(off, 16) == 0x10, "IC_DATA_CMD at %s+0x%s" % (bar, off))
    check(writes > 0 and reads > 0, "IC_DATA_CMD counts: %d reads %d writes" % (reads, writes))
    # Each iteration writes IC_DATA_CMD twice and reads it once.
    check(0 <= writes - 2 * reads <= 2, "IC_DATA_CMD: %d writes for %d reads" % (writes, reads))
    check(re.match(r"0x[0-9a-f]{8}$", last_write) and re.match(r"0x[0-9a-f]{8}$", last_read),
          rows["IC_DATA_CMD"])
    check(fields in (data_cmd_fields(int(last_read, 16)), data_cmd_fields(int(last_write, 16))),
          "IC_DATA_CMD fields %r, last read %s, last write %s" % (fields, last_read, last_write))
    con = rows["IC_CON"]
    check(con[4] == "0x00000063" and int(con[6]) > 0 and int(con[5]) == 0,
          "IC_CON row: %r" % (con,))
    check(abs(int(rows["IC_ENABLE"][6]) - 2 * int(con[6])) <= 2, "IC_ENABLE writes %s, IC_CON %s"
          % (rows["IC_ENABLE"][6], con[6]))
    check(rows["IC_SAR"][3:7] == ("-", "-", "0", "0") and rows["IC_SAR"][8] == "-",
          "IC_SAR never touched: %r" % (rows["IC_SAR"],))
    # The devices screen.
    dev = _pci_device(lt.qmp, "i2c0")
    check(dev is not None, "QMP query-pci has no i2c0")
    bar0 = [r for r in dev["regions"] if r.get("bar") == 0][0]
    # regdbg asks query-pci again every second (the guest may move its BARs): the address the
    # firmware gave BAR0 after regdbg attached shows within that.
    term.keys("3")
    term.wait_text("  BAR0 mem32          4096 bytes  at 0x%x" % bar0["address"], 3)
    lines = term.lines()
    text = "\n".join(lines)
    check(re.search(r"^i2c0  8086:0f41  class [0-9a-f]{6} rev [0-9a-f]{2}  subsystem [0-9a-f]{4}:"
                    r"[0-9a-f]{4}  Synopsys DesignWare I2C", text, re.M), text)
    check("  PCI %02x:%02x.%x " % (dev["bus"], dev["slot"], dev["function"]) in text,
          "PCI address %02x:%02x.%x not shown:\n%s" % (dev["bus"], dev["slot"], dev["function"],
                                                      text))
    check(re.search(r"^  BAR0 mem32\s+4096 bytes  at 0x%x$" % bar0["address"], text, re.M),
          "BAR0 at 0x%x (query-pci) not shown:\n%s" % (bar0["address"], text))
    h = RingHeader(lt.shm)
    m = re.search(r"^  ring (\S+): (\d+) entries, (lossless|lossy), fill (\d+)%, dropped (\d+), "
                  r"drained (\d+)$", text, re.M)
    check(m, "no ring line:\n" + text)
    check(m.group(1) == lt.shm and int(m.group(2)) == h.ring_entries and m.group(3) == "lossless"
          and m.group(5) == "0", "ring line %r; ring %s, %d entries" % (m.group(0), lt.shm,
                                                                        h.ring_entries))
    check(int(m.group(6)) == h.head, "drained %s, the ring's head is %d (the VM is stopped)"
          % (m.group(6), h.head))
    check("BAR1" not in text, "an absent BAR is listed")
    lt.qmp.cmd("cont")
    quit_launched(term)


test_tui_registers_and_devices_screens.timeout = 90


def _check_layout(term, cols, rows, wide_lines=False):
    """The frame at COLSxROWS: status line on top, the key bar at the bottom, accesses between,
    nothing wider than the screen. Returns the key bar."""
    def ok(ls):
        if len(ls) != rows or not ls[0].startswith(" regdbg") or not ls[-1].startswith("?Help"):
            return None
        evs = events_on(stream_rows(term, ls), 0)
        if len(evs) < min(5, rows - 4):
            return None
        if wide_lines and not any(len(e["line"]) > 80 for e in evs):
            return None
        return ls
    term.wait(ok, 10, "the %dx%d layout" % (cols, rows))
    joined = term.lines(join=True)
    long = [ln for ln in joined if len(ln) > cols]
    check(not long, "lines longer than %d columns (wrapped by the terminal): %r" % (cols, long))
    return term.lines()[-1]


def test_tui_resize(t):
    lt = Launched(t, cols=80, rows=24)
    term = lt.term
    wait_events(term)
    keybars = [_check_layout(term, 80, 24)]
    term.tm("resize-window", "-t", "main", "-x", "200", "-y", "60")
    keybars.append(_check_layout(term, 200, 60, wide_lines=True))
    term.tm("resize-window", "-t", "main", "-x", "80", "-y", "24")
    keybars.append(_check_layout(term, 80, 24))
    # Tiny, on every screen, then back: no crash, and the screen is whole again.
    for key in ("2", "3", "?", "1"):
        term.keys(key)
        term.tm("resize-window", "-t", "main", "-x", "20", "-y", "4")
        time.sleep(0.2)
        term.tm("resize-window", "-t", "main", "-x", "80", "-y", "24")
        term.wait(lambda ls: ls[0].startswith(" regdbg") and ls[-1].startswith("?Help"), 5,
                  "the screen back after a tiny size")
    _check_layout(term, 80, 24)
    check(alive(term.regdbg_pid()), "regdbg died")
    quit_launched(term)
    # The way out is on the key bar at every size, 80 columns included.
    check(all("qQuit" in kb for kb in keybars), "the key bar does not show q Quit at 80 columns: "
          "%r (80x24), %r (200x60)" % (keybars[0], keybars[1]))


test_tui_resize.timeout = 90


def test_tui_attach_quit_and_reattach(t):
    q = start_guest_qemu(t)
    term = Term(t, "attach1", [REGDBG, "attach", q.qmp_path])
    evs = wait_events(term)
    check(all(e["reg"] in I2C_REGS.values() for e in evs), "undecoded accesses")
    pid1 = term.regdbg_pid()
    check(RingHeader(q.shm).consumer_pid == pid1, "the ring's consumer is %d, regdbg is %d"
          % (RingHeader(q.shm).consumer_pid, pid1))
    wait_for(lambda: RingHeader(q.shm).heartbeat_ns != 0, 5, "regdbg's heartbeat")
    term.keys("q")
    # No question: the VM is not regdbg's, q quits at once.
    term.check_clean_exit(5)
    check(RingHeader(q.shm).heartbeat_ns == 0, "quitting left the heartbeat at %d: the device "
          "cannot tell that nobody will answer a park" % RingHeader(q.shm).heartbeat_ns)
    check("[y/N]" not in term.text(), "q asked a question in attach mode")
    check(q.proc.poll() is None and qmp_status(q.qmp) == "running",
          "QEMU is not running after regdbg quit")
    check(RingHeader(q.shm).consumer_pid == 0, "the ring still names consumer %d"
          % RingHeader(q.shm).consumer_pid)
    head = RingHeader(q.shm).head
    wait_for(lambda: RingHeader(q.shm).head > head + 50, 10, "the guest to go on without regdbg")
    term2 = Term(t, "attach2", [REGDBG, "attach", q.qmp_path])
    pid2 = term2.regdbg_pid()
    wait_for(lambda: RingHeader(q.shm).consumer_pid == pid2, 10, "the new regdbg to claim the ring")
    # It shows what the guest did while nobody was attached, then new accesses as they come.
    evs = wait_events(term2)
    wait_events(term2, lambda e2: e2 and e2[-1]["t"] > 500000, 10,
                "accesses made after the new regdbg attached")
    check(q.proc.poll() is None, "QEMU died")
    term2.keys("q")
    term2.check_clean_exit(5)
    check(qmp_status(q.qmp) == "running", "QEMU stopped")


test_tui_attach_quit_and_reattach.timeout = 90


def test_tui_quit_asks_before_shutting_down_launched_qemu(t):
    lt = Launched(t)
    term = lt.term
    wait_events(term)
    with open("/proc/%d/cmdline" % lt.qemu_pid, "rb") as f:
        cmdline = f.read().split(b"\0")
    private = [a.decode() for a in cmdline if a.startswith(b"unix:/tmp/regdbg-")]
    check(private, "QEMU has no private QMP socket from regdbg: %r" % cmdline)
    private_dir = os.path.dirname(private[0][5:].split(",")[0])
    term.keys("q")
    term.wait(lambda ls: ls[-2] == "Quit and shut down the QEMU that regdbg launched (pid %d)? "
              "[y/N]" % lt.qemu_pid, 5, "the question naming QEMU's pid %d" % lt.qemu_pid)
    term.keys("n")
    term.wait(lambda ls: "[y/N]" not in ls[-2], 5, "the question to go away")
    check(qmp_status(lt.qmp) == "running", "QEMU not running after n")
    newest = events_on(stream_rows(term, term.lines()), 0)[-1]["t"]
    wait_events(term, lambda evs: evs and evs[-1]["t"] > newest, 10, "the stream to go on")
    # Any other key than y is a no too.
    term.keys("q")
    term.wait_text("[y/N]", 5)
    term.keys("Escape")
    term.wait(lambda ls: "[y/N]" not in ls[-2], 5, "Esc to answer no")
    check(alive(lt.qemu_pid), "QEMU died after Esc")
    term.keys("q")
    term.wait_text("[y/N]", 5)
    term.keys("y")
    term.check_clean_exit(20)
    check(not alive(lt.qemu_pid), "QEMU (pid %d) still runs after q y" % lt.qemu_pid)
    check(not os.path.exists(lt.shm), "the ring %s outlives QEMU" % lt.shm)
    check(not os.path.exists(private_dir), "regdbg's private folder %s is left" % private_dir)


test_tui_quit_asks_before_shutting_down_launched_qemu.timeout = 90


def test_tui_qemu_killed_under_the_tui(t):
    q = start_guest_qemu(t)
    term = Term(t, "gone", [REGDBG, "attach", q.qmp_path])
    wait_events(term)
    q.proc.kill()
    q.proc.wait()
    term.wait(lambda ls: any("The history stays here to browse. q quits." in ln for ln in ls)
              and any(("QEMU closed the QMP connection" in ln or "is gone" in ln) for ln in ls)
              and "VM: gone" in ls[0], 5, "the message that QEMU is gone")
    # Still usable: the screens draw, and VM commands say why they cannot work.
    term.keys("s")
    term.wait_text("QEMU is gone", 5)
    for key, needle in (("2", "REGISTER"), ("3", "8086:0f41"), ("?", "Keys"), ("1", "q quits")):
        term.keys(key)
        term.wait_text(needle, 5)
    term.keys("q")
    term.check_clean_exit(5)
    # The same with a QEMU that regdbg launched: no question on q, since there is nothing left
    # to shut down.
    lt = Launched(t, name="launched-gone")
    wait_events(lt.term)
    os.kill(lt.qemu_pid, signal.SIGKILL)
    lt.term.wait(lambda ls: any("The history stays here to browse. q quits." in ln for ln in ls)
                 and any(("QEMU was killed by signal 9" in ln or "QEMU closed the QMP" in ln)
                         for ln in ls) and "VM: gone" in ls[0], 5,
                 "the message that the launched QEMU is gone")
    lt.term.keys("q")
    lt.term.check_clean_exit(10)
    check("[y/N]" not in lt.term.text(), "q asked to shut down a QEMU that is gone")


test_tui_qemu_killed_under_the_tui.timeout = 60


def test_tui_sigterm_and_sigint_restore_the_terminal(t):
    q = start_guest_qemu(t)
    for n, (sig, name) in enumerate(((signal.SIGTERM, "Terminated"),
                                     (signal.SIGINT, "Interrupt"))):
        term = Term(t, "sig%d" % n, [REGDBG, "attach", q.qmp_path])
        wait_events(term)
        check(term.display("#{alternate_on}") == "1", "regdbg does not use the alternate screen")
        pid = term.regdbg_pid()
        wait_for(lambda: RingHeader(q.shm).consumer_pid == pid, 5, "regdbg to own the ring")
        os.kill(pid, sig)
        term.check_clean_exit(10)
        term.wait_text("regdbg: %s, detached; the VM goes on" % name, 5)
        check(RingHeader(q.shm).consumer_pid == 0, "the ring still names consumer %d after %s"
              % (RingHeader(q.shm).consumer_pid, name))
        check(q.proc.poll() is None and qmp_status(q.qmp) == "running", "QEMU not running")
    # Ctrl-C typed at the terminal is a SIGINT too.
    term = Term(t, "ctrlc", [REGDBG, "attach", q.qmp_path])
    wait_events(term)
    term.keys("C-c")
    term.check_clean_exit(10)
    check(q.proc.poll() is None and qmp_status(q.qmp) == "running", "QEMU not running")


test_tui_sigterm_and_sigint_restore_the_terminal.timeout = 90


def _screens(term):
    """Text of the help screen and the register names, the key bar, and the styled stream."""
    wait_events(term, lambda evs: len(evs) >= 10)
    lines = term.lines()
    keybar = lines[-1]
    status = lines[0]
    styled = term.styled()
    term.keys("?")
    term.wait(lambda ls: ls[1] == "Keys", 5, "help")
    helptext = term.lines()[1:-2]
    term.keys("2")
    term.wait_text("REGISTER", 5)
    regs = [ln.split()[0] for ln in term.lines()[3:-2] if ln.strip()]
    term.keys("1", "/")
    term.type("IC_STATUS")
    term.keys("Enter")
    cursor = wait_for(lambda: highlighted_rows(term.styled(), 1, term.rows - 3), 5,
                      "a highlighted search match; screen:\n" + term.text())
    return {"keybar": keybar, "status": status, "styled": styled, "help": helptext, "regs": regs,
            "cursor": cursor}


def test_tui_monochrome_renders_the_same_text(t):
    q = start_guest_qemu(t)
    runs = {}
    for name, env in (("xterm", {"TERM": "xterm"}),
                      ("nocolor", {"TERM": "xterm-256color", "NO_COLOR": "1"})):
        term = Term(t, name, [REGDBG, "attach", q.qmp_path], cols=120, rows=40, env=env)
        runs[name] = _screens(term)
        term.keys("q")
        term.check_clean_exit(5)
    a, b = runs["xterm"], runs["nocolor"]
    check(has_colour(a["styled"]), "TERM=xterm (8 colours) drew no colour")
    check(not has_colour(b["styled"]), "NO_COLOR=1 still drew colours")
    for k in ("keybar", "help", "regs"):
        check(a[k] == b[k], "%s differs:\nTERM=xterm: %r\nNO_COLOR=1: %r" % (k, a[k], b[k]))
    for run in (a, b):
        check(run["status"].startswith(" regdbg  VM: running  |  1 device  |  "), run["status"])
    # Without colour the status line and the cursor still stand out (reverse video).
    status_attrs = [attrs for ch, attrs in b["styled"][0] if ch != " "]
    check(status_attrs and all("a7" in x for x in status_attrs),
          "NO_COLOR: the status line is not in reverse video")
    check(len(b["cursor"]) == 1, "NO_COLOR: the search cursor is not visible")


test_tui_monochrome_renders_the_same_text.timeout = 90


def test_tui_command_prompt_and_recording(t):
    lt = Launched(t, cols=150, rows=30)
    term = lt.term
    trace = t.tmp("tui.trace")
    wait_events(term)
    term.keys(":")
    term.wait(lambda ls: ls[-2] == ":", 5, "the : prompt")
    term.type("view devices")
    term.wait(lambda ls: ls[-2] == ":view devices", 5, "the command echoed")
    term.keys("Enter")
    term.wait_text("8086:0f41", 5)
    for cmd, needle in (("view regs", "REGISTER"), ("view stream", None),
                        ("bogus", "unknown command 'bogus' (:help lists them)"),
                        ("view nope", "view nope: expected stream, regs or devices"),
                        ("record stop", "not recording"),
                        ("record", "usage: record FILE [DEVICE] | record stop"),
                        ("record %s nodev" % trace, "no device 'nodev'"),
                        ("device nodev", "no device 'nodev'")):
        term.keys(":")
        term.type(cmd)
        term.keys("Enter")
        if needle:
            term.wait_text(needle, 5)
        else:
            wait_events(term, timeout=5)
    # Editing: Backspace, Ctrl-U.
    term.keys(":")
    term.type("view devicex")
    term.keys("BSpace")
    term.type("s")
    term.wait(lambda ls: ls[-2] == ":view devices", 5, "Backspace to edit the prompt")
    term.keys("C-u")
    term.wait(lambda ls: ls[-2] == ":", 5, "Ctrl-U to clear the prompt")
    term.type("view regs")
    term.keys("Enter")
    term.wait_text("REGISTER", 5)
    # :filter and :search are the f and / prompts.
    term.keys("1", ":")
    term.type("filter reg=IC_TAR")
    term.keys("Enter")
    term.wait(lambda ls: "FILTER reg=IC_TAR" in ls[0] and (lambda evs: len(evs) >= 3 and all(
        e["reg"] == "IC_TAR" for e in evs))(events_on(stream_rows(term, ls), 0)), 10,
        ":filter to show the stream with IC_TAR only")
    term.keys(":")
    term.type("filter")
    term.keys("Enter")
    term.wait(lambda ls: "FILTER" not in ls[0] and any(
        e["reg"] != "IC_TAR" for e in events_on(stream_rows(term, ls), 0)), 5,
        ":filter without arguments to clear it")
    term.keys(":")
    term.type("search IC_SS_SCL")
    term.keys("Enter")
    wait_for(lambda: (lambda st: any("IC_SS_SCL_" in "".join(ch for ch, _ in st[y])
                                     for y in highlighted_rows(st, 1, len(st) - 3)))(
        term.styled()), 5, ":search to put the cursor on IC_SS_SCL_*")
    term.keys("G")
    # Esc leaves the prompt without running it.
    term.keys(":")
    term.type("quit")
    term.keys("Escape")
    term.wait(lambda ls: ls[-2] == "", 5, "Esc to close the prompt")
    check(term.regdbg_pid() and alive(lt.qemu_pid), "Esc ran the command")
    term.keys(":")
    term.type("record " + trace)
    term.keys("Enter")
    term.wait_text("recording i2c0 into " + trace, 5)
    count = term.wait(lambda ls: (lambda m: int(m.group(1)) if m and int(m.group(1)) > 200
                                  else None)(re.search(r"REC %s \((\d+)\)" % re.escape(trace),
                                                       ls[0])), 15, "200 events recorded")
    check(count > 200, "status line REC count")
    term.keys(":")
    term.type("record stop")
    term.keys("Enter")
    m = term.wait(lambda ls: re.search(r"recording stopped: (\d+) events in " + re.escape(trace),
                                       ls[-2]), 5, "recording stopped")
    n = int(m.group(1))
    check("REC" not in term.lines()[0], "REC still on the status line")
    events = dump_json(trace)
    check(len(events) == n, "the notice says %d events, the trace has %d" % (n, len(events)))
    check(all(e["dev"] == "i2c0" and e["bar"] == 0 and e["size"] == 4 and e["off"] in I2C_REGS
              for e in events), "accesses other than the guest's")
    check([e["seq"] for e in events] == list(range(events[0]["seq"], events[0]["seq"] + n)),
          "the recording lost or reordered accesses")
    check(any(e["off"] == 0x10 and e["dir"] == "w" for e in events), "no IC_DATA_CMD write")
    r = regdbg("dump", trace)
    check(r.returncode == 0, r.stderr)
    last = r.stdout.splitlines()[-1]
    check(last.startswith("# end of recording") and "%d events, 0 dropped" % n in last, last)
    # :stop and :cont, with QMP agreeing; :device; a file that cannot be created.
    for cmd, state in (("stop", "paused"), ("cont", "running")):
        term.keys(":")
        term.type(cmd)
        term.keys("Enter")
        term.wait(lambda ls: "VM: " + state in ls[0], 5, "VM: " + state)
        check(qmp_status(lt.qmp) == state, "QMP says %s after :%s" % (qmp_status(lt.qmp), cmd))
    term.keys(":")
    term.type("device i2c0")
    term.keys("Enter")
    term.wait_text("i2c0: Synopsys DesignWare I2C", 5)
    term.keys(":")
    term.type("record /nonexistent-dir/x.trace")
    term.keys("Enter")
    term.wait(lambda ls: "/nonexistent-dir/x.trace" in ls[-2] and "REC" not in ls[0], 5,
              "an error for a trace file that cannot be created")
    # :help shows the help; :q quits and, documented as such, shuts the launched QEMU down. A
    # recording still open then is closed with its end record.
    trace2 = t.tmp("open-at-quit.trace")
    term.keys(":")
    term.type("record " + trace2)
    term.keys("Enter")
    term.wait(lambda ls: re.search(r"REC %s \((\d*[1-9]\d*)\)" % re.escape(trace2), ls[0]), 10,
              "the second recording to have events")
    term.keys(":")
    term.type("help")
    term.keys("Enter")
    term.wait(lambda ls: ls[1] == "Keys", 5, ":help")
    term.keys("Escape", ":")
    term.type("q")
    term.keys("Enter")
    term.check_clean_exit(20)
    check(not alive(lt.qemu_pid), "QEMU still runs after :q")
    r = regdbg("dump", trace2)
    check(r.returncode == 0 and r.stdout.splitlines()[-1].startswith("# end of recording"),
          "a recording open when regdbg quit: %s%s" % (r.stdout[-500:], r.stderr))


test_tui_command_prompt_and_recording.timeout = 90


def test_tui_detach_leaves_launched_qemu_running(t):
    lt = Launched(t)
    term = lt.term
    wait_events(term)
    term.keys("d")
    term.check_clean_exit(10)
    m = term.wait(lambda ls: [re.search(r"regdbg: QEMU \(pid (\d+)\) goes on; attach again with: "
                                        r"regdbg attach (\S+)", ln) for ln in ls
                              if "goes on" in ln], 5, "the message how to attach again")[0]
    check(m and int(m.group(1)) == lt.qemu_pid, "the message names pid %s, QEMU is %d"
          % (m and m.group(1), lt.qemu_pid))
    sock = m.group(2)
    check(sock.startswith("/tmp/regdbg-") and os.path.exists(sock), "socket %r" % sock)
    t.owned.append(_RemoveDir(os.path.dirname(sock)))
    check(alive(lt.qemu_pid) and qmp_status(lt.qmp) == "running", "QEMU stopped after d")
    check(RingHeader(lt.shm).consumer_pid == 0, "the ring still has a consumer")
    check(RingHeader(lt.shm).heartbeat_ns == 0, "detaching left the heartbeat at %d"
          % RingHeader(lt.shm).heartbeat_ns)
    # The socket it names works; this regdbg did not launch QEMU, so q quits without asking.
    term2 = Term(t, "again", [REGDBG, "attach", m.group(2)])
    wait_events(term2)
    term2.keys("q")
    term2.check_clean_exit(5)
    check(alive(lt.qemu_pid) and qmp_status(lt.qmp) == "running", "QEMU stopped after q")
    lt.qmp.cmd("quit")
    wait_for(lambda: not alive(lt.qemu_pid), 10, "QEMU to quit")


test_tui_detach_leaves_launched_qemu_running.timeout = 60


def test_tui_two_devices(t):
    """A second proxy without a register map: listed, its registers screen says so, dev= filters."""
    q = t.qemu([PROXY, "regdbg-proxy,id=other,vendor-id=0x1234,device-id=0x5678,bar0-size=256,"
                "bar2-size=16,bar2-type=io"], qtest=False, accel="tcg",
               extra=["-kernel", GUEST, "-append", APPEND])
    term = Term(t, "two", [REGDBG, "attach", q.qmp_path], cols=120, rows=40)
    wait_events(term)
    term.wait(lambda ls: "2 devices" in ls[0], 5, "2 devices on the status line")
    term.keys("3")
    term.wait_text("1234:5678", 5)
    text = term.text()
    other = _pci_device(q.qmp, "other")
    bar2 = [r for r in other["regions"] if r.get("bar") == 2][0]
    check(re.search(r"^other  1234:5678  .*\(no register map\)$", text, re.M), text)
    check(re.search(r"^  BAR2 io\s+16 bytes  at 0x%x$" % bar2["address"], text, re.M)
          or re.search(r"^  BAR2 io\s+16 bytes  not mapped$", text, re.M), text)
    check(len(re.findall(r"^  ring /proc/%d/fd/\d+: " % q.proc.pid, text, re.M)) == 2, text)
    # The registers screen shows one device; Tab goes to the next and round.
    i2c = "i2c0: Synopsys DesignWare I2C"
    nomap = "other (1234:5678) has no register map: load one with --map FILE"
    term.keys("2")
    first = term.wait(lambda ls: [x for x in (i2c, nomap) if any(x in ln for ln in ls)], 5,
                      "a device on the registers screen")[0]
    for shown in (nomap if first == i2c else i2c, first):
        term.keys("Tab")
        term.wait_text(shown, 5)
    term.keys("1", "f")
    term.type("dev=other")
    term.keys("Enter")
    term.wait_text("No event matches the filter yet.", 5)
    term.keys("f", "C-u")
    term.type("dev=i2c0 reg=IC_TAR")
    term.keys("Enter")
    term.wait(lambda ls: "FILTER dev=i2c0 reg=IC_TAR" in ls[0] and (lambda evs: evs and all(
        e["reg"] == "IC_TAR" and e["dev"] == "i2c0" for e in evs))(
        events_on(stream_rows(term, ls), 0)), 10, "dev=i2c0 reg=IC_TAR")
    term.keys("f", "C-u")
    term.type("dev=other reg=IC_TAR")
    term.keys("Enter")
    term.wait_text("filter: column 15: no register 'IC_TAR' in the register maps", 5)
    term.keys("q")
    term.check_clean_exit(5)


test_tui_two_devices.timeout = 60


def test_tui_launch_and_attach_errors(t):
    """What goes wrong before the screen starts is said on stderr, with the right exit status."""
    r = regdbg("launch", "--tcg", "--", "-machine", "q35", "-nodefaults", "-display", "none",
               "-device", "no-such-device-model", timeout=60)
    check(r.returncode == 1 and "'no-such-device-model' is not a valid device model name"
          in r.stderr, "launch with a bad QEMU argument: %d\n%s" % (r.returncode, r.stderr))
    r = regdbg("attach", t.tmp("nothing.sock"), timeout=30)
    check(r.returncode == 1 and "cannot connect to QMP socket %s" % t.tmp("nothing.sock")
          in r.stderr, "%d %s" % (r.returncode, r.stderr))
    r = regdbg("attach", timeout=30)
    check(r.returncode == 2 and "give the QMP SOCKET" in r.stderr, r.stderr)
    # A VM without a proxy.
    q = t.qemu([], name="empty")
    r = regdbg("attach", q.qmp_path, timeout=30)
    check(r.returncode == 1 and "no regdbg-proxy device in the VM" in r.stderr, r.stderr)
    # A ring that already has a consumer (`regdbg record` on another QMP socket: QEMU serves one
    # client per socket).
    third = t.tmp("busy-third-qmp.sock")
    q2 = t.qemu([PROXY], name="busy", extra=["-qmp", "unix:%s,server=on,wait=off" % third])
    shm = q2.shm_path("/machine/peripheral/i2c0")
    rec = t.recorder("--qmp", q2.qmp_path, "-o", t.tmp("busy.trace"))
    rec.wait_attached(shm)
    r = regdbg("attach", third, timeout=30)
    check(r.returncode == 1 and "already has a consumer: process %d" % rec.proc.pid in r.stderr,
          "%d %s" % (r.returncode, r.stderr))
    check(RingHeader(shm).consumer_pid == rec.proc.pid, "the refused regdbg took the ring")


test_tui_launch_and_attach_errors.timeout = 90


def test_tui_breakpoint_pops_up_and_is_answered(t):
    """A breakpoint set at the : prompt parks the vCPU; the panel shows the access decoded and
    the rule; v continues with another value (the trace shows it), e rewrites the rule, the rules
    screen counts the hits, and QMP answers while the vCPU is parked."""
    lt = Launched(t, name="park")
    term = lt.term
    wait_events(term)
    term.keys(":")
    term.type("break w IC_DATA_CMD if CMD == read")
    term.keys("Enter")
    term.wait_text("PARKED by rule 0: break w i2c0:IC_DATA_CMD if CMD == read", 10)
    term.wait_text("W4 IC_DATA_CMD", 5)
    check("CMD=read" in term.text() and "The write has not reached the device yet." in
          term.text(), term.text())
    # the vCPU waits inside the device; QMP still answers
    check(qmp_status(lt.qmp) == "running", "query-status while parked")
    head = RingHeader(lt.shm).head
    time.sleep(0.3)
    check(RingHeader(lt.shm).head == head, "the guest went on while parked")
    def panel_access(ls):
        for k, ln in enumerate(ls[:-1]):
            if ln.startswith(" PARKED by"):
                return ls[k + 1]
        return None
    first = panel_access(term.lines())
    # continue with another value
    term.keys("v")
    term.wait_text("continue with value:", 5)
    term.type("0x355")
    term.keys("Enter")
    # the next iteration parks again; edit the rule so that it no longer matches
    term.wait(lambda ls: panel_access(ls) not in (None, first), 10, "the next park")
    term.keys("e")
    term.wait_text("rule: break w i2c0:IC_DATA_CMD if CMD == read", 5)
    term.keys("C-u")
    term.type("break w IC_DATA_CMD if DAT == 0x77")
    term.keys("Enter")
    term.wait_text("rule 0 is now: break w i2c0:IC_DATA_CMD if DAT == 0x77", 5)
    term.keys("c")
    term.wait(lambda ls: not any("PARKED" in ln for ln in ls), 10, "the panel to close")
    term.keys("4")
    term.wait(lambda ls: any(" 0 i2c0" in ln and "DAT == 0x77" in ln for ln in ls), 5,
              "the rules screen")
    # a rewritten rule counts its hits again from 0 (its condition has not matched since)
    check(any(re.search(r"enabled\s+0\s+break w", ln) for ln in term.lines()),
          "hit count: %s" % term.text())
    # the edited write is in the history with its original value
    term.keys("1", "/")
    term.type("0x355")
    term.keys("Enter")
    term.wait(lambda ls: any("IC_DATA_CMD" in ln and "0x00000355" in ln for ln in ls), 5,
              "the continued-with-value write in the stream")
    # S at a park lets the access go on and stops the whole VM
    term.keys(":")
    term.type("break w IC_ENABLE")
    term.keys("Enter")
    term.wait_text("PARKED by rule 1", 10)
    term.keys("S")
    term.wait(lambda ls: "VM: paused" in ls[0], 10, "the VM to stop")
    check(qmp_status(lt.qmp) == "paused", "query-status after S")
    term.keys(":")
    term.type("delete")
    term.keys("Enter")
    term.keys("s")
    term.wait(lambda ls: "VM: running" in ls[0], 10, "the VM to run again")
    quit_launched(term)


test_tui_breakpoint_pops_up_and_is_answered.timeout = 120


def test_tui_numbers_mean_the_same_everywhere(t):
    """One number rule (docs/rules.md, "Numbers"): 010 is ten, not eight, in the filter's value=,
    the search, a break condition and the park prompt's value (0300 is three hundred)."""
    lt = Launched(t, name="numbers", cols=120, rows=40)
    term = lt.term
    # The guest writes i & 0xff to IC_DATA_CMD in iteration i, about 16 a second: after 1.5 s
    # the history holds both 8 and 10.
    wait_events(term, lambda evs: evs and evs[-1]["t"] > 1500000, 30, "1.5 s of accesses")
    term.keys("s")
    term.wait(lambda ls: "VM: paused" in ls[0], 5, "VM: paused")
    term.keys("f")
    term.wait(lambda ls: ls[-2] == "filter:", 5, "the filter prompt")
    term.type("reg=IC_DATA_CMD value=010")
    term.keys("Enter")
    term.wait(lambda ls: "FILTER reg=IC_DATA_CMD value=010" in ls[0] and (lambda evs: evs and all(
        e["reg"] == "IC_DATA_CMD" and e["value"] == 10 for e in evs))(
        events_on(stream_rows(term, ls), 0)), 10, "value=010 to show the writes of ten")
    term.keys("F")
    term.wait(lambda ls: "FILTER" not in ls[0], 5, "the filter cleared")
    term.keys("g", "/")
    term.wait(lambda ls: ls[-2].startswith("search:"), 5, "the search prompt")
    term.type("010")
    term.keys("Enter")
    wait_for(lambda: (lambda st: (lambda rows: len(rows) == 1 and re.search(
        r"(<-|->) 0x0000000a\b", "".join(ch for ch, _ in st[rows[0]]).rstrip()))(
        highlighted_rows(st, 1, len(st) - 3)))(term.styled()), 5,
        "/010 to find a value of ten; screen:\n" + term.text())
    term.keys("G", "s")
    term.wait(lambda ls: "VM: running" in ls[0], 5, "VM: running")
    term.keys(":")
    term.type("break w IC_DATA_CMD if (value & 15) == 010 temp")
    term.keys("Enter")
    title, access, state, keys = wait_park(term, "PARKED by rule 0")
    check(re.search(r"W4 IC_DATA_CMD\s+<- 0x000000[0-9a-f]a\b", access),
          "a break if (value & 15) == 010 parked on %r" % access)
    term.keys("v")
    term.wait_text("continue with value:", 5)
    term.type("0300")
    term.keys("Enter")
    term.wait(lambda ls: park_panel(ls) is None, 10, "the panel to close")
    term.keys("/")
    term.type("0x12c")
    term.keys("Enter")
    term.wait(lambda ls: any("IC_DATA_CMD" in ln and "0x0000012c" in ln for ln in ls), 5,
              "the write continued with 0300 = 0x12c in the stream")
    quit_launched(term)


test_tui_numbers_mean_the_same_everywhere.timeout = 90


# --- --map and --rules, the park panel's keys, launch --kvm ---------------------------------------

# A device no shipped map knows (1234:5678): its register names come from --map only.
WIDGET = {
    "name": "Test widget",
    "match": [{"vendor": "0x1234", "device": "0x5678"}],
    "registers": [
        {"name": "W_CTRL", "offset": "0x10", "access": "rw",
         "fields": [{"name": "EN", "bits": "0"},
                    {"name": "MODE", "bits": "3:1", "values": {"idle": 0, "run": 5, "halt": 7}}]},
        {"name": "W_STATUS", "offset": "0x20", "access": "ro",
         "fields": [{"name": "READY", "bits": "0"}, {"name": "ERR", "bits": "4"}]},
        {"name": "W_DATA", "offset": "0x30", "access": "rw"},
        {"name": "W_DATA2", "offset": "0x34", "access": "rw"},
        {"name": "W_DATA3", "offset": "0x38", "access": "rw"},
        {"name": "W_DATA4", "offset": "0x3c", "access": "rw"},
        {"name": "W_FIFO", "offset": "0x44", "access": "ro"},
    ],
}
WIDGET_RULES = ["edit w W_CTRL.MODE = run", "inject r W_STATUS.READY = 1", "break w W_DATA",
                "break w W_DATA2", "break r W_FIFO"]
# what the device keeps of them (rule table text, enabled)
WIDGET_TABLE = {0: ("edit w w0:W_CTRL.MODE = run", 1), 1: ("inject r w0:W_STATUS.READY = 1", 1),
                2: ("break w w0:W_DATA", 1), 3: ("break w w0:W_DATA2", 1),
                4: ("break r w0:W_FIFO", 1)}
WIDGET_OPS = ["w10=0x3", "r20", "w30=0x1111", "w34=0x2222", "w38=0x3333", "w3c=0x4444", "r44"]


def widget_files(t):
    """The map and rules files, and the proxy (file backend) the test guest drives."""
    map_path, rules_path, bar = t.tmp("widget.json"), t.tmp("widget.rules"), t.tmp("w0.bin")
    with open(map_path, "w") as f:
        json.dump(WIDGET, f)
    with open(rules_path, "w") as f:
        f.write("# set by --rules\n" + "".join(r + "\n" for r in WIDGET_RULES))
    with open(bar, "wb") as f:
        f.write(bytes(range(256)) * 16)
    dev = ("regdbg-proxy,id=w0,vendor-id=0x1234,device-id=0x5678,bar0-size=4096,backend=file,"
           "bar0-file=" + bar)
    append = "dev=1234:5678 mode=script ops=" + ",".join(WIDGET_OPS)
    return map_path, rules_path, bar, dev, append


def bar_word(path, off):
    with open(path, "rb") as f:
        f.seek(off)
        return int.from_bytes(f.read(4), "little")


def park_panel(lines):
    """(title, access line, what it says, keys) of the park panel on the screen, or None. (The
    line between the access and what it says names the code: park_code().)"""
    for k, ln in enumerate(lines[:-4]):
        if ln.startswith(" PARKED by "):
            return ln.strip(), lines[k + 1].strip(), lines[k + 3].strip(), lines[k + 4].strip()
    return None


def park_code(lines):
    """The park panel's line that names the code that made the access."""
    for k, ln in enumerate(lines[:-4]):
        if ln.startswith(" PARKED by "):
            return lines[k + 2].strip()
    return None


def wait_park(term, title, timeout=20):
    return term.wait(lambda ls: (lambda p: p if p and p[0].startswith(title) else None)(
        park_panel(ls)), timeout, repr(title))


def check_widget_run(t, bar, serial_path, shm, last_read=0x77):
    """The guest's end: the edit, the injection, the skipped and the stepped writes, and the
    value the parked read of W_FIFO returned (0x77 typed at a skip, else the device's)."""
    wait_for(lambda: "script done" in open(serial_path).read(), 30, "the guest's script to end")
    serial = open(serial_path).read()
    check("script r 0x20 = 0x23222121" in serial, "the injected READY=1 did not reach the "
          "guest:\n" + serial)
    check("script r 0x44 = 0x%08x" % last_read in serial,
          "the parked read did not return 0x%x:\n%s" % (last_read, serial))
    got = {off: bar_word(bar, off) for off in (0x10, 0x20, 0x30, 0x34, 0x38, 0x3c)}
    want = {0x10: 0xB,              # MODE=run (5) with EN=1: edited by --rules
            0x20: 0x23222120,       # the injection changed what the guest read, not the device
            0x30: 0x33323130,       # skipped (k): never written
            0x34: 0x2222, 0x38: 0x3333, 0x3c: 0x4444}
    check(got == want, "the device's words: %s, expected %s" % (
        {hex(k): hex(v) for k, v in got.items()}, {hex(k): hex(v) for k, v in want.items()}))


def test_tui_attach_map_rules_and_park_keys(t):
    """attach --map --rules: the device gets the rules file's edits, injections and breakpoints
    by the names of a map only --map gives; the park panel decodes with it; k skips a parked
    write (it never reaches the device) and n steps (it goes on, and the next access parks)."""
    map_path, rules_path, bar, dev, append = widget_files(t)
    serial = t.tmp("serial.log")
    q = t.qemu([dev], qtest=False, accel="tcg", paused=True,
               extra=["-kernel", GUEST, "-append", append, "-serial", "file:" + serial])
    shm = q.shm_path("/machine/peripheral/w0")
    term = Term(t, "widget", [REGDBG, "attach", q.qmp_path, "--map", map_path, "--rules",
                              rules_path])
    pid = term.regdbg_pid()
    wait_for(lambda: RingHeader(shm).consumer_pid == pid and RingHeader(shm).heartbeat_ns, 10,
             "regdbg to attach")
    wait_for(lambda: {n: (x, e) for n, (x, e, _) in rule_table(shm).items()} == WIDGET_TABLE,
             10, "the rules file in the device")
    q.qmp.cmd("cont")
    title, access, state, keys = wait_park(term, "PARKED by rule 2: break w w0:W_DATA ")
    check(re.search(r"W4 W_DATA\s+<- 0x00001111$", access), "the parked access: %r" % access)
    check(state == "The write has not reached the device yet." and
          keys.startswith("c continue   v another value   k skip   n step"),
          "the panel: %r %r" % (state, keys))
    check(bar_word(bar, 0x30) == 0x33323130, "the parked write reached the device")
    term.keys("k")
    title, access, state, keys = wait_park(term, "PARKED by rule 3: break w w0:W_DATA2 ")
    check(re.search(r"W4 W_DATA2\s+<- 0x00002222$", access), "the parked access: %r" % access)
    check(bar_word(bar, 0x30) == 0x33323130, "k: the skipped write reached the device")
    term.keys("n")
    title, access, state, keys = wait_park(term, "PARKED by a step")
    check(re.search(r"W4 W_DATA3\s+<- 0x00003333$", access), "the stepped-to access: %r" % access)
    check(bar_word(bar, 0x34) == 0x2222, "n: the stepped write did not reach the device")
    term.keys("c")
    title, access, state, keys = wait_park(term, "PARKED by rule 4: break r w0:W_FIFO ")
    check(re.search(r"R4 W_FIFO\s+-> 0x[0-9a-f]{8}$", access) and
          state == "The read has not reached the device yet.", "the parked read: %r %r"
          % (access, state))
    check(bar_word(bar, 0x38) == 0x3333, "c: the stepped-to write did not reach the device")
    term.keys("k")          # a read asks what it returns instead
    term.wait(lambda ls: ls[-2] == "skip, the read returns:", 5, "the skip prompt")
    term.type("0119")       # 0x77: a leading zero is not octal (docs/rules.md, "Numbers")
    term.keys("Enter")
    term.wait(lambda ls: park_panel(ls) is None, 10, "the panel to close")
    check_widget_run(t, bar, serial, shm)
    check(RingHeader(shm).parks == 4, "parks: %d" % RingHeader(shm).parks)
    # the stream decodes by the --map, the edited write with its new value
    evs = wait_events(term, lambda evs: any(e["reg"] == "W_DATA4" for e in evs), 10,
                      "the last write in the stream")
    ctrl = [e for e in evs if e["reg"] == "W_CTRL"]
    check(len(ctrl) == 1 and ctrl[0]["value"] == 0xB and ctrl[0]["fields"] == "EN=1 MODE=run",
          "W_CTRL in the stream: %r" % ctrl)
    status = [e for e in evs if e["reg"] == "W_STATUS"]
    check(len(status) == 1 and status[0]["value"] == 0x23222121 and
          status[0]["fields"].startswith("READY=1 ERR=0"), "W_STATUS in the stream: %r" % status)
    term.keys("q")
    term.check_clean_exit(10)
    # the rules stay in the device after the debugger left (README)
    check({n: x for n, (x, _, _) in rule_table(shm).items()} ==
          {n: x for n, (x, _) in WIDGET_TABLE.items()}, "rules after q: %r" % rule_table(shm))


test_tui_attach_map_rules_and_park_keys.timeout = 90


def test_tui_launch_kvm_map_and_rules(t):
    """launch --kvm --map --rules: QEMU runs under KVM (QMP query-kvm says so), the rules
    file is in the device by the --map's names before the guest runs, and a breakpoint parks a
    KVM vCPU, which the panel shows with its guest PC."""
    require_kvm()       # skipped, and counted as such, where /dev/kvm is unusable
    map_path, rules_path, bar, dev, append = widget_files(t)
    serial = t.tmp("serial.log")
    test_qmp = t.tmp("kvm-test-qmp.sock")
    term = Term(t, "kvm", [REGDBG, "launch", "--kvm", "--map", map_path, "--rules", rules_path,
                           "--", "-machine", "q35", "-nodefaults", "-display", "none", "-m",
                           "64", "-S", "-device", dev, "-kernel", GUEST, "-append", append,
                           "-serial", "file:" + serial,
                           "-qmp", "unix:%s,server=on,wait=off" % test_qmp])
    qmp = Qmp(test_qmp, timeout=20)
    t.owned.append(qmp)
    qmp.kill = qmp.close
    shm = qmp.cmd("qom-get", path="/machine/peripheral/w0", property="shm")
    qemu_pid = RingHeader(shm).qemu_pid
    t.owned.append(_QemuCleanup(qemu_pid))
    check(qmp.cmd("query-kvm") == {"enabled": True, "present": True},
          "launch --kvm: query-kvm %r" % qmp.cmd("query-kvm"))
    wait_for(lambda: {n: (x, e) for n, (x, e, _) in rule_table(shm).items()} == WIDGET_TABLE,
             20, "the rules file in the device")
    check(qmp_status(qmp) == "prelaunch", "the guest ran before the rules were set")
    qmp.cmd("cont")
    title, access, state, keys = wait_park(term, "PARKED by rule 2: break w w0:W_DATA ")
    check(re.search(r"\(guest PC 0x[0-9a-f]+ \(after the instruction\) prot32\)$", title),
          "a KVM vCPU's PC (a write: KVM has completed it): %r" % title)
    check(re.search(r"W4 W_DATA\s+<- 0x00001111$", access), "the parked access: %r" % access)
    term.keys("k")
    wait_park(term, "PARKED by rule 3: break w w0:W_DATA2 ")
    term.keys("n")
    wait_park(term, "PARKED by a step")
    term.keys("c")
    # The guest's last access, a read of W_FIFO, parks too; the guest must read what the device
    # holds (reading the guest PC under KVM once clobbered a parked read's completion).
    wait_park(term, "PARKED by rule 4: break r w0:W_FIFO ")
    term.keys("c")
    check_widget_run(t, bar, serial, shm, last_read=0x47464544)    # continued: the device's
    quit_launched(term)
    check(not alive(qemu_pid), "QEMU still runs after q y")


test_tui_launch_kvm_map_and_rules.timeout = 90
