/* pthread_create with an impossible stack size (2^60 bytes) fails with EAGAIN, natively and
   under the shim (where it used to wrap the stack pool's arithmetic and crash); the program
   then goes on creating and joining an ordinary thread. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include "../common.h"

static void* work(void* arg) {
    return (void*)((intptr_t)arg + 1);
}

int main(void) {
    pthread_attr_t a;
    pthread_t t;
    CHECK(pthread_attr_init(&a) == 0);
    CHECK(pthread_attr_setstacksize(&a, (size_t)1 << 60) == 0);
    int rc = pthread_create(&t, &a, work, NULL);
    printf("huge stack: %s\n", rc == EAGAIN ? "EAGAIN" : rc == 0 ? "created" : "other error");
    if (rc == 0) pthread_join(t, NULL);
    pthread_attr_destroy(&a);
    void* ret = NULL;
    CHECK(pthread_create(&t, NULL, work, (void*)41) == 0);
    CHECK(pthread_join(t, &ret) == 0);
    printf("ordinary thread returned %ld\n", (long)(intptr_t)ret);
    return 0;
}
