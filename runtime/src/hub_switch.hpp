// The switch path, inline: switching, the run queue and park. Included by hub.cpp and by the
// wait paths that park in a loop (wait_queue.cpp), so that a wait is one call deep down to
// jump_fcontext (see GREEN_HOT_INLINE in scheduler.hpp). Nothing else should include it.
#pragma once

#include <boost/context/detail/fcontext.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "context_jump.hpp"
#include "event_hook.hpp"
#include "overflow_guard.hpp"
#include "sanitizer.hpp"
#include "scheduler.hpp"

namespace green::detail {

inline void Hub::switch_to(Fiber& to) noexcept {
    // Counted even when a fiber yields to itself: the loop's turn (schedule()) and the blocking
    // monitor both read it as progress.
    switches_.store(switches_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    Fiber* from = current_;
    if (from == &to) {
        transition(to, FiberState::Running);
        return;
    }
    if (!StackPool::canary_intact(from->stack_)) report_overflow(*from);
    from->saved_errno_ = *errno_;
    std::memcpy(&from->eh_, eh_globals_, sizeof(EhState));
    // A compact fiber gets its first context on the run stack only once that is vacant.
    if (!to.ctx_ && !to.compact_) {
        try {
            prepare_stack(to);
        } catch (...) {
            std::fprintf(stderr, "green: out of memory for a fiber stack\n");
            std::abort();
        }
    }
    current_ = &to;
    transition(to, FiberState::Running);
    if (slow_switch_) [[unlikely]] {  // one test of the hub's for the event hook and compact
        if (switch_rare(*from, to, from->state_ == FiberState::Dead)) return;
    }
    // Only ASan reads whether `from` ended; elsewhere the test was one more load per switch.
    announce_switch(asan::kEnabled && from->state_ == FiberState::Dead ? nullptr : from, to);
    boost::context::detail::transfer_t t = jump_context(to.ctx_, from);
    resumed(t.fctx, t.data);
}

inline void Hub::resumed(void* fctx, void* data) noexcept {
    Fiber* prev = static_cast<Fiber*>(data);
    Fiber* self = current_;
    switch_landed(*self, *prev);
    if (prev->state_ == FiberState::Dead)
        reap(*prev);
    else
        prev->ctx_ = fctx;
    *errno_ = self->saved_errno_;
    std::memcpy(eh_globals_, &self->eh_, sizeof(EhState));
}

inline void Hub::enqueue(Fiber& f) noexcept {
    f.next_ = nullptr;
    if (runq_tail_)
        runq_tail_->next_ = &f;
    else
        runq_head_ = &f;
    runq_tail_ = &f;
}

inline Fiber* Hub::pop_runnable() noexcept {
    while (Fiber* f = runq_head_) {
        runq_head_ = f->next_;
        if (!runq_head_) runq_tail_ = nullptr;  // f->next_ is stale from here: enqueue() sets it
        if (f->state_ == FiberState::Dead) {    // killed before it ever ran
            reap(*f);  // gives back the stack prefetch_next() may have reserved
            continue;
        }
        prefetch_next();
        return f;
    }
    return nullptr;
}

// With thousands of parked fibers their stacks are cold: resuming one misses on the saved
// context and on every frame it returns through (bench/echo at 10,000 connections spent 7% of
// its time on the first of those loads). While `f` runs, pull in the stack top of the fiber
// after it, and the Fiber object of the one after that, which the next call reads.
inline void Hub::prefetch_next() noexcept {
    Fiber* next = runq_head_;
    if (!next) return;
    if (next != current_) {
        const char* sp = static_cast<const char*>(next->ctx_);
        if (!sp && next->state_ == FiberState::Runnable) {
            // Not started: take its stack now, so that the first frames it writes are in
            // the cache when it starts.
            try {
                take_stack(*next);
            } catch (...) {
                // switch_to() tries again and reports it.
            }
            if (next->stack_.base) sp = StackPool::top(next->stack_) - 64 * kPrefetchLines;
        }
        if (sp) {
            for (int line = 0; line < kPrefetchLines; ++line)
                __builtin_prefetch(sp + 64 * line, 1, 3);
        }
    }
    if (const Fiber* after = next->next_) {
        __builtin_prefetch(after, 1, 3);
        __builtin_prefetch(reinterpret_cast<const char*>(after) + 64, 1, 3);
    }
}

inline void Hub::schedule() {
    Fiber* next = nullptr;
    if (current_ != loop_.get() && switch_count() < loop_due_) next = pop_runnable();
    switch_to(next ? *next : *loop_);
}

inline void Hub::ready_inline(Fiber& f) noexcept {
    if (f.state_ != FiberState::Parked) [[unlikely]] {
        // Woken twice (see hub.hpp): stays queued once. Anything else is a scheduler bug.
        if constexpr (GREEN_CHECK_FIBER_STATES)
            if (f.state_ != FiberState::Runnable)
                bad_state(f, FiberState::Runnable, "ready() of a fiber that is not parked");
        return;
    }
    transition(f, FiberState::Runnable);
    enqueue(f);
}

inline bool Hub::park_inline(const Deadline& deadline) {
    throw_if_interrupted();
    if (!deadline.infinite()) [[unlikely]]
        return park_until(deadline);
    // Most waits have no deadline: no timer to build, arm and cancel; only a timer times out.
    note_park(*current_, 0);
    schedule();
    throw_if_interrupted();
    return true;
}

}  // namespace green::detail
