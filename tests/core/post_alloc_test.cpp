// A post whose own allocation posts to the same hub again. Under the hooks, the allocation in
// HubHandle::post reaches the program's malloc; a pthread mutex that malloc unlocks wakes the
// hub's waiters by posting to it (hooks/hub_set.cpp, wake_others). Made under the mailbox's
// lock, that second post locked it again on the same thread and hung (issue 15). This binary
// replaces the global operator new to make such a post from inside the first one's allocation.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>
#include <thread>
#include <utility>

#include "green/hub.hpp"
#include "green/wait_queue.hpp"

namespace {
// Armed by the test: the next allocation on this thread posts `t_fn` to `t_hub_to_post` first.
thread_local const green::HubHandle* t_hub_to_post = nullptr;
thread_local std::function<void()>* t_fn = nullptr;
}  // namespace

void* operator new(std::size_t n) {
    if (const green::HubHandle* h = std::exchange(t_hub_to_post, nullptr)) h->post(*t_fn);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
// This operator new takes its memory from malloc, so free is the matching release (GCC cannot
// tell from inside the replacement).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept {
    std::free(p);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
void operator delete(void* p, std::size_t) noexcept {
    ::operator delete(p);
}

TEST(PostAlloc, APostMadeByThePostsOwnAllocationRunsToo) {
    std::atomic<int> ran{0};
    // A fresh thread, so a fresh hub: its mailbox has no room yet, and the first post allocates.
    std::thread([&] {
        using namespace std::chrono_literals;
        const green::HubHandle hub = green::current_hub();
        green::WaitQueue q;
        std::function<void()> nested = [&] {
            ++ran;
            q.notify_one();
        };
        t_fn = &nested;
        t_hub_to_post = &hub;
        ASSERT_TRUE(hub.post([&] {
            ++ran;
            q.notify_one();
        }));
        EXPECT_EQ(t_hub_to_post, nullptr);  // the post allocated, and posted from there
        while (ran.load() < 2)
            if (!q.wait(green::Deadline(30s))) break;
    }).join();
    EXPECT_EQ(ran.load(), 2);
}
