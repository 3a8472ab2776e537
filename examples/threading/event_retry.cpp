// The seed's Event lesson, second version: while the database is not up, each worker prints
// its attempt number and waits at most 0.2 s before trying again.
#include <cstdio>
#include <green/green.hpp>
#include <random>

#include "args.hpp"

int main(int argc, char** argv) {
    // The seed sleeps a random 1-3 s before the database is up; --check-ms fixes it.
    std::mt19937 rng(std::random_device{}());
    const long check_ms =
        option(argc, argv, "--check-ms", 1000 * std::uniform_int_distribution<long>(1, 3)(rng));
    green::Event event;

    auto conn_mysql = [&] {
        const auto name = green::getcurrent().name();
        int count = 1;
        while (!event.is_set()) {
            std::printf("%s 第 <%d> 次尝试连接。。。\n", name.c_str(), count);
            event.wait(std::chrono::milliseconds(200));
            ++count;
        }
        std::printf("Mysql初始化成功，%s 开始连接。。。\n", name.c_str());
    };
    auto check_mysql = [&] {
        std::printf("正在检查mysql。。。\n");
        green::sleep(std::chrono::milliseconds(check_ms));
        event.set();
    };

    auto t1 = green::spawn(green::SpawnOptions{"Thread-1"}, conn_mysql);
    auto t2 = green::spawn(green::SpawnOptions{"Thread-2"}, conn_mysql);
    auto t3 = green::spawn(green::SpawnOptions{"Thread-3"}, check_mysql);
    green::joinall({t1, t2, t3});
}
