// 100 concurrent `true` children, two ways, alternating in one run: 100 fibers each calling
// green::subprocess::run({"true"}) on one hub, and 100 OS threads each calling posix_spawnp +
// waitpid. Prints each round's wall time, the medians and fibers / threads.
// usage: process_bench [CHILDREN=100] [ROUNDS=7]
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

#include <green/green.hpp>

extern char** environ;

namespace {

using Ms = std::chrono::duration<double, std::milli>;

double fibers_round(int children) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<green::Greenlet<int>> runs;
    runs.reserve(static_cast<std::size_t>(children));
    for (int i = 0; i < children; ++i)
        runs.push_back(green::spawn([] { return green::subprocess::run({"true"}).returncode; }));
    for (auto& g : runs)
        if (g.get() != 0) throw std::runtime_error("true failed");
    return Ms(std::chrono::steady_clock::now() - t0).count();
}

double threads_round(int children) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(children));
    std::vector<int> failed(static_cast<std::size_t>(children), 0);
    for (int i = 0; i < children; ++i) {
        threads.emplace_back([&failed, i] {
            char name[] = "true";
            char* argv[] = {name, nullptr};
            pid_t pid;
            int status = -1;
            if (::posix_spawnp(&pid, name, nullptr, nullptr, argv, environ) != 0 ||
                ::waitpid(pid, &status, 0) != pid || status != 0)
                failed[static_cast<std::size_t>(i)] = 1;
        });
    }
    for (auto& t : threads) t.join();
    if (std::count(failed.begin(), failed.end(), 1)) throw std::runtime_error("true failed");
    return Ms(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
    const int children = argc > 1 ? std::atoi(argv[1]) : 100;
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 7;
    if (children < 1 || rounds < 1) {
        std::fprintf(stderr, "usage: process_bench [CHILDREN>=1] [ROUNDS>=1]\n");
        return 2;
    }
    fibers_round(children);  // warm-up: the hub, the stacks, the page cache
    threads_round(children);
    std::vector<double> fibers, threads;
    for (int r = 0; r < rounds; ++r) {
        fibers.push_back(fibers_round(children));
        threads.push_back(threads_round(children));
        std::printf("round %d: fibers %.1f ms, threads %.1f ms\n", r + 1, fibers.back(),
                    threads.back());
    }
    const double f = median(fibers), t = median(threads);
    std::printf(
        "%d children, %s backend, median of %d rounds: fibers (subprocess::run) %.1f ms, "
        "threads (posix_spawnp + waitpid) %.1f ms, fibers/threads %.2fx\n",
        children, green::backend_name(), rounds, f, t, f / t);
    return 0;
}
