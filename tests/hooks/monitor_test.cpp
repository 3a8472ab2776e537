// The blocking monitor: a fiber that keeps the hub busy past the threshold is named (once per
// episode); fibers that yield, and an idle hub, are not reported.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include <green/green.hpp>
#include <green/monitor.hpp>

using namespace std::chrono_literals;

namespace {

struct Reports {
    std::mutex mu;
    std::vector<std::string> names;
    green::MonitorReport callback() {
        return [this](std::string_view name, green::Duration) {
            std::lock_guard lk(mu);
            names.emplace_back(name);
        };
    }
    std::vector<std::string> take() {
        std::lock_guard lk(mu);
        return std::exchange(names, {});
    }
};

void spin_for(green::Duration d) {
    const auto until = green::Clock::now() + d;
    while (green::Clock::now() < until) {
    }
}

}  // namespace

TEST(Monitor, NamesAFiberThatDoesNotYield) {
    Reports reports;
    green::start_monitor(40ms, reports.callback());
    auto busy = green::spawn(green::SpawnOptions{"busy-loop"}, [] { spin_for(300ms); });
    busy.join();
    green::sleep(20ms);
    green::start_monitor(green::Duration::zero());
    const auto names = reports.take();
    ASSERT_EQ(names.size(), 1u);  // one episode, one report
    EXPECT_EQ(names[0], "busy-loop");
}

TEST(Monitor, QuietWhileFibersYieldOrTheHubIdles) {
    Reports reports;
    green::start_monitor(40ms, reports.callback());
    std::vector<green::Greenlet<void>> gs;
    for (int i = 0; i < 3; ++i)
        gs.push_back(green::spawn([] {
            for (int k = 0; k < 30; ++k) {
                spin_for(2ms);
                ::usleep(5000);
            }
        }));
    green::joinall(gs);
    ::usleep(200 * 1000);  // idle hub: the loop fiber sits in its poll
    green::start_monitor(green::Duration::zero());
    EXPECT_TRUE(reports.take().empty());
}

TEST(Monitor, ReportsTheMainStackByName) {
    Reports reports;
    green::start_monitor(40ms, reports.callback());
    spin_for(200ms);
    green::sleep(10ms);
    green::start_monitor(green::Duration::zero());
    const auto names = reports.take();
    ASSERT_FALSE(names.empty());
    EXPECT_EQ(names[0], "main");
}
