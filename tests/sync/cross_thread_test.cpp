// Event and AsyncResult set from plain std::threads: the waiting fibers' hub is woken through
// its mailbox, CrossThread waiters keep the hub alive, and an object destroyed while a wake-up
// is still in flight is never touched again.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <green/green.hpp>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

TEST(CrossThread, EventSetFromThreadWakesMainAndFibers) {
    green::Event ev(green::cross_thread);
    int woke = 0;
    std::vector<green::GreenletHandle> gs;
    for (int i = 0; i < 10; ++i)
        gs.push_back(green::spawn([&] {
            EXPECT_TRUE(ev.wait());
            ++woke;
        }));
    green::sleep(0ms);
    std::thread t([&] {
        std::this_thread::sleep_for(50ms);
        ev.set();
    });
    EXPECT_TRUE(ev.wait(10s));  // nothing else keeps the hub alive: CrossThread must
    green::joinall(gs);
    t.join();
    EXPECT_EQ(woke, 10);
}

TEST(CrossThread, FlagIsVisibleToTheSettingThreadAtOnce) {
    green::Event ev;
    std::thread t([&] {
        ev.set();
        EXPECT_TRUE(ev.is_set());
        ev.clear();
        EXPECT_FALSE(ev.is_set());
        ev.set();
    });
    t.join();
    EXPECT_TRUE(ev.wait(0s));
}

TEST(CrossThread, UnmarkedEventWaitGetsLoopExitButKeepAliveHelps) {
    green::Event ev;
    std::promise<void> go;
    std::thread t([&] {
        go.get_future().wait();
        std::this_thread::sleep_for(20ms);
        ev.set();
    });
    // gevent's rule: a wait nothing can end is LoopExit. Another thread does not count...
    EXPECT_THROW(ev.wait(), green::LoopExit);
    // ...unless the program says so with a KeepAlive.
    {
        green::HubHandle::KeepAlive keep(green::current_hub());
        go.set_value();
        EXPECT_TRUE(ev.wait(10s));
    }
    t.join();
}

TEST(CrossThread, SetCrossThreadLater) {
    green::Event ev;
    ev.set_cross_thread();
    std::thread t([&] {
        std::this_thread::sleep_for(30ms);
        ev.set();
    });
    EXPECT_TRUE(ev.wait());
    t.join();
}

TEST(CrossThread, AsyncResultValueAndExceptionFromThread) {
    green::AsyncResult<std::vector<int>> r(green::cross_thread);
    std::thread t([&] {
        std::this_thread::sleep_for(20ms);
        r.set(std::vector<int>{1, 2, 3});
    });
    EXPECT_EQ(r.get(10s), (std::vector<int>{1, 2, 3}));
    t.join();

    green::AsyncResult<int> e(green::cross_thread);
    auto waiter = green::spawn([&] { return e.get(); });
    green::sleep(0ms);
    std::thread t2([&] { e.set_exception(std::runtime_error("from a thread")); });
    try {
        waiter.get();
        FAIL() << "no exception";
    } catch (const std::runtime_error& ex) {
        EXPECT_STREQ(ex.what(), "from a thread");
    }
    t2.join();
}

TEST(CrossThread, ResultSetBeforeAnyoneWaited) {
    green::AsyncResult<int> r;
    std::thread t([&] { r.set(9); });
    t.join();
    EXPECT_TRUE(r.ready());
    EXPECT_EQ(r.get(0s), 9);
}

TEST(CrossThread, ManyThreadsSetManyEvents) {
    constexpr int kEvents = 64;
    std::vector<std::unique_ptr<green::Event>> evs;
    for (int i = 0; i < kEvents; ++i)
        evs.push_back(std::make_unique<green::Event>(green::cross_thread));
    std::atomic<int> woke{0};
    std::vector<green::GreenletHandle> gs;
    for (int i = 0; i < kEvents; ++i)
        gs.push_back(green::spawn([&, i] {
            EXPECT_TRUE(evs[i]->wait(20s));
            ++woke;
        }));
    green::sleep(0ms);
    std::vector<std::thread> ts;
    for (int k = 0; k < 4; ++k)
        ts.emplace_back([&, k] {
            for (int i = k; i < kEvents; i += 4) evs[i]->set();
        });
    green::joinall(gs, 20s);
    for (auto& t : ts) t.join();
    EXPECT_EQ(woke.load(), kEvents);
}

TEST(CrossThread, DestroyedRightAfterWakeIsSafe) {
    // The setter may still be inside set() when the fiber sees the flag and destroys the
    // Event; the destructor waits for it (checked under ASan).
    for (int round = 0; round < 200; ++round) {
        auto ev = std::make_unique<green::Event>(green::cross_thread);
        std::thread t([e = ev.get()] { e->set(); });
        EXPECT_TRUE(ev->wait(10s));
        ev.reset();
        t.join();
    }
}

TEST(CrossThread, WakeStillInFlightWhenDestroyedIsDropped) {
    auto ev = std::make_unique<green::Event>();
    EXPECT_FALSE(ev->wait(0s));                   // binds it to this hub
    std::thread t([e = ev.get()] { e->set(); });  // posts a wake-up to this hub
    t.join();
    ev.reset();
    green::sleep(20ms);  // the hub runs the posted wake-up: it must see the Event is gone

    auto r = std::make_unique<green::AsyncResult<std::string>>();
    EXPECT_FALSE(r->wait(0s));
    std::thread t2([p = r.get()] { p->set(std::string(100, 'x')); });
    t2.join();
    r.reset();
    green::sleep(20ms);
}

TEST(CrossThread, WaitFromAnotherHubWorksLinkFromThereIsRefused) {
    green::Event ev;
    EXPECT_FALSE(ev.wait(0s));  // bound to the main thread's hub
    std::thread t([&] {
        // A fiber of another hub waits away from the Event's hub (woken through its mailbox);
        // links stay on the Event's hub.
        EXPECT_FALSE(ev.wait(10ms));
        EXPECT_THROW(green::wait({green::WaitableRef(ev)}, 0s), std::logic_error);
    });
    t.join();
}

TEST(CrossThread, EventSetByFiberOfAnotherHub) {
    green::Event ev(green::cross_thread);
    std::thread t([&] {
        // This thread has a hub of its own; its fiber's set() crosses hubs.
        auto g = green::spawn([&] {
            green::sleep(20ms);
            ev.set();
        });
        g.join();
    });
    EXPECT_TRUE(ev.wait(10s));
    t.join();
}

}  // namespace
