// One-time initialisation that must not block the OS thread: pthread_once (std::call_once sits
// on it) and C++ static-local guards (__cxa_guard_*). libc and libstdc++ make a second caller
// sleep on a futex while the first initialises; if the first is a fiber that blocks inside the
// initialiser, that futex sleep would stop every fiber. Here a fiber waits on the side table
// instead. The memory protocols are libc's and libstdc++'s own, so real threads still mix in.
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cxxabi.h>

#include <climits>
#include <cstdint>
#include <mutex>

#include "hub_set.hpp"
#include "sync_table.hpp"

namespace green::hooks::sync {

namespace {

// glibc's pthread_once states (nptl/pthread_once.c), fork generation 0.
constexpr int kOnceInProgress = 1;
constexpr int kOnceDone = 2;
// libstdc++'s guard word (libsupc++/guard.cc, futex variant): first byte = initialised.
constexpr int kGuardDone = 1;
constexpr int kGuardPending = 1 << 8;
constexpr int kGuardWaiting = 1 << 16;

void futex_wake_all(int* word) noexcept {
    ::syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

void notify_waiters(const void* obj) noexcept {
    if (Table* t = table_if_any())
        if (Entry* e = t->find(obj)) e->queue.notify_all();
    hubs::wake_elsewhere(obj);
}

// Waits until `word` leaves the in-progress state `busy` (a bit mask). The initialiser may be a
// real thread, which cannot notify us, so the wait also polls.
template <class Busy>
void wait_while(FiberCtx c, int* word, Busy busy, const char* what) noexcept {
    Table& t = table();
    Pin e(t, word);
    hubs::Elsewhere away(word);  // counted before the first look: another hub's end wakes us
    Masked mask(c);
    Backoff backoff;
    while (busy(__atomic_load_n(word, __ATOMIC_ACQUIRE))) {
        if (mask.wait(e->queue, backoff.next(Deadline::never())) == Wake::Deadlock)
            await_outside(c, what);
    }
}

}  // namespace

}  // namespace green::hooks::sync

using namespace green::hooks::sync;

extern "C" {

int pthread_once(pthread_once_t* once, void (*init)()) {
    if (__atomic_load_n(once, __ATOMIC_ACQUIRE) & kOnceDone) return 0;
    const FiberCtx c = fiber_ctx();
    if (!c) return GREEN_REAL(pthread_once)(once, init);
#if defined(__GLIBCXX__) && defined(_GLIBCXX_HAVE_TLS)
    // std::call_once passes its callable in two thread_locals of libstdc++, which other fibers'
    // call_once overwrite while this one waits: restore this caller's before running `init`.
    void* const callable = std::__once_callable;
    void (*const call)() = std::__once_call;
    struct Restore {
        void* callable;
        void (*call)();
        void operator()() const {
            std::__once_callable = callable;
            std::__once_call = call;
        }
    } restore{callable, call};
#else
    auto restore = [] {};
#endif
    for (;;) {
        int v = __atomic_load_n(once, __ATOMIC_ACQUIRE);
        if (v & kOnceDone) return 0;
        if (!(v & kOnceInProgress)) {
            if (__atomic_compare_exchange_n(once, &v, kOnceInProgress, false, __ATOMIC_ACQUIRE,
                                            __ATOMIC_ACQUIRE))
                break;
            continue;
        }
        wait_while(
            c, once, [](int w) { return (w & kOnceInProgress) && !(w & kOnceDone); },
            "pthread_once");
    }
    // The initialiser may throw (std::call_once): the state goes back to "not run", as in libc.
    struct Finish {
        pthread_once_t* once;
        int state = 0;
        ~Finish() {
            __atomic_store_n(once, state, __ATOMIC_RELEASE);
            futex_wake_all(once);
            notify_waiters(once);
        }
    } finish{once};
    restore();
    init();
    finish.state = kOnceDone;
    return 0;
}

}  // extern "C"

// libstdc++ declares the guard functions in __cxxabiv1; these definitions are the same ones.
namespace __cxxabiv1 {
extern "C" {

int __cxa_guard_acquire(__guard* g) {
    if (__atomic_load_n(reinterpret_cast<char*>(g), __ATOMIC_ACQUIRE)) return 0;
    // fiber_ctx() reads the patch configuration, itself a static local: its guard comes back
    // here, and must go to libstdc++.
    static thread_local bool t_deciding __attribute__((tls_model("initial-exec"))) = false;
    FiberCtx c;
    if (!t_deciding) {
        t_deciding = true;
        c = fiber_ctx();
        t_deciding = false;
    }
    if (!c) {
        // A plain slot, not a static local: its own guard would come back here.
        using Fn = int (*)(__guard*);
        static constinit Fn real = nullptr;
        Fn f = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
        if (!f) {
            f = reinterpret_cast<Fn>(green::hooks::next_symbol("__cxa_guard_acquire"));
            __atomic_store_n(&real, f, __ATOMIC_RELEASE);
        }
        return f(g);
    }
    int* word = reinterpret_cast<int*>(g);
    for (;;) {
        int expected = 0;
        if (__atomic_compare_exchange_n(word, &expected, kGuardPending, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            return 1;
        if (expected & kGuardDone) return 0;
        wait_while(
            c, word, [](int w) { return (w & kGuardPending) && !(w & kGuardDone); },
            "static initialisation");
    }
}

void __cxa_guard_release(__guard* g) noexcept {
    int* word = reinterpret_cast<int*>(g);
    if (__atomic_exchange_n(word, kGuardDone, __ATOMIC_ACQ_REL) & kGuardWaiting)
        futex_wake_all(word);
    notify_waiters(word);
}

void __cxa_guard_abort(__guard* g) noexcept {
    int* word = reinterpret_cast<int*>(g);
    if (__atomic_exchange_n(word, 0, __ATOMIC_ACQ_REL) & kGuardWaiting) futex_wake_all(word);
    notify_waiters(word);
}

}  // extern "C"
}  // namespace __cxxabiv1
