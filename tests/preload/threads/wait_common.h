/* Shared by the waitpid programs: children that exit after a while without touching anything
 * the parent's threads share (a raw nanosleep, then _exit). */
#ifndef WAIT_COMMON_H
#define WAIT_COMMON_H

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common.h"

/* fork a child that sleeps ms milliseconds, then exits with code. */
static inline pid_t child_exiting(int ms, int code) {
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        syscall(SYS_nanosleep, &ts, NULL);
        _exit(code);
    }
    return pid;
}

#endif
