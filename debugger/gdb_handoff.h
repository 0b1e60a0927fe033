/*
 * The hand-off to gdb: QEMU's gdbstub (found on QEMU's command line, or started through QMP with
 * the monitor's `gdbserver`), a parked access let go with the VM stopped right after it, and the
 * PC where the vCPU stopped, read from the monitor's `info registers`, so that gdb takes over at
 * the access. How far after the access the VM stops is QEMU's to decide: under TCG at the end of
 * the translation block that made the access (the instructions after it in that block run),
 * under KVM once the access's instruction has completed.
 */
#ifndef REGDBG_GDB_HANDOFF_H
#define REGDBG_GDB_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "qmp.h"

/*
 * The TCP port of a gdbstub given on QEMU's command line (`-gdb tcp::PORT`, `-gdb tcp:HOST:PORT`,
 * `-s`), from /proc/PID/cmdline: the port, 0 when there is none (or it is not TCP), -1 when the
 * command line cannot be read.
 */
int gdb_stub_from_cmdline(pid_t qemu_pid);

/*
 * Start a gdbstub on the first free port from first_port on (the monitor's `gdbserver`, through
 * QMP's human-monitor-command). The port, or -1 with QEMU's own words in err.
 */
int gdb_stub_start(struct qmp *qmp, int first_port, char *err, size_t errlen);

/* Where a vCPU is: its linear PC (CS base + rIP), from the monitor's `info registers`. */
struct gdb_cpu_state {
    uint64_t pc;
    uint64_t rip;                /* rIP as the CPU holds it */
    uint64_t cs_base;
    bool long_mode;              /* the dump was 64-bit (RIP=) */
};

/* 0, or -1 with a message (no such CPU, output not understood). */
int gdb_cpu_state(struct qmp *qmp, int cpu, struct gdb_cpu_state *out, char *err, size_t errlen);

/* Parse one `info registers` dump (exposed for the unit test). 0 or -1. */
int gdb_parse_registers(const char *text, struct gdb_cpu_state *out);

/* The command a user runs: `gdb -ex 'target remote :PORT' FILE` (FILE NULL: no file). */
void gdb_command_line(int port, const char *file, char *buf, size_t len);

#endif /* REGDBG_GDB_HANDOFF_H */
