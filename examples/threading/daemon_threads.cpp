// The seed's daemon-thread lesson with plain std::thread (nothing of green; run it natively or
// under greenrun): a daemon (detached) thread is destroyed when the process ends, so it prints
// only if a non-daemon (joined) thread keeps the process alive long enough.
// usage: threading_daemon [--unit-ms N]  (default 1000: the daemon sleeps 2 units, the joined
// thread 3; with --alone the joined thread is left out and the daemon never prints)
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    long unit = 1000;
    bool alone = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--unit-ms") == 0 && i + 1 < argc) unit = std::atol(argv[++i]);
        if (std::strcmp(argv[i], "--alone") == 0) alone = true;
    }
    const auto units = [unit](int n) { return std::chrono::milliseconds(n * unit); };
    std::thread([&] {  // t1.daemon = True
        std::this_thread::sleep_for(units(2));
        std::printf("这是线程1\n");
    })
        .detach();
    std::thread t2;
    if (!alone)
        t2 = std::thread([&] {
            std::this_thread::sleep_for(units(3));
            std::printf("这是线程2\n");
        });
    std::printf("主线程\n");
    if (t2.joinable()) t2.join();  // the process ends once its non-daemon threads have
    return 0;
}
