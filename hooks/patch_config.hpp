// What the hook library patches in this process: decided once, from which library this is
// (libgreen_preload.so patches threads by default, green::hooks does not) and GREEN_PATCH
// (all | io | none) — the counterpart of gevent's monkey.patch_all() arguments.
#pragma once

namespace green::hooks {

struct PatchConfig {
    bool io = true;        // sleep, sockets, pipes, poll/select/epoll, DNS
    bool threads = false;  // pthreads become fibers (default on under preload, opt-in when linked)
};

// The active configuration (GREEN_PATCH is read with the rest of the configuration).
const PatchConfig& patch_config() noexcept;

#if GREEN_TSAN_BUILD
// ThreadSanitizer's start-up (before any constructor of ours) calls hooked functions
// (sigaction, pthread_key_create); the instrumented runtime must not run before it is ready,
// so until this library's constructor has run every hook takes the libc path.
bool library_started() noexcept;
#else
constexpr bool library_started() noexcept {
    return true;
}
#endif

}  // namespace green::hooks
