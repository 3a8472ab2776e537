// The seed's first greenlet demo: t1 and t2 hand control back and forth with explicit
// switches; t1 blocks the thread in the middle (time.sleep in the seed, not a cooperative one).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <green/raw_greenlet.hpp>

int main(int argc, char** argv) {
    // The seed waits 5 s between the two halves; an argument shortens it for tests.
    const unsigned pause_ms = argc > 1 ? static_cast<unsigned>(std::atoi(argv[1])) : 5000;
    green::RawGreenlet* gr2 = nullptr;
    green::RawGreenlet gr1([&] {
        std::puts("test1,first");
        gr2->switch_to();
        ::usleep(pause_ms * 1000);  // blocks everyone: a raw greenlet does not yield by itself
        std::puts("test1,second");
        gr2->switch_to();
    });
    green::RawGreenlet t2([&] {
        std::puts("test2,first");
        gr1.switch_to();
        std::puts("test2,second");
    });
    gr2 = &t2;
    gr1.switch_to();
}
