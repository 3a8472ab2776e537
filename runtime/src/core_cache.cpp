// The per-hub cache of greenlet cores (core_cache.hpp) and the cores' allocation functions.
#include "core_cache.hpp"

#include <new>

#include "green/detail/greenlet_core.hpp"
#include "sanitizer.hpp"
#include "scheduler.hpp"

namespace green::detail {

CoreCache::~CoreCache() {
    for (std::size_t c = 0; c < kClasses; ++c) {
        while (Block* b = free_[c]) {
            free_[c] = b->next;
            ::operator delete(b);
        }
    }
}

// Under AddressSanitizer every core goes back to the allocator, which keeps use-after-free of
// a core detectable.
void* GreenletCore::operator new(std::size_t size) {
#ifndef GREEN_ASAN
    if (Hub* h = t_hub) [[likely]]
        if (void* p = h->core_cache().take(size)) return p;
#endif
    return ::operator new(CoreCache::rounded(size));
}

void GreenletCore::operator delete(void* p, std::size_t size) noexcept {
#ifndef GREEN_ASAN
    if (Hub* h = t_hub) [[likely]]
        if (h->core_cache().put(p, size)) return;
#else
    (void)size;
#endif
    ::operator delete(p);
}

}  // namespace green::detail
