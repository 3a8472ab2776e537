/* A process-directed signal goes to ONE thread: five threads wait in poll (or sleep in
 * nanosleep) while main blocks SIGUSR1; kill(getpid(), SIGUSR1) interrupts exactly one of
 * them, and the others keep waiting until released. Then pthread_kill interrupts exactly the
 * thread it names. */
#include <poll.h>

#include "common_signals.h"

#define N 5

static volatile sig_atomic_t handled;
static pthread_t handled_in;
static int release[2];
static int results[N];
static pthread_t threads[N];
static volatile int waiting;

static void on_usr1(int sig) {
    (void)sig;
    ++handled;
    handled_in = pthread_self();
}

static void* waiter(void* arg) {
    const int i = (int)(long)arg;
    __sync_fetch_and_add(&waiting, 1);
    struct pollfd p = {release[0], POLLIN, 0};
    const int r = poll(&p, 1, 10000);
    results[i] = r < 0 && errno == EINTR ? -1 : r;
    return NULL;
}

static void round_of(const char* name, int directed) {
    handled = 0;
    waiting = 0;
    CHECK(pipe(release) == 0);
    for (long i = 0; i < N; ++i) CHECK(pthread_create(&threads[i], NULL, waiter, (void*)i) == 0);
    /* The waiters inherit an unblocked SIGUSR1; main then blocks it, so the kernel must give a
     * process-directed one to a waiter. */
    block(SIGUSR1, SIG_BLOCK);
    while (waiting < N) pause_ms(1);
    pause_ms(100); /* all of them are inside poll now */
    if (directed)
        CHECK(pthread_kill(threads[2], SIGUSR1) == 0);
    else
        CHECK(kill(getpid(), SIGUSR1) == 0);
    pause_ms(100);
    CHECK(write(release[1], "x", 1) == 1);
    int eintr = 0, released = 0, target = -1;
    for (int i = 0; i < N; ++i) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        if (results[i] == -1) ++eintr, target = i;
        if (results[i] == 1) ++released;
    }
    printf("%s: EINTR in %d thread(s), released %d, handler ran %d time(s)", name, eintr, released,
           (int)handled);
    if (directed)
        printf(", in thread 2: %d, EINTR in thread 2: %d", pthread_equal(handled_in, threads[2]),
               target == 2);
    else
        printf(", in the interrupted thread: %d",
               target >= 0 && pthread_equal(handled_in, threads[target]));
    printf("\n");
    block(SIGUSR1, SIG_UNBLOCK);
    close(release[0]);
    close(release[1]);
}

int main(void) {
    alarm(20);
    setvbuf(stdout, NULL, _IOLBF, 0);
    install(SIGUSR1, on_usr1, 0);
    round_of("process-directed", 0);
    round_of("pthread_kill", 1);
    return 0;
}
