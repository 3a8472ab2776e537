// The servers' set of live handler greenlets: spawns them, caps how many run at once (a
// WaitQueue-based counter), and supports the graceful stop (wait, then kill what is left).
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <utility>

#include "green/greenlet.hpp"
#include "green/pool.hpp"
#include "green/wait_queue.hpp"

namespace green::detail {

class HandlerGroup {
  public:
    // `pool`, if given, caps the handlers instead of `cap` (and may hold other greenlets too).
    HandlerGroup(std::size_t cap, std::size_t stack_size, Pool* pool)
        : cap_(cap), stack_size_(stack_size), pool_(pool) {}
    HandlerGroup(const HandlerGroup&) = delete;
    HandlerGroup& operator=(const HandlerGroup&) = delete;

    std::size_t size() const noexcept { return live_.size(); }

    // Parks while the cap (or the pool) is full.
    void wait_for_slot() {
        if (pool_) {
            pool_->wait_available();
            return;
        }
        while (cap_ && live_.size() >= cap_) slot_free_.wait();
    }

    // Runs body() in a new greenlet, counted until it ends (however it ends).
    template <class F>
    void spawn(F&& body) {
        auto g = green::spawn(SpawnOptions{std::string(), stack_size_},
                              [this, fn = std::forward<F>(body)]() mutable {
                                  struct Done {
                                      HandlerGroup& group;
                                      ~Done() { group.finished(current_greenlet()); }
                                  } done{*this};
                                  fn();
                              });
        GreenletCore* core = detail::core_ptr_of(g);
        live_.emplace(core, g);
        if (pool_) pool_->add(g);  // a slot is free: wait_for_slot() ran just before
    }

    // Waits until no handler but the caller itself is running; false at the deadline.
    bool wait_idle(Deadline deadline);
    // Kills every handler except the caller and waits until they have unwound.
    void kill_all();

  private:
    void finished(GreenletCore* core) noexcept;
    std::size_t others() const;

    std::unordered_map<GreenletCore*, GreenletHandle> live_;
    WaitQueue slot_free_;
    WaitQueue changed_;
    std::size_t cap_;
    std::size_t stack_size_;
    Pool* pool_;
};

}  // namespace green::detail
