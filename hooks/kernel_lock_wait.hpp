// A POSIX record-lock wait the kernel can see: the blocking F_SETLKW made on a helper OS thread
// of this process while the calling fiber waits for it. Record locks belong to the process, so
// the helper's request is the program's, and the kernel's deadlock detection (EDEADLK) and
// wake-up order apply exactly as natively; a polling waiter is invisible to both. The wide
// scanf family uses the same helper for glibc's parse of a FILE (stdio_wide_hooks.cpp).
#pragma once

#include <functional>

namespace green::hooks {

// Runs `blocking` (a libc-style call: 0, or -1 with errno, which the helper repeats after an
// EINTR of its own wake-up signal; F_SETLKW, lockf F_LOCK, vfwscanf) on a helper
// thread and parks the calling fiber until it returns. The park is an interruption point (a
// handled signal without SA_RESTART interrupts the helper's call, which then fails with EINTR or
// has just succeeded, as natively) and a cancellation point. Returns false, having run nothing,
// when no helper can be used (the program handles the helper's wake-up signal itself, or no
// thread could be started): the caller polls instead. Otherwise `result` is the call's result,
// errno set as the call left it.
bool kernel_lock_wait(const std::function<int()>& blocking, int& result);

}  // namespace green::hooks
