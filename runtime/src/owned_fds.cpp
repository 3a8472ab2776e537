// A two-level bitmap of runtime-owned descriptors: 1,024 lazily allocated pages of 65,536 bits,
// fds below 2^26 (the kernel's fs.nr_open defaults to 2^20). Pages are never freed, so readers
// need no lock.
#include "owned_fds.hpp"

#include <atomic>
#include <cstdint>

#include "fd_pages.hpp"

namespace green::detail {

namespace {

// One bit per fd: 1,024 pages of 1,024 words, fds below 2^26.
LazyPages<std::uint64_t, 10, 1024> g_bits;
constexpr unsigned kFds = decltype(g_bits)::kWords * 64;

std::atomic<std::uint64_t>* word_of(int fd, bool create) noexcept {
    return g_bits.at(static_cast<unsigned>(fd) / 64, create);
}

}  // namespace

void runtime_fd_acquired(int fd) noexcept {
    if (fd < 0) return;
    if (auto* w = word_of(fd, true))
        w->fetch_or(std::uint64_t{1} << (fd % 64), std::memory_order_release);
}

void runtime_fd_released(int fd) noexcept {
    if (fd < 0) return;
    if (auto* w = word_of(fd, false))
        w->fetch_and(~(std::uint64_t{1} << (fd % 64)), std::memory_order_release);
}

bool runtime_owns_fd(int fd) noexcept {
    if (fd < 0) return false;
    const auto* w = word_of(fd, false);
    return w && (w->load(std::memory_order_acquire) >> (fd % 64) & 1);
}

int next_runtime_fd(unsigned first, unsigned last) noexcept {
    constexpr unsigned kFdsPerPage = decltype(g_bits)::kWordsPerPage * 64;
    if (last >= kFds) last = kFds - 1;
    for (unsigned fd = first; fd <= last;) {
        if (!g_bits.page_exists(fd / 64)) {
            fd = (fd / kFdsPerPage + 1) * kFdsPerPage;  // the next page
            continue;
        }
        std::uint64_t w =
            word_of(static_cast<int>(fd), false)->load(std::memory_order_acquire) >> (fd % 64);
        if (w) {
            const unsigned hit = fd + static_cast<unsigned>(__builtin_ctzll(w));
            return hit <= last ? static_cast<int>(hit) : -1;
        }
        fd = (fd / 64 + 1) * 64;  // the next word
    }
    return -1;
}

}  // namespace green::detail
