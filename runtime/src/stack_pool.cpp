// Stack allocation: chunks of many stacks per mmap, guard pages for the first stacks (while the
// mapping budget lasts), a zero canary for the rest, LIFO reuse so hot stacks stay in cache.
#include "stack_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace green::detail {

namespace {

constexpr std::size_t kStacksPerChunk = 256;

std::size_t env_size(const char* name, std::size_t fallback) {
    const char* v = std::getenv(name);
    if (!v || !*v) return fallback;
    char* end = nullptr;
    unsigned long long n = std::strtoull(v, &end, 10);
    if (end == v) return fallback;
    return static_cast<std::size_t>(n);
}

}  // namespace

std::size_t StackPool::page_size() noexcept {
    static const std::size_t p = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return p;
}

StackPool::StackPool()
    : guard_budget_(env_size("GREEN_GUARD_PAGES", 8192)),
      warm_limit_(env_size("GREEN_WARM_STACKS", 1024)) {}

StackPool::~StackPool() {
    for (auto& c : chunks_) ::munmap(c.base, c.bytes);
}

StackSlot StackPool::allocate(std::size_t size) {
    const std::size_t page = page_size();
    size = std::max<std::size_t>((size + page - 1) / page * page, 4 * page);
    SizeClass& cls = classes_[size];
    if (!cls.free.empty()) {
        StackSlot s = cls.free.back();
        cls.free.pop_back();
        if (cls.trimmed > cls.free.size()) cls.trimmed = cls.free.size();
        if (cls.low_water > cls.free.size()) cls.low_water = cls.free.size();
        --free_total_;
        return s;
    }
    return carve(cls, size);
}

StackSlot StackPool::carve(SizeClass& cls, std::size_t size) {
    const std::size_t page = page_size();
    const std::size_t slot = size + page;
    if (!cls.carving || cls.next_slot == cls.carving->bytes / slot) {
        const std::size_t bytes = slot * kStacksPerChunk;
        void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        // One touched page per parked fiber is the budget: a transparent huge page would turn
        // it into 2 MiB.
        ::madvise(p, bytes, MADV_NOHUGEPAGE);
        chunks_.push_back(Chunk{static_cast<char*>(p), bytes, slot});
        cls.carving = &chunks_.back();
        cls.next_slot = 0;
    }
    char* slot_base = cls.carving->base + cls.next_slot * slot;
    ++cls.next_slot;
    StackSlot s{slot_base + page, size, false};
    if (guarded_ < guard_budget_ && ::mprotect(slot_base, page, PROT_NONE) == 0) {
        s.guarded = true;
        ++guarded_;
    }
    return s;
}

void StackPool::release(const StackSlot& s) noexcept {
    if (!s.base) return;
    auto it = classes_.find(s.size);
    if (it == classes_.end()) return;
    // (The canary needs no reset: a fiber that touched it was reported as overflowing.)
    it->second.free.push_back(s);
    ++free_total_;
}

void StackPool::trim(Clock::time_point now) noexcept {
    if (now - last_trim_ < kTrimInterval) return;
    last_trim_ = now;
    for (auto& [size, cls] : classes_) {
        const std::size_t keep = std::min(cls.free.size(), warm_limit_);
        const std::size_t cold = std::min(cls.low_water, cls.free.size() - keep);
        for (std::size_t i = cls.trimmed; i < cold; ++i)
            ::madvise(cls.free[i].base, cls.free[i].size, MADV_FREE);
        cls.trimmed = std::max(cls.trimmed, cold);
        cls.low_water = cls.free.size();
    }
}

bool StackPool::in_guard_page(const void* addr) const noexcept {
    const char* a = static_cast<const char*>(addr);
    const std::size_t page = page_size();
    for (const auto& c : chunks_) {
        if (a < c.base || a >= c.base + c.bytes) continue;
        return static_cast<std::size_t>(a - c.base) % c.slot < page;
    }
    return false;
}

}  // namespace green::detail
