// Sanitizer fiber annotations, compiled away in normal builds. Every stack switch is announced:
// ASan tracks which stack is live (no false stack overflows), ThreadSanitizer keeps a separate
// vector clock and shadow call stack per fiber (without them it sees one thread jumping between
// unrelated stacks and reports races between a fiber and itself).
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define GREEN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GREEN_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define GREEN_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GREEN_TSAN 1
#endif
#endif

#ifdef GREEN_TSAN
#include <sanitizer/tsan_interface.h>
// TSan's dynamic annotations (its runtime exports them; no header declares them).
extern "C" void AnnotateIgnoreReadsBegin(const char* file, int line);
extern "C" void AnnotateIgnoreReadsEnd(const char* file, int line);
#endif

#ifdef GREEN_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#endif

namespace green::detail::asan {

#ifdef GREEN_ASAN
inline constexpr bool kEnabled = true;
#else
inline constexpr bool kEnabled = false;
#endif

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

namespace green::detail::tsan {

// The calling thread's own context (a hub's main fiber runs on it).
inline void* current() noexcept {
#ifdef GREEN_TSAN
    return __tsan_get_current_fiber();
#else
    return nullptr;
#endif
}

// A context for a fiber about to run on a new stack.
inline void* create() noexcept {
#ifdef GREEN_TSAN
    return __tsan_create_fiber(0);
#else
    return nullptr;
#endif
}

// Right before the jump: from here on TSan attributes accesses to `to`. Synchronising (flag 0):
// the fiber that runs next sees everything the one that ran before did, as on one thread.
inline void switch_to(void* to) noexcept {
#ifdef GREEN_TSAN
    if (to) __tsan_switch_to_fiber(to, 0);
#else
    (void)to;
#endif
}

// A scope whose reads of another thread's memory are validated afterwards, seqlock style (the
// blocking monitor reads a hub's current fiber and re-checks the hub's switch counter): TSan
// would report the race the check already tolerates.
class IgnoreReads {
  public:
#ifdef GREEN_TSAN
    IgnoreReads() noexcept {
        AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
    }
    ~IgnoreReads() {
        AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
    }
#else
    IgnoreReads() noexcept = default;
#endif
    IgnoreReads(const IgnoreReads&) = delete;
    IgnoreReads& operator=(const IgnoreReads&) = delete;
};

// A dead fiber's context, freed from another fiber (never the running one).
inline void destroy(void* fiber) noexcept {
#ifdef GREEN_TSAN
    if (fiber) __tsan_destroy_fiber(fiber);
#else
    (void)fiber;
#endif
}

}  // namespace green::detail::tsan
