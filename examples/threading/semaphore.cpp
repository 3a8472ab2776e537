// The seed's Semaphore(5): 20 workers, at most 5 inside at a time, each staying 2 s. Every line
// carries the time since start, so the batches of five are visible (and checkable).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <green/green.hpp>
#include <mutex>
#include <string>
#include <vector>

#include "args.hpp"

int main(int argc, char** argv) {
    const auto stay = std::chrono::milliseconds(option(argc, argv, "--sleep-ms", 2000));
    const auto t0 = green::Clock::now();
    green::Semaphore sem(5);
    int inside = 0, most = 0;

    auto func = [&] {
        std::lock_guard hold(sem);  // the seed's "with sem:"
        ++inside;
        most = std::max(most, inside);
        const double t = std::chrono::duration<double>(green::Clock::now() - t0).count();
        std::printf("[%6.3f] %s get semaphore\n", t, green::getcurrent().name().c_str());
        green::sleep(stay);
        --inside;
    };

    std::vector<green::GreenletHandle> workers;
    for (int i = 1; i <= 20; ++i)
        workers.push_back(green::spawn(green::SpawnOptions{"Thread-" + std::to_string(i)}, func));
    green::joinall(workers);
    std::printf("at most %d inside at once\n", most);
}
