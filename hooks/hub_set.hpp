// The hubs a patched program's threads run on (GREEN_HUBS, greenrun --hubs): hub 0 is the main
// thread's, hubs 1..N-1 are OS threads started by the main thread's first pthread_create. Also
// the thread hooks' cross-hub wake path: per hub, counts of fibers waiting (by object address
// hash) for an unlock, post or signal that a fiber of another hub may make.
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "hook_interface.hpp"

namespace green::hooks::hubs {

// True once several hubs run. Written once (release), after every hub's slot is filled and
// before the first thread is placed; with one hub (the default) it stays false and every
// function below costs one load (acquire: a plain load on x86).
extern std::atomic<bool> g_multi __attribute__((visibility("hidden")));
inline bool multi() noexcept {
    return g_multi.load(std::memory_order_acquire);
}

// From the main thread's first pthread_create (its hub, hub 0, exists): with GREEN_HUBS > 1
// starts the other hubs and returns once they run. Later calls return at once. When a hub
// thread cannot be started the program stays on one hub (a warning line says so).
void start() noexcept;

std::size_t count() noexcept;
// The calling thread's hub index; count() on a thread that runs none of them.
std::size_t current() noexcept;
// The hub a new thread starts on (hooks/README.md, Several hubs): the lowest CPU of a CPU
// affinity set in `attr` (pthread_attr_setaffinity_np) modulo the count, else round robin.
std::size_t place(const pthread_attr_t* attr) noexcept;
const HubHandle& handle(std::size_t i) noexcept;
pthread_t os_thread(std::size_t i) noexcept;
// True when `tid` is the OS thread of one of the hubs (a mutex holder that will wake us).
bool is_hub_tid(pid_t tid) noexcept;

// ---- waiting across hubs ----------------------------------------------------------------
inline constexpr std::size_t kBuckets = 128;
inline std::size_t bucket(const void* obj) noexcept {
    return static_cast<std::size_t>(
        (reinterpret_cast<std::uintptr_t>(obj) * 0x9E3779B97F4A7C15ull) >> 57);
}
// This hub's count for `obj`'s bucket, or null when the thread runs none of the hubs.
std::atomic<std::uint32_t>* waiting_counter(const void* obj) noexcept;

// While it lives, the calling fiber is counted as waiting on `obj` for other hubs to see. Made
// before the waiter's last look at the object (a seq_cst increment), so that a release made
// after that look is followed by a wake-up (wake_others fences before it reads the counts).
class Elsewhere {
  public:
    explicit Elsewhere(const void* obj) noexcept : c_(multi() ? waiting_counter(obj) : nullptr) {
        if (c_) [[unlikely]]
            c_->fetch_add(1, std::memory_order_seq_cst);
    }
    Elsewhere(const Elsewhere&) = delete;
    Elsewhere& operator=(const Elsewhere&) = delete;
    ~Elsewhere() {
        if (c_) [[unlikely]]
            c_->fetch_sub(1, std::memory_order_release);
    }
    explicit operator bool() const noexcept { return c_ != nullptr; }

  private:
    std::atomic<std::uint32_t>* c_;
};

// Set while the hooks post to a hub's mailbox. The mailbox's own lock is a pthread mutex, so
// its lock and unlock come back through the mutex hooks: there they are libc's (held for a few
// instructions, never across a park) and wake no one, which keeps a wake-up from posting
// again. A fiber that waited on such a lock meanwhile looks again on its poll (mutex_hooks).
extern thread_local bool t_posting __attribute__((visibility("hidden"), tls_model("initial-exec")));
inline bool posting() noexcept {
    return multi() && t_posting;
}
// HubHandle::post to hub i with t_posting set; false when the hub is gone or memory is short.
bool post(std::size_t i, std::function<void()> fn) noexcept;

// After a release, post or signal of `obj`: every other hub counting waiters in its bucket gets
// a post (its mailbox) that wakes all of its fibers waiting on `obj`; they look again (a
// spurious wake-up for those whose object only shares the bucket or was taken meanwhile).
void wake_others(const void* obj) noexcept;
inline void wake_elsewhere(const void* obj) noexcept {
    if (multi() && !t_posting) [[unlikely]]
        wake_others(obj);
}
// True when another hub counts waiters in `obj`'s bucket (a hint: no fence).
bool waiting_elsewhere(const void* obj) noexcept;

// Fiber threads still running on all hubs (multi() only; one hub counts in its side table).
// thread_ended() wakes the main thread's pthread_exit (hub 0's Table::threads_done) at zero.
extern std::atomic<unsigned> g_live_threads __attribute__((visibility("hidden")));
void thread_ended() noexcept;

}  // namespace green::hooks::hubs
