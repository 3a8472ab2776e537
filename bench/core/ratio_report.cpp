#include "ratio_report.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>

namespace green_bench {

namespace {

// Console output as usual, plus a copy of each run's time per iteration (ns).
class Recorder : public benchmark::ConsoleReporter {
  public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const auto& r : runs) {
            if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
            std::string name = r.run_name.str();
            times[name] = r.GetAdjustedRealTime();
        }
    }
    std::map<std::string, double> times;
};

}  // namespace

int run_and_report(int argc, char** argv, const std::vector<Ratio>& ratios) {
    benchmark::Initialize(&argc, argv);
    Recorder rec;
    benchmark::RunSpecifiedBenchmarks(&rec);
    std::printf("\n%-58s %10s %8s\n", "ratio (same run)", "value", "goal");
    for (const auto& r : ratios) {
        auto n = rec.times.find(r.numerator);
        auto d = rec.times.find(r.denominator);
        if (n == rec.times.end() || d == rec.times.end() || d->second == 0) continue;
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
