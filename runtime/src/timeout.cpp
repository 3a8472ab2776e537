// green::Timeout: a Timer on the hub that, when it fires, interrupts the fiber that armed it
// with a copy of the Timeout (the record the handler catches). The arming fiber keeps a list of
// its armed Timeouts and disarms them when it ends, so a Timeout that outlives it is inert.
#include "green/timeout.hpp"

#include <stdexcept>

#include "scheduler.hpp"

namespace green {

namespace {
std::uint64_t g_next_id = 1;  // identities need only be unique per thread; races are harmless
}

Timeout::Timeout(Duration d, bool start_now) : id_(g_next_id++), duration_(d) {
    link_.owner = this;
    timer_.fire = &Timeout::on_fire;
    timer_.arg = this;
    if (start_now) start();
}

Timeout::Timeout(const Timeout& other) noexcept
    : std::exception(other),
      id_(other.id_),
      duration_(other.duration_),
      record_(true),
      fired_(other.armed().fired_) {}

Timeout::~Timeout() {
    if (!record_) cancel();
}

void Timeout::start() {
    if (record_) throw std::logic_error("green::Timeout: a caught Timeout cannot be restarted");
    auto& hub = detail::Hub::get();
    cancel();
    detail::Fiber& fiber = *hub.current();
    if (fiber.compact()) [[unlikely]] {
        twin_ = new Timeout(*this);
        twin_->arm(fiber);
    } else {
        arm(fiber);
    }
}

void Timeout::arm(detail::Fiber& fiber) {
    link_.owner = this;
    timer_.fire = &Timeout::on_fire;
    timer_.arg = this;
    fiber_ = &fiber;
    fiber_->timeouts_.push(link_);
    fired_ = false;
    timer_.when = detail::after_now(duration_);
    fiber_->hub_->add_timer(timer_);
}

void Timeout::cancel() noexcept {
    if (twin_) [[unlikely]] {
        twin_->disarm();
        fired_ = twin_->fired_;
        delete twin_;
        twin_ = nullptr;
        return;
    }
    disarm();
}

void Timeout::disarm() noexcept {
    if (!fiber_) return;
    fiber_->hub_->cancel_timer(timer_);
    fiber_->timeouts_.remove(link_);
    // Expired but not yet delivered: withdraw it, or it would fire outside its scope.
    detail::Hub::withdraw_timeout(*fiber_, id_);
    fiber_ = nullptr;
}

void Timeout::fiber_ended(detail::TimeoutLink& link) noexcept {
    Timeout& self = *link.owner;
    self.fiber_->hub_->cancel_timer(self.timer_);
    self.fiber_ = nullptr;
}

void Timeout::on_fire(detail::Timer& t) {
    auto* self = static_cast<Timeout*>(t.arg);
    self->fired_ = true;
    self->fiber_->hub_->interrupt(*self->fiber_, std::make_exception_ptr(Timeout(*self)),
                                  self->id_);
}

const char* Timeout::what() const noexcept {
    return "green::Timeout: operation timed out";
}

}  // namespace green
