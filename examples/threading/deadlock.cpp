// The seed's deadlock lesson: ten fibers each take lock A then B (func1), then B then A with a
// sleep in between (func2). With two green::Lock objects Thread-1 holds B and waits for A while
// Thread-2 holds A and waits for B; nothing can ever run again, and instead of hanging as the
// seed's program does, joinall raises green::LoopExit. With --rlock A and B are one
// green::RLock (the seed's mutexA = mutexB = RLock()): re-entry works and all ten finish.
// usage: threading_deadlock [--rlock] [--sleep-ms N]   (default 2000, the seed's 2 s)
#include <cstdio>
#include <green/green.hpp>
#include <string>
#include <vector>

#include "args.hpp"

namespace {

// The seed's MyThread.run over any lock type.
template <class LockA, class LockB>
void run(LockA& mutex_a, LockB& mutex_b, int n, std::chrono::milliseconds pause) {
    const std::string name = "Thread-" + std::to_string(n);
    // func1
    mutex_a.acquire();
    std::printf("%s 拿到A锁\n", name.c_str());
    mutex_b.acquire();
    std::printf("%s 拿到B锁\n", name.c_str());
    mutex_b.release();
    mutex_a.release();
    // func2
    mutex_b.acquire();
    std::printf("%s 拿到B锁\n", name.c_str());
    green::sleep(pause);
    mutex_a.acquire();
    std::printf("%s 拿到A锁\n", name.c_str());
    mutex_a.release();
    mutex_b.release();
}

template <class LockA, class LockB>
int start_ten(LockA& a, LockB& b, std::chrono::milliseconds pause) {
    std::vector<green::GreenletHandle> threads;
    for (int i = 1; i <= 10; ++i) threads.push_back(green::spawn([&, i] { run(a, b, i, pause); }));
    try {
        green::joinall(threads);
    } catch (const green::LoopExit& e) {
        std::printf("然后就卡住，死锁了: %s\n", e.what());
        green::killall(threads);  // unwinds the stuck fibers, so that they are freed
        return 1;
    }
    std::printf("all ten finished\n");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    const auto pause = std::chrono::milliseconds(option(argc, argv, "--sleep-ms", 2000));
    if (flag(argc, argv, "--rlock")) {
        green::RLock both;  // mutexA = mutexB = RLock()
        return start_ten(both, both, pause);
    }
    green::Lock mutex_a, mutex_b;
    return start_ten(mutex_a, mutex_b, pause);
}
