// green::stats() counters move with what the hub does (stack memory and the offload pool
// included), and the event hook sees spawn, switch-in, finish and the monitor's hub-blocked
// events in order, and stops when removed; resident memory above and back under a threshold is
// told once per crossing.
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
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

// A fresh hub (a new thread has its own stack pool): 1000 parked fibers, each with 16 KiB of
// its stack written, raise the pool's reserved address space by at least 1000 stacks and its
// resident memory by at least 1000 x 16 KiB; finishing them keeps the stacks for reuse.
TEST(Stats, StackMemoryReservedAndResident) {
    constexpr std::size_t kFibers = 1000, kTouched = 16 << 10;
    green::HubStats before, during, after;
    std::thread t([&] {
        green::sleep(1ms);  // the loop fiber's stack
        before = green::hub_stats();
        green::Event go;
        std::vector<green::Greenlet<void>> gs;
        for (std::size_t i = 0; i < kFibers; ++i)
            gs.push_back(green::spawn([&] {
                volatile char deep[kTouched];
                for (std::size_t j = 0; j < kTouched; j += 512) deep[j] = 1;
                go.wait();
                (void)deep[0];
            }));
        green::sleep(5ms);
        during = green::hub_stats();
        go.set();
        for (auto& g : gs) g.join();
        after = green::hub_stats();
    });
    t.join();
    EXPECT_GE(during.stack_reserved_bytes,
              before.stack_reserved_bytes + kFibers * green::default_stack_size());
    EXPECT_GE(during.stack_resident_bytes, before.stack_resident_bytes + kFibers * kTouched);
    EXPECT_LE(during.stack_resident_bytes, during.stack_reserved_bytes);
    EXPECT_EQ(after.stack_reserved_bytes, during.stack_reserved_bytes);  // kept for reuse
}

// 4 blocked calls on a 2-thread pool: 2 running, 2 waiting; then all done, nothing waiting.
TEST(Stats, OffloadPoolQueueAndBusyWorkers) {
    std::atomic<bool> release{false};
    std::atomic<int> done{0};
    auto blocked = [&] {
        for (int i = 0; i < 10000 && !release; ++i) std::this_thread::sleep_for(1ms);
        ++done;
    };
    {
        green::ThreadPool pool(2);
        EXPECT_EQ(pool.busy(), 0u);
        EXPECT_EQ(pool.queued(), 0u);
        for (int i = 0; i < 4; ++i) pool.submit(blocked);
        for (int i = 0; i < 5000 && (pool.busy() != 2 || pool.queued() != 2); ++i)
            std::this_thread::sleep_for(1ms);
        EXPECT_EQ(pool.started_threads(), 2u);
        EXPECT_EQ(pool.busy(), 2u);
        EXPECT_EQ(pool.queued(), 2u);
        release = true;
        for (int i = 0; i < 5000 && (done < 4 || pool.busy() != 0); ++i)
            std::this_thread::sleep_for(1ms);
        EXPECT_EQ(done, 4);
        EXPECT_EQ(pool.busy(), 0u);
        EXPECT_EQ(pool.queued(), 0u);
    }
    // The default pool's figures are in every hub's stats: fill it and queue two more.
    green::ThreadPool& pool = green::default_threadpool();
    const std::size_t n = pool.size();
    release = false;
    done = 0;
    for (std::size_t i = 0; i < n + 2; ++i) pool.submit(blocked);
    green::HubStats s;
    for (int i = 0; i < 5000; ++i) {
        s = green::hub_stats();
        if (s.offload_busy == n && s.offload_queued == 2) break;
        std::this_thread::sleep_for(1ms);
    }
    EXPECT_EQ(s.offload_threads, n);
    EXPECT_EQ(s.offload_busy, n);
    EXPECT_EQ(s.offload_queued, 2u);
    release = true;
    for (int i = 0; i < 5000 && static_cast<std::size_t>(done) < n + 2; ++i)
        std::this_thread::sleep_for(1ms);
    for (int i = 0; i < 5000 && green::hub_stats().offload_busy != 0; ++i)
        std::this_thread::sleep_for(1ms);
    s = green::hub_stats();
    EXPECT_EQ(s.offload_busy, 0u);
    EXPECT_EQ(s.offload_queued, 0u);
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

namespace {

std::vector<green::RuntimeEvent> memory_events(Recorded& r) {
    std::lock_guard lk(r.mu);
    std::vector<green::RuntimeEvent> out;
    for (const auto& e : r.events)
        if (e.kind == green::RuntimeEventKind::MemoryThresholdExceeded ||
            e.kind == green::RuntimeEventKind::MemoryUnderThreshold)
            out.push_back(e);
    return out;
}

// Waits (at most 10 s) until `n` memory events were recorded.
bool await_memory_events(Recorded& r, std::size_t n) {
    for (int i = 0; i < 1000 && memory_events(r).size() < n; ++i) green::sleep(10ms);
    return memory_events(r).size() >= n;
}

}  // namespace

TEST(Events, ResidentMemoryCrossingAThresholdOnceEachWay) {
    Recorded r;
    green::set_event_hook(record, &r);
    // Well above what the process holds now, and well below it once 256 MiB more are touched.
    constexpr std::size_t kBlock = std::size_t{256} << 20;
    std::uint64_t resident_now = 0;
    {
        // The process's resident memory from the same source the monitor reads.
        FILE* f = std::fopen("/proc/self/statm", "r");
        ASSERT_NE(f, nullptr);
        unsigned long long size = 0, resident = 0;
        ASSERT_EQ(std::fscanf(f, "%llu %llu", &size, &resident), 2);
        std::fclose(f);
        resident_now = resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    }
    const std::uint64_t threshold = resident_now + kBlock / 2;
    green::set_memory_threshold(threshold);
    EXPECT_EQ(green::memory_threshold(), threshold);
    green::sleep(250ms);  // a couple of samples below it: nothing
    EXPECT_TRUE(memory_events(r).empty());

    void* block =
        ::mmap(nullptr, kBlock, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(block, MAP_FAILED);
    std::memset(block, 1, kBlock);  // resident now
    ASSERT_TRUE(await_memory_events(r, 1));
    green::sleep(350ms);  // several more samples above it: still one event
    auto events = memory_events(r);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, green::RuntimeEventKind::MemoryThresholdExceeded);
    EXPECT_GT(events[0].resident_bytes, threshold);
    EXPECT_EQ(events[0].memory_threshold, threshold);
    EXPECT_EQ(events[0].fiber, 0u);

    ::munmap(block, kBlock);
    ASSERT_TRUE(await_memory_events(r, 2));
    green::sleep(350ms);
    events = memory_events(r);
    green::set_memory_threshold(0);
    green::set_event_hook(nullptr);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].kind, green::RuntimeEventKind::MemoryUnderThreshold);
    EXPECT_LE(events[1].resident_bytes, threshold);
    EXPECT_EQ(green::memory_threshold(), 0u);
}
