// The process's resident memory and the crossings of a threshold over it (gevent's
// MemoryUsageThresholdExceeded / MemoryUsageUnderThreshold); the blocking monitor's thread
// samples it at its period when a threshold is set (green::set_memory_threshold,
// GREEN_MAX_MEMORY).
#pragma once

#include <cstdint>

namespace green::detail {

// Resident set size in bytes (/proc/self/statm: one small read, no allocation); 0 if unreadable.
std::uint64_t resident_bytes() noexcept;

// Turns samples into crossings: one Exceeded when resident memory goes above the threshold,
// one Under when it comes back to it or below, nothing in between.
class MemoryThreshold {
  public:
    enum class Crossing : std::uint8_t { None, Exceeded, Under };

    // 0: none. A new threshold starts from "under": a process already above it is told once.
    void set(std::uint64_t bytes) noexcept {
        bytes_ = bytes;
        above_ = false;
    }
    std::uint64_t bytes() const noexcept { return bytes_; }

    Crossing sample(std::uint64_t resident) noexcept {
        if (!bytes_ || !resident) return Crossing::None;  // unset, or statm unreadable
        const bool above = resident > bytes_;
        if (above == above_) return Crossing::None;
        above_ = above;
        return above ? Crossing::Exceeded : Crossing::Under;
    }

  private:
    std::uint64_t bytes_ = 0;
    bool above_ = false;
};

}  // namespace green::detail
