// Finding libc's own version of each function green interposes (dlsym RTLD_NEXT): one slot per
// symbol, filled eagerly by a high-priority constructor before main — so a program that brings
// its own malloc never has dlsym (which may allocate) run inside one of its malloc calls.
#pragma once

#include <unistd.h>

#include <cstddef>

namespace green::hooks {

// dlsym(RTLD_NEXT, name) / dlvsym. Return nullptr if called re-entrantly on this thread while a
// resolution is already in progress (callers then use the raw system call).
void* next_symbol(const char* name) noexcept;
void* next_symbol_versioned(const char* name, const char* version) noexcept;

// A symbol name usable as a template argument, so each (type, name) pair has one slot.
template <std::size_t N>
struct SymbolName {
    char text[N];
    constexpr SymbolName(const char (&s)[N]) noexcept {  // NOLINT: implicit by design
        for (std::size_t i = 0; i < N; ++i) text[i] = s[i];
    }
};

template <class Fn, SymbolName Name>
inline Fn real_slot __attribute__((visibility("hidden"))) = nullptr;

template <class Fn, SymbolName Name>
inline Fn real_fn() noexcept {
    Fn f = __atomic_load_n(&real_slot<Fn, Name>, __ATOMIC_ACQUIRE);
    if (__builtin_expect(f == nullptr, 0)) {
        f = reinterpret_cast<Fn>(next_symbol(Name.text));
        if (f) __atomic_store_n(&real_slot<Fn, Name>, f, __ATOMIC_RELEASE);
    }
    return f;
}

template <class Fn, SymbolName Name, SymbolName Version>
inline Fn real_versioned_slot __attribute__((visibility("hidden"))) = nullptr;

template <class Fn, SymbolName Name, SymbolName Version>
inline Fn real_fn_versioned() noexcept {
    Fn* slot = &real_versioned_slot<Fn, Name, Version>;
    Fn f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (__builtin_expect(f == nullptr, 0)) {
        f = reinterpret_cast<Fn>(next_symbol_versioned(Name.text, Version.text));
        if (f) __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    }
    return f;
}

// The one raw-system-call fallback of the hooks, for libc's `f` missing (nullptr: only while
// dlsym runs re-entrantly on this thread, see next_symbol): the hooks must not fail then, and
// calling libc's name would come back into the hook. Used through GREEN_REAL_OR_SYSCALL.
template <class R, class... P, class... A>
inline R call_or_syscall(R (*f)(P...), long sysno, A... args) noexcept {
    if (f) [[likely]]
        return f(args...);
    return static_cast<R>(::syscall(sysno, args...));
}

}  // namespace green::hooks

// GREEN_REAL(recv) is libc's recv (a function pointer; nullptr only during re-entrant
// resolution, see next_symbol). GREEN_REAL_V(fn, "GLIBC_2.3.2") picks a symbol version.
#define GREEN_REAL(fn) (::green::hooks::real_fn<decltype(&::fn), #fn>())
#define GREEN_REAL_V(fn, version) \
    (::green::hooks::real_fn_versioned<decltype(&::fn), #fn, version>())
// GREEN_REAL_OR_SYSCALL(read, SYS_read, fd, buf, n): libc's read called with the arguments, or
// the raw system call with the same ones while read cannot be resolved (call_or_syscall).
#define GREEN_REAL_OR_SYSCALL(fn, sysno, ...) \
    (::green::hooks::call_or_syscall(GREEN_REAL(fn), sysno, __VA_ARGS__))
