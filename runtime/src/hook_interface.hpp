// The runtime as the hook library sees it: the only runtime-internal header a file under hooks/
// may include (ctest hooks.interface_boundary checks it). Thin inline names for the scheduler,
// the I/O primitive, the configuration and the owned-fd registry; nothing here adds behaviour.
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <memory>
#include <utility>

#include "config.hpp"
#include "fd_generation.hpp"
#include "green/clock.hpp"
#include "green/detail/fiber.hpp"
#include "green/detail/greenlet_core.hpp"
#include "green/detail/park_local.hpp"
#include "green/greenlet.hpp"
#include "green/hub.hpp"
#include "io_call.hpp"
#include "os_thread.hpp"
#include "owned_fds.hpp"
#include "pidfd.hpp"
#include "scheduler.hpp"
#include "stack_pool.hpp"

namespace green::hooks::rt {

using detail::Fiber;
using detail::FiberState;
using detail::GreenletCore;
// Held by the hooks as a pointer and handed back to the functions below; nothing else of it.
using Hub = detail::Hub;

// ---- the calling thread's hub and fiber ------------------------------------------------------
// The calling thread's hub, or nullptr if it has none yet (one TLS load).
inline Hub* hub() noexcept {
    return Hub::peek();
}
// The calling thread's hub, created on first use.
inline Hub& hub_or_create() {
    return Hub::get();
}
inline Fiber* current(const Hub& h) noexcept {
    return h.current();
}
// The fiber running on this thread's hub, or nullptr when the thread has no hub.
inline Fiber* current_fiber() noexcept {
    const Hub* h = hub();
    return h ? h->current() : nullptr;
}
// True while the hub's own loop fiber runs: hooks pass such calls straight to libc.
inline bool in_loop_fiber(const Hub& h) noexcept {
    return h.in_loop_fiber();
}
inline Fiber& main_fiber(Hub& h) noexcept {
    return h.main_fiber();
}
// The TID of the hub's OS thread (what libc records as a mutex's owner on it), kept right
// across fork.
inline pid_t os_tid(const Hub& h) noexcept {
    return h.os_tid();
}
// In a forked child: the fibers other than the caller never run again (Hub).
inline void abandon_other_fibers_after_fork(Hub& h) noexcept {
    h.abandon_others_after_fork();
}

// ---- scheduling ------------------------------------------------------------------------------
inline void yield(Hub& h) {
    h.yield();
}
// Delivers `e` to `f` at its next resume point, waking it if it is parked (Hub::interrupt).
inline void interrupt(Hub& h, Fiber& f, std::exception_ptr e) noexcept {
    h.interrupt(f, std::move(e));
}
// Takes back the interrupt `e` if it has not been thrown yet.
inline void withdraw_interrupt(Fiber& f, const std::exception_ptr& e) noexcept {
    Hub::withdraw_interrupt(f, e);
}

// ---- other OS threads ------------------------------------------------------------------------
// A handle other threads post to (HubHandle::post runs a function on this hub).
inline HubHandle handle(const Hub& h) {
    return h.handle();
}
// Blocks the OS thread in the kernel until another thread posts to `h` or a signal arrives
// (returns at once when a post waits): for a hub whose every fiber is blocked outside it.
inline void sleep_until_posted(Hub& h) noexcept {
    h.sleep_until_posted();
}
// Greenlets started on `h` from now on get a home mailbox (HubPool's hubs): they may be joined
// from any hub (the hooks' several-hub mode, GREEN_HUBS).
inline void set_pooled(Hub& h) noexcept {
    h.set_pooled();
}
// Points the runtime's own OS threads (offload workers, monitor) at libc's pthread_create.
inline void set_os_thread_create(detail::PthreadCreateFn f) noexcept {
    detail::real_pthread_create = f;
}
// A real OS thread with every asynchronous signal blocked (os_thread.hpp), never a fiber.
using detail::start_os_thread;

// ---- stacks ----------------------------------------------------------------------------------
inline std::size_t default_stack_size(const Hub& h) noexcept {
    return h.default_stack_size();
}
inline std::size_t page_size() noexcept {
    return detail::StackPool::page_size();
}

// ---- greenlets -------------------------------------------------------------------------------
using detail::core_ptr_of;
using detail::finish_unstarted;
using detail::join;
using detail::start;

// ---- I/O: the one retry primitive and whole operations (io_call.hpp, io_backend.hpp) ---------
using detail::connect_result;
using detail::CopyRangeArgs;
using detail::io_call_parking;
using detail::IoOp;
using detail::kMaxRwCount;
using detail::poll_once;
using detail::sys_result;
using detail::when_ready_attempt;
// Runs `op` on the calling fiber's hub and parks until it completes (IoBackend::submit).
inline long submit(IoOp& op, const Deadline& deadline) {
    return Hub::get().io().submit(op, deadline);
}

// The records a pool call hands to the backend: f's trampoline and the operation that names it.
template <class F>
struct PoolRecords {
    explicit PoolRecords(F& f) noexcept
        : call{[](void* p) noexcept -> long { return (*static_cast<F*>(p))(); }, &f},
          op{IoOp::Kind::Call, -1, &call, 0} {
        op.pool = true;
    }
    PoolRecords(const PoolRecords&) = delete;
    PoolRecords& operator=(const PoolRecords&) = delete;
    detail::PoolCall call;
    IoOp op;
};

// Runs f() (returning long, noexcept) on the offload pool while the calling fiber parks,
// uninterruptibly: a kill or a signal for the fiber is delivered once f returned, so nothing f
// made (a started child) is lost with a job left to finish alone. For calls that hold their OS
// thread without an fd to wait on. A compact fiber's call is made at once on the hub's thread:
// f may reach into its stack, which is copied away while it waits (green/stack_mode.hpp).
template <class F>
long run_on_pool(F& f) {
    PoolRecords<F> r(f);
    return submit(r.op, Deadline());
}

// run_on_pool for an `f` on the heap that touches nothing on its caller's stack (it holds copies
// of what it reads and writes its results into itself): a compact fiber's call goes to the pool
// too, with the operation's records on the heap beside it.
template <class F>
long run_on_pool_heap(F& f) {
    detail::refuse_compact_stack_record(&f, "pool call");
    auto r = std::make_unique<PoolRecords<F>>(f);
    r->op.off_stack = true;
    return submit(r->op, Deadline());
}

// ---- configuration (config.hpp; greenrun uses the parsers) -----------------------------------
using detail::config;
using detail::FileIoChoice;
using detail::kMaxHubs;
using detail::kMaxMonitorMs;
using detail::kMaxStackSize;
using detail::kMinStackSize;
using detail::parse_count;
using detail::parse_signal;
using detail::parse_size;
using detail::ParseError;
using detail::PatchChoice;

// ---- descriptors the runtime owns (owned_fds.hpp) --------------------------------------------
using detail::next_runtime_fd;
using detail::runtime_fd_acquired;
using detail::runtime_fd_released;
using detail::runtime_owns_fd;

// ---- descriptor numbers handed out anew (fd_generation.hpp) ------------------------------------
using detail::fd_generation_bump;

// ---- children ----------------------------------------------------------------------------------
// A pidfd for one child, the runtime's while open; killing and reaping a child nobody will wait
// for (pidfd.hpp).
using detail::kill_and_reap;
using detail::OwnedPidfd;

}  // namespace green::hooks::rt
