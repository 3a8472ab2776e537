#include "real_symbols.hpp"

#include <dlfcn.h>

namespace green::hooks {

namespace {
thread_local bool t_resolving = false;
}

void* next_symbol(const char* name) noexcept {
    if (t_resolving) return nullptr;
    t_resolving = true;
    void* p = ::dlsym(RTLD_NEXT, name);
    t_resolving = false;
    return p;
}

}  // namespace green::hooks
