// What the hook library patches in this process, decided once at load time from GREEN_PATCH
// (all | io | none) — the counterpart of gevent's monkey.patch_all() arguments.
#pragma once

namespace green::hooks {

struct PatchConfig {
    bool io = true;        // sleep, sockets, pipes, poll/select/epoll, DNS
    bool threads = false;  // pthreads become fibers (default on under preload, opt-in when linked)
};

// The active configuration (reads GREEN_PATCH and GREEN_PRELOAD on first use).
const PatchConfig& patch_config() noexcept;

}  // namespace green::hooks
