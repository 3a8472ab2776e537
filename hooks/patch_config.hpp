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

}  // namespace green::hooks
