// The consumer of an installed green::hooks (tests/install): libc's blocking usleep, called in
// two greenlets, is served by the installed hook library.
#include <unistd.h>
#include <green/green.hpp>

#include <cstdio>

int main() {
    auto a = green::spawn([] {
        ::usleep(10000);
        return 20;
    });
    auto b = green::spawn([] {
        ::usleep(10000);
        return 22;
    });
    green::joinall({a, b});
    std::printf("%d %s\n", a.get() + b.get(), green::version());
}
