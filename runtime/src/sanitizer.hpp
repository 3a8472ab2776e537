// AddressSanitizer fiber annotations, compiled away in normal builds. Every stack switch is
// announced so ASan tracks which stack is live and does not report false stack overflows.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define GREEN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GREEN_ASAN 1
#endif
#endif

#ifdef GREEN_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#endif

namespace green::detail::asan {

inline void start_switch(void** fake_stack_save, const void* bottom, std::size_t size) noexcept {
#ifdef GREEN_ASAN
    __sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
#else
    (void)fake_stack_save, (void)bottom, (void)size;
#endif
}

inline void finish_switch(void* fake_stack, const void** bottom_old,
                          std::size_t* size_old) noexcept {
#ifdef GREEN_ASAN
    __sanitizer_finish_switch_fiber(fake_stack, bottom_old, size_old);
#else
    (void)fake_stack, (void)bottom_old, (void)size_old;
#endif
}

// Clears the shadow of memory about to be unmapped: frames that never returned (a fiber's
// outermost ones, those of fibers parked when their hub ended) leave their redzones poisoned,
// and ASan would report the next mapping at those addresses.
inline void unpoison(const void* p, std::size_t size) noexcept {
#ifdef GREEN_ASAN
    __asan_unpoison_memory_region(p, size);
#else
    (void)p, (void)size;
#endif
}

}  // namespace green::detail::asan
