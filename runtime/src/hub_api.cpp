// The public face of the hub (green/hub.hpp): sleep, yield, idle, fd waits, HubHandle.
#include "green/hub.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "config.hpp"
#include "fd_generation.hpp"
#include "scheduler.hpp"

namespace green {

namespace {

// Out of line, so that sleep(0), the usual way to yield, does not pay for this frame.
[[gnu::noinline]] void sleep_until(detail::Hub& hub, const Deadline& deadline) {
    const detail::WaitNote note(hub.current(), detail::WaitKind::Sleep);
    hub.throw_if_interrupted();
    while (hub.park_until(deadline)) {
        // Woken early by someone who should not have; keep sleeping.
    }
}

}  // namespace

void sleep(Duration d) {
    auto& hub = detail::Hub::get();
    if (d <= Duration::zero()) return hub.yield();
    sleep_until(hub, Deadline(detail::after_now(d)));
}

void idle() {
    auto& hub = detail::Hub::get();
    hub.idle_waiters().wait();  // labelled Idle by the queue's kind
}

void sleep(double seconds) {
    if (std::isnan(seconds)) throw std::invalid_argument("green::sleep: seconds is NaN");
    if (!(seconds > 0)) return sleep(Duration::zero());
    constexpr double kLongest = 9e9;  // seconds: within Duration's range (~292 years)
    sleep(std::chrono::ceil<Duration>(std::chrono::duration<double>(std::min(seconds, kLongest))));
}

const char* backend_name() {
    return detail::Hub::get().io().name();
}

int wait_fd(int fd, short events, Deadline deadline) {
    return detail::Hub::get().io().wait_fd(fd, events, deadline);
}

void notify_close(int fd) noexcept {
    detail::fd_generation_bump(fd);  // other hubs' epoll sets see it on their next wait
    if (auto* hub = detail::Hub::peek()) hub->io().fd_closed(fd);
}

std::size_t default_stack_size() noexcept {
    return detail::Hub::get().default_stack_size();
}

void set_default_stack_size(std::size_t bytes) {
    if (bytes < detail::kMinStackSize)
        throw std::invalid_argument("green: stack size below 16 KiB");
    if (bytes > detail::kMaxStackSize) throw std::length_error("green: stack size above 1 GiB");
    detail::Hub::get().set_default_stack_size(bytes);
}

HubHandle current_hub() {
    return detail::Hub::get().handle();
}

bool HubHandle::post(std::function<void()> fn) const {
    return mailbox_ && mailbox_->post(std::move(fn));
}

bool HubHandle::is_current() const noexcept {
    const detail::Hub* here = detail::Hub::peek();
    return here && mailbox_ && here->mailbox() == mailbox_;
}

HubHandle::KeepAlive::KeepAlive(const HubHandle& h) : mailbox_(h.mailbox_) {
    if (mailbox_) mailbox_->keep_alive.fetch_add(1, std::memory_order_relaxed);
}

HubHandle::KeepAlive& HubHandle::KeepAlive::operator=(KeepAlive&& o) noexcept {
    if (this != &o) {
        if (mailbox_) mailbox_->keep_alive.fetch_sub(1, std::memory_order_relaxed);
        mailbox_ = std::move(o.mailbox_);
    }
    return *this;
}

HubHandle::KeepAlive::~KeepAlive() {
    if (!mailbox_) return;
    // Releasing the last reference must let a hub blocked in poll notice it may be done.
    if (mailbox_->keep_alive.fetch_sub(1, std::memory_order_acq_rel) == 1) mailbox_->post([] {});
}

}  // namespace green
