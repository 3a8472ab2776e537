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

}  // namespace green::detail::asan
