/* Robust and priority-inheritance mutexes between threads: a holder that
 * sleeps while another thread waits (under the shim these once went to libc, which blocked the
 * only OS thread for good), owners that exit holding a robust mutex (EOWNERDEAD to the next
 * locker, pthread_mutex_consistent, ENOTRECOVERABLE), the error-checking and recursive types
 * combined with them, a condition wait that re-takes a dead owner's mutex, and process-shared
 * robust mutexes in shared memory held by a thread or a child process that dies. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common.h"

static const char* err_name(int rc) {
    switch (rc) {
        case 0:
            return "0";
        case EBUSY:
            return "EBUSY";
        case EDEADLK:
            return "EDEADLK";
        case EPERM:
            return "EPERM";
        case EOWNERDEAD:
            return "EOWNERDEAD";
        case ENOTRECOVERABLE:
            return "ENOTRECOVERABLE";
        case EINVAL:
            return "EINVAL";
        case ETIMEDOUT:
            return "ETIMEDOUT";
        default:
            return strerror(rc);
    }
}

static void make(pthread_mutex_t* m, int type, int robust, int protocol, int pshared) {
    pthread_mutexattr_t a;
    CHECK(pthread_mutexattr_init(&a) == 0);
    CHECK(pthread_mutexattr_settype(&a, type) == 0);
    if (robust) CHECK(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) == 0);
    CHECK(pthread_mutexattr_setprotocol(&a, protocol) == 0);
    if (pshared) CHECK(pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) == 0);
    CHECK(pthread_mutex_init(m, &a) == 0);
    pthread_mutexattr_destroy(&a);
}

static pthread_t spawn(void* (*fn)(void*), void* arg) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, fn, arg) == 0);
    return t;
}

/* ---- a holder sleeps, another thread waits ------------------------------------------- */
static pthread_mutex_t* shared_m;
static int holder_inside;

static void* hold_100ms(void* arg) {
    (void)arg;
    CHECK(pthread_mutex_lock(shared_m) == 0);
    holder_inside = 1;
    usleep(100 * 1000);
    holder_inside = 0;
    CHECK(pthread_mutex_unlock(shared_m) == 0);
    return NULL;
}

static void* lock_after_holder(void* arg) {
    (void)arg;
    usleep(20 * 1000);
    int rc = pthread_mutex_lock(shared_m);
    printf("  waiter: lock -> %s, holder still inside: %d\n", err_name(rc), holder_inside);
    if (rc == 0) pthread_mutex_unlock(shared_m);
    return NULL;
}

static void contended(const char* what, int type, int robust, int protocol) {
    pthread_mutex_t m;
    make(&m, type, robust, protocol, 0);
    shared_m = &m;
    printf("%s: holder sleeps 100 ms, waiter locks\n", what);
    pthread_t a = spawn(hold_100ms, NULL), b = spawn(lock_after_holder, NULL);
    CHECK(pthread_join(a, NULL) == 0);
    CHECK(pthread_join(b, NULL) == 0);
    printf("  trylock -> %s\n", err_name(pthread_mutex_trylock(&m)));
    CHECK(pthread_mutex_unlock(&m) == 0);
    CHECK(pthread_mutex_destroy(&m) == 0);
}

/* ---- owners that die holding a robust mutex ------------------------------------------ */
static void* lock_and_exit(void* arg) {
    printf("  owner: lock -> %s, exits holding it\n", err_name(pthread_mutex_lock(arg)));
    return NULL;
}

static void* lock_twice_and_exit(void* arg) {
    int a = pthread_mutex_lock(arg), b = pthread_mutex_lock(arg);
    printf("  owner: lock, lock -> %s, %s, exits holding it\n", err_name(a), err_name(b));
    return NULL;
}

static void* lock_sleep_exit(void* arg) {
    CHECK(pthread_mutex_lock(arg) == 0);
    usleep(50 * 1000);
    return NULL; /* the waiter blocked meanwhile */
}

static void* try_unlock(void* arg) {
    printf("  other thread: unlock -> %s\n", err_name(pthread_mutex_unlock(arg)));
    return NULL;
}

static void owner_dies(const char* what, int type, int protocol) {
    pthread_mutex_t m;
    make(&m, type, 1, protocol, 0);
    printf("%s: owner exits holding it\n", what);
    CHECK(pthread_join(
              spawn(type == PTHREAD_MUTEX_RECURSIVE ? lock_twice_and_exit : lock_and_exit, &m),
              NULL) == 0);
    printf("  lock -> %s\n", err_name(pthread_mutex_lock(&m)));
    if (type == PTHREAD_MUTEX_RECURSIVE) {
        printf("  lock again -> %s\n", err_name(pthread_mutex_lock(&m)));
        printf("  unlock -> %s\n", err_name(pthread_mutex_unlock(&m)));
    }
    printf("  unlock without consistent -> %s\n", err_name(pthread_mutex_unlock(&m)));
    printf("  lock -> %s\n", err_name(pthread_mutex_lock(&m)));
    printf("  trylock -> %s\n", err_name(pthread_mutex_trylock(&m)));
    CHECK(pthread_mutex_destroy(&m) == 0);

    make(&m, type, 1, protocol, 0);
    CHECK(pthread_join(spawn(lock_and_exit, &m), NULL) == 0);
    printf("  trylock -> %s\n", err_name(pthread_mutex_trylock(&m)));
    printf("  consistent -> %s\n", err_name(pthread_mutex_consistent(&m)));
    printf("  consistent again -> %s\n", err_name(pthread_mutex_consistent(&m)));
    if (type == PTHREAD_MUTEX_ERRORCHECK) {
        printf("  relock -> %s\n", err_name(pthread_mutex_lock(&m)));
        printf("  trylock by the owner -> %s\n", err_name(pthread_mutex_trylock(&m)));
    }
    pthread_t t = spawn(try_unlock, &m);
    CHECK(pthread_join(t, NULL) == 0);
    printf("  unlock -> %s\n", err_name(pthread_mutex_unlock(&m)));
    printf("  lock -> %s\n", err_name(pthread_mutex_lock(&m)));
    printf("  unlock -> %s\n", err_name(pthread_mutex_unlock(&m)));

    /* A waiter blocked while the owner dies. */
    pthread_t o = spawn(lock_sleep_exit, &m);
    usleep(10 * 1000);
    printf("  blocked waiter: lock -> %s\n", err_name(pthread_mutex_lock(&m)));
    CHECK(pthread_join(o, NULL) == 0);
    CHECK(pthread_mutex_consistent(&m) == 0);
    CHECK(pthread_mutex_unlock(&m) == 0);
    /* An owner that was told EOWNERDEAD dies without making it consistent: the next locker
       is told again. */
    CHECK(pthread_join(spawn(lock_and_exit, &m), NULL) == 0);
    CHECK(pthread_join(spawn(lock_and_exit, &m), NULL) == 0);
    printf("  after a second death: lock -> %s\n", err_name(pthread_mutex_lock(&m)));
    CHECK(pthread_mutex_consistent(&m) == 0);
    CHECK(pthread_mutex_unlock(&m) == 0);
    CHECK(pthread_mutex_destroy(&m) == 0);
}

/* ---- a condition wait whose mutex owner dies ----------------------------------------- */
static pthread_mutex_t cm;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready;

static void* signal_and_die(void* arg) {
    (void)arg;
    usleep(20 * 1000);
    CHECK(pthread_mutex_lock(&cm) == 0);
    ready = 1;
    pthread_cond_signal(&cv);
    return NULL; /* exits holding cm */
}

static void cond_owner_dies(void) {
    make(&cm, PTHREAD_MUTEX_NORMAL, 1, PTHREAD_PRIO_NONE, 0);
    printf("condition wait, the signalling thread exits holding the robust mutex\n");
    CHECK(pthread_mutex_lock(&cm) == 0);
    pthread_t t = spawn(signal_and_die, NULL);
    int rc = 0;
    while (!ready && rc == 0) rc = pthread_cond_wait(&cv, &cm);
    CHECK(pthread_join(t, NULL) == 0);
    printf("  cond_wait -> %s, ready %d\n", err_name(rc), ready);
    if (rc == EOWNERDEAD) CHECK(pthread_mutex_consistent(&cm) == 0);
    CHECK(pthread_mutex_unlock(&cm) == 0);
}

/* ---- process-shared robust mutexes in shared memory ---------------------------------- */
static void process_shared(void) {
    pthread_mutex_t* m =
        mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    make(m, PTHREAD_MUTEX_NORMAL, 1, PTHREAD_PRIO_NONE, 1);
    printf("process-shared robust: holder sleeps 100 ms, waiter locks\n");
    shared_m = m;
    pthread_t a = spawn(hold_100ms, NULL), b = spawn(lock_after_holder, NULL);
    CHECK(pthread_join(a, NULL) == 0);
    CHECK(pthread_join(b, NULL) == 0);

    printf("process-shared robust: a child process locks it and dies\n");
    int locked[2];
    CHECK(pipe(locked) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (pthread_mutex_lock(m) != 0) _exit(2);
        if (write(locked[1], "l", 1) != 1) _exit(3); /* the parent locks only after this */
        usleep(50 * 1000);
        _exit(0);
    }
    char c;
    CHECK(read(locked[0], &c, 1) == 1);
    close(locked[0]);
    close(locked[1]);
    printf("  parent: lock -> %s\n", err_name(pthread_mutex_lock(m)));
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    printf("  consistent -> %s\n", err_name(pthread_mutex_consistent(m)));
    CHECK(pthread_mutex_unlock(m) == 0);

    printf("process-shared robust: a thread exits holding it\n");
    CHECK(pthread_join(spawn(lock_and_exit, m), NULL) == 0);
    printf("  lock -> %s\n", err_name(pthread_mutex_lock(m)));
    CHECK(pthread_mutex_consistent(m) == 0);
    CHECK(pthread_mutex_unlock(m) == 0);
    CHECK(pthread_mutex_destroy(m) == 0);
    munmap(m, sizeof *m);
}

/* ---- the main thread leaves with pthread_exit holding one ---------------------------- */
static pthread_mutex_t main_held;

static void* lock_after_main_left(void* arg) {
    (void)arg;
    usleep(20 * 1000);
    printf("main left holding it: lock -> %s\n", err_name(pthread_mutex_lock(&main_held)));
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    contended("robust", PTHREAD_MUTEX_NORMAL, 1, PTHREAD_PRIO_NONE);
    contended("robust error-checking", PTHREAD_MUTEX_ERRORCHECK, 1, PTHREAD_PRIO_NONE);
    contended("robust recursive", PTHREAD_MUTEX_RECURSIVE, 1, PTHREAD_PRIO_NONE);
    contended("priority-inheritance", PTHREAD_MUTEX_NORMAL, 0, PTHREAD_PRIO_INHERIT);
    contended("priority-inheritance error-checking", PTHREAD_MUTEX_ERRORCHECK, 0,
              PTHREAD_PRIO_INHERIT);
    contended("priority-inheritance recursive", PTHREAD_MUTEX_RECURSIVE, 0, PTHREAD_PRIO_INHERIT);
    contended("robust priority-inheritance", PTHREAD_MUTEX_NORMAL, 1, PTHREAD_PRIO_INHERIT);
    owner_dies("robust", PTHREAD_MUTEX_NORMAL, PTHREAD_PRIO_NONE);
    owner_dies("robust error-checking", PTHREAD_MUTEX_ERRORCHECK, PTHREAD_PRIO_NONE);
    owner_dies("robust recursive", PTHREAD_MUTEX_RECURSIVE, PTHREAD_PRIO_NONE);
    owner_dies("robust priority-inheritance", PTHREAD_MUTEX_NORMAL, PTHREAD_PRIO_INHERIT);
    cond_owner_dies();
    process_shared();

    make(&main_held, PTHREAD_MUTEX_NORMAL, 1, PTHREAD_PRIO_NONE, 0);
    CHECK(pthread_mutex_lock(&main_held) == 0);
    spawn(lock_after_main_left, NULL);
    pthread_exit(NULL); /* the process ends when that thread does */
}
