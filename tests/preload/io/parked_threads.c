/* 16 threads parked on a condition variable while main counts the OS threads of the process
   (/proc/self/task) and prints the count: natively 17; with threads patched into fibers 1. */
#include <dirent.h>
#include <pthread.h>

#include "../common.h"

enum { kThreads = 16 };
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int waiting, released;

static void* parked(void* arg) {
    (void)arg;
    pthread_mutex_lock(&mu);
    ++waiting;
    pthread_cond_broadcast(&cv);
    while (!released) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static int count_tasks(void) {
    DIR* d = opendir("/proc/self/task");
    int n = 0;
    CHECK(d != NULL);
    for (struct dirent* e; (e = readdir(d));)
        if (e->d_name[0] != '.') ++n;
    closedir(d);
    return n;
}

int main(void) {
    pthread_t t[kThreads];
    for (int i = 0; i < kThreads; ++i) CHECK(pthread_create(&t[i], NULL, parked, NULL) == 0);
    pthread_mutex_lock(&mu);
    while (waiting < kThreads) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    printf("os_threads=%d\n", count_tasks());
    pthread_mutex_lock(&mu);
    released = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < kThreads; ++i) CHECK(pthread_join(t[i], NULL) == 0);
    printf("joined %d\n", kThreads);
    return 0;
}
