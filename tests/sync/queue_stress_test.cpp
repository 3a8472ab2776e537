// 10,000 fibers x 100 operations on one bounded queue: half produce, half consume, some with
// deadlines; every item must arrive exactly once (checksum and count).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <green/green.hpp>
#include <vector>

using namespace std::chrono_literals;

namespace {

TEST(QueueStress, TenThousandFibersHundredOpsEach) {
#ifdef __SANITIZE_THREAD__
    // ThreadSanitizer's fiber switches cost ~100x; a tenth of the fibers keeps the same shape.
    constexpr int kFibers = 1'000;
#else
    constexpr int kFibers = 10'000;
#endif
    constexpr int kOps = 100;
    green::Queue<std::int64_t> q(64);
    std::int64_t expected = 0, received = 0;
    std::int64_t count = 0;
    std::vector<green::GreenletHandle> gs;
    gs.reserve(kFibers);
    for (int f = 0; f < kFibers; ++f) {
        if (f % 2 == 0) {
            for (int k = 0; k < kOps; ++k) expected += std::int64_t(f) * kOps + k + 1;
            gs.push_back(green::spawn(green::SpawnOptions{"", 32 * 1024}, [&q, f] {
                for (int k = 0; k < kOps; ++k) {
                    std::int64_t v = std::int64_t(f) * kOps + k + 1;
                    // Some producers use deadlines and retry: timeouts must not lose items.
                    if (f % 10 == 0) {
                        while (!q.try_put(std::int64_t(v), 1ms)) {
                        }
                    } else {
                        q.put(v);
                    }
                }
            }));
        } else {
            gs.push_back(
                green::spawn(green::SpawnOptions{"", 32 * 1024}, [&q, &received, &count, f] {
                    for (int k = 0; k < kOps; ++k) {
                        std::int64_t v;
                        if (f % 10 == 1) {
                            std::optional<std::int64_t> got;
                            while (!(got = q.try_get(1ms))) {
                            }
                            v = *got;
                        } else {
                            v = q.get();
                        }
                        received += v;
                        ++count;
                    }
                }));
        }
    }
    auto done = green::joinall(gs, 100s);
    EXPECT_EQ(done.size(), gs.size());
    EXPECT_EQ(count, std::int64_t(kFibers / 2) * kOps);
    EXPECT_EQ(received, expected);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.getters_waiting(), 0u);
    EXPECT_EQ(q.putters_waiting(), 0u);
}

}  // namespace
