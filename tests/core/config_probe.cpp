// A program that prints the configuration green resolved from its environment, as
// key=value lines, and what the runtime then did with it (config_test.cpp runs it).
#include <sys/auxv.h>

#include <cstdio>

#include <green/green.hpp>
#include <green/stats.hpp>

#include "config.hpp"
#include "scheduler.hpp"

int main() {
    const auto& c = green::detail::config();
    std::printf("at_secure=%lu\n", ::getauxval(AT_SECURE));
    std::printf("stack_size=%zu\n", c.stack_size);
    std::printf("default_stack_size=%zu\n", green::default_stack_size());
    std::printf("backend=%s\n", green::backend_name());
    std::printf("offload_threads=%zu\n", green::default_threadpool().size());
    std::printf("monitor_ms=%u\n", c.monitor_ms);
    std::printf("guard_pages=%s%zu\n", c.guard_pages_set ? "" : "default:", c.guard_pages);
    std::printf("warm_stacks=%zu\n", c.warm_stacks);
    std::printf("patch=%d\n", static_cast<int>(c.patch));
    std::printf("net_recv=%d\n", static_cast<int>(c.net_recv));
    // Whether a fiber's stack got a guard page.
    bool guarded = false;
    green::spawn([&guarded] {
        guarded = green::detail::Hub::get().current()->stack().guarded;
    }).join();
    std::printf("fiber_guarded=%d\n", guarded ? 1 : 0);
    // GREEN_MAX_MEMORY, as the runtime applied it when the hub was created.
    std::printf("memory_threshold=%llu\n",
                static_cast<unsigned long long>(green::memory_threshold()));
    return 0;
}
