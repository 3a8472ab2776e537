// The hub's single timer structure: a binary min-heap of intrusive Timer entries, serving
// sleep, Timeout, timed waits and spawn_later alike. O(log n) arm and cancel, no allocation
// per timer (the vector only grows).
#pragma once

#include <cstddef>
#include <vector>

#include "green/detail/timer.hpp"

namespace green::detail {

class TimerHeap {
  public:
    void add(Timer& t);
    void cancel(Timer& t) noexcept;
    Timer* top() const noexcept { return heap_.empty() ? nullptr : heap_.front(); }
    // Removes and returns the earliest timer if it is due at `now`.
    Timer* pop_due(Clock::time_point now) noexcept;
    std::size_t size() const noexcept { return heap_.size(); }
    // Timers that keep the hub alive (ref == true).
    std::size_t refs() const noexcept { return refs_; }

  private:
    static bool before(const Timer* a, const Timer* b) noexcept {
        return a->when < b->when || (a->when == b->when && a->seq < b->seq);
    }
    void sift_up(std::size_t i) noexcept;
    void sift_down(std::size_t i) noexcept;
    void place(std::size_t i, Timer* t) noexcept {
        heap_[i] = t;
        t->index = i;
    }
    void remove_at(std::size_t i) noexcept;

    std::vector<Timer*> heap_;
    std::uint64_t seq_ = 0;
    std::size_t refs_ = 0;
};

}  // namespace green::detail
