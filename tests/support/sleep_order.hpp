// Sleepers spawned longest-first must wake shortest-first: a parked fiber's timer orders by its
// deadline, not by when the fiber was spawned or where its stack lives. Shared by the tests that
// check this for each way of sleeping (runtime sleep, hooked libc sleeps) and each stack mode.
#pragma once

#include <green/green.hpp>

#include <chrono>
#include <vector>

namespace green_test {

// Spawns sleepers 3, 2, 1 (with `options`); sleeper i calls `sleep_for(i * step)`. Returns the
// order they woke in; {1, 2, 3} is right. Steps of 20 ms keep a stall between the spawns (which
// shifts one sleeper's deadline) from reordering them.
template <class SleepFor>
std::vector<int> wake_order_of_reverse_sleepers(
    const green::SpawnOptions& options, SleepFor sleep_for,
    std::chrono::milliseconds step = std::chrono::milliseconds(20)) {
    std::vector<int> order;
    std::vector<green::GreenletHandle> gs;
    for (int i = 3; i >= 1; --i)
        gs.push_back(green::spawn(options, [&order, &sleep_for, step, i] {
            sleep_for(i * step);
            order.push_back(i);
        }));
    green::joinall(gs);
    return order;
}

}  // namespace green_test
