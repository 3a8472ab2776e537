// Core costs: the Boost.Context floor, green's hub-mediated yield, spawn+run+join against
// pthreads, and 100,000 concurrent sleepers. Ratios are printed at the end.
#include <pthread.h>

#include <benchmark/benchmark.h>

#include <boost/context/detail/fcontext.hpp>
#include <boost/context/fiber.hpp>
#include <vector>

#include <green/green.hpp>

#include "ratio_report.hpp"

using namespace std::chrono_literals;
namespace bctx = boost::context;

// Two contexts bouncing with bare jump_fcontext: the floor of any switch. Per iteration: two
// jumps (there and back), reported per switch through the items counter.
static void BM_FloorJumpFcontext(benchmark::State& state) {
    static char stack[64 * 1024];
    auto fn = [](bctx::detail::transfer_t t) {
        for (;;) t = bctx::detail::jump_fcontext(t.fctx, nullptr);
    };
    auto ctx = bctx::detail::make_fcontext(stack + sizeof stack, sizeof stack, fn);
    for (auto _ : state) ctx = bctx::detail::jump_fcontext(ctx, nullptr).fctx;
    state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(BM_FloorJumpFcontext);

static void BM_FloorFiberResume(benchmark::State& state) {
    bool stop = false;
    bctx::fiber f([&stop](bctx::fiber&& caller) {
        while (!stop) caller = std::move(caller).resume();
        return std::move(caller);
    });
    for (auto _ : state) f = std::move(f).resume();
    stop = true;
    f = std::move(f).resume();
    state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(BM_FloorFiberResume);

// green::yield between two fibers (the main fiber and one spawned): each iteration is one yield
// here and one there, two switches through the run queue.
static void BM_GreenYieldPingPong(benchmark::State& state) {
    bool stop = false;
    auto partner = green::spawn([&] {
        while (!stop) green::yield();
    });
    green::yield();
    for (auto _ : state) green::yield();
    stop = true;
    partner.join();
    state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(BM_GreenYieldPingPong);

// The same exchange between two spawned fibers running the same loop (main only waits), the
// shape of a real program, where the fibers taking turns run the same code. Per iteration each
// fiber yields once: two switches, as above; spawning two fibers per batch is noise.
static void BM_GreenYieldTwoFibers(benchmark::State& state) {
    constexpr benchmark::IterationCount kBatch = 10000;
    auto bounce = [] {
        for (benchmark::IterationCount i = 0; i < kBatch; ++i) green::yield();
    };
    while (state.KeepRunningBatch(kBatch)) {
        auto a = green::spawn(bounce);
        auto b = green::spawn(bounce);
        green::joinall({a, b});
    }
    state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(BM_GreenYieldTwoFibers);

static void BM_GreenSpawnJoin(benchmark::State& state) {
    int x = 0;
    for (auto _ : state) {
        auto g = green::spawn([&x] { ++x; });
        g.join();
    }
    benchmark::DoNotOptimize(x);
}
BENCHMARK(BM_GreenSpawnJoin);

static void BM_PthreadCreateJoin(benchmark::State& state) {
    int x = 0;
    for (auto _ : state) {
        pthread_t t;
        pthread_create(
            &t, nullptr,
            [](void* p) -> void* {
                ++*static_cast<int*>(p);
                return nullptr;
            },
            &x);
        pthread_join(t, nullptr);
    }
    benchmark::DoNotOptimize(x);
}
BENCHMARK(BM_PthreadCreateJoin);

// 100,000 fibers each sleeping 100 ms at once: wall time for all of them (goal <= 150 ms).
static void BM_Sleepers100k(benchmark::State& state) {
    for (auto _ : state) {
        std::vector<green::Greenlet<void>> gs;
        gs.reserve(100000);
        for (int i = 0; i < 100000; ++i) gs.push_back(green::spawn([] { green::sleep(100ms); }));
        green::joinall(gs);
    }
}
BENCHMARK(BM_Sleepers100k)->Unit(benchmark::kMillisecond)->Iterations(1)->Repetitions(5);

// The ideal for the sleepers benchmark: the 100 ms itself.
static void BM_Sleep100msAlone(benchmark::State& state) {
    for (auto _ : state) green::sleep(100ms);
}
BENCHMARK(BM_Sleep100msAlone)->Unit(benchmark::kMillisecond)->Iterations(1)->Repetitions(3);

int main(int argc, char** argv) {
    // Per iteration a yield ping-pong does 2 switches and the floors do 2 jumps: compare like for
    // like (the goal, <= 2x the floor, is per switch and so per iteration).
    return green_bench::run_and_report(
        argc, argv,
        {
            {"yield, two fibers running one loop / boost fiber::resume (goal <= 2x)",
             "BM_GreenYieldTwoFibers", "BM_FloorFiberResume", 2.0},
            {"yield, main <-> a fiber (two call sites) / boost fiber::resume",
             "BM_GreenYieldPingPong", "BM_FloorFiberResume", 0},
            {"yield, two fibers running one loop / bare jump_fcontext", "BM_GreenYieldTwoFibers",
             "BM_FloorJumpFcontext", 0},
            {"green spawn+join / pthread create+join", "BM_GreenSpawnJoin", "BM_PthreadCreateJoin",
             0},
            {"100k sleepers of 100 ms / one sleep of 100 ms (goal <= 1.5x)", "BM_Sleepers100k",
             "BM_Sleep100msAlone", 1.5, true},
        });
}
