"""Guest PCs named by --symbols, against the real QEMU: the test guest (built with -g) makes
exact accesses under TCG, `regdbg record` keeps their PCs, and `regdbg dump` names them with the
guest's ELF, with an nm list of it, and with an nm list moved by a bias; each PC is checked
against binutils' own view of the ELF (objdump -d: the instruction that makes the access and the
function it is in; addr2line: its file and line). guest-pc=off leaves the PCs out; `regdbg batch`
prints a parked access's PC and names; every command refuses a file that is not symbols before it
does anything."""

import json
import os
import re
import socket
import subprocess
import time

from harness import (GUEST, REGDBG, SAN_ENV, check, regdbg, require_kvm, rule_table,
                     wait_for)
from tui import Term

PROXY = "regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,bar0-size=4096"
EXIT_DEV = "isa-debug-exit,iobase=0xf4,iosize=0x04"
OPS = "w10=0x5,r40,w14=0x7"
# (dir, off, value) of OPS, in order; the proxy's reads return 0 (default-read)
ACCESSES = [("w", 0x10, 5), ("r", 0x40, 0), ("w", 0x14, 7)]


def guest_vm(t, props="", ops=OPS, accel="tcg"):
    """A paused VM whose vCPU makes the 32-bit accesses of ops (tests/guest script mode)."""
    serial = t.tmp("serial.log")
    q = t.qemu([PROXY + props], qtest=False, accel=accel, paused=True,
               extra=["-kernel", GUEST, "-append", "dev=8086:0f41 mode=script ops=" + ops,
                      "-device", EXIT_DEV, "-serial", "file:" + serial])
    return q, serial


def record_guest(t, props="", accel="tcg"):
    """The guest's accesses recorded from its first instruction (record --start)."""
    q, serial = guest_vm(t, props, accel=accel)
    trace = t.tmp("guest.trace")
    rec = t.recorder("--qmp", q.qmp_path, "--start", "-o", trace)
    status, out, err = rec.finish(timeout=60)
    check(status == 0 and err == "", "record: %d %s %s" % (status, out, err))
    q.wait(30)
    with open(serial) as f:
        check("script done" in f.read(), "the guest did not finish its script")
    return trace


def dump(trace, *args):
    """dump's output, less the lines that say where the guest placed a BAR (trace format 3):
    the tests here read the accesses."""
    r = regdbg("dump", trace, *args)
    check(r.returncode == 0 and r.stderr == "", "dump %s: %d %s" % (" ".join(args),
                                                                   r.returncode, r.stderr))
    return "".join(ln for ln in r.stdout.splitlines(True) if not ln.startswith("# bar"))


def dump_json(trace, *args):
    return [json.loads(line) for line in dump(trace, "--format", "json", *args).splitlines()]


def objdump(elf):
    """binutils' view: {address: (function, function address, instruction text)}."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", elf], capture_output=True,
                         text=True, check=True).stdout
    insns, func = {}, None
    for line in out.splitlines():
        m = re.match(r"^([0-9a-f]+) <(.+)>:$", line)
        if m:
            func = (m.group(2), int(m.group(1), 16))
            continue
        m = re.match(r"^\s+([0-9a-f]+):\s+(.*)$", line)
        if m and func:
            insns[int(m.group(1), 16)] = (func[0], func[1], m.group(2).strip())
    return insns


def addr2line(elf, pc):
    """(path, line) of pc, as addr2line says."""
    out = subprocess.run(["addr2line", "-e", elf, "0x%x" % pc], capture_output=True, text=True,
                         check=True).stdout.split()[0]
    path, line = out.rsplit(":", 1)
    return path, int(line)


def is_access(insn, direction):
    """A mov between a register and memory, in the access's direction (AT&T: source first)."""
    m = re.match(r"^mov\w*\s+(.*),(.*)$", insn)
    if not m:
        return False
    src, dst = m.group(1), m.group(2)
    return "(" in (dst if direction == "w" else src) and "(" not in (src if direction == "w"
                                                                     else dst)


def check_pcs(events, names=True, lines=True):
    """Each access is the guest's, with the PC of the instruction that made it, and (names,
    lines) the function and line binutils give for that PC."""
    insns = objdump(GUEST)
    check([(e["dir"], e["off"], e["value"]) for e in events] == ACCESSES,
          "the accesses: %r" % events)
    for e in events:
        check(e.get("mode") == "prot32" and "pc_after" not in e, "mode: %r" % e)
        pc = e.get("pc")
        check(pc in insns, "pc %r is not the address of an instruction objdump shows: %r"
              % (pc, e))
        func, func_addr, insn = insns[pc]
        check(is_access(insn, e["dir"]), "0x%x is %r, not a memory %s" % (
            pc, insn, "store" if e["dir"] == "w" else "load"))
        if names:
            check(e["sym"] == "%s+0x%x" % (func, pc - func_addr),
                  "0x%x: sym %r, objdump puts it at %s+0x%x" % (pc, e["sym"], func,
                                                                pc - func_addr))
        if lines:
            path, line = addr2line(GUEST, pc)
            check(e["src"] is not None and (path == e["src"].rsplit(":", 1)[0] or
                                            path.endswith("/" + e["src"].rsplit(":", 1)[0]))
                  and int(e["src"].rsplit(":", 1)[1]) == line,
                  "0x%x: src %r, addr2line says %s:%d" % (pc, e["src"], path, line))
        elif names:
            check(e["src"] is None, "an nm list has no lines: %r" % e)


def test_dump_names_the_guest_pcs_with_its_elf(t):
    trace = record_guest(t)
    events = dump_json(trace, "--symbols", GUEST)
    check_pcs(events)
    # the trace keeps the setting, and the untouched accesses with PC take the 32-byte form
    with open(trace, "rb") as f:
        data = f.read()
    check(data[216] == 1, "header guest_pc %d" % data[216])
    kinds = record_kinds(data)
    check([k for k in kinds if k != 0x06] == [0x02, 0x05, 0x05, 0x04] and 0x06 in kinds,
          "records of kinds %r" % kinds)
    # text: the PC, the mode the first time it is seen, the function and the line
    lines = dump(trace, "--symbols", GUEST).splitlines()
    for i, (line, e) in enumerate(zip(lines, events)):
        want = " pc=0x%x%s %s (%s)" % (e["pc"], " mode=prot32" if i == 0 else "", e["sym"],
                                       e["src"])
        # the register's fields come last, after two spaces
        check(line.split("  ")[0].endswith(want), "text line %r does not end with %r"
              % (line, want))
    # without --symbols: the PC and mode, no names
    plain = dump_json(trace)
    check([(e["pc"], e["mode"]) for e in plain] == [(e["pc"], e["mode"]) for e in events] and
          not any("sym" in e or "src" in e for e in plain), "without --symbols: %r" % plain)
    check(all(re.search(r" pc=0x[0-9a-f]+( mode=prot32)?$", ln.split("  ")[0]) for ln in
              dump(trace).splitlines()[:3]), "text without --symbols")


test_dump_names_the_guest_pcs_with_its_elf.timeout = 120


def test_dump_names_with_an_nm_list_and_a_bias(t):
    trace = record_guest(t)
    nm = subprocess.run(["nm", GUEST], capture_output=True, text=True, check=True).stdout
    plain = t.tmp("guest.map")
    with open(plain, "w") as f:
        f.write(nm)
    check_pcs(dump_json(trace, "--symbols", plain), lines=False)
    # the same list linked 0x1000 lower, placed back by the bias
    lower = t.tmp("guest-lower.map")
    with open(lower, "w") as f:
        for line in nm.splitlines():
            addr, kind, name = line.split()
            f.write("%08x %s %s\n" % (int(addr, 16) - 0x1000, kind, name))
    check_pcs(dump_json(trace, "--symbols", lower + "@0x1000"), lines=False)
    check_pcs(dump_json(trace, "--symbols", lower + "@4096"), lines=False)
    # without the bias its names are the wrong ones: the bias is what places them
    wrong = dump_json(trace, "--symbols", lower)
    check(all(e["sym"] != w["sym"] for e, w in zip(dump_json(trace, "--symbols", plain), wrong)),
          "the unmoved list names the PCs alike: %r" % wrong)
    # and the ELF moved away names nothing there
    moved = dump_json(trace, "--symbols", GUEST + "@-0x100000")
    check(all(e["sym"] is None and e["src"] is None for e in moved), "moved ELF: %r" % moved)


test_dump_names_with_an_nm_list_and_a_bias.timeout = 120


def test_kvm_writes_are_named_by_their_instruction(t):
    """Under KVM a write is known by the address after its instruction (pc_after): dump names the
    instruction that ends there, with the offset of that address."""
    require_kvm()
    trace = record_guest(t, accel="kvm")
    events = dump_json(trace, "--symbols", GUEST)
    insns = objdump(GUEST)
    starts = sorted(insns)
    check([(e["dir"], e["off"], e["value"]) for e in events] == ACCESSES, "%r" % events)
    for e in events:
        if e["dir"] == "r":
            check("pc_after" not in e, "a read: %r" % e)
            check_pcs_of_one(e, ACCESSES[1])
            continue
        check(e.get("pc_after") is True, "a write under KVM: %r" % e)
        # the instruction that ends at pc: the last one that starts before it
        insn = max(a for a in starts if a < e["pc"])
        func, func_addr, text = insns[insn]
        check(starts[starts.index(insn) + 1] == e["pc"] and is_access(text, "w"),
              "0x%x is not just after a store: 0x%x %r" % (e["pc"], insn, text))
        path, line = addr2line(GUEST, insn)
        check(e["sym"] == "%s+0x%x" % (func, e["pc"] - func_addr) and
              path.endswith("/" + e["src"].rsplit(":", 1)[0]) and
              int(e["src"].rsplit(":", 1)[1]) == line, "%r: binutils: %s at 0x%x, %s:%d" % (
                  e, func, func_addr, path, line))
    lines = dump(trace, "--symbols", GUEST).splitlines()
    check(" pc=0x%x(after) mode=prot32 %s (%s)" % (events[0]["pc"], events[0]["sym"],
                                                   events[0]["src"]) in lines[0], lines[0])
    # a function that would begin at the address after the write does not own it
    nm = subprocess.run(["nm", GUEST], capture_output=True, text=True, check=True).stdout
    listed = t.tmp("after.map")
    with open(listed, "w") as f:
        f.write(nm + "%08x T begins_after_the_write\n" % events[0]["pc"])
    named = dump_json(trace, "--symbols", listed)
    check(named[0]["sym"] == events[0]["sym"], "with a function at the pc after: %r" % named[0])


test_kvm_writes_are_named_by_their_instruction.timeout = 120


def record_kinds(data):
    """The kind bytes of a trace's records, in order (docs/trace-format.md: 0x02 takes 64 bytes,
    every other kind 32; 0x06 places a BAR)."""
    kinds, at = [], 256
    while at < len(data):
        kinds.append(data[at])
        at += 64 if data[at] == 0x02 else 32
    check(at == len(data), "records end at %d of %d bytes" % (at, len(data)))
    return kinds


def test_guest_pc_off_records_no_pc(t):
    trace = record_guest(t, ",guest-pc=off")
    events = dump_json(trace, "--symbols", GUEST)
    check([(e["dir"], e["off"], e["value"]) for e in events] == ACCESSES and
          not any(k in e for e in events for k in ("pc", "mode", "sym", "src", "pc_after")),
          "guest-pc=off: %r" % events)
    check(not any("pc=" in line for line in dump(trace, "--symbols", GUEST).splitlines()),
          "text with guest-pc=off")
    with open(trace, "rb") as f:
        data = f.read()
    kinds = [k for k in record_kinds(data) if k != 0x06]
    check(data[216] == 0 and kinds[1] == 0x01, "header guest_pc %d, record kinds %r"
          % (data[216], kinds))


test_guest_pc_off_records_no_pc.timeout = 120


def test_batch_prints_the_parked_pc_and_its_names(t):
    q, serial = guest_vm(t)
    script = t.tmp("print.rgb")
    with open(script, "w") as f:
        f.write("break w bar0+0x14\nwait 30\nprint\ncontinue\n")
    batch = subprocess.Popen([REGDBG, "batch", "--qmp", q.qmp_path, "--symbols", GUEST, script],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, **SAN_ENV))
    t.owned.append(type("K", (), {"kill": lambda self: batch.kill()})())
    shm = q.shm_path("/machine/peripheral/i2c0")
    wait_for(lambda: rule_table(shm), 20, "the batch's breakpoint")
    q.qmp.cmd("cont")
    out, err = batch.communicate(timeout=60)
    check(batch.returncode == 0 and "Sanitizer" not in err, "batch: %d %s" % (batch.returncode,
                                                                            err))
    parked = json.loads(out.splitlines()[0])
    check((parked["dir"], parked["off"], parked["value"]) == ACCESSES[2], "printed %r" % parked)
    check_pcs_of_one(parked, ACCESSES[2])
    q.wait(30)


test_batch_prints_the_parked_pc_and_its_names.timeout = 120


def check_pcs_of_one(event, access):
    insns = objdump(GUEST)
    pc = event.get("pc")
    check(pc in insns and is_access(insns[pc][2], access[0]) and event["mode"] == "prot32",
          "pc %r: %r" % (pc, insns.get(pc)))
    func, func_addr, _ = insns[pc]
    path, line = addr2line(GUEST, pc)
    check(event["sym"] == "%s+0x%x" % (func, pc - func_addr) and
          path.endswith("/" + event["src"].rsplit(":", 1)[0]) and
          int(event["src"].rsplit(":", 1)[1]) == line, "names %r %r, binutils: %s+0x%x %s:%d"
          % (event["sym"], event["src"], func, pc - func_addr, path, line))


def test_symbols_files_are_checked_first(t):
    """Every command that takes --symbols refuses a file that is not symbols, with the file
    named and what to give instead, before it records, attaches or starts anything."""
    missing = t.tmp("missing.elf")
    garbage = t.tmp("garbage.map")
    with open(garbage, "w") as f:
        f.write("00100000 T ok\nthis is not a symbol\n")
    trace = t.tmp("never.trace")
    cases = [
        (["record", "--qmp", t.tmp("no.sock"), "-o", trace], "record"),
        (["dump", trace], "dump"),
        (["batch", "--qmp", t.tmp("no.sock"), t.tmp("no.rgb")], "batch"),
        (["attach", t.tmp("no.sock")], "attach"),
        (["launch", "--tcg", "--", "-machine", "q35"], "launch"),
    ]
    for args, cmd in cases:
        for spec, want in [
            (missing, "regdbg %s: --symbols: cannot open symbols file %s: No such file or "
                      "directory; give the guest code's ELF, or an nm-style list of its symbols "
                      "(nm ELF > FILE, System.map, /proc/kallsyms)\n" % (cmd, missing)),
            (garbage, "regdbg %s: --symbols: %s is neither an ELF nor an nm symbol list: line 2 "
                      "is not ADDRESS TYPE NAME [[MODULE]]: \"this is not a symbol\"; give the "
                      "guest code's ELF, or an nm-style list of its symbols (nm ELF > FILE, "
                      "System.map, /proc/kallsyms)\n" % (cmd, garbage)),
            (GUEST + "@0x1z", "regdbg %s: --symbols: symbols %s@0x1z: bad bias '0x1z': give "
                              "FILE@BIAS with BIAS a number, 0x hex or decimal, negative with "
                              "a leading '-' (vmlinux@-0x1000)\n" % (cmd, GUEST)),
        ]:
            full = [args[0], "--symbols", spec] + args[1:]
            r = regdbg(*full, timeout=30)
            check((r.returncode, r.stdout, r.stderr) == (1, "", want),
                  "%s: %d %r %r" % (" ".join(full), r.returncode, r.stdout, r.stderr))
    check(not os.path.exists(trace), "record wrote a trace")
    r = regdbg("dump", "--symbols", GUEST, "--symbols", GUEST + "@0", t.tmp("none.trace"))
    check(r.returncode == 1 and "cannot open" in r.stderr and "symbols" not in r.stderr,
          "good symbols, no trace: %r" % r.stderr)


test_symbols_files_are_checked_first.timeout = 120


def test_launch_hands_the_symbols_to_the_screen(t):
    """launch --symbols loads them into the session the screen reads: its who column (w) names
    the guest's accesses by function."""
    test_qmp = t.tmp("tui-test-qmp.sock")
    term = Term(t, "symbols", [REGDBG, "launch", "--tcg", "--symbols", GUEST, "--", "-machine",
                               "q35", "-nodefaults", "-display", "none", "-m", "64", "-device",
                               PROXY, "-kernel", GUEST, "-append", "mode=i2c loops=0 delay=50",
                               "-qmp", "unix:%s,server=on,wait=off" % test_qmp], 150, 30)
    term.wait_text("IC_", 20)
    term.keys("w")
    term.wait_text("guest_main+0x", 10)
    term.keys("q")
    term.wait_text("[y/N]", 5)
    term.keys("y")
    term.check_clean_exit(20)


test_launch_hands_the_symbols_to_the_screen.timeout = 90


def c_access_line():
    """The line of the guest's store in C (tests/guest/pcmodes.c marks it)."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "guest",
                           "pcmodes.c")) as f:
        for n, line in enumerate(f, 1):
            if "pcmodes: the C access" in line:
                return n
    raise AssertionError("pcmodes.c has no marked store")


def nm_address(elf, name):
    out = subprocess.run(["nm", elf], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise AssertionError("%s has no symbol %s" % (elf, name))


def pcmodes_batch(t, rules, props=""):
    """mode=pcmodes (tests/guest/README.md: writes 0x10 0x00 0x14 0x1c 0x18 from four CPU modes
    and a C function) under a batch that sets rules, then answers every park with print and
    continue; returns the printed parks."""
    serial = t.tmp("serial.log")
    q = t.qemu([PROXY + props], qtest=False, accel="tcg", paused=True,
               extra=["-kernel", GUEST, "-append", "dev=8086:0f41 mode=pcmodes",
                      "-device", EXIT_DEV, "-serial", "file:" + serial])
    script = t.tmp("pcmodes.rgb")
    with open(script, "w") as f:
        f.write("".join(r + "\n" for r in rules))
        # two parks at most; a wait that times out ends the script (exit 1), so wait only as
        # long as the guest takes, then print what parked
        f.write("wait 20\nprint\ncontinue\n")
    batch = subprocess.Popen([REGDBG, "batch", "--qmp", q.qmp_path, "--symbols", GUEST, script],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, **SAN_ENV))
    t.owned.append(type("K", (), {"kill": lambda self: batch.kill()})())
    shm = q.shm_path("/machine/peripheral/i2c0")
    wait_for(lambda: rule_table(shm), 20, "the batch's rules")
    q.qmp.cmd("cont")
    out, err = batch.communicate(timeout=60)
    check(batch.returncode == 0 and "Sanitizer" not in err, "batch: %d %s" % (batch.returncode,
                                                                            err))
    status = q.wait(30)
    with open(serial) as f:
        text = f.read()
    check(status == 1 and "pcmodes done" in text, "the guest: %d\n%s" % (status, text))
    return [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]


def test_from_func_breaks_only_in_that_function(t):
    """break w on every register, from pcmodes_c_write_con: of the guest's five writes, in four
    CPU modes and from C, only the C function's parks, with its PC and names."""
    for props in ("", ",guest-pc=off"):
        parks = pcmodes_batch(t, ["break w bar0+0..0x100 from pcmodes_c_write_con"], props)
        check(len(parks) == 1 and parks[0]["off"] == 0 and parks[0]["value"] == 0xC0,
              "guest-pc%s: parks %r" % (props or "=on", parks))
        lo = nm_address(GUEST, "pcmodes_c_write_con")
        check(parks[0]["sym"].startswith("pcmodes_c_write_con+0x") and
              lo <= parks[0]["pc"] < lo + 0x40 and
              parks[0]["src"].endswith("pcmodes.c:%d" % c_access_line()),
              "the park: %r" % parks[0])


test_from_func_breaks_only_in_that_function.timeout = 150


def test_pc_condition_in_the_device(t):
    """A rule on an exact PC (the 16-bit protected-mode store: CS base + IP) parks that access and
    no other; an injection limited to a PC range changes only the reads made there."""
    pc16 = nm_address(GUEST, "pc_prot16_write")
    parks = pcmodes_batch(t, ["break w bar0+0..0x100 if pc == %#x" % pc16])
    check(len(parks) == 1 and parks[0]["off"] == 0x14 and parks[0]["pc"] == pc16 and
          parks[0]["mode"] == "prot16", "parks %r" % parks)


test_pc_condition_in_the_device.timeout = 90


def test_park_panel_names_the_code_and_its_source_line(t):
    """At a park, the panel shows the function, file:line and that line of the source."""
    serial = t.tmp("serial.log")
    q = t.qemu([PROXY], qtest=False, accel="tcg", paused=True,
               extra=["-kernel", GUEST, "-append", "dev=8086:0f41 mode=pcmodes",
                      "-device", EXIT_DEV, "-serial", "file:" + serial])
    term = Term(t, "panel", [REGDBG, "attach", q.qmp_path, "--symbols", GUEST], 150, 30)
    shm = q.shm_path("/machine/peripheral/i2c0")
    term.keys(":")
    term.wait(lambda ls: ls[-2] == ":", 5, "the : prompt")
    term.type("break w bar0+0 from pcmodes_c_write_con")
    term.keys("Enter")
    wait_for(lambda: rule_table(shm), 10, "the breakpoint in the device")
    q.qmp.cmd("cont")
    term.wait(lambda ls: any(ln.startswith(" PARKED by ") for ln in ls), 20, "the park")
    lines = term.lines()
    k = [i for i, ln in enumerate(lines) if ln.startswith(" PARKED by ")][0]
    check(re.search(r"\(guest PC 0x[0-9a-f]+ prot32\)$", lines[k].rstrip()), lines[k])
    code = lines[k + 2].strip()
    check(re.match(r"in pcmodes_c_write_con\+0x[0-9a-f]+ at pcmodes\.c:%d:   " % c_access_line() +
                   r"\*\(volatile uint32_t \*\)\(uintptr_t\)bar0 = 0xc0;", code),
          "the panel's code line: %r" % code)
    term.keys("c")
    term.wait(lambda ls: not any(ln.startswith(" PARKED by ") for ln in ls), 10, "the answer")
    q.wait(30)
    term.keys("q")
    term.check_clean_exit(20)


test_park_panel_names_the_code_and_its_source_line.timeout = 90


def test_launch_gdb_and_the_g_key_hand_the_park_to_gdb(t):
    """launch --gdb PORT starts QEMU's gdbstub; G at a park lets the access go on, stops the VM
    right after it and says where and how to attach; real gdb sees that PC."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    test_qmp = t.tmp("tui-test-qmp.sock")
    term = Term(t, "gdb", [REGDBG, "launch", "--tcg", "--gdb", str(port), "--symbols", GUEST,
                           "--", "-machine", "q35", "-nodefaults", "-display", "none", "-m", "64",
                           "-device", PROXY, "-S", "-kernel", GUEST, "-append",
                           "dev=8086:0f41 mode=pcmodes", "-device", EXIT_DEV,
                           "-qmp", "unix:%s,server=on,wait=off" % test_qmp], 200, 30)
    term.wait(lambda ls: "VM: prelaunch" in ls[0], 20, "the VM started with -S")
    term.wait_text("QEMU's gdbstub listens on :%d" % port, 5)
    term.keys(":")
    term.wait(lambda ls: ls[-2] == ":", 5, "the : prompt")
    term.type("break w bar0+0 from pcmodes_c_write_con")
    term.keys("Enter")
    term.keys("s")
    term.wait(lambda ls: any(ln.startswith(" PARKED by ") for ln in ls), 20, "the park")
    term.keys("G")
    text = term.wait(lambda ls: next((ln for ln in ls if "VM stopped at" in ln), None), 20,
                     "the hand-off's message")
    m = re.search(r"VM stopped at (0x[0-9a-f]+), (\d+) bytes after the access's instruction "
                  r"(0x[0-9a-f]+); gdb -ex 'target remote :(\d+)' (\S+)", text)
    check(m and int(m.group(4)) == port and m.group(5) == GUEST, "the message: %r" % text)
    stop, park = int(m.group(1), 16), int(m.group(3), 16)
    lo = nm_address(GUEST, "pcmodes_c_write_con")
    check(lo <= park < lo + 0x40 and stop == park + int(m.group(2)), "park %#x stop %#x" %
          (park, stop))
    r = subprocess.run(["gdb", "-nx", "-batch", "-ex", "target remote :%d" % port,
                        "-ex", "info registers rip", "-ex", "detach"],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    g = re.search(r"^rip\s+(0x[0-9a-f]+)", r.stdout, re.M)
    check(g and int(g.group(1), 16) == stop, "gdb: %s %s" % (r.stdout, r.stderr))
    # gdb's detach let the VM go on: the guest ends and its QEMU exits
    term.wait(lambda ls: "VM: gone" in ls[0], 30, "the guest to end")
    term.keys("q")
    term.check_clean_exit(20)


test_launch_gdb_and_the_g_key_hand_the_park_to_gdb.timeout = 120
