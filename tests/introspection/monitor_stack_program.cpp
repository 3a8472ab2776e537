// For the blocking monitor's default report: a fiber waits on an Event once, then spins for
// 300 ms in a named function without yielding. Run with GREEN_MONITOR_MS=50, its stderr must
// name the fiber, the spinning function (its backtrace) and the Event it last waited for.
#include <chrono>

#include <green/green.hpp>

using namespace std::chrono_literals;

namespace {

[[gnu::noinline]] void spins_without_yielding(std::chrono::milliseconds d) {
    const auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) {
        asm volatile("");
    }
}

}  // namespace

int main() {
    green::Event ready;
    auto g = green::spawn(green::SpawnOptions{.name = "stalling-fiber"}, [&] {
        ready.wait();
        spins_without_yielding(300ms);
    });
    green::sleep(5ms);
    ready.set();
    g.join();
    green::sleep(20ms);
    return 0;
}
