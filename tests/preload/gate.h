/* A gate that the preload test programs' children wait at until the program opens it, so a
 * child ends by an event, never after a sleep: a pipe whose read end the children inherit (its
 * write end is close-on-exec). Opening writes a byte (readable for forked children, which may
 * hold copies of the write end) and closes the write end (end of file for a shell's `cat`). A
 * child gives up after 10 s (a safety net, not a speed bound): a program that never opened the
 * gate then prints otherwise (the child's exit status) instead of hanging. */
#ifndef PRELOAD_GATE_H
#define PRELOAD_GATE_H

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"
#include "overlap.h"
#include "ticker.h"

struct gate {
    int rd, wr;
    char shell_wait[64]; /* a shell command that waits at the gate: true once it opened, or 124 */
};

static inline void gate_make(struct gate* g) {
    int p[2];
    CHECK(pipe(p) == 0);
    g->rd = p[0];
    g->wr = p[1];
    CHECK(fcntl(g->wr, F_SETFD, FD_CLOEXEC) == 0);
    snprintf(g->shell_wait, sizeof g->shell_wait, "timeout 10 cat /dev/fd/%d >/dev/null", g->rd);
}

static inline void gate_open(struct gate* g) {
    CHECK(write(g->wr, "o", 1) == 1);
    close(g->wr);
}

/* Opens the gate once n waiters checked in at o (if o; a safety net of 10 s, not a speed bound)
 * and the ticker then moved 3 ticks, so they all waited while it ticked: 1 when it moved, else 0.
 * Under the shim a wait that held the hub would stop this thread and the ticker both: its child
 * would give up at the gate instead. */
static inline int gate_open_after_ticks(struct gate* g, struct overlap* o, int n) {
    for (int k = 0; o && k < 10000 && overlap_entered(o) < n; ++k) usleep(1000);
    const int ticked = ticker_moved(ticks_now(), 3);
    gate_open(g);
    return ticked;
}

/* After the children ended. */
static inline void gate_remove(struct gate* g) {
    close(g->rd);
}

/* In a forked child, with raw system calls (nothing the parent's threads share): 1 once the
 * gate opened, 0 after 10 s. */
static inline int gate_wait_in_forked_child(const struct gate* g) {
    struct pollfd pfd = {g->rd, POLLIN, 0};
    struct timespec limit = {10, 0};
    return syscall(SYS_ppoll, &pfd, 1, &limit, NULL, 8) == 1;
}

#endif
