"""`make install` and `make uninstall`: regdbg on a PATH of its own, the QEMU it launches and the
register maps it reads under PREFIX; uninstall takes back exactly what install put there."""

import os
import subprocess

from harness import BUILD, TOP, check, wait_for

I2C = "regdbg-proxy,id=i2c0,vendor-id=0x8086,device-id=0x0f41,bar0-size=4096"
MARKER_MAP = """{
  "name": "a map only the installed maps folder has",
  "match": [ { "vendor": "0x1234", "device": "0x5678" } ],
  "registers": [ { "name": "ONLY_INSTALLED", "offset": "0x8", "width": 32, "access": "rw" } ]
}
"""


def make(*args):
    r = subprocess.run(["make", "-C", TOP, "BUILD=" + BUILD] + list(args), capture_output=True,
                       timeout=600, stdin=subprocess.DEVNULL)
    out = (r.stdout + r.stderr).decode(errors="replace")
    check(r.returncode == 0, "make %s failed:\n%s" % (" ".join(args), out[-3000:]))
    return out


def test_install_and_uninstall(t):
    prefix = t.tmp("prefix")
    out = make("install", "PREFIX=" + prefix)
    check("installed %s/bin/regdbg" % prefix in out, out[-2000:])
    regdbg = os.path.join(prefix, "bin", "regdbg")
    qemu = os.path.join(prefix, "libexec", "regdbg", "qemu-system-x86_64")
    maps = os.path.join(prefix, "share", "regdbg", "maps")
    check(os.access(regdbg, os.X_OK) and os.access(qemu, os.X_OK), "binaries not installed")
    check(sorted(os.listdir(maps)) == sorted(os.listdir(os.path.join(TOP, "maps"))),
          "maps: %r" % os.listdir(maps))
    env = dict(os.environ, PATH=os.path.join(prefix, "bin") + ":/usr/bin:/bin")
    env.pop("REGDBG_MAPS", None)
    r = subprocess.run(["regdbg", "--version"], capture_output=True, text=True, env=env)
    check(r.returncode == 0 and r.stdout.startswith("regdbg "), r.stdout + r.stderr)

    # The installed regdbg reads the installed maps folder, and the installed QEMU runs.
    with open(os.path.join(maps, "marker.json"), "w") as f:
        f.write(MARKER_MAP)
    qmp = t.tmp("qmp.sock")
    q = subprocess.Popen([qemu, "-machine", "q35", "-nodefaults", "-display", "none", "-accel",
                          "qtest", "-qtest", "null", "-qmp", "unix:%s,server=on,wait=off" % qmp,
                          "-device", "regdbg-proxy,id=p0,vendor-id=0x1234,device-id=0x5678,"
                          "bar0-size=4096"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        script = t.tmp("s.rgb")
        with open(script, "w") as f:
            f.write("inject r ONLY_INSTALLED = 0x5\ninfo rules\n")
        wait_for(lambda: os.path.exists(qmp), 10, "the installed QEMU's QMP socket")
        r = subprocess.run(["regdbg", "batch", "--qmp", qmp, script], capture_output=True,
                           text=True, env=env, timeout=60)
        check(r.returncode == 0 and "inject r p0:ONLY_INSTALLED = 0x5" in r.stdout,
              r.stdout + r.stderr)
    finally:
        q.kill()
        q.wait()
    os.unlink(os.path.join(maps, "marker.json"))

    make("uninstall", "PREFIX=" + prefix)
    left = [os.path.join(d, f) for d, _, files in os.walk(prefix) for f in files]
    check(left == [], "uninstall left %r" % left)
    check(not os.path.exists(os.path.join(prefix, "share", "regdbg")), "share/regdbg is left")


test_install_and_uninstall.timeout = 600
