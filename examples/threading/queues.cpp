// The seed's three queues: first in first out, last in first out, and lowest priority number
// first, printed the way the Python originals print them.
#include <cstdio>
#include <green/green.hpp>
#include <string>
#include <utility>

int main() {
    green::Queue<std::string> q;
    q.put("first");
    q.put("second");
    q.put("third");
    for (int i = 0; i < 3; ++i) std::printf("%s\n", q.get().c_str());

    green::LifoQueue<std::string> lq;
    lq.put("first");
    lq.put("second");
    lq.put("third");
    for (int i = 0; i < 3; ++i) std::printf("%s\n", lq.get().c_str());

    // Python puts tuples in; pairs compare the same way (priority first).
    green::PriorityQueue<std::pair<int, std::string>> pq;
    pq.put({20, "a"});
    pq.put({10, "b"});
    pq.put({30, "c"});
    for (int i = 0; i < 3; ++i) {
        auto [prio, item] = pq.get();
        std::printf("(%d, '%s')\n", prio, item.c_str());
    }
}
