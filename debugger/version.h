/*
 * The version of regdbg: the one place it is defined (`regdbg --version` prints it with the
 * shared-memory ABI version of include/regdbg/abi.h and the trace format version of trace_file.h).
 */
#ifndef REGDBG_VERSION_H
#define REGDBG_VERSION_H

#define REGDBG_VERSION "0.1.0"

#endif /* REGDBG_VERSION_H */
