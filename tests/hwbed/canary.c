/*
 * tests/hwbed/canary.c: hwbed-canary, a page of the test bed's Linux guest that a stray DMA would
 * overwrite. It takes one page of its own memory, pinned (mlock), fills it with 0xc5, prints
 * "canary 0xPHYS" (its physical address, from /proc/self/pagemap: root only) and waits for
 * SIGUSR1 (or SIGTERM); then it prints "canary changed=N first=K" (N bytes differ from 0xc5, the
 * first at K, -1 when none) and "canary moved" if the page's physical address is another now, and
 * exits 0. tests/hwbed/init gives the address to the inner firmware as the destination of a
 * transfer from edu, with dma= unset: with the host's bus master off, the page must not change.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CANARY 0xc5

static uint64_t phys(const void *va, long page)
{
    uint64_t entry = 0;
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

    if (fd < 0 || pread(fd, &entry, 8, (off_t)((uintptr_t)va / page * 8)) != 8) {
        perror("hwbed-canary: /proc/self/pagemap");
        return 0;
    }
    close(fd);
    /* bit 63: present; bits 0-54: the page frame (0 for a process without CAP_SYS_ADMIN) */
    if (!(entry >> 63) || !(entry & ((1ull << 55) - 1))) {
        fprintf(stderr, "hwbed-canary: no physical address (not root?)\n");
        return 0;
    }
    return (entry & ((1ull << 55) - 1)) * (uint64_t)page;
}

int main(void)
{
    long page = sysconf(_SC_PAGESIZE);
    sigset_t set;
    int sig;
    uint8_t *p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    uint64_t pa, changed = 0;
    long first = -1;

    if (p == MAP_FAILED || mlock(p, (size_t)page) < 0) {
        perror("hwbed-canary: a pinned page");
        return 1;
    }
    memset(p, CANARY, (size_t)page);
    pa = phys(p, page);
    if (!pa) {
        return 1;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    printf("canary 0x%llx\n", (unsigned long long)pa);
    fflush(stdout);
    sigwait(&set, &sig);
    for (long i = 0; i < page; i++) {
        if (((volatile uint8_t *)p)[i] != CANARY) {
            changed++;
            if (first < 0) {
                first = i;
            }
        }
    }
    printf("canary changed=%llu first=%ld\n", (unsigned long long)changed, first);
    if (phys(p, page) != pa) {
        printf("canary moved\n");
    }
    return 0;
}
