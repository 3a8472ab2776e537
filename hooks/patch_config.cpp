// patch_config(): compiled once per hook library. The preload library is built with
// GREEN_PRELOAD_LIBRARY=1 (hooks/CMakeLists.txt): it exists only to be preloaded into a
// program that knows nothing of green, so, as under greenrun, its threads become fibers unless
// GREEN_PATCH=io or none says otherwise.
#include "patch_config.hpp"

#include "hook_interface.hpp"

#ifndef GREEN_PRELOAD_LIBRARY
#define GREEN_PRELOAD_LIBRARY 0
#endif

namespace green::hooks {

namespace {

PatchConfig load() noexcept {
    PatchConfig c;
    c.threads = GREEN_PRELOAD_LIBRARY != 0;
    switch (rt::config().patch) {
        case rt::PatchChoice::None:
            c.io = c.threads = false;
            break;
        case rt::PatchChoice::Io:
            c.threads = false;
            break;
        case rt::PatchChoice::All:
            c.io = c.threads = true;
            break;
        case rt::PatchChoice::Default:
            break;
    }
    return c;
}

}  // namespace

#if GREEN_TSAN_BUILD
namespace {
bool started = false;
[[gnu::constructor(101)]] void mark_started() {
    __atomic_store_n(&started, true, __ATOMIC_RELEASE);
}
}  // namespace
bool library_started() noexcept {
    return __atomic_load_n(&started, __ATOMIC_ACQUIRE);
}
#endif

const PatchConfig& patch_config() noexcept {
    static const PatchConfig config = load();
    return config;
}

}  // namespace green::hooks
