# tests/hwbed/hwbed.mk: make fragment (included by the top-level Makefile, run from the repo top) that
# builds the hardware test bed's Linux guest (tests/integration/test_hwbed.py boots it):
#   build/hwbed/fetched/   Debian's current kernel (vmlinuz), its uio and I2C DesignWare modules
#                          (the latter for tests/integration/test_linux_guest.py) and a static busybox,
#                          from scripts/hwbed-fetch.sh (a cache outside the repository); it runs
#                          every time, as apt names the current kernel, and replaces a file only when
#                          it changed
#   build/hwbed/hwbed-canary  tests/hwbed/canary.c: a page a stray DMA would overwrite
#   build/hwbed/initramfs.cpio.gz   busybox, the project's QEMU and regdbg with their libraries, the
#                          shipped register maps (where this regdbg looks for them), the firmware
#                          files, the test guest, hwbed-canary and tests/hwbed/init; rebuilt only
#                          when one of them changed

HWBED_DIR := $(BUILD)/hwbed
HWBED_FETCHED := $(HWBED_DIR)/fetched
HWBED_VERSIONS := $(HWBED_FETCHED)/versions
HWBED_INITRAMFS := $(HWBED_DIR)/initramfs.cpio.gz
HWBED_CANARY := $(HWBED_DIR)/hwbed-canary

$(HWBED_VERSIONS): FORCE | deps
	@scripts/hwbed-fetch.sh $(HWBED_FETCHED)

$(HWBED_CANARY): tests/hwbed/canary.c | deps
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 $(WARN) -o $@ $<

$(HWBED_INITRAMFS): $(HWBED_VERSIONS) tests/hwbed/init tests/hwbed/mkinitramfs.py $(QEMU_BIN) \
                    $(REGDBG) $(GUEST_ELF) $(HWBED_CANARY) $(wildcard maps/*.json)
	@mkdir -p $(@D)
	$(PYTHON) tests/hwbed/mkinitramfs.py --out $@ --fetched $(HWBED_FETCHED) --init tests/hwbed/init \
	    --qemu $(QEMU_BIN) --regdbg $(REGDBG) --guest $(GUEST_ELF) --tool $(HWBED_CANARY) \
	    --maps $(CURDIR)/maps
