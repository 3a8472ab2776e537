// Stream contents for transfer tests: deterministic pseudo-random bytes both ends can
// regenerate, and a running hash (FNV-1a) to compare what was sent with what arrived.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace green_test {

// 64-bit FNV-1a, enough to tell two 10 MB streams apart.
struct Fnv {
    std::uint64_t h = 1469598103934665603ull;
    void add(const void* p, std::size_t n) {
        auto* b = static_cast<const unsigned char*>(p);
        for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
    }
};

// Deterministic pseudo-random bytes (xorshift), so both ends can regenerate a stream.
inline std::string pattern(std::size_t n, std::uint64_t seed) {
    std::string out(n, '\0');
    std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (std::size_t i = 0; i < n; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[i] = static_cast<char>(x);
    }
    return out;
}

}  // namespace green_test
