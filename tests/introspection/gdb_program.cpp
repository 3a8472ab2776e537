// For the gdb helper's test: two fibers park (one in a named function), then the program stops
// itself with SIGTRAP, where gdb (run in batch mode by the test) lists the fibers and unwinds
// one; without a debugger attached the trap ends the program.
#include <signal.h>

#include <chrono>

#include <green/green.hpp>

using namespace std::chrono_literals;

namespace {
[[gnu::noinline]] void gdb_waits_here(green::Event& e) {
    e.wait();
    asm volatile("");
}
}  // namespace

int main() {
    green::Event never;
    auto a = green::spawn([&] { gdb_waits_here(never); });
    auto b = green::spawn([] { green::sleep(60s); });
    green::sleep(5ms);
    ::raise(SIGTRAP);
    a.kill();
    b.kill();
    return 0;
}
