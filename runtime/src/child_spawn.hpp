// Starting a child for Popen: posix_spawn with the pipes, /dev/null and descriptor plumbing of
// subprocess::Options. Internal to the runtime.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "green/subprocess.hpp"

namespace green::detail {

// A started child and the parent's ends of its pipes (-1 where a stream is not piped): each
// non-blocking and close-on-exec, and the caller's to close (close_pipe_end).
struct SpawnedChild {
    pid_t pid = -1;
    int in = -1;
    int out = -1;
    int err = -1;
};

// Throws std::system_error when the program cannot be started: exec's own error (ENOENT,
// EACCES, ENOEXEC...) comes back from the child, as glibc's posix_spawn reports it.
SpawnedChild spawn_child(const std::vector<std::string>& args, const subprocess::Options& opts);

// Closes one of the parent's pipe ends (the hub forgets it first) and sets it to -1.
void close_pipe_end(int& fd) noexcept;

}  // namespace green::detail
