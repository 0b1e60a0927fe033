/*
 * pci_scan on the fixture tree (tests/fixtures/sysfs) and the `lspci -x` dump of the same devices
 * (tests/fixtures/lspci-dump.txt): ids, names from pci.ids, class, BARs, drivers; pci_scan_select;
 * clean errors for a missing or garbage tree and a corrupt dump. Runs from the repository top.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "pci_scan.h"

#define SYSFS "tests/fixtures/sysfs"
#define DUMP "tests/fixtures/lspci-dump.txt"

static char tmpdir[64];

static const struct pci_dev_desc *find(const struct pci_dev_desc *devs, int n, const char *addr)
{
    for (int i = 0; i < n; i++) {
        if (!strcmp(devs[i].addr, addr)) {
            return &devs[i];
        }
    }
    return NULL;
}

static void check_bar(const struct pci_dev_desc *d, int i, uint64_t addr, uint64_t size,
                      bool io, bool mem64, bool prefetch)
{
    const struct pci_bar_desc *b = &d->bar[i];

    CHECK(b->present, "%s BAR%d absent", d->addr, i);
    CHECK(b->addr == addr, "%s BAR%d at 0x%llx", d->addr, i, (unsigned long long)b->addr);
    CHECK(b->size == size, "%s BAR%d size 0x%llx", d->addr, i, (unsigned long long)b->size);
    CHECK(b->io == io && b->mem64 == mem64 && b->prefetch == prefetch,
          "%s BAR%d type io=%d mem64=%d prefetch=%d", d->addr, i, b->io, b->mem64, b->prefetch);
}

/* What the sysfs tree and the dump agree on; sizes are 0 where unknown (the dump). */
static void check_common(const struct pci_dev_desc *devs, int n, bool sizes)
{
    const struct pci_dev_desc *i2c = find(devs, n, "0000:00:18.1");
    const struct pci_dev_desc *rtl = find(devs, n, "0000:02:00.0");
    const struct pci_dev_desc *rtl2 = find(devs, n, "0000:03:00.0");
    const struct pci_dev_desc *e1k = find(devs, n, "0000:04:00.0");
    uint64_t k = sizes ? 1 : 0;

    CHECK(n == 4, "%d devices", n);
    CHECK(i2c && rtl && rtl2 && e1k, "a fixture device is missing");
    if (!i2c || !rtl || !rtl2 || !e1k) {
        return;
    }
    CHECK(!strcmp(devs[0].addr, "0000:00:18.1") && !strcmp(devs[3].addr, "0000:04:00.0"),
          "not sorted by address: %s first", devs[0].addr);

    CHECK(i2c->vendor == 0x8086 && i2c->device == 0x0f41, "i2c ids %04x:%04x", i2c->vendor,
          i2c->device);
    CHECK(i2c->subvendor == 0x8086 && i2c->subdevice == 0x7270, "i2c subsystem %04x:%04x",
          i2c->subvendor, i2c->subdevice);
    CHECK(i2c->class_code == 0x0c8000 && i2c->revision == 0x0e, "i2c class 0x%06x rev 0x%02x",
          i2c->class_code, i2c->revision);
    CHECK(!strcmp(i2c->vendor_name, "Intel Corporation"), "vendor name '%s'", i2c->vendor_name);
    CHECK(!strcmp(i2c->device_name,
                  "Atom Processor Z36xxx/Z37xxx Series LPIO2 I2C Controller #1"),
          "device name '%s'", i2c->device_name);
    CHECK(!strcmp(i2c->subsys_name, "Intel Corporation"), "subsystem name '%s'",
          i2c->subsys_name);
    CHECK(!strcmp(i2c->class_name, "Serial bus controller"), "class name '%s'", i2c->class_name);
    check_bar(i2c, 0, 0x90a1c000, 0x1000 * k, false, false, false);
    for (int b = 1; b < PCI_SCAN_NUM_BARS; b++) {
        CHECK(!i2c->bar[b].present, "i2c BAR%d present", b);
    }

    CHECK(rtl->vendor == 0x10ec && rtl->device == 0x8168 && rtl->subvendor == 0x1043 &&
          rtl->subdevice == 0x8554 && rtl->class_code == 0x020000 && rtl->revision == 0x0c,
          "rtl identity");
    CHECK(!strcmp(rtl->subsys_name, "ASUSTeK Computer Inc. H81M-C Motherboard"),
          "rtl subsystem name '%s'", rtl->subsys_name);
    CHECK(!strcmp(rtl->class_name, "Ethernet controller"), "class name '%s'", rtl->class_name);
    check_bar(rtl, 0, 0xe000, 0x100 * k, true, false, false);
    check_bar(rtl, 2, 0xf7c00000, 0x1000 * k, false, true, false);
    check_bar(rtl, 4, 0xf2100000, 0x4000 * k, false, true, true);
    CHECK(!rtl->bar[1].present && !rtl->bar[3].present && !rtl->bar[5].present,
          "rtl: a BAR that is not one (or a 64-bit BAR's upper half)");
    CHECK(rtl2->revision == 0x06 && rtl2->subvendor == 0x10ec && rtl2->subdevice == 0x8168,
          "second rtl identity");
    check_bar(rtl2, 4, 0xf2000000, 0x4000 * k, false, true, true);

    CHECK(e1k->vendor == 0x8086 && e1k->device == 0x10d3 && e1k->subdevice == 0xa01f &&
          e1k->revision == 0, "82574L identity");
    CHECK(!strcmp(e1k->device_name, "82574L Gigabit Network Connection"), "device name '%s'",
          e1k->device_name);
    CHECK(!strcmp(e1k->subsys_name, "Intel Corporation Gigabit CT Desktop Adapter"),
          "subsystem name '%s'", e1k->subsys_name);
    check_bar(e1k, 0, 0xf7a00000, 0x20000 * k, false, false, false);
    check_bar(e1k, 2, 0xc000, 0x20 * k, true, false, false);
    check_bar(e1k, 3, 0xf7a20000, 0x4000 * k, false, false, false);
}

static void test_sysfs_tree(void)
{
    struct pci_dev_desc *devs;
    char err[256];
    int n = 0;

    CHECK(pci_scan(SYSFS, NULL, &devs, &n, err, sizeof(err)) == 0, "%s", err);
    if (n == 0) {
        return;
    }
    check_common(devs, n, true);
    for (int i = 0; i < n; i++) {
        CHECK(devs[i].driver_known, "%s: driver unknown", devs[i].addr);
        for (int b = 0; b < PCI_SCAN_NUM_BARS; b++) {
            CHECK(devs[i].bar[b].size_known, "%s BAR%d: size unknown", devs[i].addr, b);
        }
    }
    CHECK(!strcmp(find(devs, n, "0000:00:18.1")->driver, ""), "i2c has a driver");
    CHECK(!strcmp(find(devs, n, "0000:02:00.0")->driver, ""), "rtl has a driver");
    CHECK(!strcmp(find(devs, n, "0000:03:00.0")->driver, "r8169"), "driver '%s'",
          find(devs, n, "0000:03:00.0")->driver);
    CHECK(!strcmp(find(devs, n, "0000:04:00.0")->driver, "e1000e"), "driver '%s'",
          find(devs, n, "0000:04:00.0")->driver);
    free(devs);
}

static void test_dump(void)
{
    struct pci_dev_desc *devs;
    char err[256];
    int n = 0;

    CHECK(pci_scan(NULL, DUMP, &devs, &n, err, sizeof(err)) == 0, "%s", err);
    if (n == 0) {
        return;
    }
    check_common(devs, n, false);
    for (int i = 0; i < n; i++) {
        CHECK(!devs[i].driver_known && !devs[i].driver[0], "%s: a dump names a driver",
              devs[i].addr);
        for (int b = 0; b < PCI_SCAN_NUM_BARS; b++) {
            CHECK(!devs[i].bar[b].size_known, "%s BAR%d: a dump knows a size", devs[i].addr, b);
        }
    }
    free(devs);
}

static void test_select(void)
{
    struct pci_dev_desc *devs;
    char err[256];
    int n = 0, i;

    CHECK(pci_scan(SYSFS, NULL, &devs, &n, err, sizeof(err)) == 0, "%s", err);
    if (n == 0) {
        return;
    }
    i = pci_scan_select(devs, n, "8086:0f41", err, sizeof(err));
    CHECK(i >= 0 && !strcmp(devs[i].addr, "0000:00:18.1"), "8086:0f41 -> %d", i);
    i = pci_scan_select(devs, n, "8086:10D3", err, sizeof(err));
    CHECK(i >= 0 && !strcmp(devs[i].addr, "0000:04:00.0"), "8086:10D3 -> %d", i);
    i = pci_scan_select(devs, n, "0000:03:00.0", err, sizeof(err));
    CHECK(i >= 0 && !strcmp(devs[i].addr, "0000:03:00.0"), "with domain -> %d", i);
    i = pci_scan_select(devs, n, "02:00.0", err, sizeof(err));
    CHECK(i >= 0 && !strcmp(devs[i].addr, "0000:02:00.0"), "without domain -> %d", i);
    i = pci_scan_select(devs, n, "0:18.1", err, sizeof(err));
    CHECK(i >= 0 && !strcmp(devs[i].addr, "0000:00:18.1"), "short bus -> %d", i);

    CHECK(pci_scan_select(devs, n, "8086:0f42", err, sizeof(err)) == -1, "no such device");
    CHECK(!strcmp(err, "no device 8086:0f42"), "message '%s'", err);
    CHECK(pci_scan_select(devs, n, "00:18.2", err, sizeof(err)) == -1, "no such address");
    CHECK(!strcmp(err, "no device at 0000:00:18.2"), "message '%s'", err);
    CHECK(pci_scan_select(devs, n, "0001:00:18.1", err, sizeof(err)) == -1, "other domain");

    CHECK(pci_scan_select(devs, n, "10ec:8168", err, sizeof(err)) == -1, "two devices match");
    CHECK(!strcmp(err, "2 devices are 10ec:8168: 0000:02:00.0, 0000:03:00.0; give the bus "
                  "address of one instead"), "message '%s'", err);

    static const char *const bad[] = { "", "8086", "8086:", "8086:f41", "0x8086:0f41",
                                       "00:18", "00:20.0", "00:18.8", "zz:00.0", "00:18.1x" };
    for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        CHECK(pci_scan_select(devs, n, bad[k], err, sizeof(err)) == -2, "'%s' accepted",
              bad[k]);
        CHECK(strstr(err, "neither vendor:device") != NULL, "message '%s'", err);
    }
    free(devs);
}

/* tmpdir/NAME with the given content */
static void write_file(const char *name, const char *content)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    CHECK(f != NULL, "cannot write %s", path);
    if (f) {
        fputs(content, f);
        fclose(f);
    }
}

static void make_dir(const char *name)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    CHECK(mkdir(path, 0755) == 0, "mkdir %s", path);
}

static bool scan_fails(const char *sysfs, const char *dump, const char *want, char *err,
                       size_t errlen)
{
    static struct pci_dev_desc sentinel;
    struct pci_dev_desc *devs = &sentinel;
    int n = -1;

    if (pci_scan(sysfs, dump, &devs, &n, err, errlen) == 0) {
        free(devs);
        snprintf(err, errlen, "succeeded with %d devices", n);
        return false;
    }
    return devs == NULL && n == 0 && strstr(err, want) != NULL;
}

static void test_bad_sysfs(void)
{
    char path[256], err[256];

    snprintf(path, sizeof(path), "%s/none", tmpdir);
    CHECK(scan_fails(path, NULL, "/none/devices: No such file or directory", err, sizeof(err)),
          "missing folder: %s", err);
    CHECK(scan_fails("tests/fixtures", NULL, "cannot open tests/fixtures/devices", err,
                     sizeof(err)), "a folder without devices/: %s", err);

    make_dir("empty");
    make_dir("empty/devices");
    snprintf(path, sizeof(path), "%s/empty", tmpdir);
    CHECK(scan_fails(path, NULL, "no PCI device found", err, sizeof(err)), "empty: %s", err);

    make_dir("garbage");
    make_dir("garbage/devices");
    make_dir("garbage/devices/not-a-device");
    snprintf(path, sizeof(path), "%s/garbage", tmpdir);
    CHECK(scan_fails(path, NULL, "not-a-device: not a PCI device", err, sizeof(err)),
          "garbage name: %s", err);

    make_dir("badres");
    make_dir("badres/devices");
    make_dir("badres/devices/0000:00:01.0");
    write_file("badres/devices/0000:00:01.0/resource", "0x1000 0x1fff 0x200\nrubbish\n");
    snprintf(path, sizeof(path), "%s/badres", tmpdir);
    CHECK(scan_fails(path, NULL, "resource, line 2: expected", err, sizeof(err)),
          "garbage resource: %s", err);

    /* a well-formed tree that lacks a file libpci needs: its own error, caught */
    make_dir("novendor");
    make_dir("novendor/devices");
    make_dir("novendor/devices/0000:00:01.0");
    write_file("novendor/devices/0000:00:01.0/resource", "0x1000 0x1fff 0x200\n");
    snprintf(path, sizeof(path), "%s/novendor", tmpdir);
    CHECK(scan_fails(path, NULL, "0000:00:01.0/vendor", err, sizeof(err)), "no vendor: %s",
          err);
}

/* a dangling driver link, as in hand-made trees: the name still comes through */
static void test_dangling_driver_link(void)
{
    char path[256], err[256];
    struct pci_dev_desc *devs;
    int n = 0;
    static const char *const files[][2] = {
        { "vendor", "0x8086\n" }, { "device", "0x0f41\n" }, { "class", "0x0c8000\n" },
        { "revision", "0x0e\n" }, { "irq", "0\n" }, { "subsystem_vendor", "0x8086\n" },
        { "subsystem_device", "0x7270\n" },
        { "resource", "0x0000000090a1c000 0x0000000090a1cfff 0x0000000000040200\n" },
    };

    make_dir("dangling");
    make_dir("dangling/devices");
    make_dir("dangling/devices/0000:00:18.1");
    for (unsigned i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "dangling/devices/0000:00:18.1/%s", files[i][0]);
        write_file(path, files[i][1]);
    }
    snprintf(path, sizeof(path), "%s/dangling/devices/0000:00:18.1/driver", tmpdir);
    CHECK(symlink("../../../../bus/pci/drivers/i2c_designware", path) == 0, "symlink");
    snprintf(path, sizeof(path), "%s/dangling", tmpdir);
    CHECK(pci_scan(path, NULL, &devs, &n, err, sizeof(err)) == 0, "%s", err);
    if (n == 1) {
        CHECK(!strcmp(devs[0].driver, "i2c_designware"), "driver '%s'", devs[0].driver);
        CHECK(devs[0].bar[0].present && devs[0].bar[0].size == 0x1000, "BAR0");
    }
    CHECK(n == 1, "%d devices", n);
    if (n) {
        free(devs);
    }
}

static void test_bad_dump(void)
{
    char path[256], err[256];

    snprintf(path, sizeof(path), "%s/none.txt", tmpdir);
    CHECK(scan_fails(NULL, path, "dump: Cannot open", err, sizeof(err)), "missing: %s", err);

    write_file("malformed.txt", "00:18.1 Serial bus controller: Intel Corporation\n"
               "00: 86 80 41 0f 02 00 00 00 0e 00 80 0c 10 00 80 00\n"
               "10: 00 c0 a1 9g 00 00 00 00 00 00 00 00 00 00 00 00\n");
    snprintf(path, sizeof(path), "%s/malformed.txt", tmpdir);
    CHECK(scan_fails(NULL, path, "malformed.txt: dump: Malformed line", err, sizeof(err)),
          "malformed: %s", err);

    write_file("truncated.txt", "00:18.1 Serial bus controller: Intel Corporation\n"
               "00: 86 80 41 0f 02 00 00 00 0e 00 80 0c 10 00 80 00\n");
    snprintf(path, sizeof(path), "%s/truncated.txt", tmpdir);
    CHECK(scan_fails(NULL, path, "0000:00:18.1: the dump lacks part of its 64-byte config",
                     err, sizeof(err)), "truncated: %s", err);

    write_file("prose.txt", "This is not a dump.\nNeither is this line.\n");
    snprintf(path, sizeof(path), "%s/prose.txt", tmpdir);
    CHECK(scan_fails(NULL, path, "no PCI device found (expected the output of `lspci -x`)", err,
                     sizeof(err)), "prose: %s", err);

    {
        char line[600];

        memset(line, 'x', sizeof(line) - 1);
        line[sizeof(line) - 1] = '\0';
        write_file("long.txt", line);
        snprintf(path, sizeof(path), "%s/long.txt", tmpdir);
        CHECK(scan_fails(NULL, path, "dump: line too long", err, sizeof(err)), "long: %s",
              err);
    }
}

/* libpci's state is per scan: a failure leaves the next scan unharmed */
static void test_scan_after_failure(void)
{
    struct pci_dev_desc *devs;
    char err[256], path[256];
    int n = 0;

    snprintf(path, sizeof(path), "%s/malformed.txt", tmpdir);
    CHECK(pci_scan(NULL, path, &devs, &n, err, sizeof(err)) < 0, "malformed dump accepted");
    CHECK(pci_scan(NULL, DUMP, &devs, &n, err, sizeof(err)) == 0 && n == 4, "then: %s", err);
    if (n) {
        free(devs);
    }
}

int main(void)
{
    char cmd[128];
    int status;

    snprintf(tmpdir, sizeof(tmpdir), "/tmp/regdbg-pci-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN_TEST(test_sysfs_tree);
    RUN_TEST(test_dump);
    RUN_TEST(test_select);
    RUN_TEST(test_bad_sysfs);
    RUN_TEST(test_dangling_driver_link);
    RUN_TEST(test_bad_dump);
    RUN_TEST(test_scan_after_failure);
    status = TEST_SUMMARY();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    return status;
}
