/* For the dump signal under greenrun: 100 threads block, 25 each in recv, pthread_cond_wait,
 * sleep (usleep in a loop) and waitpid, each in a function of its own that a backtrace must
 * name. The program prints "ready", waits for a line on stdin (the test sends the signal
 * meanwhile), then wakes them all, joins them and prints "done". It knows nothing of green. */
#include <pthread.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common.h"

#define PER_KIND 25

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static volatile int go = 0;

__attribute__((noinline)) static void* blocked_in_recv(void* arg) {
    char c;
    CHECK(recv((int)(intptr_t)arg, &c, 1, 0) == 1);
    return NULL;
}

__attribute__((noinline)) static void* blocked_in_cond_wait(void* arg) {
    pthread_mutex_lock(&mu);
    while (!go) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return arg;
}

__attribute__((noinline)) static void* blocked_in_sleep(void* arg) {
    while (!__atomic_load_n(&go, __ATOMIC_RELAXED)) usleep(20 * 1000);
    return arg;
}

__attribute__((noinline)) static void* blocked_in_waitpid(void* arg) {
    int status = 0;
    CHECK(waitpid((pid_t)(intptr_t)arg, &status, 0) == (pid_t)(intptr_t)arg);
    return NULL;
}

int main(void) {
    pthread_t threads[4 * PER_KIND];
    int socks[PER_KIND][2];
    pid_t children[PER_KIND];
    int n = 0;
    /* The children first: under greenrun a fork copies every fiber of the hub, and a thread
     * already waiting would go on waiting in the child too. */
    for (int i = 0; i < PER_KIND; ++i) {
        children[i] = fork();
        CHECK(children[i] >= 0);
        if (children[i] == 0) {
            pause();
            _exit(0);
        }
    }
    for (int i = 0; i < PER_KIND; ++i) {
        CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, socks[i]) == 0);
        CHECK(pthread_create(&threads[n++], NULL, blocked_in_recv, (void*)(intptr_t)socks[i][0]) ==
              0);
        CHECK(pthread_create(&threads[n++], NULL, blocked_in_cond_wait, NULL) == 0);
        CHECK(pthread_create(&threads[n++], NULL, blocked_in_sleep, NULL) == 0);
        CHECK(pthread_create(&threads[n++], NULL, blocked_in_waitpid,
                             (void*)(intptr_t)children[i]) == 0);
    }
    printf("ready\n");
    fflush(stdout);
    char c; /* read(2), not stdio: glibc's stdio refills its buffer through an internal call */
    CHECK(read(0, &c, 1) == 1);
    pthread_mutex_lock(&mu);
    go = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < PER_KIND; ++i) {
        CHECK(send(socks[i][1], "x", 1, 0) == 1);
        CHECK(kill(children[i], SIGKILL) == 0);
    }
    for (int i = 0; i < n; ++i) CHECK(pthread_join(threads[i], NULL) == 0);
    printf("done\n");
    return 0;
}
