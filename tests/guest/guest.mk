# tests/guest/guest.mk: make fragment (included by the top-level Makefile, run from the repo top) that
# builds the bare-metal test guest build/guest/regdbg-guest.elf with $(CC) -m32, freestanding, no libgcc,
# with DWARF line tables (-g) so that a test can map a guest PC to a source line.

GUEST_ELF := build/guest/regdbg-guest.elf

GUEST_SRC_DIR := tests/guest
GUEST_OBJ_DIR := build/guest/obj
GUEST_C_SRCS  := main.c lib.c pci.c smp.c pcmodes.c edu.c irq.c
GUEST_S_SRCS  := boot.S trampoline.S pcmodes_asm.S irq_asm.S
GUEST_OBJS    := $(addprefix $(GUEST_OBJ_DIR)/,$(GUEST_S_SRCS:.S=.o) $(GUEST_C_SRCS:.c=.o))
GUEST_LDS     := $(GUEST_SRC_DIR)/guest.ld

GUEST_CFLAGS  := -m32 -ffreestanding -fno-pic -fno-pie -fno-stack-protector -nostdlib -static -O2 -g \
                 -Wall -Wextra -Werror -fno-asynchronous-unwind-tables -fno-builtin -MMD -MP
GUEST_LDFLAGS := -m32 -ffreestanding -nostdlib -static -no-pie -Wl,-T,$(GUEST_LDS) -Wl,--build-id=none

# Keep whatever default goal the including Makefile has (or will have).
guest_saved_default_goal := $(.DEFAULT_GOAL)

$(GUEST_ELF): $(GUEST_OBJS) $(GUEST_LDS)
	@mkdir -p $(@D)
	$(CC) $(GUEST_LDFLAGS) -o $@ $(GUEST_OBJS)

$(addprefix $(GUEST_OBJ_DIR)/,$(GUEST_C_SRCS:.c=.o)): $(GUEST_OBJ_DIR)/%.o: $(GUEST_SRC_DIR)/%.c $(GUEST_SRC_DIR)/guest.mk
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -c -o $@ $<

$(addprefix $(GUEST_OBJ_DIR)/,$(GUEST_S_SRCS:.S=.o)): $(GUEST_OBJ_DIR)/%.o: $(GUEST_SRC_DIR)/%.S $(GUEST_SRC_DIR)/guest.mk
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -c -o $@ $<

-include $(GUEST_OBJS:.o=.d)

.DEFAULT_GOAL := $(guest_saved_default_goal)
