/* Shared memory between processes (seed 001's Value): a counter in a MAP_SHARED page with a
 * process-shared mutex beside it; several children add to it at once and the parent reads the
 * total after joining them. Without the mutex updates would be lost.
 * usage: shared_counter [children] [increments]   (defaults 4 and 10000) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared {
    pthread_mutex_t lock;
    long value;
};

int main(int argc, char** argv) {
    long children = argc > 1 ? atol(argv[1]) : 4, increments = argc > 2 ? atol(argv[2]) : 10000;
    struct shared* shm =
        mmap(NULL, sizeof *shm, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shm == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&shm->lock, &attr);
    shm->value = 5000; /* money = Value('i', 5000) */

    for (long c = 0; c < children; ++c) {
        if (fork() == 0) {
            for (long i = 0; i < increments; ++i) {
                pthread_mutex_lock(&shm->lock);
                long v = shm->value; /* a read-modify-write the lock keeps whole */
                if ((i & 255) == 0) sched_yield();
                shm->value = v + 1;
                pthread_mutex_unlock(&shm->lock);
            }
            _exit(0);
        }
    }
    int ok = 1;
    for (long c = 0; c < children; ++c) {
        int status = 0;
        if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) ok = 0;
    }
    printf("余额: %ld (5000 + %ld x %ld)\n", shm->value, children, increments);
    return ok && shm->value == 5000 + children * increments ? 0 : 1;
}
