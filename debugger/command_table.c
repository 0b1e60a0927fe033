/* The debugger's commands (command_table.h): the one list of their names, usage and help. */
#include <stdio.h>
#include <string.h>

#include "command_table.h"

#define P CMDW_PROMPT
#define F CMDW_RULES_FILE
#define B CMDW_BATCH

const struct command_def command_table[CMD_COUNT] = {
    [CMD_HELP] = { CMD_HELP, "help", "help", "show this help", P, false },
    [CMD_BREAK] = { CMD_BREAK, "break", "break [r|w|rw] TARGET [if COND] [ignore N] [temp]",
                    "stop the firmware on an access (TARGET: REG, REG.FIELD, barN+OFF[..END]; "
                    "docs/rules.md)", P | F | B, true },
    [CMD_EDIT] = { CMD_EDIT, "edit", "edit w TARGET set M | clear M | = V",
                   "change what the guest writes", P | F | B, true },
    [CMD_INJECT] = { CMD_INJECT, "inject", "inject r TARGET = V | or M | and M | xor M",
                     "change what the guest reads", P | F | B, true },
    [CMD_DROP] = { CMD_DROP, "drop", "drop w TARGET", "the write never reaches the device",
                   P | F | B, true },
    [CMD_ON] = { CMD_ON, "on",
                 "on r|w|rw TARGET [if COND] [ignore N] [temp] irq assert|deassert|pulse",
                 "drive the device's interrupt once a matching access has gone through "
                 "(docs/rules.md)", P | F | B, true },
    [CMD_INFO] = { CMD_INFO, "info", "info rules",
                   "list the rules with their hit counts (the rules screen)", P | B, true },
    [CMD_ENABLE] = { CMD_ENABLE, "enable", "enable N...", "enable rules", P | F | B, true },
    [CMD_DISABLE] = { CMD_DISABLE, "disable", "disable N...", "disable rules", P | F | B, true },
    [CMD_DELETE] = { CMD_DELETE, "delete", "delete [N...]", "delete rules (all without N)",
                     P | F | B, true },
    [CMD_IRQ] = { CMD_IRQ, "irq", "irq assert|deassert|pulse [DEV]",
                  "drive the device's interrupt now: INTx, or MSI once the guest enabled it "
                  "(DEV: the device, else the one shown)", P | F | B, true },
    [CMD_STEP] = { CMD_STEP, "step", "step [N]",
                   "park the next N accesses of the device shown by the registers screen", P | B,
                   true },
    [CMD_WAIT] = { CMD_WAIT, "wait", "wait [TIMEOUT]",
                   "wait for the next parked access (default 30 s); fail on timeout", B, true },
    [CMD_CONTINUE] = { CMD_CONTINUE, "continue", "continue [VALUE]",
                       "let it go on (with VALUE: written to the device / returned to the guest)",
                       B, true },
    [CMD_SKIP] = { CMD_SKIP, "skip", "skip [VALUE]",
                   "the write never happens / the read returns VALUE without the device", B,
                   true },
    [CMD_PRINT] = { CMD_PRINT, "print", "print",
                    "the parked access as one JSON object (the keys of regdbg dump --format json, "
                    "plus rule)", B, true },
    [CMD_GDB] = { CMD_GDB, "gdb", "gdb",
                  "let the parked access go on, stop the VM right after it and print the gdb "
                  "command that takes over there (a gdbstub is started if QEMU has none)", B,
                  true },
    [CMD_EXPECT] = { CMD_EXPECT, "expect", "expect COND",
                     "fail with a message when COND (over value, its fields, size, cpu, pc) is "
                     "false for the parked access", B, true },
    [CMD_FILTER] = { CMD_FILTER, "filter",
                     "filter [dev=ID bar=N reg=NAME dir=r|w|irq value=V[/MASK] irq=WHAT]",
                     "filter the stream and its history (irq=raised, lowered, msi, unchanged, "
                     "...: interrupt events); no argument clears the filter", P, false },
    [CMD_SEARCH] = { CMD_SEARCH, "search", "search TEXT",
                     "find a register name (part of it) or a value (0x55)", P, false },
    [CMD_RECORD] = { CMD_RECORD, "record", "record FILE [DEVICE] | record stop",
                     "record a device's accesses to a trace file (regdbg dump reads it)", P,
                     false },
    [CMD_STOP] = { CMD_STOP, "stop", "stop", "stop the VM", P, false },
    [CMD_CONT] = { CMD_CONT, "cont", "cont", "let the VM continue", P, false },
    [CMD_RESET] = { CMD_RESET, "reset", "reset", "system reset of the VM", P, false },
    [CMD_VIEW] = { CMD_VIEW, "view", "view stream|regs|devices", "switch screens", P, false },
    [CMD_DEVICE] = { CMD_DEVICE, "device", "device ID", "show the registers of that device", P,
                     false },
    [CMD_DETACH] = { CMD_DETACH, "detach", "detach",
                     "leave, and leave the VM running (even one regdbg launched)", P, false },
    [CMD_QUIT] = { CMD_QUIT, "quit", "quit", "leave (a VM regdbg launched is shut down)", P,
                   false },
};

const struct command_def *command_find(const char *s, size_t n)
{
    for (int i = 0; i < CMD_COUNT; i++) {
        const char *name = command_table[i].name;

        if (strlen(name) == n && memcmp(name, s, n) == 0) {
            return &command_table[i];
        }
    }
    return NULL;
}

const char *command_where_text(unsigned where, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s%s%s", where & CMDW_PROMPT ? "prompt" : "",
             where & CMDW_PROMPT && where & (CMDW_RULES_FILE | CMDW_BATCH) ? ", " : "",
             where & CMDW_RULES_FILE ? "rules file" : "",
             where & CMDW_RULES_FILE && where & CMDW_BATCH ? ", " : "",
             where & CMDW_BATCH ? "batch" : "");
    return buf;
}

const char *command_title(const struct command_def *c, char *buf, size_t size)
{
    const char *u = c->usage;
    size_t end = 0, i = 0;

    while (u[i]) {
        size_t j = i;

        while (u[j] >= 'a' && u[j] <= 'z') {
            j++;
        }
        if (j < i + 2 || (u[j] && u[j] != ' ')) {   /* "r", "w", "[N]", "stream|regs" end it */
            break;
        }
        end = j;
        i = u[j] ? j + 1 : j;
    }
    snprintf(buf, size, "%.*s", (int)end, u);
    return buf;
}

const char *command_list(unsigned where, char *buf, size_t size)
{
    size_t len = 0;

    if (size) {
        buf[0] = '\0';
    }
    for (int i = 0; i < CMD_COUNT; i++) {
        char title[64];
        int n;

        if ((command_table[i].where & where) != where) {
            continue;
        }
        n = snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
                     command_title(&command_table[i], title, sizeof(title)));
        if (n < 0 || (size_t)n >= size - len) {
            break;
        }
        len += (size_t)n;
    }
    return buf;
}
