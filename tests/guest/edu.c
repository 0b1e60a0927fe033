/* tests/guest/edu.c: mode=edu: checks QEMU's edu device (1234:11e8, docs/specs/edu.rst in QEMU's
 * source) through BAR0, whatever stands between (the test bed puts a real edu behind regdbg-proxy):
 * its identity, liveness and factorial registers; then that the device's command register is the
 * guest's own: decoding off (with bus master and INTx disable on) for `delay` ms, and on again. */
#include "guest.h"

#define EDU_ID          0x00
#define EDU_LIVENESS    0x04
#define EDU_FACTORIAL   0x08
#define EDU_STATUS      0x20
#define EDU_STATUS_BUSY 0x01        /* the factorial is being computed */
#define EDU_ID_VALUE    0x010000ed  /* major 1, minor 0, 0xed */
#define EDU_MAX_POLLS   100000

static uint32_t failures;

static void expect(const char *what, uint32_t got, uint32_t want)
{
    if (got == want) {
        say("edu %s 0x%08x ok", what, got);
    } else {
        failures++;
        say("edu FAIL %s 0x%08x, expected 0x%08x", what, got, want);
    }
}

void edu_main(uint32_t hold_ms)
{
    static const uint32_t live[] = { 0x12345678, 0x00000000, 0xa5a5a5a5 };
    static const uint32_t fact_n[] = { 5, 10, 12 };   /* 12! is the last that fits 32 bits */

    expect("identity", dev_read(EDU_ID), EDU_ID_VALUE);
    for (unsigned i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
        dev_write(EDU_LIVENESS, live[i]);
        expect("liveness", dev_read(EDU_LIVENESS), ~live[i]);
    }
    for (unsigned i = 0; i < sizeof(fact_n) / sizeof(fact_n[0]); i++) {
        uint32_t n = fact_n[i], want = 1, polls = 0;
        for (uint32_t k = 2; k <= n; k++)
            want *= k;
        dev_write(EDU_FACTORIAL, n);
        while ((dev_read(EDU_STATUS) & EDU_STATUS_BUSY) && polls < EDU_MAX_POLLS)
            polls++;
        if (polls == EDU_MAX_POLLS) {
            failures++;
            say("edu FAIL factorial %u: still busy after %u polls", n, polls);
            continue;
        }
        expect(n == 5 ? "factorial 5" : n == 10 ? "factorial 10" : "factorial 12",
               dev_read(EDU_FACTORIAL), want);
    }

    /* The guest's command register: decoding off, bus master and INTx disable on, for a while */
    uint16_t cmd = dev_command();
    dev_set_command((uint16_t)((cmd & ~PCI_CMD_MEMORY) | PCI_CMD_MASTER | PCI_CMD_INTX_DISABLE));
    say("edu decoding off: command 0x%04x", dev_command());
    uint32_t v = mmio_read32(dev_bar0 + EDU_ID);       /* nothing answers at the BAR's address */
    if (v == EDU_ID_VALUE) {
        failures++;
        say("edu FAIL the device answered with its decoding off");
    }
    delay_ms(hold_ms);
    dev_set_command(cmd);
    say("edu decoding on: command 0x%04x", dev_command());
    expect("identity again", dev_read(EDU_ID), EDU_ID_VALUE);
    say("edu done failures=%u", failures);
    if (failures)
        guest_exit(EXIT_CHECK_FAILED);
}
