// The consumer of an installed green (tests/install): two greenlets whose sleeps overlap, then
// the version of the library it runs with.
#include <green/green.hpp>

#include <cstdio>
using namespace std::chrono_literals;

int main() {
    auto a = green::spawn([] {
        green::sleep(10ms);
        return 20;
    });
    auto b = green::spawn([] {
        green::sleep(10ms);
        return 22;
    });
    green::joinall({a, b});
    std::printf("%d %s\n", a.get() + b.get(), green::version());
}
