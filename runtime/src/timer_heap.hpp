// The hub's single timer structure: a 4-ary min-heap serving sleep, Timeout, timed waits and
// spawn_later alike. Keys live in the heap array and each timer's heap position lives in a
// dense slot table, so sifting never touches the Timer objects themselves — they sit on
// thousands of different fiber stacks, and touching them costs a cache and TLB miss each.
// O(log n) arm and cancel; no allocation per timer once the arrays have grown, and none through
// malloc at all (mapped_allocator.hpp: a timed wait may start inside a program's allocator).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "green/detail/timer.hpp"
#include "mapped_allocator.hpp"

namespace green::detail {

class TimerHeap {
  public:
    TimerHeap();
    void add(Timer& t);
    void cancel(Timer& t) noexcept;
    Timer* top() const noexcept { return heap_.empty() ? nullptr : heap_.front().timer; }
    // Removes and returns the earliest timer if it is due at `now`.
    Timer* pop_due(Clock::time_point now) noexcept;
    std::size_t size() const noexcept { return heap_.size(); }
    // Timers that keep the hub alive (ref == true).
    std::size_t refs() const noexcept { return refs_; }

  private:
    struct Entry {
        Clock::rep when;
        std::uint64_t seq;  // FIFO among equal deadlines
        Timer* timer;
        std::uint32_t slot;
        bool ref;
    };
    static constexpr std::size_t kArity = 4;

    static bool before(const Entry& a, const Entry& b) noexcept {
        return a.when < b.when || (a.when == b.when && a.seq < b.seq);
    }
    void place(std::size_t i, const Entry& e) noexcept {
        heap_[i] = e;
        position_[e.slot] = static_cast<std::uint32_t>(i);
    }
    // Inlined into add(), the path of every timed wait (called out of line, +27 instructions).
    [[gnu::always_inline]] inline void sift_up(std::size_t i, Entry e) noexcept;
    void sift_down(std::size_t i, Entry e) noexcept;
    void remove_at(std::size_t i) noexcept;

    template <class T>
    using Array = std::vector<T, MappedAllocator<T>>;
    Array<Entry> heap_;
    Array<std::uint32_t> position_;  // slot -> heap index
    Array<std::uint32_t> free_slots_;
    std::uint64_t seq_ = 0;
    std::size_t refs_ = 0;
};

}  // namespace green::detail
