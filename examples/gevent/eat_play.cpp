// gevent's eat/play: two greenlets that "wait for the food" (3 s) and "for the network" (5 s)
// concurrently. joinall returns after the longest wait, 5 s, not the sum, 8 s.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include <green/green.hpp>

int main(int argc, char** argv) {
    // Time scale: 1.0 runs the seed's 3 s / 5 s; tests pass a smaller one.
    const double scale = argc > 1 ? std::atof(argv[1]) : 1.0;
    auto secs = [scale](double s) { return std::chrono::duration<double>(s * scale); };
    const auto t0 = green::Clock::now();

    auto eat = green::spawn([&] {
        std::puts("点菜。。。 (ordering)");
        green::sleep(secs(3));  // waiting for the dishes
        std::puts("吃菜。。。 (eating)");
    });
    auto play = green::spawn([&] {
        std::puts("玩手机。。。 (playing with the phone)");
        green::sleep(secs(5));  // the network is slow
        std::puts("看NBA... (watching NBA)");
    });
    green::joinall({eat, play});
    std::puts("主线程 (main)");
    std::printf("total %.2f s (longest wait %.2f s, sum %.2f s)\n",
                std::chrono::duration<double>(green::Clock::now() - t0).count(), 5 * scale,
                8 * scale);
}
