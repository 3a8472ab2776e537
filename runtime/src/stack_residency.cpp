// The stack pool's figures for green::stats(): the bytes its chunks map and how many of them
// are resident. Counted only when asked for, so that spawns and switches keep no tally.
#include <sys/mman.h>

#include <algorithm>

#include "stack_pool.hpp"

namespace green::detail {

std::size_t StackPool::reserved_bytes() const noexcept {
    std::size_t n = 0;
    for (const auto& c : chunks_) n += c.bytes;
    return n;
}

// mincore over each chunk, 4096 pages (16 MiB with 4 KiB pages) per call into a buffer on the
// stack: a million parked fibers' chunks (about 130 GiB of address space) take some 8,000
// calls. Guard pages are never resident, so whole chunks can be asked at once.
std::size_t StackPool::resident_bytes() const noexcept {
    constexpr std::size_t kPagesPerCall = 4096;
    const std::size_t page = page_size();
    unsigned char vec[kPagesPerCall];
    std::size_t pages = 0;
    for (const auto& c : chunks_) {
        for (std::size_t off = 0; off < c.bytes; off += kPagesPerCall * page) {
            const std::size_t len = std::min(c.bytes - off, kPagesPerCall * page);
            if (::mincore(c.base + off, len, vec) != 0) continue;
            const std::size_t n = (len + page - 1) / page;
            for (std::size_t i = 0; i < n; ++i) pages += vec[i] & 1;
        }
    }
    return pages * page;
}

}  // namespace green::detail
