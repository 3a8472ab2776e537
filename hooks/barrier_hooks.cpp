// pthread barriers and spin locks for fiber threads. A barrier's fibers gather on the side
// table (the thread count comes from libc's barrier object); a spin lock is retried with a
// yield, since spinning on the one OS thread would never let the holder run. Barriers shared
// with real OS threads are not supported when threads are patched.
#include <errno.h>
#include <pthread.h>

#include <cstring>

#include "sync_table.hpp"

namespace green::hooks::sync {
namespace {

// glibc's struct pthread_barrier: in, current_round, count, shared, out (nptl/pthreadP.h).
unsigned barrier_count(const pthread_barrier_t* b) noexcept {
    unsigned n;
    std::memcpy(&n, reinterpret_cast<const char*>(b) + 2 * sizeof(unsigned), sizeof n);
    return n;
}

}  // namespace
}  // namespace green::hooks::sync

using namespace green::hooks;
using namespace green::hooks::sync;

extern "C" {

int pthread_barrier_wait(pthread_barrier_t* b) noexcept {
    const FiberCtx c = fiber_ctx();
    if (!c) return GREEN_REAL(pthread_barrier_wait)(b);
    Table& t = table();
    Pin e(t, b);
    if (++e->count >= barrier_count(b)) {
        e->count = 0;
        ++e->round;
        e->queue.notify_all();
        return PTHREAD_BARRIER_SERIAL_THREAD;
    }
    const auto round = e->round;
    Masked mask(c);
    while (e->round == round) {
        if (mask.wait(e->queue, green::Deadline::never()) == Wake::Deadlock)
            await_outside(c, "pthread_barrier_wait");
    }
    return 0;
}

int pthread_barrier_destroy(pthread_barrier_t* b) noexcept {
    if (Table* t = table_if_any())
        if (!t->forget(b)) return EBUSY;
    return GREEN_REAL(pthread_barrier_destroy)(b);
}

int pthread_spin_lock(pthread_spinlock_t* s) noexcept {
    const FiberCtx c = fiber_ctx();
    if (!c) return GREEN_REAL(pthread_spin_lock)(s);
    Masked mask(c);
    while (GREEN_REAL(pthread_spin_trylock)(s) == EBUSY) {
        mask.guard([&] {
            rt::yield(*c.hub);
            return true;
        });
    }
    return 0;
}

}  // extern "C"
