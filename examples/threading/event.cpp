// The seed's Event lesson: two workers wait until check_mysql finds the database up (after a
// random 1-3 s), then connect. Prints exactly the seed's lines, without its colour codes.
#include <cstdio>
#include <green/green.hpp>
#include <random>

#include "args.hpp"

int main(int argc, char** argv) {
    // One "second" of the seed; the tests shorten it.
    const auto unit = std::chrono::milliseconds(option(argc, argv, "--unit-ms", 1000));
    std::mt19937 rng(std::random_device{}());
    auto randint = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    green::Event event;

    auto conn_mysql = [&] {
        const auto name = green::getcurrent().name();
        std::printf("%s 等待连接mysql。。。\n", name.c_str());
        event.wait();
        std::printf("Mysql初始化成功，%s开始连接。。。\n", name.c_str());
    };
    auto check_mysql = [&] {
        std::printf("正在检查mysql。。。\n");
        green::sleep(unit * randint(1, 3));
        event.set();
        green::sleep(unit * randint(1, 3));
    };

    auto t1 = green::spawn(green::SpawnOptions{"Thread-1"}, conn_mysql);
    auto t2 = green::spawn(green::SpawnOptions{"Thread-2"}, conn_mysql);
    auto t3 = green::spawn(green::SpawnOptions{"Thread-3"}, check_mysql);
    green::joinall({t1, t2, t3});
}
