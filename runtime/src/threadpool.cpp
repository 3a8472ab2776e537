// ThreadPool: plain OS threads fed from one queue; completions return to the waiting fiber's hub
// through HubHandle::post, and a KeepAlive stops the hub from declaring LoopExit meanwhile.
#include "green/threadpool.hpp"

#include <cstdlib>

#include "hub.hpp"
#include "os_thread.hpp"

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

void ThreadPool::submit(std::function<void()> fn) {
    std::unique_lock lk(mu_);
    queue_.push_back(std::move(fn));
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
    submit([job, home] {
        job->run();
        home.post([job] {
            job->done = true;
            if (job->waiter) job->waiter->hub_->ready(*job->waiter);
        });
    });
    struct GiveUp {
        detail::OffloadJob& j;
        ~GiveUp() { j.waiter = nullptr; }
    } give_up{*job};
    while (!job->done) {
        if (!hub.park(deadline)) detail::throw_timeout_expired();
    }
}

ThreadPool& default_threadpool() {
    static ThreadPool pool([] {
        const char* v = std::getenv("GREEN_OFFLOAD_THREADS");
        long n = v ? std::strtol(v, nullptr, 10) : 0;
        return n > 0 ? static_cast<std::size_t>(n) : std::size_t{8};
    }());
    return pool;
}

}  // namespace green
