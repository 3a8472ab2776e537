// gevent's synchronous vs asynchronous demo: ten tasks that each sleep 0.5 s, first one after
// another (in order, ~5 s), then as ten greenlets (together, ~0.5 s).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <green/green.hpp>

namespace {

double g_scale = 1.0;

void task(int pid) {
    green::sleep(std::chrono::duration<double>(0.5 * g_scale));
    std::printf("Task %d done\n", pid);
}

double seconds_since(green::Clock::time_point t0) {
    return std::chrono::duration<double>(green::Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
    g_scale = argc > 1 ? std::atof(argv[1]) : 1.0;

    std::puts("Synchronous:");
    auto t0 = green::Clock::now();
    for (int i = 0; i < 10; ++i) task(i);
    std::printf("synchronous took %.2f s\n", seconds_since(t0));

    std::puts("Asynchronous:");
    t0 = green::Clock::now();
    std::vector<green::Greenlet<void>> threads;
    for (int i = 0; i < 10; ++i) threads.push_back(green::spawn(task, i));
    green::joinall(threads);
    std::printf("asynchronous took %.2f s\n", seconds_since(t0));
}
