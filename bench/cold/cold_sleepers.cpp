// A user's first impression: a fresh process spawns N fibers that each sleep 100 ms and joins
// them. Prints one line of figures taken inside the process (wall from first spawn to last join)
// and by the kernel (resident peak, page faults, CPU time), in the same format as
// cold_sleepers.go so that run.sh can compare the two. usage: bench_cold_sleepers [N]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <green/green.hpp>

int main(int argc, char** argv) {
    const long n = argc > 1 ? std::atol(argv[1]) : 100000;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<green::Greenlet<void>> gs;
    gs.reserve(static_cast<std::size_t>(n));
    for (long i = 0; i < n; ++i)
        gs.push_back(green::spawn([] { green::sleep(std::chrono::milliseconds(100)); }));
    green::joinall(gs);
    const double wall_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    std::printf("wall_ms=%.1f maxrss_kb=%ld minflt=%ld user_ms=%.1f sys_ms=%.1f\n", wall_ms,
                ru.ru_maxrss, ru.ru_minflt, ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3,
                ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3);
    return 0;
}
