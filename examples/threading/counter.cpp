// The seed's shared counter: 100 fibers each do tmp = num; sleep(0.1 s); num = tmp - 1.
// Without a lock every fiber reads 100 before any writes, so the result is 99; with --lock the
// green::Lock serialises them and the result is 0 (taking 100 x 0.1 s, as in the seed).
#include <cstdio>
#include <green/green.hpp>
#include <mutex>
#include <vector>

#include "args.hpp"

int main(int argc, char** argv) {
    const bool use_lock = flag(argc, argv, "--lock");
    const auto pause = std::chrono::milliseconds(option(argc, argv, "--sleep-ms", 100));
    int num = 100;
    green::Lock lock;

    auto sub_num = [&] {
        if (use_lock) {
            std::lock_guard guard(lock);  // the seed's "with lock:"
            int temp = num;
            green::sleep(pause);
            num = temp - 1;
        } else {
            int temp = num;
            green::sleep(pause);
            num = temp - 1;
        }
    };

    std::vector<green::GreenletHandle> fibers;
    for (int i = 0; i < 100; ++i) fibers.push_back(green::spawn(sub_num));
    green::joinall(fibers);
    // Python's print('Result: ', num) puts a space between its two arguments.
    std::printf(use_lock ? "result:  %d\n" : "Result:  %d\n", num);
}
