/* Ways a process ends while threads exist, for comparison natively and under greenrun (where the
   threads are fibers): exit/quick_exit/_exit from a thread, exit while other threads wait, and
   main returning while threads still run. Usage: exit_paths MODE; each mode's output and exit
   status are deterministic natively. */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static sem_t started;

static void at_exit_handler(void) {
    usleep(1000); /* a hooked call while the process exits */
    printf("atexit handler\n");
}

static void at_quick_exit_handler(void) {
    printf("at_quick_exit handler\n");
    fflush(stdout); /* quick_exit does not flush stdio */
}

/* Blocks forever (until the process ends) in a way that parks it under the shim. */
static void* waiter(void* arg) {
    printf("waiter %ld\n", (long)arg);
    fflush(stdout);
    sem_post(&started);
    if ((long)arg % 2)
        sleep(1000);
    else {
        pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
        pthread_cond_t c = PTHREAD_COND_INITIALIZER;
        pthread_mutex_lock(&m);
        for (;;) pthread_cond_wait(&c, &m);
    }
    return NULL;
}

static void start_waiters(int n) {
    pthread_t t;
    for (long i = 0; i < n; ++i) {
        pthread_create(&t, NULL, waiter, (void*)i);
        sem_wait(&started);
    }
}

static void* exiter(void* arg) {
    const char* mode = arg;
    printf("x\n"); /* buffered when stdout is not a terminal: exit must flush it */
    if (strcmp(mode, "exit") == 0 || strcmp(mode, "exit_parked") == 0) exit(3);
    if (strcmp(mode, "quick_exit") == 0) quick_exit(4);
    if (strcmp(mode, "_exit") == 0) {
        fflush(stdout);
        _exit(5);
    }
    return NULL;
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s exit|exit_parked|quick_exit|_exit|main_return\n", argv[0]);
        return 2;
    }
    const char* mode = argv[1];
    sem_init(&started, 0, 0);
    atexit(at_exit_handler);
    at_quick_exit(at_quick_exit_handler);
    printf("main\n");
    if (strcmp(mode, "main_return") == 0) {
        start_waiters(4);
        printf("main returns\n");
        return 6;
    }
    if (strcmp(mode, "exit_parked") == 0) start_waiters(4);
    pthread_t t;
    pthread_create(&t, NULL, exiter, (void*)mode);
    pthread_join(t, NULL);
    printf("not reached\n");
    return 1;
}
