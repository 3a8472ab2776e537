// Backtraces of fibers as program counters, and their names (function, file:line). A suspended
// fiber is unwound from the registers its last switch saved; the running code of a thread
// captures its own stack (async-signal-safe). Unwinding from saved registers and symbolizing
// are elfutils' libdw, loaded on first use; see backtrace.cpp for why.
#pragma once

#include <cstdint>
#include <string>

namespace green::detail {

class Fiber;

inline constexpr int kMaxFrames = 48;

// Program counters, innermost first, each already pointing into its call instruction (a return
// address minus one), so that it names the right line.
struct Frames {
    std::uintptr_t pc[kMaxFrames];
    int n = 0;
};

// The calling code's own stack, innermost first, from its caller on. Async-signal-safe: libgcc's
// unwinder, which finds unwind tables through glibc's lock-free _dl_find_object.
int capture_here(std::uintptr_t* pcs, int max) noexcept;

// Holds the symbolizer (one process-wide, behind a mutex) for the life of the scope: unwinds
// suspended fibers and names program counters. Each name is looked up once per scope.
class Backtracer {
  public:
    Backtracer();
    ~Backtracer();
    Backtracer(const Backtracer&) = delete;
    Backtracer& operator=(const Backtracer&) = delete;

    // Empty when backtraces work; otherwise why not (libdw missing, another architecture).
    const std::string& unavailable() const noexcept;

    // A fiber that is not running, from the context its last switch saved. Its stack is
    // [lo, hi): the unwinder reads nothing else. `copy`, when given, holds those bytes instead
    // (a switched-out compact fiber's image, whose addresses another fiber's frames now use).
    // On the fiber's hub thread only, while it stays suspended.
    Frames unwind_suspended(const void* saved_context, const void* lo, const void* hi,
                            const void* copy = nullptr);
    // Frames of `f` (not the running fiber of the calling thread's hub); a compact fiber's
    // from its image.
    Frames unwind_fiber(const Fiber& f, bool is_main);

    // One line per frame: `indent`#N 0xPC function+0xOFF at file:line (module). A program
    // counter in inlined code gives a line per inlined call first, innermost first:
    // `indent`#N 0xPC function at file:line (inlined), each at the line of the call it makes.
    void append(std::string& out, const Frames& frames, const char* indent);
};

}  // namespace green::detail
