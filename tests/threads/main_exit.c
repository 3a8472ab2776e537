/* pthread_exit from main while threads still run: the process must wait for them and then
   exit normally (status 0, atexit handlers run), with threads patched into fibers. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

static void at_exit(void) {
    printf("atexit\n");
    fflush(stdout);
}

static void* body(void* arg) {
    for (int i = 0; i < 5; ++i) sched_yield();
    printf("thread %ld done\n", (long)arg);
    fflush(stdout);
    return NULL;
}

int main(void) {
    atexit(at_exit);
    pthread_t t[3];
    for (long i = 0; i < 3; ++i) pthread_create(&t[i], NULL, body, (void*)i);
    printf("main exits\n");
    fflush(stdout);
    pthread_exit(NULL);
}
