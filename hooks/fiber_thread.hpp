// A pthread that the hooks turned into a fiber: a greenlet carrying what a thread has and a
// greenlet lacks (its pthread_t, return value, detach state, thread-specific data, C cleanup
// handlers, name). Shared by the thread hooks and the key (thread-specific data) hooks.
#pragma once

#include <pthread.h>
#include <unwind.h>

#include <cstdint>

#include "green/greenlet.hpp"
#include "hook_interface.hpp"
#include "signal_hooks.hpp"
#include "specific_slots.hpp"
#include "sync_table.hpp"

namespace green::hooks::threads {

// Thrown by pthread_exit in a fiber thread, caught by that thread's own fiber body.
struct ThreadExit {};

class ThreadCore final : public rt::GreenletCore {
  public:
    ThreadCore(void* (*start)(void*), void* arg, bool detached) noexcept
        : start_(start), arg_(arg), detached_(detached) {}

    // The fiber thread running now, or null (main stack, plain greenlets, real threads, the
    // loop fiber).
    static ThreadCore* current() noexcept {
        rt::Hub* h = route(Need::Threads);
        if (!h) return nullptr;
        return dynamic_cast<ThreadCore*>(rt::current(*h));
    }

    pthread_t id = 0;           // odd, never reused: no real pthread_t (an address) is odd
    pthread_t os_thread = 0;    // the real thread whose hub runs this fiber
    std::size_t hub_index = 0;  // that hub's index with several hubs (hub_set.hpp)
    void* (*start_)(void*);
    void* arg_;
    void* result = nullptr;
    void* exit_value = nullptr;
    bool detached_;
    bool joining = false;
    bool cancel_pending = false;   // pthread_cancel arrived
    bool cancel_disabled = false;  // pthread_setcancelstate(PTHREAD_CANCEL_DISABLE)
    bool cancel_async = false;     // recorded only: acted on at cancellation points, as deferred
    bool in_cancel_point = false;  // parked in one of the hooks' cancellation points
    char name_[16] = {};
    SpecificSlots specific;                     // indexed by pthread_key_t
    signals::ThreadSignals signals;             // its signal mask and pending (signal_hooks)
    __pthread_unwind_buf_t* cleanup = nullptr;  // C pthread_cleanup_push handlers, innermost first
    _Unwind_Exception unwind_exc{};

  protected:
    void run() override;
};

// Key destructors for a finishing fiber thread (key_hooks.cpp).
void run_key_destructors(ThreadCore& t) noexcept;

// A cancellation point for the calling fiber thread: a pending, enabled pthread_cancel ends
// the thread here (cleanup handlers, destructors, key destructors; join sees PTHREAD_CANCELED).
void test_cancel();

// Marks a blocking hook as a cancellation point while it waits: pthread_cancel then wakes the
// fiber (Masked::wait reports `Interrupted`), and the hook calls test_cancel().
class CancelPoint {
  public:
    CancelPoint() noexcept : t_(ThreadCore::current()) {
        if (t_) t_->in_cancel_point = true;
    }
    CancelPoint(const CancelPoint&) = delete;
    CancelPoint& operator=(const CancelPoint&) = delete;
    ~CancelPoint() {
        if (t_) t_->in_cancel_point = false;
    }

  private:
    ThreadCore* t_;
};

}  // namespace green::hooks::threads
