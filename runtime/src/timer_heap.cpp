#include "timer_heap.hpp"

namespace green::detail {

// A page for each from the start: the first doublings would each map and unmap one.
TimerHeap::TimerHeap() {
    heap_.reserve(4096 / sizeof(Entry));
    position_.reserve(1024);
    free_slots_.reserve(1024);
}

inline void TimerHeap::sift_up(std::size_t i, Entry e) noexcept {
    while (i > 0) {
        std::size_t parent = (i - 1) / kArity;
        if (!before(e, heap_[parent])) break;
        place(i, heap_[parent]);
        i = parent;
    }
    place(i, e);
}

void TimerHeap::add(Timer& t) {
    if (t.armed()) cancel(t);
    std::uint32_t slot;
    if (!free_slots_.empty()) {
        slot = free_slots_.back();
        free_slots_.pop_back();
    } else {
        slot = static_cast<std::uint32_t>(position_.size());
        position_.push_back(0);
    }
    t.slot = slot;
    Entry e{t.when.time_since_epoch().count(), ++seq_, &t, slot, t.ref};
    heap_.push_back(e);
    sift_up(heap_.size() - 1, e);
    if (t.ref) ++refs_;
}

void TimerHeap::cancel(Timer& t) noexcept {
    if (t.armed()) remove_at(position_[t.slot]);
}

Timer* TimerHeap::pop_due(Clock::time_point now) noexcept {
    if (heap_.empty() || heap_.front().when > now.time_since_epoch().count()) return nullptr;
    Timer* t = heap_.front().timer;
    remove_at(0);
    // Timers live in their owners' frames (a parked fiber's stack), cold when many are due at
    // once: fetch the next one while this one fires.
    if (!heap_.empty()) __builtin_prefetch(heap_.front().timer, 1, 3);
    return t;
}

void TimerHeap::remove_at(std::size_t i) noexcept {
    const Entry gone = heap_[i];
    if (gone.ref) --refs_;
    gone.timer->slot = Timer::npos;
    free_slots_.push_back(gone.slot);
    Entry last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;
    if (i > 0 && before(last, heap_[(i - 1) / kArity]))
        sift_up(i, last);
    else
        sift_down(i, last);
}

void TimerHeap::sift_down(std::size_t i, Entry e) noexcept {
    const std::size_t n = heap_.size();
    for (;;) {
        std::size_t first = i * kArity + 1;
        if (first >= n) break;
        std::size_t best = first;
        const std::size_t end = first + kArity < n ? first + kArity : n;
        for (std::size_t c = first + 1; c < end; ++c)
            if (before(heap_[c], heap_[best])) best = c;
        if (!before(heap_[best], e)) break;
        place(i, heap_[best]);
        i = best;
    }
    place(i, e);
}

}  // namespace green::detail
