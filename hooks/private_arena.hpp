// Memory for the thread hooks' own bookkeeping that never comes from the program's allocator:
// a program's malloc may itself lock a pthread mutex (jemalloc, custom allocators), so a hook
// that allocated through malloc while handling that lock would re-enter itself without end.
// Pages come straight from mmap; fixed-size objects from a slab with a free list.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>

namespace green::hooks {

// Zeroed pages from mmap (the kernel rounds up to whole pages), or nullptr. Never malloc.
inline void* private_pages(std::size_t bytes) noexcept {
    if (bytes == 0) return nullptr;
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
}
inline void release_private_pages(void* p, std::size_t bytes) noexcept {
    if (p) ::munmap(p, bytes);
}

// Fixed-size blocks for objects of type T, carved from 64 KiB mmap chunks that are never
// returned (freed blocks go back to the slab's free list). One slab per thread: no locking.
template <class T>
class PrivateSlab {
  public:
    PrivateSlab() = default;
    PrivateSlab(const PrivateSlab&) = delete;
    PrivateSlab& operator=(const PrivateSlab&) = delete;

    // A default-constructed T; throws std::bad_alloc when mmap fails.
    T* make() {
        if (!free_) refill();
        Block* b = free_;
        free_ = b->next;
        return ::new (static_cast<void*>(b)) T();
    }
    void destroy(T* p) noexcept {
        p->~T();
        Block* b = reinterpret_cast<Block*>(p);
        b->next = free_;
        free_ = b;
    }

  private:
    union Block {
        Block* next;
        alignas(T) unsigned char storage[sizeof(T)];
    };
    static constexpr std::size_t kChunk = 64 * 1024;

    void refill() {
        void* mem = private_pages(kChunk);
        if (!mem) throw std::bad_alloc();
        Block* blocks = static_cast<Block*>(mem);
        const std::size_t n = kChunk / sizeof(Block);
        for (std::size_t i = n; i-- > 0;) {
            blocks[i].next = free_;
            free_ = &blocks[i];
        }
    }

    Block* free_ = nullptr;
};

}  // namespace green::hooks
