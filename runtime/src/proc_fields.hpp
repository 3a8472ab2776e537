// Numbers out of the one-line /proc files the monitor samples (statm, schedstat): decimal
// fields separated by single spaces, parsed in place, without allocating.
#pragma once

#include <cstdint>
#include <optional>

namespace green::detail {

// The second field of `line` (NUL-terminated), or nothing when the line does not start with
// two decimal fields.
inline std::optional<std::uint64_t> second_proc_field(const char* line) noexcept {
    const char* p = line;
    while (*p >= '0' && *p <= '9') ++p;
    if (p == line || *p != ' ') return std::nullopt;
    ++p;
    if (*p < '0' || *p > '9') return std::nullopt;
    std::uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; ++p) v = v * 10 + static_cast<std::uint64_t>(*p - '0');
    return v;
}

}  // namespace green::detail
