/* Shared bits of the I/O preload programs: plain C, nothing of green. The OS thread count goes
 * to stderr ("info: os_threads=N") so the harness can check it under the shim while stdout stays
 * identical to a native run. */
#ifndef PRELOAD_IO_COMMON_H
#define PRELOAD_IO_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int os_threads(void) {
    FILE* f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "Threads:", 8) == 0) n = atoi(line + 8);
    fclose(f);
    return n;
}

static inline void report_os_threads(void) {
    fprintf(stderr, "info: os_threads=%d\n", os_threads());
}

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

#endif
