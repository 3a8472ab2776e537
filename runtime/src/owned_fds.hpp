// The descriptors the runtime itself owns (a hub's io_uring ring or epoll set, its wake-up
// eventfd): the hooks' close, close_range and closefrom leave them alone, so the daemon idiom
// "close every inherited descriptor" run after a hub exists does not take the hub's down with it.
#pragma once

namespace green::detail {

// Marks `fd` as the runtime's (after creating it) or not any more (before closing it).
// Any thread; lock-free.
void runtime_fd_acquired(int fd) noexcept;
void runtime_fd_released(int fd) noexcept;

// Whether the runtime owns `fd`. Cheap: two loads.
bool runtime_owns_fd(int fd) noexcept;

// The lowest runtime-owned fd in [first, last], or -1.
int next_runtime_fd(unsigned first, unsigned last) noexcept;

}  // namespace green::detail
