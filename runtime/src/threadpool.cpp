// ThreadPool: plain OS threads fed from one queue; completions return to the waiting fiber's hub
// through HubHandle::post, and a KeepAlive stops the hub from declaring LoopExit meanwhile.
#include "green/threadpool.hpp"

#include <pthread.h>

#include <cstdlib>

#include "config.hpp"
#include "os_thread.hpp"
#include "scheduler.hpp"

namespace green {

ThreadPool::ThreadPool(std::size_t threads) : max_threads_(threads ? threads : 1) {}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lk(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
}

std::size_t ThreadPool::started_threads() const {
    std::lock_guard lk(mu_);
    return threads_.size();
}

std::size_t ThreadPool::queued() const {
    std::lock_guard lk(mu_);
    return queue_.size();
}

std::size_t ThreadPool::busy() const {
    std::lock_guard lk(mu_);
    return threads_.size() - idle_;
}

void ThreadPool::submit(std::function<void()> fn) {
    std::unique_lock lk(mu_);
    queue_.push_back(std::move(fn));
    // Idle workers already woken for earlier items have not taken them yet: start a thread
    // whenever queued work outnumbers idle workers, or a burst would run one call at a time.
    if (queue_.size() > idle_ && threads_.size() < max_threads_) {
        threads_.push_back(detail::start_os_thread([this] { worker(); }));
    }
    lk.unlock();
    cv_.notify_one();
}

void ThreadPool::worker() {
    std::unique_lock lk(mu_);
    for (;;) {
        ++idle_;
        cv_.wait(lk, [this] { return stopping_ || !queue_.empty(); });
        --idle_;
        if (queue_.empty()) return;  // stopping, and nothing left
        auto fn = std::move(queue_.front());
        queue_.pop_front();
        lk.unlock();
        fn();
        lk.lock();
    }
}

void ThreadPool::run_and_wait(std::shared_ptr<detail::OffloadJob> job, Deadline deadline) {
    auto& hub = detail::Hub::get();
    HubHandle home = current_hub();
    HubHandle::KeepAlive keep(home);
    job->waiter = hub.current();
    // The worker moves its reference into the completion it posts, so the job is released only
    // on its home hub, after the wake-up. Released on the worker after the post, it raced the
    // waiter's release; libstdc++ orders the two, but where the waiter is the hook library
    // (built without TSan instrumentation) ThreadSanitizer could not see it and reported a race.
    submit([job, home]() mutable {
        job->run();
        home.post([job = std::move(job)] {
            job->done = true;
            if (job->waiter) job->waiter->hub()->ready(*job->waiter);
        });
    });
    struct GiveUp {
        detail::OffloadJob& j;
        ~GiveUp() { j.waiter = nullptr; }
    } give_up{*job};
    const detail::WaitNote note(hub.current(), detail::WaitKind::Offload, job.get(), -1);
    while (!job->done) {
        if (!hub.park(deadline)) detail::throw_timeout_expired();
    }
}

ThreadPool& default_threadpool() {
    static ThreadPool pool(detail::config().offload_threads);  // GREEN_OFFLOAD_THREADS
    static const bool fork_safe =
        ::pthread_atfork(&ThreadPool::atfork_prepare, &ThreadPool::atfork_parent,
                         &ThreadPool::atfork_child) == 0;
    (void)fork_safe;
    return pool;
}

// Holding the lock across fork() means the child never inherits it mid-update.
void ThreadPool::atfork_prepare() noexcept {
    default_threadpool().mu_.lock();
}
void ThreadPool::atfork_parent() noexcept {
    default_threadpool().mu_.unlock();
}
void ThreadPool::atfork_child() noexcept {
    ThreadPool& p = default_threadpool();
    // The handles of the parent's workers are leaked: joining them would wait for threads that
    // do not exist here. Work the parent queued belongs to the parent's hub and is dropped.
    (void)new std::vector<std::thread>(std::move(p.threads_));
    p.threads_.clear();
    p.idle_ = 0;
    p.queue_.clear();
    p.mu_.unlock();
}

}  // namespace green
