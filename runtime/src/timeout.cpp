// green::Timeout: a Timer on the hub that, when it fires, interrupts the fiber that armed it
// with a copy of the Timeout (the record the handler catches).
#include "green/timeout.hpp"

#include <stdexcept>

#include "hub.hpp"

namespace green {

namespace {
std::uint64_t g_next_id = 1;  // identities need only be unique per thread; races are harmless
}

Timeout::Timeout(Duration d, bool start_now) : id_(g_next_id++), duration_(d) {
    timer_.fire = &Timeout::on_fire;
    timer_.arg = this;
    if (start_now) start();
}

Timeout::Timeout(const Timeout& other) noexcept
    : std::exception(other),
      id_(other.id_),
      duration_(other.duration_),
      record_(true),
      fired_(other.fired_) {}

Timeout::~Timeout() {
    if (!record_) cancel();
}

void Timeout::start() {
    if (record_) throw std::logic_error("green::Timeout: a caught Timeout cannot be restarted");
    auto& hub = detail::Hub::get();
    cancel();
    fiber_ = hub.current();
    fired_ = false;
    timer_.when = Clock::now() + duration_;
    hub.add_timer(timer_);
}

void Timeout::cancel() noexcept {
    if (!fiber_) return;
    fiber_->hub_->cancel_timer(timer_);
    if (!fired_ || !fiber_->pending_) return;
    // Expired but not yet delivered: withdraw it, or it would fire outside its scope.
    try {
        std::rethrow_exception(fiber_->pending_);
    } catch (const Timeout& t) {
        if (t.is(*this)) fiber_->pending_ = nullptr;
    } catch (...) {
    }
}

void Timeout::on_fire(detail::Timer& t) {
    auto* self = static_cast<Timeout*>(t.arg);
    self->fired_ = true;
    self->fiber_->hub_->interrupt(*self->fiber_, std::make_exception_ptr(Timeout(*self)));
}

const char* Timeout::what() const noexcept {
    return "green::Timeout: operation timed out";
}

}  // namespace green
