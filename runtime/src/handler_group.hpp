// The servers' set of live handler greenlets on one hub: spawns them, caps how many run at once,
// and supports the graceful stop (wait, then kill what is left). A server on several hubs has
// one group per hub and one Semaphore shared by all of them for a global cap.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "green/greenlet.hpp"
#include "green/pool.hpp"
#include "green/semaphore.hpp"
#include "green/wait_queue.hpp"

namespace green::detail {

class HandlerGroup {
  public:
    // What caps the handlers: `pool` (which may hold other greenlets too), else `shared_cap`
    // (one permit per handler, shared with the groups of other hubs), else `cap` (0: none).
    HandlerGroup(std::size_t cap, std::size_t stack_size, StackMode stack_mode, Pool* pool,
                 Semaphore* shared_cap = nullptr)
        : cap_(cap),
          stack_size_(stack_size),
          stack_mode_(stack_mode),
          pool_(pool),
          shared_cap_(shared_cap) {}
    HandlerGroup(const HandlerGroup&) = delete;
    HandlerGroup& operator=(const HandlerGroup&) = delete;

    // Handlers running now; any thread may read it.
    std::size_t size() const noexcept { return count_.load(std::memory_order_relaxed); }
    // No handler left, and none will touch the group again: it may be destroyed.
    bool drained() const noexcept { return count_.load(std::memory_order_acquire) == 0; }

    // A place for one handler. With a shared cap it holds a permit, which spawn() hands to the
    // handler and which goes back if the slot is dropped unused (the loop killed in accept).
    class Slot {
      public:
        Slot() = default;
        Slot(Slot&& o) noexcept : permit_(std::exchange(o.permit_, nullptr)) {}
        Slot& operator=(Slot&&) = delete;
        ~Slot() {
            if (permit_) permit_->release();
        }

      private:
        friend class HandlerGroup;
        explicit Slot(Semaphore* permit) noexcept : permit_(permit) {}
        Semaphore* permit_ = nullptr;
    };

    // Parks while the cap (or the pool) is full.
    Slot wait_for_slot() {
        if (pool_) {
            pool_->wait_available();
        } else if (shared_cap_) {
            shared_cap_->acquire();
            return Slot(shared_cap_);
        } else {
            while (cap_ && live_.size() >= cap_) slot_free_.wait();
        }
        return Slot();
    }

    // Runs body() in a new greenlet, counted until it ends (however it ends).
    template <class F>
    void spawn(Slot slot, F&& body) {
        auto g = green::spawn(SpawnOptions{.stack_size = stack_size_, .stack_mode = stack_mode_},
                              [this, s = std::move(slot), fn = std::forward<F>(body)]() mutable {
                                  struct Done {
                                      HandlerGroup& group;
                                      Slot slot;
                                      // The permit goes back first: finished() is the handler's
                                      // last touch of its server, which a server destroyed
                                      // meanwhile frees once the group drained.
                                      ~Done() {
                                          { Slot last = std::move(slot); }
                                          group.finished(current_greenlet());
                                      }
                                  } done{*this, std::move(s)};
                                  fn();
                              });
        GreenletCore* core = detail::core_ptr_of(g);
        live_.emplace(core, g);
        count_.fetch_add(1, std::memory_order_relaxed);
        if (pool_) pool_->add(g);  // a slot is free: wait_for_slot() ran just before
    }

    // The groups of the same server on other hubs (a server on a HubPool), for ahead().
    void set_siblings(std::vector<const HandlerGroup*> siblings) {
        siblings_ = std::move(siblings);
    }
    // True when this hub runs more than one handler more than some sibling hub: its accept loop
    // then lets the others take the next connection first (see StreamServer::serve_loop).
    bool ahead() const noexcept {
        const std::size_t mine = size();
        for (const HandlerGroup* g : siblings_)
            if (mine > g->size() + 1) return true;
        return false;
    }

    // Waits until no handler but `spare` (by default the caller) is running; false at the
    // deadline.
    bool wait_idle(Deadline deadline, GreenletCore* spare = current_greenlet());
    // Kills every handler except `spare` and waits until they have unwound.
    void kill_all(GreenletCore* spare = current_greenlet());

  private:
    void finished(GreenletCore* core) noexcept;
    std::size_t others(GreenletCore* spare) const;

    std::unordered_map<GreenletCore*, GreenletHandle> live_;
    std::vector<const HandlerGroup*> siblings_;
    std::atomic<std::size_t> count_{0};
    WaitQueue slot_free_;
    WaitQueue changed_;
    std::size_t cap_;
    std::size_t stack_size_;
    StackMode stack_mode_;
    Pool* pool_;
    Semaphore* shared_cap_;
};

}  // namespace green::detail
