/* The measurement window the C load generators share (bench/echo/loadgen.c, bench/tls/
 * tls_loadgen.c): their common options, a warm-up followed by a fixed window, and the server's
 * CPU time (utime+stime from /proc) sampled at the window's two ends. */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    double warmup; /* seconds before the window opens */
    double window; /* seconds measured */
    int server_pid;
} LoadOptions;

static inline LoadOptions load_options_default(void) {
    LoadOptions o = {1.0, 3.0, 0};
    return o;
}

/* Takes `--warmup S`, `--window S` and `--server-pid PID`: 1 when `name` was one of them. */
static inline int load_option(LoadOptions* o, const char* name, const char* value) {
    if (!strcmp(name, "--warmup"))
        o->warmup = atof(value);
    else if (!strcmp(name, "--window"))
        o->window = atof(value);
    else if (!strcmp(name, "--server-pid"))
        o->server_pid = atoi(value);
    else
        return 0;
    return 1;
}

static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Thousands of connections need more descriptors than the default soft limit. */
static inline void raise_nofile_limit(void) {
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

/* utime + stime of a whole process, in seconds; -1 if unreadable. */
static inline double process_cpu(int pid) {
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE* f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char* p = strrchr(buf, ')'); /* the command name may contain spaces */
    if (!p) return -1;
    unsigned long utime = 0, stime = 0;
    /* fields after ')': state(3) ... utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

typedef struct {
    uint64_t start, end; /* UINT64_MAX until armed */
    double cpu_start, cpu_end;
    int server_pid;
    int open;
} LoadWindow;

static inline LoadWindow load_window_new(const LoadOptions* o) {
    LoadWindow w = {UINT64_MAX, UINT64_MAX, -1, -1, o->server_pid, 0};
    return w;
}

static inline int load_window_armed(const LoadWindow* w) {
    return w->start != UINT64_MAX;
}

/* Starts the warm-up now: the window opens after it. */
static inline void load_window_arm(LoadWindow* w, const LoadOptions* o, uint64_t now) {
    w->start = now + (uint64_t)(o->warmup * 1e9);
    w->end = w->start + (uint64_t)(o->window * 1e9);
}

enum { WINDOW_BEFORE, WINDOW_OPENED, WINDOW_OPEN, WINDOW_DONE };

/* Called once per loop turn: WINDOW_OPENED on the turn the window opens (reset counters then),
 * WINDOW_DONE once it has closed. */
static inline int load_window_step(LoadWindow* w, uint64_t now) {
    if (now >= w->end) {
        if (w->server_pid) w->cpu_end = process_cpu(w->server_pid);
        return WINDOW_DONE;
    }
    if (w->open) return WINDOW_OPEN;
    if (now < w->start) return WINDOW_BEFORE;
    w->open = 1;
    if (w->server_pid) w->cpu_start = process_cpu(w->server_pid);
    return WINDOW_OPENED;
}

/* The server's CPU seconds inside the window; -1 without a pid or a readable /proc. */
static inline double load_window_server_cpu(const LoadWindow* w) {
    return w->cpu_start >= 0 && w->cpu_end >= 0 ? w->cpu_end - w->cpu_start : -1;
}
