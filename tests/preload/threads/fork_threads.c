/* fork() from a thread while two others run (a ticker thread, and the main thread counting its
 * own sleeps): natively the child has only the forking thread, so neither count moves in the
 * child while it sleeps through 20 of their periods, and a thread the child creates runs. Under
 * the shim the threads are fibers of one hub, and the child must not run the others either. */
#define _GNU_SOURCE
#include <sys/wait.h>

#include "../ticker.h"

static volatile long main_count;
static volatile int forker_done;

static void* set_flag(void* flag) {
    *(volatile int*)flag = 1;
    return NULL;
}

static void* forker(void* arg) {
    (void)arg;
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        long ticks = ticks_now(), counted = main_count;
        usleep(100 * 1000);
        int ticker_moved_on = ticks_now() != ticks, main_moved_on = main_count != counted;
        volatile int ran = 0;
        pthread_t t;
        CHECK(pthread_create(&t, NULL, set_flag, (void*)&ran) == 0);
        CHECK(pthread_join(t, NULL) == 0);
        printf("child: the ticker went on: %s, the main thread went on: %s, a new thread ran: %s\n",
               ticker_moved_on ? "yes" : "no", main_moved_on ? "yes" : "no", ran ? "yes" : "no");
        fflush(stdout);
        _exit(7);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    printf("parent: child exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    __atomic_store_n(&forker_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

int main(void) {
    alarm(60);
    setvbuf(stdout, NULL, _IOLBF, 0);
    ticker_start();
    CHECK(ticker_moved(ticks_now(), 2));
    pthread_t t;
    CHECK(pthread_create(&t, NULL, forker, NULL) == 0);
    while (!__atomic_load_n(&forker_done, __ATOMIC_ACQUIRE)) {
        usleep(5 * 1000);
        main_count = main_count + 1;
    }
    CHECK(pthread_join(t, NULL) == 0);
    printf("parent: the ticker still runs: %s\n", ticker_moved(ticks_now(), 2) ? "yes" : "no");
    ticker_finish();
    return 0;
}
