// ThreadPoolExecutor.map from the seed's pool lessons, two ways: green::Pool(5).map runs a
// sleeping task over 20 items five greenlets at a time, and green::ThreadPool(4) runs a blocking
// call (a real nanosleep, which would stall every fiber) on OS threads while fibers wait. Both
// give results in the items' order.
// usage: threading_pool_map [--task-ms N]   (default 100)
#include <time.h>

#include <cstdio>
#include <green/green.hpp>
#include <numeric>
#include <vector>

#include "args.hpp"

int main(int argc, char** argv) {
    const long task_ms = option(argc, argv, "--task-ms", 100);
    std::vector<int> items(20);
    std::iota(items.begin(), items.end(), 0);

    green::Pool pool(5);
    const auto t0 = green::Clock::now();
    std::vector<int> squares = pool.map(
        [&](int x) {
            green::sleep(std::chrono::milliseconds(task_ms));
            return x * x;
        },
        items);
    const double rounds =
        std::chrono::duration<double, std::milli>(green::Clock::now() - t0).count() / task_ms;
    std::printf("Pool(5).map:");
    for (int s : squares) std::printf(" %d", s);
    std::printf("\n");

    // A call that blocks its OS thread goes to the ThreadPool; fibers keep running meanwhile.
    green::ThreadPool threads(4);
    std::vector<green::Greenlet<int>> calls;
    for (int x : items)
        calls.push_back(green::spawn([&, x] {
            return threads.apply([x, task_ms] {
                const timespec ts{0, task_ms * 1000000L};
                ::nanosleep(&ts, nullptr);
                return x + 100;
            });
        }));
    green::joinall(calls);
    std::printf("ThreadPool(4):");
    for (auto& c : calls) std::printf(" %d", c.get());
    std::printf("\n");
    std::printf("Pool(5) took %.1f task times for 20 tasks\n", rounds);
}
