/*
 * A tiny test harness for the C unit tests: CHECK records a failure with its line and goes on;
 * RUN_TEST prints "ok - NAME" or "not ok - NAME: first failure"; TEST_SUMMARY prints the final
 * "N passed, N failed" line and gives the exit status.
 */
#ifndef REGDBG_TEST_CHECK_H
#define REGDBG_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;
static char check_first_failure[512];

#define CHECK(cond, ...)                                                                  \
    do {                                                                                  \
        if (!(cond) && !check_first_failure[0]) {                                         \
            int check_n_ = snprintf(check_first_failure, sizeof(check_first_failure),     \
                                    "line %d: %s: ", __LINE__, #cond);                    \
            if (check_n_ > 0 && (size_t)check_n_ < sizeof(check_first_failure)) {         \
                snprintf(check_first_failure + check_n_,                                  \
                         sizeof(check_first_failure) - (size_t)check_n_, __VA_ARGS__);    \
            }                                                                             \
        }                                                                                 \
    } while (0)

#define RUN_TEST(fn)                                                                      \
    do {                                                                                  \
        check_first_failure[0] = '\0';                                                    \
        fn();                                                                             \
        if (check_first_failure[0]) {                                                     \
            check_failed++;                                                               \
            printf("not ok - %s: %s\n", #fn, check_first_failure);                        \
        } else {                                                                          \
            check_passed++;                                                               \
            printf("ok - %s\n", #fn);                                                     \
        }                                                                                 \
        fflush(stdout);                                                                   \
    } while (0)

#define TEST_SUMMARY()                                                                    \
    (printf("%d passed, %d failed\n", check_passed, check_failed), check_failed ? 1 : 0)

#endif /* REGDBG_TEST_CHECK_H */
