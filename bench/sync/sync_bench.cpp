// Costs of events, locks, queues, pools and offload, next to the raw hub yield ping-pong they
// are built on. After the table it prints each hand-off as a multiple of that yield.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <green/green.hpp>
#include <map>
#include <string>
#include <vector>

#include "hot_ops.hpp"

namespace {

// Every iteration of the benchmark's loop runs the operation's body once.
auto each(benchmark::State& state) {
    return [&state](auto&& body) {
        for (auto _ : state) body();
    };
}

// Two fibers taking turns: the cheapest possible hand-over between fibers.
void BM_YieldPingPong(benchmark::State& state) {
    hot_ops::yield_ping_pong(each(state));
}
BENCHMARK(BM_YieldPingPong);

// One round trip through two queues: main puts, the echo fiber gets and puts back.
void BM_QueuePingPong(benchmark::State& state) {
    benchmark::DoNotOptimize(hot_ops::ping_pong<green::Queue<int>>(each(state)));
}
BENCHMARK(BM_QueuePingPong);

void BM_ChannelPingPong(benchmark::State& state) {
    benchmark::DoNotOptimize(hot_ops::ping_pong<green::Channel<int>>(each(state)));
}
BENCHMARK(BM_ChannelPingPong);

// Streaming through a bounded queue: cost per item when hand-offs batch up.
void BM_QueueStream(benchmark::State& state) {
    benchmark::DoNotOptimize(
        hot_ops::queue_stream(static_cast<std::size_t>(state.range(0)), each(state)));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_QueueStream)->Arg(1)->Arg(128);

// Event set -> wake -> set back -> wake.
void BM_EventRoundTrip(benchmark::State& state) {
    hot_ops::event_round_trip(each(state));
}
BENCHMARK(BM_EventRoundTrip);

void BM_LockUncontended(benchmark::State& state) {
    hot_ops::lock_uncontended(each(state));
}
BENCHMARK(BM_LockUncontended);

// Two fibers that each hold the lock across a yield: every acquisition waits for a hand-off.
void BM_LockContended(benchmark::State& state) {
    hot_ops::lock_contended(each(state));
}
BENCHMARK(BM_LockContended);

void BM_PoolMap100k(benchmark::State& state) {
    std::vector<int> in(100'000);
    for (int i = 0; i < 100'000; ++i) in[i] = i;
    green::Pool pool(static_cast<std::size_t>(state.range(0)));
    for (auto _ : state) {
        auto out = pool.map([](int v) { return v + 1; }, in);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations() * 100'000);
}
BENCHMARK(BM_PoolMap100k)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_OffloadRoundTrip(benchmark::State& state) {
    green::ThreadPool pool(1);
    pool.apply([] { return 0; });  // thread started
    for (auto _ : state) benchmark::DoNotOptimize(pool.apply([] { return 1; }));
}
BENCHMARK(BM_OffloadRoundTrip)->UseRealTime();

// Keeps every run's time per iteration for the ratio table.
class Collect : public benchmark::ConsoleReporter {
  public:
    Collect() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const auto& r : runs) {
            if (r.error_occurred) continue;
            const double scale = r.time_unit == benchmark::kMillisecond ? 1e6 : 1.0;
            // With --benchmark_repetitions the median stands for the benchmark.
            if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median")
                median[r.run_name.str()] = r.GetAdjustedRealTime() * scale;
            else if (r.run_type == Run::RT_Iteration)
                ns[r.benchmark_name()] = r.GetAdjustedRealTime() * scale;
        }
        ConsoleReporter::ReportRuns(runs);
    }
    void Finalize() override {
        for (auto& [name, v] : median) ns[name] = v;
        ConsoleReporter::Finalize();
    }
    std::map<std::string, double> ns, median;
};

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    Collect rep;
    benchmark::RunSpecifiedBenchmarks(&rep);
    benchmark::Shutdown();
    auto base = rep.ns.find("BM_YieldPingPong");
    if (base == rep.ns.end() || base->second <= 0) return 0;
    std::printf("\nRound trips as multiples of the raw yield ping-pong (%.1f ns):\n", base->second);
    for (const char* name :
         {"BM_QueuePingPong", "BM_ChannelPingPong", "BM_EventRoundTrip", "BM_LockContended"}) {
        auto it = rep.ns.find(name);
        if (it != rep.ns.end())
            std::printf("  %-22s %8.1f ns  %5.2fx\n", name, it->second, it->second / base->second);
    }
    for (const char* name : {"BM_QueueStream/1", "BM_QueueStream/128", "BM_LockUncontended",
                             "BM_OffloadRoundTrip/real_time"}) {
        auto it = rep.ns.find(name);
        if (it != rep.ns.end()) std::printf("  %-30s %8.1f ns\n", name, it->second);
    }
    for (const char* name : {"BM_PoolMap100k/100", "BM_PoolMap100k/1000"}) {
        auto it = rep.ns.find(name);
        if (it != rep.ns.end())
            std::printf("  %-22s %8.1f ms per map (%.0f ns per call)\n", name, it->second / 1e6,
                        it->second / 1e5);
    }
    return 0;
}
