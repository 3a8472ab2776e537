// A fiber thread's thread-specific values (pthread_setspecific), indexed by key. The first keys
// live inline; more take one block of private mmap memory: a program's malloc may itself call
// pthread_setspecific (allocators keep per-thread caches in keys), so this may not use malloc.
#pragma once

#include <pthread.h>

#include <cstring>

#include "private_arena.hpp"

namespace green::hooks::threads {

class SpecificSlots {
  public:
    struct Specific {
        unsigned seq = 0;  // the key's generation when the value was stored
        void* value = nullptr;
    };

    SpecificSlots() = default;
    SpecificSlots(const SpecificSlots&) = delete;
    SpecificSlots& operator=(const SpecificSlots&) = delete;
    ~SpecificSlots() { clear(); }

    // Keys that have a slot now.
    unsigned size() const noexcept { return more_ ? PTHREAD_KEYS_MAX : kInline; }
    Specific& operator[](unsigned key) noexcept {
        return key < kInline ? inline_[key] : more_[key];
    }
    // Makes room for `key` (< PTHREAD_KEYS_MAX); false when out of memory.
    bool reserve(unsigned key) noexcept {
        if (key < size()) return true;
        auto* block = static_cast<Specific*>(private_pages(kBlockBytes));
        if (!block) return false;
        more_ = block;  // zeroed pages: every slot empty; [0, kInline) unused there
        return true;
    }
    void clear() noexcept {
        std::memset(static_cast<void*>(inline_), 0, sizeof inline_);
        release_private_pages(more_, kBlockBytes);
        more_ = nullptr;
    }

  private:
    static constexpr unsigned kInline = 32;
    static constexpr std::size_t kBlockBytes = sizeof(Specific) * PTHREAD_KEYS_MAX;
    Specific inline_[kInline];
    Specific* more_ = nullptr;
};

}  // namespace green::hooks::threads
