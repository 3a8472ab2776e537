// The seed's producer/consumer with baozi, on a JoinableQueue: the producer makes ten, the
// consumer eats each and marks it done, and join() returns once all ten were eaten.
#include <cstdio>
#include <green/green.hpp>
#include <random>

#include "args.hpp"

int main(int argc, char** argv) {
    const auto unit = std::chrono::milliseconds(option(argc, argv, "--unit-ms", 1000));
    std::mt19937 rng(std::random_device{}());
    auto randrange = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
    green::JoinableQueue<int> q;

    auto producer = [&](const char* name) {
        for (int count = 0; count < 10; ++count) {
            std::printf("making....\n");
            green::sleep(unit * randrange(3));
            q.put(count);
            std::printf("Producer %s has produced %d baozi..\n", name, count);
            std::printf("ok....\n");
        }
    };
    auto consumer = [&](const char* name) {
        for (;;) {
            green::sleep(unit * randrange(4));
            int data = q.get();  // waits for the next baozi instead of polling q.empty()
            std::printf("Consumer %s has eat %d baozi...\n", name, data);
            q.task_done();
        }
    };

    auto p1 = green::spawn(producer, "A");
    auto c1 = green::spawn(consumer, "B");
    p1.join();
    q.join();  // every baozi eaten
    c1.kill();
    std::printf("ending!\n");
}
