// pthread barriers and spin locks for fiber threads. A barrier's fibers gather on the side
// table (the thread count comes from libc's barrier object; with several hubs a process-wide
// count); a spin lock is retried with a yield, since spinning on the one OS thread would never
// let the holder run. Barriers shared with real OS threads are not supported when threads are
// patched.
#include <errno.h>
#include <pthread.h>

#include <cstring>
#include <mutex>

#include "hub_set.hpp"
#include "spin_lock.hpp"
#include "sync_table.hpp"

namespace green::hooks::sync {
namespace {

// glibc's struct pthread_barrier: in, current_round, count, shared, out (nptl/pthreadP.h).
unsigned barrier_count(const pthread_barrier_t* b) noexcept {
    unsigned n;
    std::memcpy(&n, reinterpret_cast<const char*>(b) + 2 * sizeof(unsigned), sizeof n);
    return n;
}

// With several hubs the arrivals are counted process-wide (a barrier's threads gather from
// every hub); each hub's fibers still park on its own side table, and the last arrival wakes
// them all (this hub's queue, the others through their mailboxes).
struct Gather {
    unsigned count = 0;
    std::uint64_t round = 0;
};
SpinLock g_gather_lock;
// Never destroyed: fibers of other hubs may still arrive while exit() runs static destructors.
SideMap<Gather>& gathers() {
    alignas(SideMap<Gather>) static unsigned char mem[sizeof(SideMap<Gather>)];
    static SideMap<Gather>* m = ::new (mem) SideMap<Gather>();
    return *m;
}

std::uint64_t round_of(const pthread_barrier_t* b) noexcept {
    std::lock_guard lk(g_gather_lock);
    const Gather* g = gathers().find(b);
    return g ? g->round : 0;
}

int wait_across_hubs(FiberCtx c, pthread_barrier_t* b) {
    Table& t = table();
    Pin e(t, b);
    hubs::Elsewhere away(b);  // before we count: the last arrival's wake-up finds us
    bool last = false;
    std::uint64_t round = 0;
    {
        std::lock_guard lk(g_gather_lock);
        Gather& g = gathers().get(b);
        round = g.round;
        if (++g.count >= barrier_count(b)) {
            g.count = 0;
            ++g.round;
            last = true;
        }
    }
    if (last) {
        e->queue.notify_all();
        hubs::wake_elsewhere(b);
        return PTHREAD_BARRIER_SERIAL_THREAD;
    }
    Masked mask(c);
    while (round_of(b) == round) {
        if (mask.wait(e->queue, green::Deadline::never()) == Wake::Deadlock)
            await_outside(c, "pthread_barrier_wait");
    }
    return 0;
}

}  // namespace
}  // namespace green::hooks::sync

using namespace green::hooks;
using namespace green::hooks::sync;

extern "C" {

int pthread_barrier_wait(pthread_barrier_t* b) noexcept {
    const FiberCtx c = fiber_ctx();
    if (!c) return GREEN_REAL(pthread_barrier_wait)(b);
    if (hubs::multi()) [[unlikely]] {
        try {
            return wait_across_hubs(c, b);
        } catch (...) {  // no memory for the shared count: libc's barrier (it blocks the hub)
            return GREEN_REAL(pthread_barrier_wait)(b);
        }
    }
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
    if (hubs::multi()) {
        std::lock_guard lk(g_gather_lock);
        const Gather* g = gathers().find(b);
        if (g && g->count) return EBUSY;  // threads of other hubs still wait there
        gathers().erase(b);
    }
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
