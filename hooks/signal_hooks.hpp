// Signal handlers versus cooperative waits. A blocking poll/select/epoll_wait/sleep returns EINTR
// when a signal handler runs meanwhile; a fiber parked in the hub would not notice, so the hooks
// wrap the program's handlers: each handled signal bumps a counter and wakes every hub through
// an eventfd, and the interrupted hooks return EINTR as the kernel would.
#pragma once

#include <cstdint>

namespace green::hooks {

// True once the program installed a handler function for some signal (cheap: one load).
bool signals_handled() noexcept;
// Signals handled so far by the program's handlers.
std::uint64_t signal_count() noexcept;
// The calling hub thread's wake-up fd (readable after a handled signal), -1 if none could be
// made. Created on first use; drain it after waking.
int hub_signal_fd() noexcept;
void drain_signal_fd(int fd) noexcept;

}  // namespace green::hooks
