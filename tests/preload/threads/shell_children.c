/* system(), popen()/pclose() and posix_spawn + waitpid from 20 threads at once, each child a
 * shell that waits at a gate, while a ticker thread ticks. Concurrency is counted, not timed: the
 * main thread opens the gate once all calls of a round started and the ticker then moved 3 ticks,
 * so every call had started when the first one returned, and the ticker moved while they all
 * waited. Under the shim (the shells start on the offload pool) a call that blocked the hub would
 * stop the main thread and the ticker: its shell would give up after 10 s (status 124), and the
 * round would print otherwise than natively. Then the details of system() and
 * popen() that must match glibc: system(NULL), exit status encoding, a shell that cannot run a
 * command, SIGINT ignored in the caller while system() runs and the program's handler back
 * afterwards, the shell's signal mask, popen's modes and errors. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <pthread.h>
#include <unistd.h>

#include "../gate.h"

extern char** environ;

enum { kThreads = 20 };

/* The gate the shells of a round (and system_details' shell) wait at. */
static struct gate gate;

static struct overlap calls = OVERLAP_INIT;
static int results[kThreads];

static int by_system(int i) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "%s && exit %d", gate.shell_wait, 10 + i);
    return system(cmd);
}

/* popen "r": the child's line read with read(2) on the stream's descriptor. */
static int by_popen_read(int i) {
    char cmd[128], buf[64];
    snprintf(cmd, sizeof cmd, "%s && echo line %d", gate.shell_wait, i);
    FILE* f = popen(cmd, "r");
    CHECK(f != NULL);
    size_t got = 0;
    ssize_t n;
    while ((n = read(fileno(f), buf + got, sizeof buf - 1 - got)) > 0) got += (size_t)n;
    buf[got] = '\0';
    int status = pclose(f);
    char want[32];
    snprintf(want, sizeof want, "line %d\n", i);
    CHECK(strcmp(buf, want) == 0);
    return status;
}

/* popen "w": the shell reads a line and exits with its length. */
static int by_popen_write(int i) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "read l; %s && exit ${#l}", gate.shell_wait);
    FILE* f = popen(cmd, "w");
    CHECK(f != NULL);
    for (int k = 0; k <= i; ++k) fputc('x', f);
    fputc('\n', f);
    return pclose(f);
}

static int by_posix_spawn(int i) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "%s && exit %d", gate.shell_wait, 20 + i);
    char* argv[] = {"sh", "-c", cmd, NULL};
    pid_t pid;
    CHECK(posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) == 0);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    return status;
}

static int (*current)(int);

static void* worker(void* arg) {
    int i = (int)(long)arg;
    overlap_enter(&calls);
    results[i] = current(i);
    overlap_woke(&calls);
    return NULL;
}

static void round_of(const char* name, int (*call)(int)) {
    pthread_t t[kThreads];
    current = call;
    calls.entered = 0;
    calls.first_wake_saw = -1;
    gate_make(&gate);
    for (long i = 0; i < kThreads; ++i) CHECK(pthread_create(&t[i], NULL, worker, (void*)i) == 0);
    const int ticked = gate_open_after_ticks(&gate, &calls, kThreads);
    for (int i = 0; i < kThreads; ++i) CHECK(pthread_join(t[i], NULL) == 0);
    gate_remove(&gate);
    printf("%s: ticker %s; started when the first returned: %d of %d; statuses", name,
           ticked ? "ticked" : "stalled", calls.first_wake_saw, kThreads);
    for (int i = 0; i < kThreads; ++i) {
        int s = results[i];
        if (WIFEXITED(s))
            printf(" %d", WEXITSTATUS(s));
        else
            printf(" raw %#x", s);
    }
    printf("\n");
}

static volatile sig_atomic_t sigints;
static void on_sigint(int sig) {
    (void)sig;
    ++sigints;
}

static void* system_sleeper(void* arg) {
    (void)arg;
    printf("system(at the gate) = %d\n", system(gate.shell_wait));
    return NULL;
}

static void system_details(void) {
    printf("system(NULL) = %d\n", system(NULL) != 0);
    int s = system("exit 3");
    printf("system(exit 3): exited %d status %d\n", WIFEXITED(s), WEXITSTATUS(s));
    s = system("kill -TERM $$");
    printf("system(kill -TERM $$): signalled %d sig %d\n", WIFSIGNALED(s), WTERMSIG(s));
    s = system("green-no-such-command 2>/dev/null");
    printf("system(no such command): status %d\n", WEXITSTATUS(s));
    fflush(stdout);
    system("grep -E '^Sig(Blk|Ign)' /proc/self/status");

    /* While system() runs in one thread, SIGINT is ignored: the handler does not run, and the
     * disposition seen from another thread is SIG_IGN; afterwards the handler is back. The
     * shell waits at the gate, which opens only after the signal was sent; the disposition is
     * looked at until it is SIG_IGN (a safety net of 10 s, not a speed bound). */
    struct sigaction sa, seen;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    CHECK(sigaction(SIGINT, &sa, NULL) == 0);
    gate_make(&gate);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, system_sleeper, NULL) == 0);
    for (int k = 0; k < 10000; ++k) {
        CHECK(sigaction(SIGINT, NULL, &seen) == 0);
        if (seen.sa_handler == SIG_IGN) break;
        usleep(1000);
    }
    printf("during system: SIGINT %s\n", seen.sa_handler == SIG_IGN ? "ignored" : "handled");
    kill(getpid(), SIGINT);
    usleep(50 * 1000);
    gate_open(&gate);
    CHECK(pthread_join(t, NULL) == 0);
    gate_remove(&gate);
    printf("handler ran %d times during system\n", (int)sigints);
    CHECK(sigaction(SIGINT, NULL, &seen) == 0);
    printf("after system: SIGINT %s\n", seen.sa_handler == on_sigint ? "handled" : "not ours");
    kill(getpid(), SIGINT);
    printf("handler ran %d times after system\n", (int)sigints);
}

static void popen_details(void) {
    const char* modes[] = {"rw", "x", "", "we", "re+"};
    for (int i = 0; i < 5; ++i) {
        errno = 0;
        FILE* f = popen("true", modes[i]);
        int e = errno;
        printf("popen mode '%s': %s errno %s\n", modes[i], f ? "stream" : "NULL",
               e == EINVAL ? "EINVAL" : strerror(e));
        if (f) pclose(f);
    }
    FILE* plain = popen("echo plain", "r");
    FILE* cloexec = popen("echo cloexec", "re");
    CHECK(plain && cloexec);
    printf("popen r: FD_CLOEXEC %d; re: FD_CLOEXEC %d\n",
           fcntl(fileno(plain), F_GETFD) & FD_CLOEXEC,
           fcntl(fileno(cloexec), F_GETFD) & FD_CLOEXEC);
    /* The child of a later popen does not hold an earlier stream's descriptor. */
    char cmd[96];
    snprintf(cmd, sizeof cmd, "test -e /proc/self/fd/%d && echo inherited || echo closed",
             fileno(plain));
    FILE* later = popen(cmd, "r");
    char line[64];
    CHECK(later && fgets(line, sizeof line, later));
    printf("earlier popen stream in a later child: %s", line);
    printf("pclose(later) = %d\n", pclose(later));
    CHECK(fgets(line, sizeof line, plain));
    printf("plain: %s", line);
    CHECK(fgets(line, sizeof line, cloexec));
    printf("cloexec: %s", line);
    printf("pclose = %d %d\n", pclose(plain), pclose(cloexec));
    FILE* f = popen("exit 7", "r");
    int s = pclose(f);
    printf("pclose(exit 7): exited %d status %d\n", WIFEXITED(s), WEXITSTATUS(s));
    /* glibc: fclose of a popen stream is its pclose (called through a pointer: compilers warn
     * of the mismatch, which is what this checks). */
    int (*volatile close_stream)(FILE*) = fclose;
    s = close_stream(popen("exit 5", "r"));
    printf("fclose(popen(exit 5)): exited %d status %d\n", WIFEXITED(s), WEXITSTATUS(s));
}

int main(void) {
    ticker_start();
    round_of("system", by_system);
    round_of("popen r", by_popen_read);
    round_of("popen w", by_popen_write);
    round_of("posix_spawn", by_posix_spawn);
    ticker_finish();
    system_details();
    popen_details();
    return 0;
}
