// A hub's mailbox outlives the hub for whoever still touches it: a wake handed to another hub
// reads the mailbox after its push, when the woken fiber may have run and its hub exited.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <green/green.hpp>

#include "scheduler.hpp"

#if GREEN_CHECK_FIBER_STATES
namespace {

std::thread* g_waiter = nullptr;
std::atomic<int> g_held{0};

// Holds the poster between its push and its look at `sleeping` until the woken hub's thread
// has exited, which drops the last reference to that hub's mailbox.
void join_waiter_first() {
    if (std::thread* t = std::exchange(g_waiter, nullptr)) {
        t->join();
        g_held.fetch_add(1);
    }
}

}  // namespace
#endif

TEST(Mailbox, AWakeOutlivingTheWokenHubReadsLiveMemory) {
#if !GREEN_CHECK_FIBER_STATES
    GTEST_SKIP() << "the pause point exists in checked (Debug, sanitizer) builds only";
#else
    // Under ASan, a mailbox freed with its hub makes the poster's read a heap-use-after-free.
    green::detail::g_after_wake_push_for_test = join_waiter_first;
    // A waiter that finds the semaphore free takes it without a hand-off: try a few times.
    for (int attempt = 0; attempt < 50 && g_held.load() == 0; ++attempt) {
        green::Semaphore sem(0);
        // Used here first, so the semaphore's home is this hub: it keeps this hub's mailbox
        // alive, not the waiter's.
        sem.release();
        sem.acquire();
        std::atomic<bool> waiting{false};
        std::atomic<bool> finished{false};
        std::thread waiter([&] {
            // A second fiber keeps the hub turning, so it never sleeps and takes the wake-up
            // without the poster's poke, which is what the pause point holds back.
            bool woken = false;
            auto spinner = green::spawn([&] {
                while (!woken) green::yield();
            });
            waiting = true;
            sem.acquire();
            woken = true;
            spinner.join();
            finished = true;
        });
        g_waiter = &waiter;
        while (!waiting) std::this_thread::yield();
        green::sleep(std::chrono::milliseconds(1 + attempt));  // let it park
        sem.release();  // joins `waiter` inside, if the release handed the slot over
        if (g_waiter) {
            g_waiter = nullptr;
            // This hub keeps turning until the waiter is done: a waiter late to its acquire
            // asks this hub, the semaphore's home, to share it, and a plain join here left that
            // request unserved (a hang under load in CI's ASan phase).
            while (!finished) green::sleep(std::chrono::milliseconds(1));
            waiter.join();
        }
    }
    green::detail::g_after_wake_push_for_test = nullptr;
    EXPECT_GT(g_held.load(), 0) << "no release ever handed over to a parked waiter";
#endif
}

TEST(Mailbox, ADeadHubsMailboxServesTheNextHub) {
    green::detail::Mailbox* first = nullptr;
    std::thread([&] { first = green::detail::Hub::get().mailbox().get(); }).join();
    green::detail::Mailbox* second = nullptr;
    std::thread([&] { second = green::detail::Hub::get().mailbox().get(); }).join();
    EXPECT_EQ(first, second);
    EXPECT_GE(second->event_fd, 0);
}
