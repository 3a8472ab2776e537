// The refusal of records a compact fiber would leave on its stack while it waits (stack_mode.hpp):
// waits that cannot keep their records elsewhere stop the program with a message instead of
// letting the next compact fiber overwrite what the runtime still points to.
#include <cstdio>
#include <cstdlib>

#include "green/detail/park_local.hpp"
#include "scheduler.hpp"

namespace green::detail {

void refuse_compact_stack_record(const void* record, const char* what) noexcept {
    const Hub* hub = Hub::peek();
    if (!hub) return;
    const StackSlot& run = hub->run_stack();
    const auto* p = static_cast<const char*>(record);
    const auto* lo = static_cast<const char*>(run.base);
    if (p < lo || p >= lo + run.size) return;
    std::fprintf(stderr,
                 "green: a compact greenlet waits with a %s on its stack, which is copied away "
                 "while it waits; this wait is not supported in compact stack mode "
                 "(green/stack_mode.hpp)\n",
                 what);
    std::abort();
}

}  // namespace green::detail
