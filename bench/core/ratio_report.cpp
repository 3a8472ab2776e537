#include "ratio_report.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <set>

namespace green_bench {

namespace {

// Console output as usual, plus a copy of each run's time per iteration (ns).
class Recorder : public benchmark::ConsoleReporter {
  public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        // Keyed by function name; with --benchmark_repetitions the median wins.
        for (const auto& r : runs) {
            const bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
            if (r.run_type == Run::RT_Aggregate && !median) continue;
            const std::string& name = r.run_name.function_name;
            if (!median && medians.count(name)) continue;
            if (median) medians.insert(name);
            wall[name] = r.GetAdjustedRealTime();
            cpu[name] = r.GetAdjustedCPUTime();
        }
    }
    std::map<std::string, double> wall, cpu;
    std::set<std::string> medians;
};

}  // namespace

int run_and_report(int argc, char** argv, const std::vector<Ratio>& ratios) {
    benchmark::Initialize(&argc, argv);
    Recorder rec;
    benchmark::RunSpecifiedBenchmarks(&rec);
    std::printf("\n%-58s %10s %8s\n", "ratio (same run)", "value", "goal");
    for (const auto& r : ratios) {
        const auto& times = r.wall ? rec.wall : rec.cpu;
        auto n = times.find(r.numerator);
        auto d = times.find(r.denominator);
        if (n == times.end() || d == times.end() || d->second == 0) continue;
        const double v = n->second / d->second;
        if (r.goal > 0)
            std::printf("%-58s %9.2fx %7.2fx %s\n", r.label.c_str(), v, r.goal,
                        v <= r.goal ? "ok" : "MISSED");
        else
            std::printf("%-58s %9.2fx\n", r.label.c_str(), v);
    }
    benchmark::Shutdown();
    return 0;
}

}  // namespace green_bench
