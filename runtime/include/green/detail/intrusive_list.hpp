// The doubly-linked FIFO every waiter list in green uses (wait queues, link lists, fd
// waiters). Intrusive: nodes live in their owners (usually on a parked fiber's stack), so
// queueing never allocates. T needs members `T* prev, *next` and may have `bool linked`.
#pragma once

#include <cstddef>

namespace green::detail {

template <class T>
class IntrusiveList {
    // A node with a `linked` flag answers membership itself; one without (FiberLink, 8 bytes
    // smaller) is linked when it has a predecessor or is the head.
    static constexpr bool kFlagged = requires(T & n) { n.linked; };

  public:
    void push_back(T& n) noexcept {
        n.prev = tail_;
        n.next = nullptr;
        (tail_ ? tail_->next : head_) = &n;
        tail_ = &n;
        if constexpr (kFlagged) n.linked = true;
        ++size_;
    }
    bool contains(const T& n) const noexcept {
        if constexpr (kFlagged)
            return n.linked;
        else
            return n.prev != nullptr || head_ == &n;
    }
    // No-op for a node that is not linked (already woken, or never queued).
    void remove(T& n) noexcept {
        if (!contains(n)) return;
        (n.prev ? n.prev->next : head_) = n.next;
        (n.next ? n.next->prev : tail_) = n.prev;
        n.prev = n.next = nullptr;
        if constexpr (kFlagged) n.linked = false;
        --size_;
    }
    // Detaches the whole chain (nodes keep their next pointers and are marked unlinked), so the
    // caller can walk it while callbacks add new nodes to this list.
    T* take_all() noexcept {
        T* first = head_;
        for (T* p = first; p; p = p->next) {
            if constexpr (kFlagged)
                p->linked = false;
            else
                p->prev = nullptr;
        }
        head_ = tail_ = nullptr;
        size_ = 0;
        return first;
    }
    T* front() const noexcept { return head_; }
    bool empty() const noexcept { return head_ == nullptr; }
    std::size_t size() const noexcept { return size_; }

  private:
    T* head_ = nullptr;
    T* tail_ = nullptr;
    std::size_t size_ = 0;
};

// take_all() of the one-pointer lists: marks every node from `head` on unlinked (their next
// pointers kept), empties the list and returns the first node.
template <class T>
T* detach_chain(T*& head) noexcept {
    T* first = head;
    for (T* p = first; p; p = p->next) p->linked = false;
    head = nullptr;
    return first;
}

// The same FIFO in one pointer, for lists that need no size and sit in many objects (every
// greenlet's observers): the head's prev is the tail, the tail's next is null.
template <class T>
class IntrusiveFifo {
  public:
    void push_back(T& n) noexcept {
        n.next = nullptr;
        if (!head_) {
            head_ = n.prev = &n;
        } else {
            T* tail = head_->prev;
            tail->next = &n;
            n.prev = tail;
            head_->prev = &n;
        }
        n.linked = true;
    }
    // No-op for a node that is not linked.
    void remove(T& n) noexcept {
        if (!n.linked) return;
        if (&n == head_) {
            head_ = n.next;
            if (head_) head_->prev = n.prev;
        } else {
            n.prev->next = n.next;
            (n.next ? n.next->prev : head_->prev) = n.prev;
        }
        n.prev = n.next = nullptr;
        n.linked = false;
    }
    // Detaches the whole chain (nodes keep their next pointers and are marked unlinked).
    T* take_all() noexcept { return detach_chain(head_); }
    T* front() const noexcept { return head_; }
    bool empty() const noexcept { return head_ == nullptr; }

  private:
    T* head_ = nullptr;
};

// The same nodes in no particular order, for sets that are only added to, removed from and
// emptied at once: one pointer instead of three (it sits in every fiber).
template <class T>
class IntrusiveBag {
  public:
    void push(T& n) noexcept {
        n.prev = nullptr;
        n.next = head_;
        if (head_) head_->prev = &n;
        head_ = &n;
        n.linked = true;
    }
    // No-op for a node that is not linked.
    void remove(T& n) noexcept {
        if (!n.linked) return;
        (n.prev ? n.prev->next : head_) = n.next;
        if (n.next) n.next->prev = n.prev;
        n.prev = n.next = nullptr;
        n.linked = false;
    }
    // Detaches every node (marked unlinked, next pointers kept) and returns the first.
    T* take_all() noexcept { return detach_chain(head_); }
    bool empty() const noexcept { return head_ == nullptr; }

  private:
    T* head_ = nullptr;
};

}  // namespace green::detail
