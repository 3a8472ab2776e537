// A record a fiber shares with the runtime while it waits (a wait-queue node, a link node, a
// timer): a local on its stack normally, on the heap for a compact fiber, whose stack is copied
// away while it waits and whose addresses another compact fiber then uses (stack_mode.hpp).
#pragma once

#include <new>
#include <utility>

#include "green/detail/fiber.hpp"
#include "green/detail/hub_head.hpp"

namespace green::detail {

// Checked builds' and compact fibers' guard for records handed to the runtime: aborts with a
// message when `record` lies on the shared run stack that the running compact fiber will leave.
void refuse_compact_stack_record(const void* record, const char* what) noexcept;

template <class T>
class ParkLocal {
  public:
    template <class... Args>
    explicit ParkLocal(const Fiber* waiter, Args&&... args) {
        if (waiter && waiter->compact()) [[unlikely]] {
            p_ = new T(std::forward<Args>(args)...);
            heap_ = true;
        } else {
            p_ = ::new (static_cast<void*>(local_)) T(std::forward<Args>(args)...);
        }
    }
    ParkLocal(const ParkLocal&) = delete;
    ParkLocal& operator=(const ParkLocal&) = delete;
    ~ParkLocal() {
        if (heap_) [[unlikely]]
            delete p_;
        else
            p_->~T();
    }
    T& operator*() const noexcept { return *p_; }
    T* operator->() const noexcept { return p_; }

  private:
    alignas(T) unsigned char local_[sizeof(T)];
    T* p_;
    bool heap_ = false;
};

}  // namespace green::detail
