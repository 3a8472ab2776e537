// The seed's Timer(1, hello): green::spawn_later runs hello after one second.
#include <cstdio>
#include <green/green.hpp>

#include "args.hpp"

void hello() {
    std::printf("hello, world\n");
}

int main(int argc, char** argv) {
    const auto delay = std::chrono::milliseconds(option(argc, argv, "--delay-ms", 1000));
    auto t = green::spawn_later(delay, hello);  // after 1 second, "hello, world" is printed
    t.join();
}
