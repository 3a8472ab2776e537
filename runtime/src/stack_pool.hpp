// Fiber stacks carved out of large shared mappings, so that a million fibers cost a few
// thousand kernel mappings (vm.max_map_count is 65530 by default), not one or two each.
// Stacks are reserved lazily (MAP_NORESERVE): only pages a fiber touches become resident.
// Every stack gets a guard page where the kernel has guard regions that cost no mapping
// (MADV_GUARD_INSTALL, Linux 6.13); elsewhere the first GREEN_GUARD_PAGES stacks get a
// PROT_NONE page and the rest a canary, and each chunk starts with a guard page, so a runaway
// fiber faults within its own chunk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "green/clock.hpp"
#include "green/detail/fiber.hpp"

namespace green::detail {

class StackUseMeter;

struct StackPoolOptions {
    std::size_t guard_budget = SIZE_MAX;  // stacks that get their own guard page
    bool guard_budget_set = false;        // false: all with guard regions, else kMprotectGuards
    std::size_t warm_limit = 1024;        // free stacks kept resident
    bool guard_regions = true;            // use MADV_GUARD_INSTALL when the kernel has it

    static StackPoolOptions from_config() noexcept;  // GREEN_GUARD_PAGES, GREEN_WARM_STACKS
};

class StackPool {
  public:
    // Without guard regions each guard page splits a mapping in two: this many fit the default
    // vm.max_map_count (65530) with room for a million fibers' chunks and the program's own.
    static constexpr std::size_t kMprotectGuards = 8192;

    StackPool();
    explicit StackPool(const StackPoolOptions& options);
    StackPool(const StackPool&) = delete;
    StackPool& operator=(const StackPool&) = delete;
    ~StackPool();

    // A stack of at least `size` bytes (rounded up to pages, at least 16 KiB). Throws
    // std::length_error above kMaxStackSize (config.hpp) and std::bad_alloc when the kernel
    // refuses the memory.
    StackSlot allocate(std::size_t size);
    // A stack promised to a fiber that has not run yet (spawn): carved now when every free
    // stack of its class is promised already, so that spawn throws what allocate() would.
    // take_reserved() hands over the warmest free stack when the fiber first runs: fibers
    // waiting for their first turn hold no memory of their own, and the one that starts gets
    // the stack a fiber that just ended left in the cache (bench/sync Pool.map: a stack taken
    // at spawn made every start touch a stack last used a thousand spawns earlier).
    // The common case of each (the usual stack size, a free stack on hand) is inline: these
    // three sit on every spawn's path, and the calls were a tenth of a spawn+join.
    void reserve(std::size_t size) {
        if (size == hot_request_ && hot_->free.size() > hot_->reserved) [[likely]] {
            ++hot_->reserved;
            return;
        }
        reserve_slow(size);
    }
    StackSlot take_reserved(std::size_t size) noexcept {
        SizeClass& cls = existing_class(size);
        --cls.reserved;
        return pop_free(cls);
    }
    void unreserve(std::size_t size) noexcept {  // the fiber ended before it ran
        --existing_class(size).reserved;
    }
    // Returns a stack to its free list without a system call; trim() later gives the pages of
    // stacks beyond the warm limit back to the kernel.
    void release(const StackSlot& s) noexcept {
        if (s.base && s.size == hot_size_) [[likely]] {
            push_free(*hot_, s);
            return;
        }
        release_slow(s);
    }
    // Called when the hub is about to block. At most once per kTrimInterval, MADV_FREE the free
    // stacks beyond the warm limit that stayed free for the whole interval: a burst of fibers
    // that ended gives its memory back, while a workload that keeps reusing its stacks never
    // pays a madvise (and its TLB shootdown) followed by page faults on the next spawn.
    void trim(Clock::time_point now) noexcept;
    static constexpr Duration kTrimInterval = std::chrono::seconds(1);

    // True when `addr` lies in the guard page of some stack of this pool, or of a chunk.
    bool in_guard_page(const void* addr) const noexcept;
    // Whether this pool's guard pages are guard regions (no mapping each).
    bool guard_regions() const noexcept { return guard_regions_; }
    std::size_t guarded() const noexcept { return guarded_; }
    // An unguarded stack's canary: its lowest bytes must stay untouched (zero).
    // Checked on every switch away from a fiber, hence inline.
    static bool canary_intact(const StackSlot& s) noexcept {
        if (s.guarded || !s.base) return true;
        // Reading untouched anonymous memory maps the shared zero page: no resident cost.
        const auto* w = static_cast<const std::uint64_t*>(s.base);
        std::uint64_t acc = 0;
        for (std::size_t i = 0; i < kCanaryBytes / sizeof(std::uint64_t); ++i) acc |= w[i];
        return acc == 0;
    }
    static constexpr std::size_t kCanaryBytes = 64;

    // Where a fiber's first frame goes. Stack slots are page-aligned and equally spaced, so
    // without an offset every parked fiber's saved context and hot frames would sit at the same
    // page offset: the same few L1 sets for all of them, and 4K-aliasing stalls when one
    // fiber's loads follow the other's stores in a switch. The offset (0 to 1984 bytes, in
    // cache lines) comes from the slot's address, so consecutive slots differ; it stays within
    // half a page so that a shallow parked fiber still touches one page, not two
    // (bench_million_fibers: 4,408 resident bytes per fiber either way; 4,984 with offsets up
    // to a whole page).
    static char* top(const StackSlot& s) noexcept {
        const auto page_index = reinterpret_cast<std::uintptr_t>(s.base) >> 12;
        return static_cast<char*>(s.base) + s.size - (page_index & 31) * 64;
    }

    // Zeroes the written part of the free stacks that spawns take next (up to the warm limit
    // per size), so that the fibers that get them have a deepest stack use of their own
    // (stack_use.hpp). Called by the run info, never on a spawn.
    void clean_free(StackUseMeter& meter) noexcept;

    static std::size_t page_size() noexcept;
    std::size_t chunks() const noexcept { return chunks_.size(); }
    std::size_t free_stacks() const noexcept { return free_total_; }
    // Address space mapped for stacks (every chunk, guard pages included), and how much of it
    // is resident now (mincore; stack_residency.cpp). For green::stats(), never on a spawn.
    std::size_t reserved_bytes() const noexcept;
    std::size_t resident_bytes() const noexcept;
    // Free stacks whose pages were handed back (MADV_FREE) and not reused since.
    std::size_t trimmed() const noexcept {
        std::size_t n = 0;
        for (const auto& [size, cls] : classes_) n += cls.trimmed;
        return n;
    }

  private:
    // [chunk guard page][slot 0: guard page, stack][slot 1] ... [slot count-1]
    struct Chunk {
        char* base;
        std::size_t bytes;
        std::size_t slot;    // bytes per slot: one guard page + the stack
        std::size_t count;   // slots
        bool slots_guarded;  // every slot's guard page was installed with the chunk
    };
    struct SizeClass {
        std::vector<StackSlot> free;  // LIFO; free[0 .. trimmed) were already trimmed
        std::size_t trimmed = 0;
        std::size_t low_water = 0;  // least free.size() since the last trim: free[0 .. low_water)
                                    // were not touched meanwhile
        Chunk* carving = nullptr;   // chunk with unused slots
        std::size_t next_slot = 0;
        std::size_t faulted_in = 0;  // slots of `carving` below this have their top page resident
        std::size_t carved = 0;      // stacks carved in this class so far
        std::size_t reserved = 0;    // free stacks promised (reserve); never above free.size()
    };

    // The class of `size` (rounded up in place). Throws std::length_error above kMaxStackSize.
    SizeClass& class_for(std::size_t& size);
    // A reserved or allocated stack's class, which exists already.
    SizeClass& existing_class(std::size_t size) noexcept {
        if (size == hot_request_) [[likely]]
            return *hot_;
        return classes_.find(class_size(size))->second;
    }
    // A request's size rounded up to its class: whole pages, at least kMinStackSize.
    static std::size_t class_size(std::size_t size) noexcept;
    StackSlot pop_free(SizeClass& cls) noexcept {
        StackSlot s = cls.free.back();
        cls.free.pop_back();
        if (cls.trimmed > cls.free.size()) cls.trimmed = cls.free.size();
        if (cls.low_water > cls.free.size()) cls.low_water = cls.free.size();
        --free_total_;
        return s;
    }
    void push_free(SizeClass& cls, const StackSlot& s) noexcept {
        // (The canary needs no reset: a fiber that touched it was reported as overflowing.)
        cls.free.push_back(s);
        cls.free.back().zeroed = false;  // its fiber wrote it
        ++free_total_;
    }
    void reserve_slow(std::size_t size);
    void release_slow(const StackSlot& s) noexcept;

    StackSlot carve(SizeClass& cls, std::size_t size);
    Chunk& new_chunk(std::size_t slot, std::size_t count);
    bool install_guard(char* page) noexcept;
    void fault_in_ahead(SizeClass& cls) noexcept;

    std::map<std::size_t, SizeClass> classes_;
    // The class of the latest request, found without the map: a program spawns nearly all its
    // fibers with one stack size, and allocate/release sit on every spawn's path.
    std::size_t hot_request_ = SIZE_MAX;  // a size as asked for (none can be: above the maximum)
    std::size_t hot_size_ = 0;            // its rounded size
    SizeClass* hot_ = nullptr;
    std::deque<Chunk> chunks_;  // deque: carving pointers stay valid
    std::size_t guarded_ = 0;   // stacks that got a guard page of their own
    std::size_t guard_budget_;  // at most this many
    bool guard_budget_set_;
    bool guard_regions_;          // MADV_GUARD_INSTALL works here (until it fails once)
    bool batch_fault_in_ = true;  // MADV_POPULATE_WRITE through process_madvise works here
    std::size_t warm_limit_;      // free stacks kept resident; beyond, pages go back to the OS
    std::size_t free_total_ = 0;
    Clock::time_point last_trim_{};
};

}  // namespace green::detail
