// What a compact greenlet may not do: let another fiber use a pointer to an object on its stack
// while it is switched out. Checked builds (Debug, sanitizers) report the write when the run
// stack is next taken.
#include <gtest/gtest.h>

#include <green/green.hpp>

#include "scheduler.hpp"

using namespace std::chrono_literals;

namespace {

const green::SpawnOptions kCompact{.stack_mode = green::StackMode::Compact};

#if GREEN_CHECK_FIBER_STATES
// A compact fiber parks and hands out a pointer to its local; a default fiber writes through it.
void write_into_a_parked_compact_stack() {
    green::Event parked, resume;
    int* shared = nullptr;
    auto a = green::spawn(kCompact, [&] {
        int local = 1;
        shared = &local;
        parked.set();
        resume.wait();  // switched out: `local` lives in the image now, not at `shared`
        (void)local;
    });
    auto b = green::spawn([&] {
        parked.wait();
        *shared = 2;  // the misuse
        resume.set();
    });
    green::joinall({a, b});
}
#endif

#if GREEN_CHECK_FIBER_STATES
TEST(CompactMisuseDeathTest, WriteIntoASwitchedOutCompactStackIsReported) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(write_into_a_parked_compact_stack(),
                 "stack of compact greenlet #[0-9]+ was written .* while it was switched out");
}
#else
TEST(CompactMisuseDeathTest, WriteIntoASwitchedOutCompactStackIsReported) {
    GTEST_SKIP() << "the compact stack check is compiled in Debug and sanitizer builds only";
}
#endif

}  // namespace
