#include "timer_heap.hpp"

namespace green::detail {

void TimerHeap::add(Timer& t) {
    if (t.armed()) cancel(t);
    t.seq = ++seq_;
    heap_.push_back(&t);
    t.index = heap_.size() - 1;
    sift_up(t.index);
    if (t.ref) ++refs_;
}

void TimerHeap::cancel(Timer& t) noexcept {
    if (!t.armed()) return;
    remove_at(t.index);
}

Timer* TimerHeap::pop_due(Clock::time_point now) noexcept {
    if (heap_.empty() || heap_.front()->when > now) return nullptr;
    Timer* t = heap_.front();
    remove_at(0);
    return t;
}

void TimerHeap::remove_at(std::size_t i) noexcept {
    Timer* t = heap_[i];
    if (t->ref) --refs_;
    t->index = Timer::npos;
    Timer* last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;
    place(i, last);
    if (i > 0 && before(last, heap_[(i - 1) / 2]))
        sift_up(i);
    else
        sift_down(i);
}

void TimerHeap::sift_up(std::size_t i) noexcept {
    Timer* t = heap_[i];
    while (i > 0) {
        std::size_t parent = (i - 1) / 2;
        if (!before(t, heap_[parent])) break;
        place(i, heap_[parent]);
        i = parent;
    }
    place(i, t);
}

void TimerHeap::sift_down(std::size_t i) noexcept {
    Timer* t = heap_[i];
    const std::size_t n = heap_.size();
    for (;;) {
        std::size_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
        if (!before(heap_[child], t)) break;
        place(i, heap_[child]);
        i = child;
    }
    place(i, t);
}

}  // namespace green::detail
