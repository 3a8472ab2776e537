// Stack allocation: chunks of many stacks per mmap, a guard page for every stack (guard regions)
// or for the first stacks while the mapping budget lasts (mprotect) and a zero canary for the
// rest, LIFO reuse so hot stacks stay in cache.
#include "stack_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>

#include "config.hpp"
#include "page_advice.hpp"
#include "sanitizer.hpp"

namespace green::detail {

namespace {

constexpr std::size_t kStacksPerChunk = 256;
// Chunks of very large stacks hold fewer of them: 256 stacks of 1 GiB would reserve 256 GiB.
constexpr std::size_t kMaxChunkBytes = std::size_t{4} << 30;

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
// Linux 6.13's guard regions: the page faults like PROT_NONE, but as a page-table marker, so it
// neither splits the mapping nor counts against vm.max_map_count. (Older headers lack it.)
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

}  // namespace

StackPoolOptions StackPoolOptions::from_config() noexcept {
    const Config& c = config();
    StackPoolOptions o;
    o.guard_budget_set = c.guard_pages_set;
    if (c.guard_pages_set) o.guard_budget = c.guard_pages;
    o.warm_limit = c.warm_stacks;
    return o;
}

std::size_t StackPool::page_size() noexcept {
    static const std::size_t p = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return p;
}

StackPool::StackPool() : StackPool(StackPoolOptions::from_config()) {}

StackPool::StackPool(const StackPoolOptions& o)
    : guard_budget_(o.guard_budget_set ? o.guard_budget
                                       : (o.guard_regions ? SIZE_MAX : kMprotectGuards)),
      guard_budget_set_(o.guard_budget_set),
      guard_regions_(o.guard_regions),
      warm_limit_(o.warm_limit) {}

StackPool::~StackPool() {
    for (auto& c : chunks_) {
        asan::unpoison(c.base, c.bytes);
        ::munmap(c.base, c.bytes);
    }
}

StackPool::SizeClass& StackPool::class_for(std::size_t& size) {
    // Checked before any arithmetic: near SIZE_MAX the rounding below would wrap to a tiny
    // stack, and past 2^56 the chunk size would.
    if (size > kMaxStackSize)
        throw std::length_error("green: a fiber stack of " + std::to_string(size) +
                                " bytes exceeds the maximum of 1 GiB");
    if (size != hot_request_) [[unlikely]] {
        const std::size_t rounded = class_size(size);
        hot_ = &classes_[rounded];  // std::map: the address stays valid
        hot_request_ = size;
        hot_size_ = rounded;
    }
    size = hot_size_;
    return *hot_;
}

std::size_t StackPool::class_size(std::size_t size) noexcept {
    const std::size_t page = page_size();
    return std::max<std::size_t>((size + page - 1) / page * page, kMinStackSize);
}

StackSlot StackPool::allocate(std::size_t size) {
    SizeClass& cls = class_for(size);
    if (cls.free.size() > cls.reserved) return pop_free(cls);
    return carve(cls, size);
}

void StackPool::reserve_slow(std::size_t size) {
    SizeClass& cls = class_for(size);
    if (cls.free.size() <= cls.reserved) {
        const StackSlot s = carve(cls, size);
        cls.free.push_back(s);
        ++free_total_;
    }
    ++cls.reserved;
}

bool StackPool::install_guard(char* at) noexcept {
    const std::size_t page = page_size();
    if (guard_regions_) {
        if (::madvise(at, page, MADV_GUARD_INSTALL) == 0) return true;
        // EINVAL: a kernel before 6.13 (or a locked mapping). From now on guard pages split
        // mappings, so only a budget of them fits.
        guard_regions_ = false;
        if (!guard_budget_set_) guard_budget_ = kMprotectGuards;
    }
    return ::mprotect(at, page, PROT_NONE) == 0;
}

StackPool::Chunk& StackPool::new_chunk(std::size_t slot, std::size_t count) {
    const std::size_t page = page_size();
    const std::size_t bytes = page + slot * count;
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    char* base = static_cast<char*>(p);
    // One touched page per parked fiber is the budget: a transparent huge page would turn it
    // into 2 MiB.
    ::madvise(p, bytes, MADV_NOHUGEPAGE);
    // With guard regions and room in the budget, the chunk's guard page and every slot's go in
    // with one call (a fresh process spawning 100k fibers otherwise spends most of its system
    // time in 100k madvise calls).
    bool slots_guarded = false;
    if (guard_regions_ && guarded_ + count <= guard_budget_) {
        char* pages[kStacksPerChunk + 1];
        pages[0] = base;
        for (std::size_t i = 0; i < count; ++i) pages[i + 1] = base + page + i * slot;
        slots_guarded = advise_pages(pages, count + 1, page, MADV_GUARD_INSTALL);
    }
    // The chunk's own guard page: a fiber that overflows a stack without a guard page runs down
    // through its neighbours (the canary reports it only at its next switch) but faults here at
    // the latest, inside this chunk, and the SIGSEGV handler names it.
    if (!slots_guarded && !install_guard(base)) {
        ::munmap(p, bytes);
        throw std::bad_alloc();  // mprotect fails only when out of mappings
    }
    chunks_.push_back(Chunk{base, bytes, slot, count, slots_guarded});
    return chunks_.back();
}

// A fiber's first frames live in the top page of its stack, so each new fiber takes a page
// fault there; in a VM such a trap costs tens of microseconds. Faulting in the top pages of the
// next slots with one call halves that. The batch grows with the stacks this class has carved
// (at most 64 pages, 256 KiB, resident ahead of use), so a program with a few fibers pays
// nothing for it.
void StackPool::fault_in_ahead(SizeClass& cls) noexcept {
    constexpr std::size_t kMaxBatch = 64;
    Chunk& c = *cls.carving;
    if (!batch_fault_in_ || cls.next_slot < cls.faulted_in) return;
    const std::size_t batch = std::min({cls.carved, kMaxBatch, c.count - cls.next_slot});
    if (batch < 2) return;
    const std::size_t page = page_size();
    char* pages[kMaxBatch];
    for (std::size_t i = 0; i < batch; ++i)
        pages[i] = c.base + page + (cls.next_slot + i) * c.slot + c.slot - page;
    if (advise_pages(pages, batch, page, MADV_POPULATE_WRITE))
        cls.faulted_in = cls.next_slot + batch;
    else
        batch_fault_in_ = false;
}

StackSlot StackPool::carve(SizeClass& cls, std::size_t size) {
    const std::size_t page = page_size();
    const std::size_t slot = size + page;  // size <= kMaxStackSize: no overflow here or below
    if (!cls.carving || cls.next_slot == cls.carving->count) {
        const std::size_t count =
            std::clamp<std::size_t>(kMaxChunkBytes / slot, 1, kStacksPerChunk);
        cls.carving = &new_chunk(slot, count);
        cls.next_slot = 0;
        cls.faulted_in = 0;
    }
    fault_in_ahead(cls);
    Chunk& c = *cls.carving;
    char* slot_base = c.base + page + cls.next_slot * slot;
    ++cls.next_slot;
    ++cls.carved;
    StackSlot s{slot_base + page, static_cast<std::uint32_t>(size), false, true};  // fresh: zero
    if (c.slots_guarded || (guarded_ < guard_budget_ && install_guard(slot_base))) {
        s.guarded = true;
        ++guarded_;
    }
    return s;
}

void StackPool::release_slow(const StackSlot& s) noexcept {
    if (!s.base) return;
    const auto it = classes_.find(s.size);
    if (it != classes_.end()) push_free(it->second, s);
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
        if (a < c.base + page) return true;  // the chunk's guard page
        return static_cast<std::size_t>(a - c.base - page) % c.slot < page;
    }
    return false;
}

}  // namespace green::detail
