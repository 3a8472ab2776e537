// green::stats() counters move with what the hub does, and the event hook sees spawn, switch-in,
// finish and the monitor's hub-blocked events in order, and stops when removed.
#include <poll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include <green/green.hpp>
#include <green/stats.hpp>

using namespace std::chrono_literals;

namespace {

int reason(const char* name) {
    for (int i = 0; i < green::kParkReasonCount; ++i)
        if (std::string(green::kParkReasons[i]) == name) return i;
    return -1;
}

struct Recorded {
    std::mutex mu;
    std::vector<green::RuntimeEvent> events;
};

void record(const green::RuntimeEvent& e, void* arg) {
    auto* r = static_cast<Recorded*>(arg);
    std::lock_guard lk(r->mu);
    r->events.push_back(e);
}

}  // namespace

TEST(Stats, CountersMoveAsExpected) {
    green::sleep(1ms);  // the hub's loop fiber gets its stack (counted as spawned) on first use
    const green::HubStats before = green::hub_stats();
    std::vector<green::Greenlet<void>> gs;
    for (int i = 0; i < 10; ++i) gs.push_back(green::spawn([] { green::sleep(1ms); }));
    green::Event never;
    auto parked = green::spawn([&] { (void)never.wait(10s); });
    green::sleep(5ms);
    const green::HubStats during = green::hub_stats();
    EXPECT_EQ(during.fibers_spawned - before.fibers_spawned, 11u);
    EXPECT_GE(during.timers_armed, 1u);  // the event wait's deadline
    EXPECT_GE(during.parks_by_reason[reason("event")] - before.parks_by_reason[reason("event")],
              1u);
    for (auto& g : gs) g.join();
    parked.kill();
    const green::HubStats after = green::hub_stats();
    EXPECT_EQ(after.fibers_finished - before.fibers_finished, 11u);
    EXPECT_EQ(after.fibers_live, before.fibers_live);
    // Ten sleeps in the fibers and one in main.
    EXPECT_EQ(after.parks_by_reason[reason("sleep")] - before.parks_by_reason[reason("sleep")],
              11u);
    EXPECT_GE(after.switches - before.switches, 22u);  // each fiber in and out at least once
    EXPECT_GT(after.loop_turns, before.loop_turns);
    std::uint64_t sum = 0;
    for (auto n : after.parks_by_reason) sum += n;
    EXPECT_EQ(sum, after.parks);
}

TEST(Stats, IoWaitsAreCounted) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const auto before = green::hub_stats().io_waits_started;
    auto reader = green::spawn([&] { green::wait_fd(fds[0], POLLIN); });
    green::sleep(2ms);
    EXPECT_EQ(green::hub_stats().io_waiting, 1u);
    ASSERT_EQ(::write(fds[1], "x", 1), 1);
    reader.join();
    EXPECT_EQ(green::hub_stats().io_waits_started - before, 1u);
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST(Stats, EveryHubIsListed) {
    std::atomic<bool> stop{false};
    std::atomic<long> tid{0};
    std::thread t([&] {
        tid = green::hub_stats().os_tid;
        while (!stop) green::sleep(1ms);
    });
    while (!tid) std::this_thread::sleep_for(1ms);
    const auto all = green::stats();
    stop = true;
    t.join();
    ASSERT_GE(all.size(), 2u);
    EXPECT_EQ(all[0].os_tid, green::hub_stats().os_tid);
    bool found = false;
    for (const auto& s : all) found = found || s.os_tid == tid;
    EXPECT_TRUE(found);
}

TEST(Events, SpawnSwitchFinishInOrderAndRemovable) {
    Recorded r;
    green::set_event_hook(record, &r);
    auto g = green::spawn([] {});
    g.join();
    green::set_event_hook(nullptr);
    auto after = green::spawn([] {});
    after.join();

    std::lock_guard lk(r.mu);
    ASSERT_FALSE(r.events.empty());
    ASSERT_EQ(r.events[0].kind, green::RuntimeEventKind::Spawn);
    const std::uint64_t id = r.events[0].fiber;
    EXPECT_NE(id, 0u);
    std::vector<green::RuntimeEventKind> mine;
    for (const auto& e : r.events)
        if (e.fiber == id) mine.push_back(e.kind);
    const std::vector<green::RuntimeEventKind> expected = {green::RuntimeEventKind::Spawn,
                                                           green::RuntimeEventKind::SwitchIn,
                                                           green::RuntimeEventKind::Finish};
    EXPECT_EQ(mine, expected);
    // Removed: nothing about the second fiber.
    for (const auto& e : r.events) EXPECT_TRUE(e.fiber == id || e.fiber == 0) << e.fiber;
    // main was switched back in after the fiber finished
    bool main_back = false;
    for (const auto& e : r.events)
        main_back = main_back || (e.kind == green::RuntimeEventKind::SwitchIn && e.fiber == 0);
    EXPECT_TRUE(main_back);
}

TEST(Events, TheMonitorReportsABlockedHub) {
    Recorded r;
    green::set_event_hook(record, &r);
    green::start_monitor(40ms, [](std::string_view, green::Duration) {});
    auto busy = green::spawn([] {
        const auto until = green::Clock::now() + 300ms;
        while (green::Clock::now() < until) {
        }
    });
    busy.join();
    green::sleep(20ms);
    green::start_monitor(green::Duration::zero());
    green::set_event_hook(nullptr);
    std::lock_guard lk(r.mu);
    ASSERT_FALSE(r.events.empty());
    ASSERT_EQ(r.events[0].kind, green::RuntimeEventKind::Spawn);
    const std::uint64_t id = r.events[0].fiber;
    int blocked = 0;
    for (const auto& e : r.events)
        if (e.kind == green::RuntimeEventKind::HubBlocked) {
            ++blocked;
            EXPECT_EQ(e.fiber, id);
            EXPECT_GE(e.ran, 40ms);
        }
    EXPECT_EQ(blocked, 1);
}
