# regdbg: build, test, benchmark and demo. Every entry point installs what it needs first (make deps).
#
#   make          regdbg, the pinned QEMU with regdbg-proxy, the test guest
#   make demo     QEMU + proxy + demo guest, its register accesses streamed live
#   make test     every test; ends with "N passed, N failed"
#   make bench    performance ratios, measured in one run
#   make mutants [MUTANTS=PATTERN]   mutation testing of the tests (tests/mutants); not in make test
#   make qemu QEMU_SRC=DIR   put regdbg-proxy into your own QEMU tree and build it there
#   make install [PREFIX=/usr/local] [DESTDIR=]   regdbg, its QEMU and the maps; make uninstall

.DEFAULT_GOAL := all
SHELL := /bin/bash

CC ?= cc
PYTHON := /usr/bin/python3
BUILD := build
QEMU_BIN := $(BUILD)/bin/qemu-system-x86_64
REGDBG := $(BUILD)/bin/regdbg
REGDBG_ASAN := $(BUILD)/asan/regdbg

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Iinclude -Idebugger -Iviews -Itests/unit $(WARN) -g \
                 -DREGDBG_MAPS_DIR='"$(CURDIR)/maps"'
CFLAGS_OPT := $(CFLAGS_COMMON) -O2
CFLAGS_SAN := $(CFLAGS_COMMON) -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
JANSSON_CFLAGS = $(shell pkg-config --cflags jansson)
JANSSON_LIBS = $(shell pkg-config --libs jansson)
CURSES_CFLAGS = $(shell pkg-config --cflags ncursesw)
CURSES_LIBS = $(shell pkg-config --libs ncursesw)
PCI_CFLAGS = $(shell pkg-config --cflags libpci)
PCI_LIBS = $(shell pkg-config --libs libpci)

DEBUGGER_SRCS := $(wildcard debugger/*.c) $(wildcard views/*.c)
DEBUGGER_HDRS := $(wildcard debugger/*.h) $(wildcard views/*.h) $(wildcard include/regdbg/*.h)
LIB_SRCS := $(filter-out debugger/main.c,$(DEBUGGER_SRCS))

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
UNIT_TESTS_ASAN := $(patsubst tests/unit/%.c,$(BUILD)/asan/tests/%,$(wildcard tests/unit/test_*.c))

include tests/guest/guest.mk

.PHONY: all deps qemu demo test bench mutants clean unit-tests install uninstall FORCE

all: deps $(REGDBG) qemu $(GUEST_ELF)

deps:
	@scripts/deps.sh

# The QEMU build lives in a cache (~/.cache/regdbg); ninja decides what is out of date.
qemu: deps
ifdef QEMU_SRC
	qemu-device/build-qemu.sh tree "$(QEMU_SRC)"
else
	@qemu-device/build-qemu.sh pinned $(QEMU_BIN)
endif

$(REGDBG): $(DEBUGGER_SRCS) $(DEBUGGER_HDRS) | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_OPT) $(JANSSON_CFLAGS) $(CURSES_CFLAGS) $(PCI_CFLAGS) -o $@ $(DEBUGGER_SRCS) $(JANSSON_LIBS) $(CURSES_LIBS) $(PCI_LIBS) -lpthread

$(REGDBG_ASAN): $(DEBUGGER_SRCS) $(DEBUGGER_HDRS) | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_SAN) $(JANSSON_CFLAGS) $(CURSES_CFLAGS) $(PCI_CFLAGS) -o $@ $(DEBUGGER_SRCS) $(JANSSON_LIBS) $(CURSES_LIBS) $(PCI_LIBS) -lpthread

$(BUILD)/tests/%: tests/unit/%.c $(LIB_SRCS) $(DEBUGGER_HDRS) | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_OPT) $(JANSSON_CFLAGS) $(CURSES_CFLAGS) $(PCI_CFLAGS) -o $@ $< $(LIB_SRCS) $(JANSSON_LIBS) $(CURSES_LIBS) $(PCI_LIBS) -lpthread

$(BUILD)/asan/tests/%: tests/unit/%.c $(LIB_SRCS) $(DEBUGGER_HDRS) | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_SAN) $(JANSSON_CFLAGS) $(CURSES_CFLAGS) $(PCI_CFLAGS) -o $@ $< $(LIB_SRCS) $(JANSSON_LIBS) $(CURSES_LIBS) $(PCI_LIBS) -lpthread

$(BUILD)/bench/ring_bench: tests/bench/ring_bench.c tests/unit/ring_producer.h $(LIB_SRCS) $(DEBUGGER_HDRS) | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_OPT) $(JANSSON_CFLAGS) $(CURSES_CFLAGS) $(PCI_CFLAGS) -o $@ $< $(LIB_SRCS) $(JANSSON_LIBS) $(CURSES_LIBS) $(PCI_LIBS) -lpthread

# libFuzzer targets (clang); `make test` runs each for a bounded time
FUZZERS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(DEBUGGER_HDRS) | deps
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Idebugger \
	    $(JANSSON_CFLAGS) -o $@ $< debugger/rules_parse.c debugger/regmap.c $(JANSSON_LIBS)

unit-tests: $(UNIT_TESTS) $(UNIT_TESTS_ASAN) $(FUZZERS)

test: all $(REGDBG_ASAN) unit-tests
	@$(PYTHON) tests/run.py --build $(BUILD)

bench: all $(BUILD)/bench/ring_bench
	@$(PYTHON) tests/bench/bench.py --build $(BUILD)

demo: all
	@scripts/demo.sh $(BUILD)

# Mutation testing: each entry of tests/mutants/catalogue.txt applied alone in a scratch copy of
# the tree (build/mutants), rebuilt (QEMU in build/mutants/qemu-cache) and run against the tests
# that cover it. MUTANTS=PATTERN runs the entries whose id or file contains PATTERN.
mutants: deps
	@$(PYTHON) tests/mutants/run.py $(if $(MUTANTS),--only '$(MUTANTS)')

# Installed: $(PREFIX)/bin/regdbg, the QEMU it launches in $(PREFIX)/libexec/regdbg (off the PATH,
# so that it never shadows the system's QEMU), the register maps in $(PREFIX)/share/regdbg/maps.
PREFIX ?= /usr/local
INSTALL_MAPS_DIR = $(PREFIX)/share/regdbg/maps
INSTALL_REGDBG = $(BUILD)/install/regdbg
SHIPPED_MAPS := $(wildcard maps/*.json)

$(INSTALL_REGDBG): $(DEBUGGER_SRCS) $(DEBUGGER_HDRS) FORCE | deps
	@mkdir -p $(@D)
	$(CC) $(filter-out -DREGDBG_MAPS_DIR=%,$(CFLAGS_OPT)) -DREGDBG_MAPS_DIR='"$(INSTALL_MAPS_DIR)"' \
	    $(JANSSON_CFLAGS) $(CURSES_CFLAGS) $(PCI_CFLAGS) -o $@ $(DEBUGGER_SRCS) $(JANSSON_LIBS) \
	    $(CURSES_LIBS) $(PCI_LIBS) -lpthread

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
