// A two-level bitmap of runtime-owned descriptors: 1,024 lazily allocated pages of 65,536 bits,
// fds below 2^26 (the kernel's fs.nr_open defaults to 2^20). Pages are never freed, so readers
// need no lock.
#include "owned_fds.hpp"

#include <atomic>
#include <cstdint>
#include <cstdlib>

namespace green::detail {

namespace {

constexpr unsigned kPageBits = 16;  // fds per page: 65,536
constexpr unsigned kWordsPerPage = (1u << kPageBits) / 64;
constexpr unsigned kPages = 1024;  // fds below 2^26

struct Page {
    std::atomic<std::uint64_t> words[kWordsPerPage];
};

std::atomic<Page*> g_pages[kPages];

Page* page_of(unsigned fd, bool create) noexcept {
    const unsigned i = fd >> kPageBits;
    if (i >= kPages) return nullptr;
    Page* p = g_pages[i].load(std::memory_order_acquire);
    if (p || !create) return p;
    auto* fresh = static_cast<Page*>(std::calloc(1, sizeof(Page)));
    if (!fresh) return nullptr;
    if (g_pages[i].compare_exchange_strong(p, fresh, std::memory_order_acq_rel)) return fresh;
    std::free(fresh);
    return p;
}

std::atomic<std::uint64_t>& word_of(Page& p, unsigned fd) noexcept {
    return p.words[(fd & ((1u << kPageBits) - 1)) / 64];
}

}  // namespace

void runtime_fd_acquired(int fd) noexcept {
    if (fd < 0) return;
    if (Page* p = page_of(static_cast<unsigned>(fd), true))
        word_of(*p, fd).fetch_or(std::uint64_t{1} << (fd % 64), std::memory_order_release);
}

void runtime_fd_released(int fd) noexcept {
    if (fd < 0) return;
    if (Page* p = page_of(static_cast<unsigned>(fd), false))
        word_of(*p, fd).fetch_and(~(std::uint64_t{1} << (fd % 64)), std::memory_order_release);
}

bool runtime_owns_fd(int fd) noexcept {
    if (fd < 0) return false;
    Page* p = page_of(static_cast<unsigned>(fd), false);
    return p && (word_of(*p, fd).load(std::memory_order_acquire) >> (fd % 64) & 1);
}

int next_runtime_fd(unsigned first, unsigned last) noexcept {
    const unsigned end = kPages << kPageBits;
    if (last >= end) last = end - 1;
    for (unsigned fd = first; fd <= last;) {
        Page* p = page_of(fd, false);
        if (!p) {
            fd = ((fd >> kPageBits) + 1) << kPageBits;  // the next page
            continue;
        }
        std::uint64_t w = word_of(*p, fd).load(std::memory_order_acquire) >> (fd % 64);
        if (w) {
            const unsigned hit = fd + static_cast<unsigned>(__builtin_ctzll(w));
            return hit <= last ? static_cast<int>(hit) : -1;
        }
        fd = (fd / 64 + 1) * 64;  // the next word
    }
    return -1;
}

}  // namespace green::detail
