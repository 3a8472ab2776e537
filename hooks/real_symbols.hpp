// Finding libc's own version of each function green interposes (dlsym RTLD_NEXT), once per
// symbol, without allocating on the hot path and without recursing when the resolver itself
// calls back into a hooked function (a program's own malloc may read files or sleep).
#pragma once

namespace green::hooks {

// dlsym(RTLD_NEXT, name). Returns nullptr if called re-entrantly on this thread while a
// resolution is already in progress (callers then use the raw system call).
void* next_symbol(const char* name) noexcept;

template <class Fn>
inline Fn real_fn(Fn* slot, const char* name) noexcept {
    Fn f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (__builtin_expect(f == nullptr, 0)) {
        f = reinterpret_cast<Fn>(next_symbol(name));
        if (f) __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    }
    return f;
}

}  // namespace green::hooks

// GREEN_REAL(recv) is libc's recv (a function pointer; nullptr only during re-entrant
// resolution, see next_symbol). One cached slot per call site.
#define GREEN_REAL(fn)                              \
    (::green::hooks::real_fn<decltype(&::fn)>(      \
        []() -> decltype(&::fn)* {                  \
            static decltype(&::fn) slot_ = nullptr; \
            return &slot_;                          \
        }(),                                        \
        #fn))
