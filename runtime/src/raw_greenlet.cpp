// The raw greenlet layer: explicit switches with values, parent on finish, throw_into.
// A raw greenlet is a Fiber the scheduler never queues on its own; only switches resume it.
#include "green/raw_greenlet.hpp"

#include <stdexcept>
#include <utility>

#include "green/errors.hpp"
#include "scheduler.hpp"

namespace green {
namespace detail {

class RawFiber final : public Fiber {
  public:
    RawFiber(RawGreenlet* owner, RawGreenlet::Function fn) : owner_(owner), fn_(std::move(fn)) {}

    void body() noexcept override {
        std::any result;
        std::exception_ptr error;
        try {
            if (pending_) std::rethrow_exception(std::exchange(pending_, nullptr));
            result = fn_(owner_ ? std::move(owner_->transfer_) : std::any{});
        } catch (const GreenletExit&) {
        } catch (...) {
            error = std::current_exception();
        }
        // Like Python's greenlet: the result, or the exception, goes to the first live parent.
        RawGreenlet* p = owner_ ? owner_->parent_ : nullptr;
        while (p && p->dead()) p = p->parent_;
        extras().parent = p ? p->fiber_ : nullptr;  // made with the view (constructor)
        if (p) {
            p->transfer_ = std::move(result);
            if (error && !p->fiber_->pending_) p->fiber_->pending_ = error;
        }
    }
    void reaped() noexcept override {
        if (orphaned_) delete this;
    }
    std::string name() const override { return "RawGreenlet"; }

    RawGreenlet* owner_;
    RawGreenlet::Function fn_;
    bool orphaned_ = false;  // its RawGreenlet died while it was parked in the hub
};

void destroy_raw_view(void* view) noexcept {
    delete static_cast<RawGreenlet*>(view);
}

}  // namespace detail

RawGreenlet::RawGreenlet(Function fn, RawGreenlet* parent)
    : owned_(std::make_unique<detail::RawFiber>(this, std::move(fn))), fiber_(owned_.get()) {
    auto& hub = detail::Hub::get();
    fiber_->hub_ = &hub;
    fiber_->set_spawned_by(hub.current(), &hub.main_fiber());
    fiber_->extras().raw_view = this;
    parent_ = parent ? parent : &current();
}

RawGreenlet::RawGreenlet(std::function<void()> fn, RawGreenlet* parent)
    : RawGreenlet(Function([f = std::move(fn)](std::any) -> std::any {
                      f();
                      return {};
                  }),
                  parent) {}

RawGreenlet::RawGreenlet(detail::Fiber* adopted) noexcept : fiber_(adopted) {}

RawGreenlet::~RawGreenlet() {
    if (!owned_ || !started() || dead()) return;
    auto* f = owned_.get();
    if (f->state_ == detail::FiberState::Suspended) {
        // Unwind it now, as Python's greenlet does on collection; it returns here.
        parent_ = &current();
        try {
            throw_into(std::make_exception_ptr(GreenletExit()));
        } catch (...) {
        }
        return;
    }
    // Parked in the hub (sleeping, waiting for I/O): it outlives this handle and unwinds.
    f->owner_ = nullptr;
    f->orphaned_ = true;
    if (f->extras_) f->extras_->raw_view = nullptr;
    f->hub_->interrupt(*f, std::make_exception_ptr(GreenletExit()));
    (void)owned_.release();
}

RawGreenlet& RawGreenlet::view_of(detail::Fiber* f) {
    auto& x = f->extras();
    if (!x.raw_view) {
        x.raw_view = new RawGreenlet(f);
        x.owns_raw_view = true;
    }
    return *static_cast<RawGreenlet*>(x.raw_view);
}

RawGreenlet& RawGreenlet::current() {
    return view_of(detail::Hub::get().current());
}

bool RawGreenlet::dead() const noexcept {
    return fiber_->state_ == detail::FiberState::Dead;
}

bool RawGreenlet::started() const noexcept {
    return fiber_->state_ != detail::FiberState::Created;
}

RawGreenlet* RawGreenlet::parent() const noexcept {
    return parent_;
}

void RawGreenlet::set_parent(RawGreenlet* p) {
    for (RawGreenlet* q = p; q; q = q->parent_)
        if (q == this) throw std::invalid_argument("green: cyclic greenlet parent chain");
    parent_ = p;
}

std::any RawGreenlet::enter(std::any value) {
    auto& hub = detail::Hub::get();
    detail::Fiber* self = hub.current();
    if (fiber_ == self) return value;
    if (dead()) throw std::logic_error("green: cannot switch to a dead greenlet");
    if (fiber_->hub_ != &hub) throw std::logic_error("green: cannot switch across threads");
    if (fiber_->state_ != detail::FiberState::Created &&
        fiber_->state_ != detail::FiberState::Suspended)
        throw std::logic_error("green: cannot switch to a greenlet the hub is running or waking");
    transfer_ = std::move(value);
    hub.raw_switch(*fiber_);
    return std::move(view_of(self).transfer_);
}

std::any RawGreenlet::switch_to(std::any value) {
    return enter(std::move(value));
}

std::any RawGreenlet::throw_into(std::exception_ptr e) {
    if (fiber_ == detail::Hub::get().current()) std::rethrow_exception(e);
    fiber_->pending_ = std::move(e);
    return enter({});
}

}  // namespace green
