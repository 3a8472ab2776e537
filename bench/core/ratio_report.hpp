// Runs the registered Google Benchmarks and then prints named ratios between their results,
// so that every speed claim is a comparison made within one run on the same machine.
#pragma once

#include <string>
#include <vector>

namespace green_bench {

struct Ratio {
    std::string label;
    std::string numerator;  // benchmark name (as printed by Google Benchmark)
    std::string denominator;
    double goal = 0;    // 0: none; otherwise the ratio should stay at or below it
    bool wall = false;  // compare wall-clock time (default: CPU time, steadier on a shared box)
};

int run_and_report(int argc, char** argv, const std::vector<Ratio>& ratios);

}  // namespace green_bench
