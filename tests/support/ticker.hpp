// Proof without a clock that the hub kept running other fibers while one waited: a fiber that
// counts its turns. Each tick is one yield, so the count moves only while the hub schedules
// fibers, and a parked fiber cannot be resumed before the ticker (queued first) ticks again.
#pragma once

#include <green/green.hpp>

#include <utility>

namespace green_test {

class Ticker {
  public:
    Ticker() : fiber_(green::spawn([this] { run(); })) {}
    Ticker(const Ticker&) = delete;
    Ticker& operator=(const Ticker&) = delete;
    ~Ticker() { stop(); }

    long ticks() const noexcept { return ticks_; }

    // Parks the calling fiber until the ticker has ticked n more times. What the caller does
    // next (a write, a close, a connect) then happens only after the hub ran the ticker n times:
    // a waiter that it releases returns only if the hub ran meanwhile, not by a clock.
    void wait_ticks(long n) const {
        const long until = ticks_ + n;
        while (ticks_ < until) green::yield();
    }

    // Spawns a fiber that runs f once the ticker ticked n more times, counted from its first
    // turn. It is queued behind the fibers spawned before it: they have started (and parked in
    // the call under test) by then.
    template <class F>
    green::Greenlet<void> after_ticks(long n, F f) const {
        return green::spawn([this, n, f = std::move(f)]() mutable {
            wait_ticks(n);
            f();
        });
    }

    void stop() {
        stopping_ = true;
        fiber_.join();
    }

  private:
    void run() {
        while (!stopping_) {
            green::yield();
            ++ticks_;
        }
    }

    long ticks_ = 0;
    bool stopping_ = false;
    green::Greenlet<void> fiber_;
};

}  // namespace green_test
