// Raising the open-file limit for tests that need thousands of descriptors: the soft limit goes
// up to the hard one, and a count the hard limit cannot hold is scaled down with a note.
#pragma once

#include <sys/resource.h>

#include <cstdio>

namespace green_test {

// How many of `wanted` descriptors (plus `reserve` for the test's own) fit under the hard
// limit, after raising the soft limit to it; 0 if the limit cannot be read or raised.
inline int raise_fd_limit(int wanted, int reserve) {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
    if (lim.rlim_max >= static_cast<rlim_t>(wanted + reserve)) return wanted;
    const int fit = static_cast<int>(lim.rlim_max) - reserve;
    std::printf("NOTE: RLIMIT_NOFILE hard limit is %llu: scaled down from %d to %d\n",
                static_cast<unsigned long long>(lim.rlim_max), wanted, fit);
    return fit;
}

}  // namespace green_test
