// The hub's switch path for compact fibers (green/stack_mode.hpp). A compact fiber runs on the
// hub's one run stack; switched out, it is copied to its image. It cannot copy itself out while
// it still runs there, so it leaves through the relay: a fiber on a small stack of its own that
// takes over the jump, saves the image once the leaving fiber's registers are on its stack, puts
// the next compact fiber in place (its image copied back to the same addresses), and jumps on.
// A default fiber switching to a compact one does the copying itself, off the run stack.
#include <boost/context/detail/fcontext.hpp>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "config.hpp"
#include "context_jump.hpp"
#include "sanitizer.hpp"
#include "scheduler.hpp"
#include "stack_copy.hpp"

namespace ctx = boost::context::detail;

namespace green::detail {

StackSlot Hub::run_stack_for(const Fiber& f) {
    if (!run_stack_.base) {
        run_stack_ = stacks_.allocate(default_stack_size_);
        auto relay = std::make_unique<Fiber>();
        relay->hub_ = this;
        // The relay reaps dead compact fibers, and with them runs their captures' destructors.
        relay->stack_ = stacks_.allocate(kMinStackSize * 4);
        relay->sanitizer_ = tsan::create();
        char* top = StackPool::top(relay->stack_);
        relay->ctx_ = ctx::make_fcontext(
            top, static_cast<std::size_t>(top - static_cast<char*>(relay->stack_.base)),
            [](ctx::transfer_t t) { relay_entry(t.fctx, t.data); });
        relay_ = std::move(relay);
    }
    if (f.stack_size_ > run_stack_.size)
        throw std::length_error("green: a compact greenlet runs on its hub's run stack of " +
                                std::to_string(run_stack_.size / 1024) + " KiB; asked for " +
                                std::to_string(f.stack_size_ / 1024) + " KiB");
    ++compact_fibers_;  // counted once: take_stack does not come back for a fiber with a stack
    refresh_slow_switch();
    return run_stack_;
}

void Hub::place_on_run_stack(Fiber& f) noexcept {
    const AsLoop as_loop(*this);  // restore_image allocates
    if constexpr (GREEN_CHECK_FIBER_STATES) {
        if (vacated_from_) {
            if (const char* p = first_written(vacated_from_, StackPool::top(run_stack_))) {
                std::fprintf(stderr,
                             "green: the stack of compact greenlet #%llu was written at %p while "
                             "it was switched out: a pointer to an object on a compact fiber's "
                             "stack was used by another fiber (green/stack_mode.hpp)\n",
                             static_cast<unsigned long long>(vacated_by_),
                             static_cast<const void*>(p));
                std::abort();
            }
            vacated_from_ = nullptr;
        }
    }
    // The shadow left by the previous occupant's frames is not this fiber's.
    asan::unpoison(run_stack_.base, run_stack_.size);
    if (!f.ctx_)
        prepare_stack(f);  // its first context, at the run stack's top
    else
        restore_image(f.extras_->image, static_cast<char*>(f.ctx_));
}

void Hub::vacate_run_stack(Fiber& f) noexcept {
    const AsLoop as_loop(*this);  // save_image allocates
    char* sp = static_cast<char*>(f.ctx_);
    save_image(f.extras_->image, sp, StackPool::top(run_stack_));
    if constexpr (GREEN_CHECK_FIBER_STATES) {
        fill_vacant(sp, StackPool::top(run_stack_));
        vacated_from_ = sp;
        vacated_by_ = f.id();
    }
}

void Hub::compact_switch(Fiber& from, Fiber& to, bool dying) noexcept {
    Fiber* next = &to;
    if (from.compact_) {
        relay_to_ = &to;
        next = relay_.get();
    } else if (to.compact_) {
        place_on_run_stack(to);  // from runs on a stack of its own: the run stack is vacant
    }
    announce_switch(dying ? nullptr : &from, *next);
    ctx::transfer_t t = jump_context(next->ctx_, &from);
    resumed_out_of_line(t.fctx, t.data);
}

void Hub::relay_entry(void* fctx, void* data) noexcept {
    Hub& h = *static_cast<Fiber*>(data)->hub_;
    Fiber& relay = *h.relay_;
    for (;;) {
        Fiber& from = *static_cast<Fiber*>(data);
        Fiber& to = *h.relay_to_;
        h.switch_landed(relay, from);
        if (from.state_ == FiberState::Dead) {
            h.reap(from);
        } else {
            from.ctx_ = fctx;
            h.vacate_run_stack(from);
        }
        if (to.compact_) h.place_on_run_stack(to);
        h.announce_switch(&relay, to);
        const ctx::transfer_t t = jump_context(to.ctx_, &relay);
        fctx = t.fctx;
        data = t.data;
    }
}

}  // namespace green::detail
