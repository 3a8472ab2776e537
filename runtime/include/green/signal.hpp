// Signals as hub events (gevent.signal_handler): a signal runs a callback in a new greenlet, or
// wakes a fiber parked in signal_wait, instead of interrupting whatever code happens to run.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <vector>

#include "green/clock.hpp"

namespace green {

// A registration made by on_signal; destroying it (or cancel()) removes the handler. While any
// handler for a signal exists the signal is blocked in the hub's thread and read from a
// signalfd; when the last one goes, the previous disposition and mask come back.
class SignalHandler {
  public:
    SignalHandler() = default;
    SignalHandler(SignalHandler&& o) noexcept : ids_(std::move(o.ids_)) { o.ids_.clear(); }
    SignalHandler& operator=(SignalHandler&& o) noexcept;
    SignalHandler(const SignalHandler&) = delete;
    SignalHandler& operator=(const SignalHandler&) = delete;
    ~SignalHandler() { cancel(); }

    void cancel() noexcept;
    bool active() const noexcept { return !ids_.empty(); }

  private:
    friend SignalHandler on_signal(std::initializer_list<int>, std::function<void()>, bool);
    std::vector<std::uint64_t> ids_;
};

// Calls `callback` in a new greenlet every time one of `signals` arrives. All registrations
// belong to the hub of the first thread that makes one (std::logic_error from another thread);
// SIGKILL, SIGSTOP and out-of-range numbers throw std::invalid_argument. A handler keeps the hub
// alive (a wait that only a signal can end blocks for it); with `ref` false it does not
// (gevent's ref=False), so such a wait raises LoopExit instead.
[[nodiscard]] SignalHandler on_signal(std::initializer_list<int> signals,
                                      std::function<void()> callback, bool ref = true);
[[nodiscard]] inline SignalHandler on_signal(int signo, std::function<void()> callback,
                                             bool ref = true) {
    return on_signal({signo}, std::move(callback), ref);
}

// Parks the calling fiber until one of `signals` arrives; returns its number, or 0 when the
// deadline passes first.
int signal_wait(std::initializer_list<int> signals, Deadline deadline = {});

}  // namespace green
