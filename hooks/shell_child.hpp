// The shell children of the cooperative system() and popen(): "/bin/sh -c COMMAND" started as
// glibc starts it (argv "sh", "-c", COMMAND; the program's environment) but, from a fiber, on the
// offload pool, and the SIGKILL-and-reap glibc's cancellation handler runs when the caller is
// cancelled while waiting.
#pragma once

#include <spawn.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "hook_interface.hpp"
#include "route.hpp"

extern char** environ;

namespace green::hooks {

// 0, or the error number posix_spawn reports (the shell could not be started).
inline int spawn_shell(pid_t* pid, const posix_spawn_file_actions_t* actions,
                       const posix_spawnattr_t* attr, const char* command) noexcept {
    char sh[] = "sh", dash_c[] = "-c";
    char* const argv[] = {sh, dash_c, const_cast<char*>(command), nullptr};
    return ::posix_spawn(pid, "/bin/sh", actions, attr, argv, environ);
}

// What the pool thread's posix_spawn reads and writes, all its own (on the heap): a compact
// caller's stack, where the arguments may be, is copied away while it waits.
struct ShellStart {
    ShellStart(const posix_spawn_file_actions_t* actions, const posix_spawnattr_t* attr,
               const char* command)
        : with_actions(actions != nullptr), with_attr(attr != nullptr), command(command) {
        // Bitwise copies, as glibc's objects allow: the attributes are plain data, and the file
        // actions' list is on the heap, still owned (and freed later) by the caller's object.
        if (actions) this->actions = *actions;
        if (attr) this->attr = *attr;
    }
    long operator()() noexcept {
        return spawn_shell(&pid, with_actions ? &actions : nullptr, with_attr ? &attr : nullptr,
                           command.c_str());
    }
    pid_t pid = -1;
    posix_spawn_file_actions_t actions{};
    posix_spawnattr_t attr{};
    bool with_actions, with_attr;
    std::string command;
};

// spawn_shell from a fiber runs on the offload pool: posix_spawn holds its OS thread until the
// shell has exec'd (the fork's copy of the page tables: milliseconds on a loaded machine, which
// stalled every fiber of the hub). The fiber's wait is uninterruptible, so *pid is set before a
// kill or cancellation reaches the caller. `attr` must give the shell its signal mask: the
// pool thread's own blocks everything. Elsewhere (no hub, the loop fiber) in place.
inline int start_shell(pid_t* pid, const posix_spawn_file_actions_t* actions,
                       const posix_spawnattr_t* attr, const char* command) {
    if (!route(Need::Io)) return spawn_shell(pid, actions, attr, command);
    auto start = std::make_unique<ShellStart>(actions, attr, command);
    struct CopyPid {  // also when a kill is thrown once the start returned
        pid_t* out;
        const ShellStart& start;
        ~CopyPid() { *out = start.pid; }
    } copy_pid{pid, *start};
    return static_cast<int>(rt::run_on_pool_heap(*start));
}

// For a caller that unwinds (pthread_cancel, a fiber's kill) while it waits for `pid`: the child
// is killed and reaped there and then (rt::kill_and_reap: no park while unwinding), as glibc's
// cancellation handler does. dismiss() once the wait ended. slot() is where a start writes the
// child's pid (-1 until then), so that a caller unwinding from the start reaps it too.
class ReapOnUnwind {
  public:
    ReapOnUnwind() noexcept = default;
    explicit ReapOnUnwind(pid_t pid) noexcept : pid_(pid) {}
    ReapOnUnwind(const ReapOnUnwind&) = delete;
    ReapOnUnwind& operator=(const ReapOnUnwind&) = delete;
    ~ReapOnUnwind() {
        if (pid_ > 0) rt::kill_and_reap(pid_);
    }
    void dismiss() noexcept { pid_ = -1; }
    pid_t* slot() noexcept { return &pid_; }
    pid_t pid() const noexcept { return pid_; }

  private:
    pid_t pid_ = -1;
};

}  // namespace green::hooks
