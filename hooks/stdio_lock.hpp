// A FILE's lock as fibers see it. glibc's stream lock is recursive per OS thread, so every fiber
// of a hub would pass it: flockfile/ftrylockfile/funlockfile and the cooperative stdio hooks
// take this lock instead, owned per fiber (the side table of the thread hooks, keyed by the
// FILE's address), and glibc's lock under it, which still excludes other OS threads.
#pragma once

#include <stdio.h>

#include "sync_table.hpp"

namespace green::hooks::stdio {

// Whether some fiber of this hub holds or waits for f's lock (so a call that would otherwise go
// straight to libc must take it too).
GREEN_HOOK_INTERNAL bool lock_in_use(const FILE* f) noexcept;

// flockfile / ftrylockfile / funlockfile for the calling fiber of c's hub.
GREEN_HOOK_INTERNAL void lock(sync::FiberCtx c, FILE* f) noexcept;
GREEN_HOOK_INTERNAL bool try_lock(sync::FiberCtx c, FILE* f) noexcept;
GREEN_HOOK_INTERNAL void unlock(sync::FiberCtx c, FILE* f) noexcept;

// fclose flushes what f has buffered: from a fiber, wait first until that write cannot block
// (stdio_hooks.cpp).
void before_fclose(FILE* f) __attribute__((visibility("hidden")));

// Holds f's lock for one cooperative stdio call (released however the call ends).
class Locked {
  public:
    Locked(sync::FiberCtx c, FILE* f) noexcept : c_(c), f_(f) { lock(c, f); }
    Locked(const Locked&) = delete;
    Locked& operator=(const Locked&) = delete;
    ~Locked() { unlock(c_, f_); }

  private:
    sync::FiberCtx c_;
    FILE* f_;
};

}  // namespace green::hooks::stdio
