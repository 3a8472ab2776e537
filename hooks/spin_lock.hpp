// A lock for hook bookkeeping that is held for a few instructions and never across a park: a
// pthread mutex would lead back into the hooks (under thread patching it is a fiber lock).
#pragma once

#include <atomic>

namespace green::hooks {

class SpinLock {
  public:
    void lock() noexcept {
        while (flag_.test_and_set(std::memory_order_acquire)) {
        }
    }
    void unlock() noexcept { flag_.clear(std::memory_order_release); }

  private:
    std::atomic_flag flag_ = ATOMIC_FLAG_INIT;
};

}  // namespace green::hooks
