// C11 <threads.h> onto the pthread hooks. glibc implements thrd_*, mtx_*, cnd_*, tss_* and
// call_once with direct calls to its own pthread internals, which no interposer sees: without
// these, a C11 program's threads would stay real threads and its waits would block the OS
// thread. Each function maps to its pthread twin (hooked in the neighbouring files).
#include <errno.h>
#include <pthread.h>
#include <threads.h>
#include <time.h>

#include <cstdint>
#include <new>

namespace {

int c11_result(int err) noexcept {
    switch (err) {
        case 0:
            return thrd_success;
        case ENOMEM:
        case EAGAIN:
            return thrd_nomem;
        case ETIMEDOUT:
            return thrd_timedout;
        case EBUSY:
            return thrd_busy;
        default:
            return thrd_error;
    }
}

pthread_mutex_t* as_pthread(mtx_t* m) noexcept {
    return reinterpret_cast<pthread_mutex_t*>(m);
}
pthread_cond_t* as_pthread(cnd_t* c) noexcept {
    return reinterpret_cast<pthread_cond_t*>(c);
}

struct Start {
    thrd_start_t fn;
    void* arg;
};

void* run_c11(void* p) {
    Start s = *static_cast<Start*>(p);
    delete static_cast<Start*>(p);
    return reinterpret_cast<void*>(static_cast<std::intptr_t>(s.fn(s.arg)));
}

}  // namespace

extern "C" {

int thrd_create(thrd_t* thr, thrd_start_t fn, void* arg) {
    auto* start = new (std::nothrow) Start{fn, arg};
    if (!start) return thrd_nomem;
    const int rc = pthread_create(thr, nullptr, run_c11, start);
    if (rc != 0) delete start;
    return c11_result(rc);
}

int thrd_equal(thrd_t a, thrd_t b) {
    return pthread_equal(a, b);
}

thrd_t thrd_current() {
    return pthread_self();
}

int thrd_sleep(const struct timespec* duration, struct timespec* remaining) {
    if (nanosleep(duration, remaining) == 0) return 0;
    return errno == EINTR ? -1 : -2;
}

void thrd_exit(int res) {
    pthread_exit(reinterpret_cast<void*>(static_cast<std::intptr_t>(res)));
}

int thrd_detach(thrd_t thr) {
    return c11_result(pthread_detach(thr));
}

int thrd_join(thrd_t thr, int* res) {
    void* ret = nullptr;
    const int rc = pthread_join(thr, &ret);
    if (rc == 0 && res) *res = static_cast<int>(reinterpret_cast<std::intptr_t>(ret));
    return c11_result(rc);
}

void thrd_yield() {
    sched_yield();
}

int mtx_init(mtx_t* m, int type) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    switch (type) {
        case mtx_plain | mtx_recursive:
        case mtx_timed | mtx_recursive:
            pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
            break;
        case mtx_plain:
        case mtx_timed:
            break;
        default:
            pthread_mutexattr_destroy(&attr);
            return thrd_error;
    }
    const int rc = pthread_mutex_init(as_pthread(m), &attr);
    pthread_mutexattr_destroy(&attr);
    return c11_result(rc);
}

int mtx_lock(mtx_t* m) {
    return c11_result(pthread_mutex_lock(as_pthread(m)));
}

int mtx_timedlock(mtx_t* __restrict m, const struct timespec* __restrict abstime) {
    return c11_result(pthread_mutex_timedlock(as_pthread(m), abstime));
}

int mtx_trylock(mtx_t* m) {
    return c11_result(pthread_mutex_trylock(as_pthread(m)));
}

int mtx_unlock(mtx_t* m) {
    return c11_result(pthread_mutex_unlock(as_pthread(m)));
}

void mtx_destroy(mtx_t* m) {
    pthread_mutex_destroy(as_pthread(m));
}

void call_once(once_flag* flag, void (*fn)()) {
    static_assert(sizeof(once_flag) == sizeof(pthread_once_t));
    pthread_once(reinterpret_cast<pthread_once_t*>(flag), fn);
}

int cnd_init(cnd_t* c) {
    return c11_result(pthread_cond_init(as_pthread(c), nullptr));
}

int cnd_signal(cnd_t* c) {
    return c11_result(pthread_cond_signal(as_pthread(c)));
}

int cnd_broadcast(cnd_t* c) {
    return c11_result(pthread_cond_broadcast(as_pthread(c)));
}

int cnd_wait(cnd_t* c, mtx_t* m) {
    return c11_result(pthread_cond_wait(as_pthread(c), as_pthread(m)));
}

int cnd_timedwait(cnd_t* __restrict c, mtx_t* __restrict m,
                  const struct timespec* __restrict abstime) {
    return c11_result(pthread_cond_timedwait(as_pthread(c), as_pthread(m), abstime));
}

void cnd_destroy(cnd_t* c) {
    pthread_cond_destroy(as_pthread(c));
}

int tss_create(tss_t* key, tss_dtor_t dtor) {
    return c11_result(pthread_key_create(key, dtor));
}

void* tss_get(tss_t key) {
    return pthread_getspecific(key);
}

int tss_set(tss_t key, void* value) {
    return c11_result(pthread_setspecific(key, value));
}

void tss_delete(tss_t key) {
    pthread_key_delete(key);
}

}  // extern "C"
