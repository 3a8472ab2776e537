// The fiber state machine (detail/fiber.hpp): the states a greenlet and a raw greenlet pass
// through, seen from outside; and, in checked builds (Debug, sanitizers), that an illegal
// transition — waking a fiber that is not parked, launching one twice — aborts with a message
// instead of being ignored.
#include <gtest/gtest.h>

#include <green/green.hpp>

#include "scheduler.hpp"

using namespace std::chrono_literals;
using green::detail::FiberState;

namespace {

FiberState state_of(const green::GreenletHandle& g) {
    return green::detail::core_ptr_of(g)->state();
}

TEST(FiberStates, GreenletLifecycle) {
    FiberState inside = FiberState::Dead;
    auto g = green::spawn([&] {
        inside = green::detail::core_ptr_of(green::getcurrent())->state();
        green::sleep(1ms);
    });
    EXPECT_EQ(state_of(g), FiberState::Runnable);  // spawn queues it
    green::sleep(0ms);
    EXPECT_EQ(inside, FiberState::Running);
    EXPECT_EQ(state_of(g), FiberState::Parked);  // sleeping
    g.join();
    EXPECT_EQ(state_of(g), FiberState::Dead);
}

TEST(FiberStates, SpawnLaterStaysCreatedAndDiesUnstartedWhenKilled) {
    auto g = green::spawn_later(1h, [] {});
    EXPECT_EQ(state_of(g), FiberState::Created);
    g.kill();
    EXPECT_EQ(state_of(g), FiberState::Dead);
}

TEST(FiberStates, KilledWhileQueuedDiesWithoutRunning) {
    bool ran = false;
    auto g = green::spawn([&] { ran = true; });
    EXPECT_EQ(state_of(g), FiberState::Runnable);
    g.kill();
    EXPECT_EQ(state_of(g), FiberState::Dead);
    green::sleep(1ms);
    EXPECT_FALSE(ran);
}

TEST(FiberStates, RawGreenletIsSuspendedWhenItSwitchesAway) {
    auto& main = green::RawGreenlet::current();
    green::RawGreenlet child([&] { main.switch_to(); });
    child.switch_to();
    EXPECT_TRUE(child.started());
    EXPECT_FALSE(child.dead());
    child.switch_to();  // finishes
    EXPECT_TRUE(child.dead());
}

TEST(FiberStates, WakingAFiberTwiceQueuesItOnce) {
    // A deadline and a notification in the same turn: the second wake-up finds it Runnable.
    green::Event ev;
    bool woke = false;
    auto g = green::spawn([&] { woke = ev.wait(0ms) || ev.wait(1ms); });
    green::sleep(0ms);
    auto& hub = green::detail::Hub::get();
    hub.ready(*green::detail::core_ptr_of(g));
    hub.ready(*green::detail::core_ptr_of(g));  // already Runnable: no second queue entry
    EXPECT_EQ(state_of(g), FiberState::Runnable);
    g.join();
    EXPECT_FALSE(woke);
}

#if GREEN_CHECK_FIBER_STATES
TEST(FiberStatesDeathTest, ReadyOfAFiberThatIsNotParkedAborts) {
    auto g = green::spawn_later(1h, [] {});
    EXPECT_DEATH(green::detail::Hub::get().ready(*green::detail::core_ptr_of(g)),
                 "Created -> Runnable: ready\\(\\) of a fiber that is not parked");
    g.kill();
}

TEST(FiberStatesDeathTest, LaunchingTwiceAborts) {
    auto g = green::spawn([] {});
    EXPECT_DEATH(green::detail::Hub::get().launch(*green::detail::core_ptr_of(g)),
                 "launch\\(\\) of a fiber that was started already");
    g.join();
}

TEST(FiberStatesDeathTest, ReadyOfADeadFiberAborts) {
    auto g = green::spawn([] {});
    g.join();
    EXPECT_DEATH(green::detail::Hub::get().ready(*green::detail::core_ptr_of(g)),
                 "Dead -> Runnable");
}
#else
TEST(FiberStatesDeathTest, NotCheckedInOptimisedBuilds) {
    GTEST_SKIP() << "fiber state checks are compiled in Debug and sanitizer builds only";
}
#endif

}  // namespace
