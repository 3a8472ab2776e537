// For the gdb helper's test: two fibers park in named functions (and a compact one in a third),
// then the program stops itself with SIGTRAP, where gdb (run in batch mode by the test) lists the
// fibers and unwinds them; without a debugger attached the trap ends the program with a core dump
// (where core dumps are on), which the test reads the same way.
#include <signal.h>

#include <chrono>

#include <green/green.hpp>

using namespace std::chrono_literals;

namespace {
[[gnu::noinline]] void gdb_waits_here(green::Event& e) {
    e.wait();
    asm volatile("");
}
[[gnu::noinline]] void gdb_sleeps_here() {
    green::sleep(60s);
    asm volatile("");
}
[[gnu::noinline]] void gdb_compact_waits_here(green::Lock& lock) {
    lock.acquire();
    asm volatile("");
}
}  // namespace

int main() {
    green::Event never;
    auto a = green::spawn([&] { gdb_waits_here(never); });
    auto b = green::spawn([] { gdb_sleeps_here(); });
    green::Lock held;
    held.acquire();
    green::SpawnOptions compact;
    compact.stack_mode = green::StackMode::Compact;
    auto c = green::spawn(compact, [&] { gdb_compact_waits_here(held); });
    // A second compact fiber runs after it, so the run stack holds other frames than c's.
    green::spawn(compact, [] { green::sleep(1ms); }).join();
    green::sleep(5ms);
    ::raise(SIGTRAP);
    a.kill();
    b.kill();
    c.kill();
    return 0;
}
