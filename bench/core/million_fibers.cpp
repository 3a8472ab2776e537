// One million fibers parked at once, with default kernel settings (vm.max_map_count 65530):
// reports resident bytes per parked fiber, the kernel mappings used, and the time to spawn,
// park and wake them all. Usage: bench_million_fibers [count] [sleep|queue|modes]
// `modes`: the stack modes side by side (green/stack_mode.hpp), each in a fresh child process
// parking `count` greenlets on one Event, then their resident bytes per fiber and the ratio.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <green/green.hpp>

namespace {

long status_kb(const char* key) {
    std::ifstream f("/proc/self/status");
    for (std::string line; std::getline(f, line);)
        if (line.rfind(key, 0) == 0)
            return std::strtol(line.c_str() + std::strlen(key), nullptr, 10);
    return -1;
}

long mappings() {
    std::ifstream f("/proc/self/maps");
    long n = 0;
    for (std::string line; std::getline(f, line);) ++n;
    return n;
}

double since(green::Clock::time_point t0) {
    return std::chrono::duration<double>(green::Clock::now() - t0).count();
}

// In a fresh child: parks n greenlets of `mode` on one Event; writes their resident bytes per
// fiber to `out` and prints its line.
[[noreturn]] void park_on_event(long n, green::StackMode mode, int out) {
    const long rss0 = status_kb("VmRSS:");
    green::Event gate;
    long woken = 0;
    std::vector<green::Greenlet<void>> gs;
    gs.reserve(n);
    const auto t0 = green::Clock::now();
    const green::SpawnOptions opts{.stack_mode = mode};
    for (long i = 0; i < n; ++i)
        gs.push_back(green::spawn(opts, [&gate, &woken] {
            gate.wait();
            ++woken;
        }));
    green::sleep(std::chrono::milliseconds(0));  // every fiber starts and parks
    const double spawn_s = since(t0);
    const long rss1 = status_kb("VmRSS:");
    const double per_fiber = (rss1 - rss0) * 1024.0 / static_cast<double>(n);
    gate.set();
    green::joinall(gs);
    std::printf(
        "  %-8s %6.0f bytes per parked fiber (RSS +%ld MiB), spawned and parked in "
        "%.2f s, woken %ld\n",
        mode == green::StackMode::Compact ? "compact" : "default", per_fiber, (rss1 - rss0) / 1024,
        spawn_s, woken);
    std::fflush(stdout);
    (void)!::write(out, &per_fiber, sizeof per_fiber);
    std::_Exit(woken == n ? 0 : 1);
}

int compare_modes(long n) {
    std::printf("parking %ld greenlets on one Event, each stack mode in a fresh process\n", n);
    std::fflush(stdout);
    double bytes[2] = {0, 0};
    const green::StackMode modes[2] = {green::StackMode::Default, green::StackMode::Compact};
    for (int m = 0; m < 2; ++m) {
        int fds[2];
        if (::pipe(fds) != 0) return 1;
        const pid_t pid = ::fork();
        if (pid == 0) {
            ::close(fds[0]);
            park_on_event(n, modes[m], fds[1]);
        }
        ::close(fds[1]);
        const bool got = ::read(fds[0], &bytes[m], sizeof bytes[m]) == sizeof bytes[m];
        ::close(fds[0]);
        int status = 0;
        ::waitpid(pid, &status, 0);
        if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
    }
    std::printf("compact / default: %.2f\n", bytes[1] / bytes[0]);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const long n = argc > 1 ? std::atol(argv[1]) : 1000000;
    if (argc > 2 && std::string(argv[2]) == "modes") return compare_modes(n);
    const bool use_sleep = argc > 2 && std::string(argv[2]) == "sleep";
    std::printf("parking %ld fibers (%s), default stack %zu KiB\n", n,
                use_sleep ? "each in a long sleep" : "on one shared WaitQueue",
                green::default_stack_size() / 1024);
    const long rss0 = status_kb("VmRSS:");
    const long pte0 = status_kb("VmPTE:");
    const long maps0 = mappings();

    green::WaitQueue gate;
    long woken = 0;
    std::vector<green::Greenlet<void>> gs;
    gs.reserve(n);
    auto t0 = green::Clock::now();
    for (long i = 0; i < n; ++i) {
        if (use_sleep)
            gs.push_back(green::spawn([&woken] {
                green::sleep(std::chrono::hours(1));
                ++woken;
            }));
        else
            gs.push_back(green::spawn([&gate, &woken] {
                gate.wait();
                ++woken;
            }));
    }
    green::sleep(std::chrono::milliseconds(0));  // let every fiber start and park
    while (use_sleep ? false : gate.size() < static_cast<std::size_t>(n)) green::yield();
    const double spawn_s = since(t0);
    const long rss1 = status_kb("VmRSS:");
    const long pte1 = status_kb("VmPTE:");
    const long maps1 = mappings();
    std::printf("spawned and parked in %.2f s\n", spawn_s);
    std::printf("resident: %.0f bytes per parked fiber (RSS +%ld MiB)\n",
                (rss1 - rss0) * 1024.0 / static_cast<double>(n), (rss1 - rss0) / 1024);
    std::printf("kernel mappings: %ld -> %ld (vm.max_map_count default 65530)\n", maps0, maps1);
    // Page tables are not in RSS: guard pages installed as guard regions live there.
    std::printf("page tables: %.0f bytes per parked fiber (VmPTE +%ld KiB)\n",
                (pte1 - pte0) * 1024.0 / static_cast<double>(n), pte1 - pte0);

    t0 = green::Clock::now();
    if (use_sleep)
        green::killall(gs);
    else
        gate.notify_all();
    green::joinall(gs);
    std::printf("woke and finished all in %.2f s (woken normally: %ld)\n", since(t0), woken);
    return woken == (use_sleep ? 0 : n) ? 0 : 1;
}
