// Real OS threads for work that can only block (getaddrinfo, file reads, CPU-heavy calls):
// the calling fiber waits, the hub keeps running others, and the result (or exception) travels
// back through the hub's cross-thread wake-up. Pool threads never run fibers.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "green/clock.hpp"
#include "green/greenlet.hpp"
#include "green/hub.hpp"

namespace green {

namespace detail {

// One offloaded call: run on a pool thread, completed on the caller's hub.
struct OffloadJob {
    virtual ~OffloadJob() = default;
    virtual void run() noexcept = 0;  // on the pool thread; stores result or exception
    std::exception_ptr error;
    bool done = false;        // hub thread only
    Fiber* waiter = nullptr;  // hub thread only; null once the caller gave up
};

template <class R, class Fn>
struct TypedJob final : OffloadJob {
    explicit TypedJob(Fn f) : fn(std::move(f)) {}
    void run() noexcept override {
        try {
            if constexpr (std::is_void_v<R>)
                fn();
            else
                result.emplace(fn());
        } catch (...) {
            error = std::current_exception();
        }
    }
    Fn fn;
    std::conditional_t<std::is_void_v<R>, bool, std::optional<R>> result{};
};

}  // namespace detail

class ThreadPool {
  public:
    // `threads` OS threads, started lazily as work arrives.
    explicit ThreadPool(std::size_t threads);
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;
    // Finishes queued work, then joins the threads.
    ~ThreadPool();

    // Runs f(args...) on a pool thread; the calling fiber waits (others keep running) and gets
    // the result or the exception. Arguments are copied into the job. The wait can be cut short
    // by kill or a Timeout (or `deadline`, which throws green::Timeout): the call then finishes
    // in the background and its result is dropped, so `f` must not refer to the caller's stack.
    template <class F, class... Args>
    auto apply(F&& f, Args&&... args) {
        return apply_until(Deadline{}, std::forward<F>(f), std::forward<Args>(args)...);
    }
    template <class F, class... Args>
    auto apply_until(Deadline deadline, F&& f, Args&&... args) {
        auto bound = detail::bind_call(std::forward<F>(f), std::forward<Args>(args)...);
        using R = std::decay_t<decltype(bound())>;
        auto job = std::make_shared<detail::TypedJob<R, decltype(bound)>>(std::move(bound));
        run_and_wait(job, deadline);
        if (job->error) std::rethrow_exception(job->error);
        if constexpr (!std::is_void_v<R>) return std::move(*job->result);
    }

    // Fire and forget: run `fn` on a pool thread (no fiber waits for it).
    void submit(std::function<void()> fn);

    std::size_t size() const noexcept { return max_threads_; }
    std::size_t started_threads() const;
    // Work waiting for a thread now, and threads running work now (a thread that has just
    // started counts as busy until it first waits): for green::stats().
    std::size_t queued() const;
    std::size_t busy() const;

  private:
    void run_and_wait(std::shared_ptr<detail::OffloadJob> job, Deadline deadline);
    void worker();
    // fork(2) handlers for the default pool: its workers do not exist in a forked child.
    friend ThreadPool& default_threadpool();
    static void atfork_prepare() noexcept;
    static void atfork_parent() noexcept;
    static void atfork_child() noexcept;

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> queue_;
    std::vector<std::thread> threads_;
    std::size_t idle_ = 0;
    std::size_t max_threads_;
    bool stopping_ = false;
};

// The process-wide pool behind offload() (GREEN_OFFLOAD_THREADS, default 8).
ThreadPool& default_threadpool();

// Runs f(args...) on the default pool while the calling fiber waits.
template <class F, class... Args>
auto offload(F&& f, Args&&... args) {
    return default_threadpool().apply(std::forward<F>(f), std::forward<Args>(args)...);
}

}  // namespace green
