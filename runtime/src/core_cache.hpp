// Recycled greenlet cores, one cache per hub: malloc and free of the core were an eighth of a
// spawn+join (glibc's tcache path, ~125 instructions). Blocks come from ::operator new and may
// end in any hub's cache or in ::operator delete: a core freed on another thread is simply kept
// by that thread's hub, or freed when it has no hub. A hub keeps as many idle cores of a class as
// its stack pool keeps warm stacks (GREEN_WARM_STACKS): a burst of that many fibers is served
// again without malloc, for a few percent of what the stacks it keeps already hold.
#pragma once

#include <cstddef>

namespace green::detail {

class CoreCache {
  public:
    explicit CoreCache(std::size_t per_class) noexcept : per_class_(per_class) {}
    CoreCache(const CoreCache&) = delete;
    CoreCache& operator=(const CoreCache&) = delete;
    ~CoreCache();

    // A block of `size` bytes from the cache, or nullptr (none of that class, or too big).
    void* take(std::size_t size) noexcept {
        const std::size_t c = size_class(size);
        if (c >= kClasses) return nullptr;
        Block* b = free_[c];
        if (!b) return nullptr;
        free_[c] = b->next;
        --count_[c];
        return b;
    }
    // Keeps a block of `size` bytes; false when the cache is full for that class.
    bool put(void* p, std::size_t size) noexcept {
        const std::size_t c = size_class(size);
        if (c >= kClasses || count_[c] >= per_class_) return false;
        auto* b = static_cast<Block*>(p);
        b->next = free_[c];
        free_[c] = b;
        ++count_[c];
        return true;
    }
    // The size the block of a `size`-byte request really has, so that any block of its class
    // fits a later request of that class. A class's blocks are 8 bytes short of a multiple of
    // 64, so that with glibc's 8-byte chunk header each fills a chunk exactly (a 248-byte core
    // takes a 256-byte chunk; rounded up to 256 it took 272).
    static std::size_t rounded(std::size_t size) noexcept {
        return size_class(size) < kClasses ? (size_class(size) + 1) * kGranule - kHeader : size;
    }

  private:
    struct Block {
        Block* next;
    };
    static constexpr std::size_t kGranule = 64;
    static constexpr std::size_t kClasses = 16;  // blocks up to 1,016 bytes
    static constexpr std::size_t kHeader = 8;    // malloc's size word before each chunk
    static constexpr std::size_t size_class(std::size_t size) noexcept {
        return (size + kHeader - 1) / kGranule;
    }

    Block* free_[kClasses] = {};
    std::size_t count_[kClasses] = {};
    std::size_t per_class_;  // idle cores kept per class
};

}  // namespace green::detail
