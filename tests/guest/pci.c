/* tests/guest/pci.c: PCI config mechanism #1 scan for the device under test and its BAR0 setup
 * (sizing it, assigning it if unassigned, enabling decode), its command register and config
 * space; owns dev_bar0, dev_bar0_size, dev_bar0_is_io. */
#include "guest.h"

#define PCI_ADDR     0xcf8
#define PCI_DATA     0xcfc
#define MEM_BAR_ADDR 0xe0000000u   /* given to an unassigned (or above-4G) memory BAR0 */
#define IO_BAR_ADDR  0xc000u       /* given to an unassigned I/O BAR0 */

uint32_t dev_bar0;
uint32_t dev_bar0_size;
int dev_bar0_is_io;
static uint32_t dev_b, dev_d, dev_f;    /* where the device is */

static uint32_t cfg_addr(uint32_t bus, uint32_t dev, uint32_t fn, uint32_t reg)
{
    return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

static uint32_t cfg_read(uint32_t bus, uint32_t dev, uint32_t fn, uint32_t reg)
{
    outl(PCI_ADDR, cfg_addr(bus, dev, fn, reg));
    return inl(PCI_DATA);
}

static void cfg_write(uint32_t bus, uint32_t dev, uint32_t fn, uint32_t reg, uint32_t v)
{
    outl(PCI_ADDR, cfg_addr(bus, dev, fn, reg));
    outl(PCI_DATA, v);
}

/* The all-ones probe (decode is off while it runs); restores the BAR. 0 means 4 GiB or more. */
static uint32_t bar0_size(uint32_t b, uint32_t d, uint32_t f, uint32_t bar, uint32_t mask)
{
    cfg_write(b, d, f, 0x10, 0xffffffffu);
    uint32_t probe = cfg_read(b, d, f, 0x10) & mask;
    cfg_write(b, d, f, 0x10, bar);
    if (mask == ~3u)
        probe |= 0xffff0000u;   /* I/O BARs may leave the upper 16 bits zero */
    return ~probe + 1;
}

static uint32_t bar0_assign(uint32_t b, uint32_t d, uint32_t f, uint32_t mask, int is64, uint32_t addr)
{
    cfg_write(b, d, f, 0x10, addr);
    if (is64)
        cfg_write(b, d, f, 0x14, 0);
    uint32_t got = cfg_read(b, d, f, 0x10) & mask;
    say("assigned bar0=0x%08x size=0x%x (%s)", got, dev_bar0_size, mask == ~3u ? "io" : "mem");
    return got;
}

static void setup_bar0(uint32_t b, uint32_t d, uint32_t f)
{
    uint32_t cmd = cfg_read(b, d, f, 0x04) & 0xffff;   /* upper half is status (write-1-to-clear) */
    uint32_t bar = cfg_read(b, d, f, 0x10);

    cfg_write(b, d, f, 0x04, cmd & ~3u);   /* decode off while the BAR is probed or moved */
    if (bar & 1) {
        dev_bar0_is_io = 1;
        dev_bar0 = bar & ~3u;
        dev_bar0_size = bar0_size(b, d, f, bar, ~3u);
        if (dev_bar0 == 0)
            dev_bar0 = bar0_assign(b, d, f, ~3u, 0, IO_BAR_ADDR);
    } else {
        int is64 = ((bar >> 1) & 3) == 2;
        uint32_t hi = is64 ? cfg_read(b, d, f, 0x14) : 0;
        dev_bar0_is_io = 0;
        dev_bar0 = bar & ~0xfu;
        dev_bar0_size = bar0_size(b, d, f, bar, ~0xfu);
        if (hi != 0)
            say("bar0 is above 4 GiB (0x%08x%08x), not reachable without paging: reassigning", hi, dev_bar0);
        if (dev_bar0 == 0 || hi != 0)
            dev_bar0 = bar0_assign(b, d, f, ~0xfu, is64, MEM_BAR_ADDR);
    }
    cfg_write(b, d, f, 0x04, cmd | 3);     /* I/O space + memory space enable */
}

/* Returns 0 once found and set up, -1 if no function matches. Bus 0 is scanned first. */
int pci_find_and_setup(uint16_t vendor, uint16_t device, const char *mode)
{
    uint32_t want = (uint32_t)device << 16 | vendor;

    for (uint32_t b = 0; b < 256; b++) {
        for (uint32_t d = 0; d < 32; d++) {
            uint32_t id0 = cfg_read(b, d, 0, 0);
            if ((id0 & 0xffff) == 0xffff || (id0 & 0xffff) == 0)
                continue;
            uint32_t nfn = (cfg_read(b, d, 0, 0x0c) >> 16) & 0x80 ? 8 : 1;
            for (uint32_t f = 0; f < nfn; f++) {
                uint32_t id = f ? cfg_read(b, d, f, 0) : id0;
                if (id != want)
                    continue;
                dev_b = b;
                dev_d = d;
                dev_f = f;
                setup_bar0(b, d, f);
                say("found %04x:%04x at %02x:%02x.%x bar0=0x%08x mode=%s", vendor, device, b, d, f,
                    dev_bar0, mode);
                return 0;
            }
        }
    }
    return -1;
}

uint16_t dev_command(void)
{
    return (uint16_t)cfg_read(dev_b, dev_d, dev_f, 0x04);
}

/* The status half of the dword is write-1-to-clear: written as 0 */
void dev_set_command(uint16_t cmd)
{
    cfg_write(dev_b, dev_d, dev_f, 0x04, cmd);
}

uint32_t dev_config_read(uint32_t reg)
{
    return cfg_read(dev_b, dev_d, dev_f, reg);
}

void dev_config_write(uint32_t reg, uint32_t v)
{
    cfg_write(dev_b, dev_d, dev_f, reg, v);
}

/* 16 bits at reg (2-aligned): the other half of the dword is not written */
void dev_config_write16(uint32_t reg, uint16_t v)
{
    outl(PCI_ADDR, cfg_addr(dev_b, dev_d, dev_f, reg));
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"((uint16_t)(PCI_DATA + (reg & 2))));
}
