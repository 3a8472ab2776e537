// The seed's second greenlet demo: the first switch passes an argument (the eater's name)
// into the greenlet's function; later switches pass nothing.
#include <unistd.h>

#include <any>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <green/raw_greenlet.hpp>

int main(int argc, char** argv) {
    const unsigned pause_ms = argc > 1 ? static_cast<unsigned>(std::atoi(argv[1])) : 5000;
    green::RawGreenlet* gr2 = nullptr;
    green::RawGreenlet gr1(green::RawGreenlet::Function([&](std::any arg) -> std::any {
        auto name = std::any_cast<std::string>(arg);
        std::printf("%s eat food 1\n", name.c_str());
        std::fflush(stdout);
        gr2->switch_to(std::string("alex"));
        ::usleep(pause_ms * 1000);
        std::printf("%s eat food 2\n", name.c_str());
        gr2->switch_to();
        return {};
    }));
    green::RawGreenlet play(green::RawGreenlet::Function([&](std::any arg) -> std::any {
        auto name = std::any_cast<std::string>(arg);
        std::printf("%s play phone 1\n", name.c_str());
        gr1.switch_to();
        std::printf("%s play phone 2\n", name.c_str());
        return {};
    }));
    gr2 = &play;
    gr1.switch_to(std::string("egon"));  // the argument goes to eat() on the first switch
}
