// A process-wide count per descriptor number of the times it was closed or handed out anew. A
// hub's epoll set remembers the count it registered an fd under: a different count means the
// number now names another file (closed on another hub, or behind the hooks' back, e.g. by
// fclose of an fdopen'd socket), and the registration is made again instead of waiting forever.
#pragma once

#include <atomic>
#include <cstdint>

#include "fd_pages.hpp"

namespace green::detail {

// fds below 2^26, 16,384 per page (64 KiB).
using FdGenerations = LazyPages<std::uint32_t, 14, 4096>;
extern FdGenerations g_fd_generations;

// The number `fd` was closed, or came back from a call that creates descriptors. Any thread.
inline void fd_generation_bump(int fd) noexcept {
    if (fd < 0) return;
    if (auto* g = g_fd_generations.at(static_cast<unsigned>(fd), true))
        g->fetch_add(1, std::memory_order_release);
}

// Its count now: 0 for a number never bumped. Cheap: two loads.
inline std::uint32_t fd_generation(int fd) noexcept {
    const auto* g = g_fd_generations.at(static_cast<unsigned>(fd), false);
    return g ? g->load(std::memory_order_acquire) : 0;
}

}  // namespace green::detail
