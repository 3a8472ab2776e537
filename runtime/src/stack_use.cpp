// StackUseMeter (deepest stack use, from the stack's own contents) and StackPool::clean_free.
#include "stack_use.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "stack_pool.hpp"

namespace green::detail {

namespace {

// pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst).
constexpr unsigned long long kPresent = 1ULL << 63;
constexpr unsigned long long kSwapped = 1ULL << 62;

// Reads another fiber's stack: its live frames carry AddressSanitizer redzones, which are
// fine to read here (as the unwinder does), so this is not instrumented.
[[gnu::no_sanitize_address]] const std::uint64_t* first_nonzero(const std::uint64_t* from,
                                                                const std::uint64_t* to) noexcept {
    for (const std::uint64_t* w = from; w < to; ++w)
        if (*w) return w;
    return nullptr;
}

// Volatile stores: a memset call would be checked against ASan's shadow of dead frames.
[[gnu::no_sanitize_address]] void zero_words(std::uint64_t* from, std::uint64_t* to) noexcept {
    for (volatile std::uint64_t* w = from; w < to; ++w) *w = 0;
}

}  // namespace

StackUseMeter::StackUseMeter() noexcept {
    // Raw system calls: under the preload, open/pread are hooks that may park the caller.
    pagemap_fd_ = static_cast<int>(
        ::syscall(SYS_openat, AT_FDCWD, "/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
}

StackUseMeter::~StackUseMeter() {
    if (pagemap_fd_ >= 0) ::syscall(SYS_close, pagemap_fd_);
}

bool StackUseMeter::map_pages(const StackSlot& s) {
    const std::size_t page = StackPool::page_size();
    const std::size_t n = s.size / page;
    pages_.assign(n, 0);
    const auto first = reinterpret_cast<std::uintptr_t>(s.base) / page;
    if (pagemap_fd_ >= 0) {
        entries_.resize(n);
        const std::size_t bytes = n * sizeof(unsigned long long);
        const long got = ::syscall(SYS_pread64, pagemap_fd_, entries_.data(), bytes,
                                   static_cast<off_t>(first * sizeof(unsigned long long)));
        if (got == static_cast<long>(bytes)) {
            for (std::size_t i = 0; i < n; ++i)
                pages_[i] = (entries_[i] & (kPresent | kSwapped)) != 0;
            return true;
        }
    }
    return ::mincore(s.base, s.size, pages_.data()) == 0;
}

std::size_t StackUseMeter::deepest(const StackSlot& s, const char* top) {
    if (!s.base || !map_pages(s)) return 0;
    const std::size_t page = StackPool::page_size();
    const auto* end = reinterpret_cast<const std::uint64_t*>(top);
    for (std::size_t i = 0; i < pages_.size(); ++i) {
        if (!(pages_[i] & 1)) continue;
        const auto* from =
            reinterpret_cast<const std::uint64_t*>(static_cast<const char*>(s.base) + i * page);
        if (from >= end) break;
        const auto* to = std::min(end, from + page / sizeof(std::uint64_t));
        if (const std::uint64_t* w = first_nonzero(from, to))
            return static_cast<std::size_t>(top - reinterpret_cast<const char*>(w));
    }
    return 0;
}

void StackUseMeter::zero(const StackSlot& s) {
    if (!s.base || !map_pages(s)) return;
    const std::size_t page = StackPool::page_size();
    const std::size_t words = page / sizeof(std::uint64_t);
    for (std::size_t i = 0; i < pages_.size(); ++i) {
        if (!(pages_[i] & 1)) continue;
        auto* from = reinterpret_cast<std::uint64_t*>(static_cast<char*>(s.base) + i * page);
        // Pages that read as zero (the top pages faulted in ahead, say) are left unwritten.
        if (const std::uint64_t* w = first_nonzero(from, from + words))
            zero_words(const_cast<std::uint64_t*>(w), from + words);
    }
}

void StackPool::clean_free(StackUseMeter& meter) noexcept {
    for (auto& [size, cls] : classes_) {
        // The free stacks spawns take next (LIFO), at most the warm limit; trimmed ones are
        // left alone, since writing them would take back the memory MADV_FREE gave up.
        const std::size_t from =
            std::max(cls.trimmed, cls.free.size() - std::min(cls.free.size(), warm_limit_));
        for (std::size_t i = from; i < cls.free.size(); ++i) {
            StackSlot& s = cls.free[i];
            if (s.zeroed) continue;
            meter.zero(s);
            s.zeroed = true;
        }
    }
}

}  // namespace green::detail
