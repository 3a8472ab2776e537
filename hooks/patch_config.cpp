#include "patch_config.hpp"

#include <cstdlib>
#include <cstring>

namespace green::hooks {

namespace {

PatchConfig load() noexcept {
    PatchConfig c;
    // greenrun / the preload library sets GREEN_PRELOAD=1: threads are patched by default there.
    const char* preload = std::getenv("GREEN_PRELOAD");
    c.threads = preload && std::strcmp(preload, "1") == 0;
    if (const char* p = std::getenv("GREEN_PATCH")) {
        if (std::strcmp(p, "none") == 0) c.io = c.threads = false;
        if (std::strcmp(p, "io") == 0) c.threads = false;
        if (std::strcmp(p, "all") == 0) c.io = c.threads = true;
    }
    return c;
}

}  // namespace

const PatchConfig& patch_config() noexcept {
    static const PatchConfig config = load();
    return config;
}

}  // namespace green::hooks
