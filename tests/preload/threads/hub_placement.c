/* The placement override of greenrun --hubs N: a thread created with a CPU affinity set in its
 * attributes starts on hub (lowest CPU of the set) mod N. Threads given the same one-CPU set
 * share an OS thread; threads given CPUs 0 and 1 do not (with 2 hubs). Not a native comparison:
 * natively every thread has its own OS thread. Prints the kernel thread ids compared. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common.h"

static void* tid_of(void* arg) {
    (void)arg;
    return (void*)(long)syscall(SYS_gettid);
}

static long start_on(int cpu) {
    pthread_attr_t a;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    CHECK(pthread_attr_init(&a) == 0);
    CHECK(pthread_attr_setaffinity_np(&a, sizeof set, &set) == 0);
    pthread_t t;
    void* tid = NULL;
    CHECK(pthread_create(&t, &a, tid_of, NULL) == 0);
    CHECK(pthread_join(t, &tid) == 0);
    pthread_attr_destroy(&a);
    return (long)tid;
}

int main(void) {
    /* Round robin alone would put consecutive threads on different hubs. */
    const long a = start_on(0), b = start_on(0), c = start_on(1), d = start_on(3);
    printf("cpu 0 and cpu 0 share an OS thread: %s\n", a == b ? "yes" : "no");
    printf("cpu 0 and cpu 1 share an OS thread: %s\n", a == c ? "yes" : "no");
    printf("cpu 1 and cpu 3 share an OS thread: %s\n", c == d ? "yes" : "no");
    return 0;
}
