// Parks a few named fibers, sends itself the dump signal and keeps running: with
// GREEN_DUMP_SIGNAL set the hub prints the run info to stderr at its next loop turn. Prints
// "still running" afterwards, so the test sees that the program continued. With an argument
// "own", it installs its own handler for SIGUSR2 first, which must be kept.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>

#include <green/green.hpp>

using namespace std::chrono_literals;

namespace {
std::atomic<int> g_own_handler_ran{0};
void own_handler(int) {
    g_own_handler_ran.store(1);
}
}  // namespace

int main(int argc, char** argv) {
    const bool own = argc > 1 && std::strcmp(argv[1], "own") == 0;
    if (own) {
        struct sigaction sa {};
        sa.sa_handler = &own_handler;
        sigemptyset(&sa.sa_mask);
        ::sigaction(SIGUSR2, &sa, nullptr);
    }
    green::Event never;
    auto a = green::spawn(green::SpawnOptions{.name = "dump-sleeper"}, [] { green::sleep(60s); });
    auto b = green::spawn(green::SpawnOptions{.name = "dump-waiter"}, [&] { never.wait(); });
    green::sleep(10ms);  // both park
    ::kill(::getpid(), SIGUSR2);
    green::sleep(200ms);  // the hub's loop prints meanwhile
    std::printf("still running%s\n", own && g_own_handler_ran.load() ? ", own handler ran" : "");
    std::fflush(stdout);
    a.kill();
    b.kill();
    return 0;
}
