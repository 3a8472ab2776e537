// The shell children of the cooperative system() and popen(): "/bin/sh -c COMMAND" started as
// glibc starts it (argv "sh", "-c", COMMAND; the program's environment), and the
// SIGKILL-and-reap glibc's cancellation handler runs when the caller is cancelled while waiting.
#pragma once

#include <spawn.h>
#include <unistd.h>

#include "hook_interface.hpp"

extern char** environ;

namespace green::hooks {

// 0, or the error number posix_spawn reports (the shell could not be started).
inline int spawn_shell(pid_t* pid, const posix_spawn_file_actions_t* actions,
                       const posix_spawnattr_t* attr, const char* command) noexcept {
    char sh[] = "sh", dash_c[] = "-c";
    char* const argv[] = {sh, dash_c, const_cast<char*>(command), nullptr};
    return ::posix_spawn(pid, "/bin/sh", actions, attr, argv, environ);
}

// For a caller that unwinds (pthread_cancel, a fiber's kill) while it waits for `pid`: the child
// is killed and reaped there and then (rt::kill_and_reap: no park while unwinding), as glibc's
// cancellation handler does. dismiss() once the wait ended.
class ReapOnUnwind {
  public:
    explicit ReapOnUnwind(pid_t pid) noexcept : pid_(pid) {}
    ReapOnUnwind(const ReapOnUnwind&) = delete;
    ReapOnUnwind& operator=(const ReapOnUnwind&) = delete;
    ~ReapOnUnwind() {
        if (pid_ > 0) rt::kill_and_reap(pid_);
    }
    void dismiss() noexcept { pid_ = -1; }

  private:
    pid_t pid_;
};

}  // namespace green::hooks
