"""The two parsers of a register map's "dma" section against each other: the proxy's
(qemu-device/regdbg-dma.c, dma-map=FILE, which refuses a bad file at realize) and the debugger's
(debugger/regmap.c, here through `regdbg dump --map FILE`). Every map of tests/fixtures/dma-maps/
(cases.json gives the debugger's verdict on each; tests/unit/test_regmap.c checks the library
gives it too) goes to both: the proxy must refuse exactly the maps the debugger refuses, and read
an accepted one as the debugger does (the DMA address width in the ring's header, the engines'
names). A disagreement the proxy still has is listed in KNOWN, with why; the test fails when one
goes away, so that the list follows the code. Sysfs-like trees of regular files, never a device of
this machine."""

import json
import os
import re

from harness import TOP, RingHeader, check, qemu_fails, regdbg
from sysfs_tree import MEM, make_device

MAPS = os.path.join(TOP, "tests", "fixtures", "dma-maps")
ADDR = "0000:00:02.0"

# The maps the proxy accepts although the debugger refuses them (docs/register-maps.md says the
# debugger is right in each): map -> what the proxy does with it.
KNOWN = {
    # QEMU's JSON parser reads single-quoted strings (its own extension, which the device cannot
    # turn off); jansson, as JSON, does not
    "syntax-single-quotes.json": "a single-quoted string",
}


def cases():
    with open(os.path.join(MAPS, "cases.json")) as f:
        return json.load(f)["cases"]


def edu_tree(t):
    root = t.tmp("sys-bus-pci")
    make_device(root, ADDR, 0x1234, 0x11E8, [(0xFEA00000, 0x100000, MEM)])
    return root


def proxy(root, path, extra=""):
    return ("regdbg-proxy,id=edu0,vendor-id=0x1234,device-id=0x11e8,bar0-size=0x100000,"
            "backend=hw,host=%s,sysfs-path=%s,dma-map=%s%s" % (ADDR, root, path, extra))


def debugger_verdict(path):
    """"ok", or the debugger's message after "FILE:" (regdbg dump loads the --map maps before
    it opens its trace, here /dev/null, which is no trace)"""
    r = regdbg("dump", "--map", path, "/dev/null")
    check(r.returncode != 0, "regdbg dump /dev/null: %r" % r.stderr)
    prefix = "regdbg dump: %s:" % path
    if r.stderr.startswith(prefix):
        return r.stderr[len(prefix):].rstrip("\n")
    check(r.stderr.startswith("regdbg dump: /dev/null "), "regdbg dump: %r" % r.stderr)
    return "ok"


def proxy_verdict(t, root, path):
    """"ok", or the proxy's refusal of the map. With host-irq=uio the proxy reads the map at
    realize, before its backend looks at the host device, which no uio_pci_generic holds here:
    a map it accepts ends in the backend's refusal instead (and host-irq=uio is the mode in which
    it takes every engine the format allows, a completion by "interrupt" alone included)."""
    status, out = qemu_fails(t.tmp, [proxy(root, path, ",host-irq=uio")])
    lines = out.strip().splitlines()
    check(status == 1 and len(lines) == 1, "%s: status %d: %r" % (path, status, out))
    if "dma-map=%s: " % path in out:
        return out.split("dma-map=%s: " % path, 1)[1].strip()
    check("host-irq=uio needs the host device %s bound to uio_pci_generic" % ADDR in out,
          "%s: neither the map's refusal nor the backend's: %r" % (path, out))
    return "ok"


def test_proxy_refuses_the_dma_sections_the_debugger_refuses(t):
    """Every case: the debugger's verdict is the one cases.json records (the message exactly),
    and the proxy accepts it when the debugger does and refuses it when the debugger does, but
    for the disagreements of KNOWN, which must still be there. All mismatches are listed."""
    root = edu_tree(t)
    problems = []
    for c in cases():
        path = os.path.join(MAPS, c["map"])
        dbg = debugger_verdict(path)
        if dbg != c["debugger"]:
            problems.append("%s: the debugger says %r, cases.json %r" % (c["map"], dbg,
                                                                          c["debugger"]))
        got = proxy_verdict(t, root, path)
        if c["map"] in KNOWN:
            if got != "ok":
                problems.append("%s: the proxy now refuses it (%s): take it out of KNOWN"
                                % (c["map"], got))
        elif (got == "ok") != (dbg == "ok"):
            problems.append("%s: the debugger says %s, the proxy %s" % (c["map"], dbg, got))
    for name in KNOWN:
        if name not in [c["map"] for c in cases()]:
            problems.append("%s: in KNOWN, not in cases.json" % name)
    check(not problems, "%d disagreements:\n%s" % (len(problems), "\n".join(problems)))


def interrupt_only(path):
    """The engines of a map whose completion is the device's interrupt alone"""
    with open(path) as f:
        engines = json.load(f)["dma"]["engines"]
    out = []
    for e in engines:
        done = e["completion"] if isinstance(e["completion"], list) else [e["completion"]]
        if not any(isinstance(d, dict) for d in done):
            out.append(e["name"])
    return out


def test_proxy_reads_an_accepted_dma_section_as_the_debugger_does(t):
    """Every map the debugger accepts starts the proxy (dma=bounce, host-irq unset), which
    publishes the debugger's DMA address width in the ring's header (dma_address_bits) and
    allocates a bounce buffer for each of the debugger's engines, in its order (trace event
    regdbg_dma_buffer names them). An engine completed by the interrupt alone is refused
    without host-irq=uio, as docs/register-maps.md says, naming the engine. All mismatches are
    listed."""
    root = edu_tree(t)
    problems = []
    started = 0
    for c in cases():
        if c["debugger"] != "ok":
            continue
        path = os.path.join(MAPS, c["map"])
        irq_only = interrupt_only(path)
        if irq_only:
            status, out = qemu_fails(t.tmp, [proxy(root, path, ",dma=bounce")])
            if status != 1 or ("dma-map=%s: engine %s: completion by the device's interrupt "
                               "alone needs host-irq=uio" % (path, irq_only[0])) not in out:
                problems.append("%s: status %d, %r" % (c["map"], status, out))
            continue
        log = t.tmp("trace-%s.log" % c["map"])
        q = t.qemu([proxy(root, path, ",dma=bounce")],
                   extra=["-trace", "regdbg_dma_buffer", "-D", log], name=c["map"][:-5])
        h = RingHeader(q.shm_path("/machine/peripheral/edu0"))
        q.qmp.cmd("quit")
        q.wait(10)
        with open(log) as f:
            names = re.findall(r"regdbg_dma_buffer engine (\S+): bounce buffer at", f.read())
        if (h.dma_mode, h.dma_address_bits, names) != (1, c["address_bits"], c["engines"]):
            problems.append("%s: the proxy read dma_mode %d, address_bits %d, engines %r; the "
                            "debugger address_bits %d, engines %r" % (
                                c["map"], h.dma_mode, h.dma_address_bits, names,
                                c["address_bits"], c["engines"]))
        with open(os.path.join(root, "devices", ADDR, "enable")) as f:
            check(f.read() == "0\n", "%s: the device was left enabled" % c["map"])
        started += 1
    check(not problems, "%d mismatches:\n%s" % (len(problems), "\n".join(problems)))
    check(started >= 10, "only %d accepted maps started the proxy" % started)
