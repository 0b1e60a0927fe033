# regdbg: build, test, benchmark and demo. Every entry point installs what it needs first (make deps).
#
#   make          regdbg, the pinned QEMU with regdbg-proxy, the test guest
#   make demo     QEMU + proxy + demo guest, its register accesses streamed live
#   make demo-diff   the demo firmware recorded as it is and in three variants, compared side by
#                 side (regdbg diff --tui)
#   make test     every test; ends with "N passed, N failed, N skipped" (builds the hardware
#                 test bed's guest first: tests/hwbed/hwbed.mk)
#   make bench    performance ratios, measured in one run
#   make mutants [MUTANTS=PATTERN]   mutation testing of the tests (tests/mutants); not in make test
#   make qemu QEMU_SRC=DIR   put regdbg-proxy into your own QEMU tree and build it there
#   make install [PREFIX=/usr/local] [DESTDIR=]   regdbg, its QEMU and the maps; make uninstall
#
# The C code is built in layers, one object per source with its header dependencies tracked:
#   debugger/*.c      the model, archived as libregdbg.a: no curses, getopt, views/ or cli/ header,
#                     no process but QEMU's launch (scripts/check-layers.py, run before archiving)
#   debugger/cli/*.c  the command-line programs   views/*.c  the interactive program
# linked into regdbg; the unit tests, the fuzz target and the ring benchmark link the library.
# Each variant has folders of its own and the same rules:
#   build/obj, build/lib            optimised: build/bin/regdbg, build/tests/*, build/bench/*
#   build/asan/obj, build/asan/lib  ASan+UBSan: build/asan/regdbg, build/asan/tests/*
#   build/fuzz/obj, build/fuzz/lib  clang, libFuzzer+ASan+UBSan: build/fuzz/fuzz_*

.DEFAULT_GOAL := all
SHELL := /bin/bash

CC ?= cc
FUZZ_CC := clang
PYTHON := /usr/bin/python3
BUILD := build
QEMU_BIN := $(BUILD)/bin/qemu-system-x86_64
REGDBG := $(BUILD)/bin/regdbg
REGDBG_ASAN := $(BUILD)/asan/regdbg

JANSSON_CFLAGS = $(shell pkg-config --cflags jansson)
JANSSON_LIBS = $(shell pkg-config --libs jansson)
CURSES_CFLAGS = $(shell pkg-config --cflags ncursesw)
CURSES_LIBS = $(shell pkg-config --libs ncursesw)
PCI_CFLAGS = $(shell pkg-config --cflags libpci)
PCI_LIBS = $(shell pkg-config --libs libpci)
DW_CFLAGS = $(shell pkg-config --cflags libdw)
DW_LIBS = $(shell pkg-config --libs libdw)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -g -MMD -MP

# What each layer sees. Only the tests see tests/unit (check.h, ring_producer.h); only the views
# see curses.
LIB_CPPFLAGS = -Iinclude -Idebugger $(JANSSON_CFLAGS) $(PCI_CFLAGS) $(DW_CFLAGS)
CLI_CPPFLAGS = -Iinclude -Idebugger -Idebugger/cli -Iviews $(JANSSON_CFLAGS)
VIEWS_CPPFLAGS = -Iinclude -Idebugger -Iviews $(JANSSON_CFLAGS) $(CURSES_CFLAGS)
TEST_CPPFLAGS = -Iinclude -Idebugger -Itests/unit $(JANSSON_CFLAGS) $(PCI_CFLAGS) $(DW_CFLAGS)

# The variants' code generation and link flags.
OPT_CFLAGS := -O2
OPT_LDFLAGS :=
ASAN_CFLAGS := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=undefined
ASAN_LDFLAGS := -fsanitize=address,undefined
FUZZ_CFLAGS := -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
FUZZ_LDFLAGS := -fsanitize=fuzzer,address,undefined

LIB_SRCS := $(wildcard debugger/*.c)
LIB_HDRS := $(wildcard debugger/*.h)
APP_SRCS := $(wildcard debugger/cli/*.c) $(wildcard views/*.c)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRCS := tests/bench/ring_bench.c tests/bench/trace_gen.c

LIB_LIBS = $(JANSSON_LIBS) $(PCI_LIBS) $(DW_LIBS) -lpthread
APP_LIBS = $(LIB_LIBS) $(CURSES_LIBS)

# $(call objs,OBJDIR,SOURCES): their object files
objs = $(patsubst %.c,$(1)/%.o,$(2))

OPT_OBJ := $(BUILD)/obj
ASAN_OBJ := $(BUILD)/asan/obj
FUZZ_OBJ := $(BUILD)/fuzz/obj
LIBREGDBG := $(BUILD)/lib/libregdbg.a
LIBREGDBG_ASAN := $(BUILD)/asan/lib/libregdbg.a
LIBREGDBG_FUZZ := $(BUILD)/fuzz/lib/libregdbg.a

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
UNIT_TESTS_ASAN := $(patsubst tests/unit/%.c,$(BUILD)/asan/tests/%,$(UNIT_SRCS))
FUZZERS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))

# $(call variant,OBJDIR,LIBRARY,CC,CFLAGS): the compile rules of one variant (its objects in
# OBJDIR, mirroring the source tree) and its library. The layering is checked before the archive
# is made: a violation fails the build.
define variant
$(1)/debugger/%.o: debugger/%.c | deps
	@mkdir -p $$(@D)
	$(3) $$(BASE_CFLAGS) $(4) $$(LIB_CPPFLAGS) -c -o $$@ $$<
$(1)/debugger/cli/%.o: debugger/cli/%.c | deps
	@mkdir -p $$(@D)
	$(3) $$(BASE_CFLAGS) $(4) $$(CLI_CPPFLAGS) -c -o $$@ $$<
$(1)/views/%.o: views/%.c | deps
	@mkdir -p $$(@D)
	$(3) $$(BASE_CFLAGS) $(4) $$(VIEWS_CPPFLAGS) -c -o $$@ $$<
$(1)/tests/%.o: tests/%.c | deps
	@mkdir -p $$(@D)
	$(3) $$(BASE_CFLAGS) $(4) $$(TEST_CPPFLAGS) -c -o $$@ $$<
# The shipped maps of the build tree (an installed regdbg links a maps_dir.o of its own).
$(1)/debugger/maps_dir.o: BASE_CFLAGS += -DREGDBG_MAPS_DIR='"$(CURDIR)/maps"'
$(2): $(call objs,$(1),$(LIB_SRCS)) $(LIB_HDRS) scripts/check-layers.py
	@mkdir -p $$(@D)
	@rm -f $$@ $$@.tmp
	ar rcs $$@.tmp $(call objs,$(1),$(LIB_SRCS))
	$(PYTHON) scripts/check-layers.py --lib $$@.tmp
	@mv $$@.tmp $$@
-include $(patsubst %.o,%.d,$(call objs,$(1),$(LIB_SRCS) $(APP_SRCS) $(UNIT_SRCS) $(FUZZ_SRCS) \
                                             $(BENCH_SRCS)))
endef

$(eval $(call variant,$(OPT_OBJ),$(LIBREGDBG),$$(CC),$$(OPT_CFLAGS)))
$(eval $(call variant,$(ASAN_OBJ),$(LIBREGDBG_ASAN),$$(CC),$$(ASAN_CFLAGS)))
$(eval $(call variant,$(FUZZ_OBJ),$(LIBREGDBG_FUZZ),$$(FUZZ_CC),$$(FUZZ_CFLAGS)))

# The objects of the tests are made by a chain of pattern rules: keep them (make would delete them
# as intermediate files, and rebuild them each time).
.SECONDARY: $(call objs,$(OPT_OBJ),$(UNIT_SRCS) $(BENCH_SRCS)) $(call objs,$(ASAN_OBJ),$(UNIT_SRCS)) \
            $(call objs,$(FUZZ_OBJ),$(FUZZ_SRCS))

include tests/guest/guest.mk
include tests/hwbed/hwbed.mk

.PHONY: all deps qemu demo demo-diff test bench mutants clean unit-tests install uninstall FORCE

all: deps $(REGDBG) qemu $(GUEST_ELF)

deps:
	@scripts/deps.sh

# The QEMU build lives in a cache (~/.cache/regdbg); ninja decides what is out of date, and
# build-qemu.sh replaces $(QEMU_BIN) only when the binary changed, so that what is made of it (the
# test bed's initramfs) is rebuilt only then.
ifdef QEMU_SRC
qemu: deps
	qemu-device/build-qemu.sh tree "$(QEMU_SRC)"
else
qemu: $(QEMU_BIN)
endif

$(QEMU_BIN): FORCE | deps
	@qemu-device/build-qemu.sh pinned $@

# --- programs -----------------------------------------------------------------------------------

$(REGDBG): $(call objs,$(OPT_OBJ),$(APP_SRCS)) $(LIBREGDBG)
	@mkdir -p $(@D)
	$(CC) $(OPT_LDFLAGS) -o $@ $^ $(APP_LIBS)

$(REGDBG_ASAN): $(call objs,$(ASAN_OBJ),$(APP_SRCS)) $(LIBREGDBG_ASAN)
	@mkdir -p $(@D)
	$(CC) $(ASAN_LDFLAGS) -o $@ $^ $(APP_LIBS)

$(BUILD)/tests/%: $(OPT_OBJ)/tests/unit/%.o $(LIBREGDBG)
	@mkdir -p $(@D)
	$(CC) $(OPT_LDFLAGS) -o $@ $^ $(LIB_LIBS)

$(BUILD)/asan/tests/%: $(ASAN_OBJ)/tests/unit/%.o $(LIBREGDBG_ASAN)
	@mkdir -p $(@D)
	$(CC) $(ASAN_LDFLAGS) -o $@ $^ $(LIB_LIBS)

# libFuzzer targets (clang); `make test` runs each for a bounded time
$(BUILD)/fuzz/%: $(FUZZ_OBJ)/tests/fuzz/%.o $(LIBREGDBG_FUZZ)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^ $(LIB_LIBS)

$(BUILD)/bench/ring_bench: $(OPT_OBJ)/tests/bench/ring_bench.o $(LIBREGDBG)
	@mkdir -p $(@D)
	$(CC) $(OPT_LDFLAGS) -o $@ $^ $(LIB_LIBS)

# big traces for the diff benchmark
$(BUILD)/bench/trace_gen: $(OPT_OBJ)/tests/bench/trace_gen.o $(LIBREGDBG)
	@mkdir -p $(@D)
	$(CC) $(OPT_LDFLAGS) -o $@ $^ $(LIB_LIBS)

unit-tests: $(UNIT_TESTS) $(UNIT_TESTS_ASAN) $(FUZZERS)

test: all $(REGDBG_ASAN) unit-tests $(HWBED_INITRAMFS)
	@$(PYTHON) tests/run.py --build $(BUILD)

bench: all $(BUILD)/bench/ring_bench $(BUILD)/bench/trace_gen $(HWBED_INITRAMFS)
	@$(PYTHON) tests/bench/bench.py --build $(BUILD)

demo: all
	@scripts/demo.sh $(BUILD)

demo-diff: all
	@scripts/demo-diff.sh $(BUILD)

# Mutation testing: each entry of tests/mutants/catalogue.txt applied alone in a scratch copy of
# the tree (build/mutants), rebuilt (QEMU in build/mutants/qemu-cache) and run against the tests
# that cover it. MUTANTS=PATTERN runs the entries whose id or file contains PATTERN.
mutants: deps
	@$(PYTHON) tests/mutants/run.py $(if $(MUTANTS),--only '$(MUTANTS)')

# --- install ------------------------------------------------------------------------------------

# Installed: $(PREFIX)/bin/regdbg, the QEMU it launches in $(PREFIX)/libexec/regdbg (off the PATH,
# so that it never shadows the system's QEMU), the register maps in $(PREFIX)/share/regdbg/maps.
# The installed regdbg is the optimised objects with a maps_dir.o of its own, naming
# $(INSTALL_MAPS_DIR) (linked before the library, it stands in for the library's); it is
# compiled every time, as PREFIX may differ from the last run's.
PREFIX ?= /usr/local
INSTALL_MAPS_DIR = $(PREFIX)/share/regdbg/maps
INSTALL_REGDBG = $(BUILD)/install/regdbg
INSTALL_MAPS_OBJ = $(BUILD)/install/obj/debugger/maps_dir.o
SHIPPED_MAPS := $(wildcard maps/*.json)

$(INSTALL_MAPS_OBJ): debugger/maps_dir.c FORCE | deps
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(OPT_CFLAGS) $(LIB_CPPFLAGS) \
	    -DREGDBG_MAPS_DIR='"$(INSTALL_MAPS_DIR)"' -c -o $@ $<

$(INSTALL_REGDBG): $(INSTALL_MAPS_OBJ) $(call objs,$(OPT_OBJ),$(APP_SRCS)) $(LIBREGDBG)
	@mkdir -p $(@D)
	$(CC) $(OPT_LDFLAGS) -o $@ $^ $(APP_LIBS)

install: all $(INSTALL_REGDBG)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/regdbg $(DESTDIR)$(INSTALL_MAPS_DIR)
	install -m 755 $(INSTALL_REGDBG) $(DESTDIR)$(PREFIX)/bin/regdbg
	install -m 755 $(QEMU_BIN) $(DESTDIR)$(PREFIX)/libexec/regdbg/qemu-system-x86_64
	install -m 644 $(SHIPPED_MAPS) $(DESTDIR)$(INSTALL_MAPS_DIR)
	@echo "installed $(DESTDIR)$(PREFIX)/bin/regdbg (QEMU: $(PREFIX)/libexec/regdbg, maps: $(INSTALL_MAPS_DIR))"

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/regdbg $(DESTDIR)$(PREFIX)/libexec/regdbg/qemu-system-x86_64 \
	    $(addprefix $(DESTDIR)$(INSTALL_MAPS_DIR)/,$(notdir $(SHIPPED_MAPS)))
	-rmdir $(DESTDIR)$(INSTALL_MAPS_DIR) $(DESTDIR)$(PREFIX)/share/regdbg $(DESTDIR)$(PREFIX)/libexec/regdbg 2>/dev/null

clean:
	rm -rf $(BUILD)
