// Waiting for a file lock (flock, fcntl F_SETLKW / F_OFD_SETLKW, lockf F_LOCK) without blocking
// the hub: the fcntl hook (socket_hooks.cpp) hands its two waiting commands to this.
#pragma once

namespace green::hooks {

// Whether fcntl's `cmd` waits for a lock (F_SETLKW, F_SETLKW64, F_OFD_SETLKW).
bool fcntl_waits_for_lock(int cmd) noexcept;

// fcntl(fd, cmd, arg) for such a command from a fiber: the command's non-blocking form
// (F_SETLK, F_OFD_SETLK) tried on a growing interval, as libc's result (0, or -1 and errno).
// `real` is libc's fcntl or fcntl64 (nullptr: the raw system call `sysno`).
int fcntl_lock_wait(int (*real)(int, int, ...), long sysno, int fd, int cmd, unsigned long arg);

}  // namespace green::hooks
