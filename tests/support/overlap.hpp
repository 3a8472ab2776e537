// Proof without a clock that waits overlapped: each waiter checks in before it blocks and notes,
// when it wakes, how many had checked in. Had the waits run one after another (a call that
// blocked the hub), the first to wake would have seen only itself.
#pragma once

namespace green_test {

class Overlap {
  public:
    void enter() noexcept { ++entered_; }
    void woke() noexcept {
        if (first_wake_saw_ < 0) first_wake_saw_ = entered_;
    }
    // How many waiters had started when the first one woke.
    int started_before_first_wake() const noexcept { return first_wake_saw_; }

  private:
    int entered_ = 0;
    int first_wake_saw_ = -1;
};

}  // namespace green_test
