// How long green::format_run_info takes with N parked fibers, each with its symbolized
// backtrace and deepest stack use, against spawning those N fibers and running each to where it
// parks (the in-run baseline: what creating the state being dumped costs). Medians of
// repetitions; the first repetition of the first size includes loading libdw and the debug
// information. Also what green::hub_stats() costs with N parked fibers (it counts resident
// stack pages with mincore).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <green/green.hpp>

using namespace std::chrono_literals;

namespace {

[[gnu::noinline]] void parked_in_bench(green::Event& go) {
    go.wait();
    benchmark::ClobberMemory();
}

std::vector<green::Greenlet<void>> spawn_parked(green::Event& go, int n) {
    std::vector<green::Greenlet<void>> fibers;
    fibers.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) fibers.push_back(green::spawn([&go] { parked_in_bench(go); }));
    green::sleep(0s);  // every one runs to its park
    return fibers;
}

void finish(green::Event& go, std::vector<green::Greenlet<void>>& fibers) {
    go.set();
    for (auto& g : fibers) g.join();
}

void BM_DumpParkedFibers(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    green::Event go;
    auto fibers = spawn_parked(go, n);
    std::size_t lines = 0;
    for (auto _ : state) {
        const std::string dump = green::format_run_info();
        lines = 0;
        for (char c : dump) lines += c == '\n';
        benchmark::DoNotOptimize(dump.data());
    }
    state.counters["fibers"] = n;
    state.counters["lines"] = static_cast<double>(lines);
    finish(go, fibers);
}

void BM_SpawnParkedFibers(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    for (auto _ : state) {
        green::Event go;
        auto fibers = spawn_parked(go, n);
        state.PauseTiming();
        finish(go, fibers);
        state.ResumeTiming();
    }
    state.counters["fibers"] = n;
}

// green::hub_stats() with N parked fibers: the counters, the stack pool's reserved bytes and
// its resident bytes (mincore over every chunk), the offload pool's figures.
void BM_StatsParkedFibers(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    green::Event go;
    auto fibers = spawn_parked(go, n);
    green::HubStats s;
    for (auto _ : state) {
        s = green::hub_stats();
        benchmark::DoNotOptimize(&s);
    }
    state.counters["fibers"] = n;
    state.counters["resident_MiB"] = static_cast<double>(s.stack_resident_bytes) / (1 << 20);
    state.counters["reserved_MiB"] = static_cast<double>(s.stack_reserved_bytes) / (1 << 20);
    finish(go, fibers);
}

}  // namespace

BENCHMARK(BM_StatsParkedFibers)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DumpParkedFibers)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SpawnParkedFibers)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
