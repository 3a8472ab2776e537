// Starting a child for Popen: posix_spawn with the pipes, /dev/null and descriptor plumbing of
// subprocess::Options. Internal to the runtime.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "green/subprocess.hpp"

namespace green::detail {

// A started child and the parent's ends of its pipes (-1 where a stream is not piped), each
// non-blocking and close-on-exec. Until its owner takes them (release), they are this object's:
// dropped, it closes the pipes and kills and reaps the child (a Popen whose fiber was killed
// while the start ran on the offload pool).
struct SpawnedChild {
    pid_t pid = -1;
    int in = -1;
    int out = -1;
    int err = -1;

    SpawnedChild() = default;
    SpawnedChild(SpawnedChild&& o) noexcept { *this = std::move(o); }
    SpawnedChild& operator=(SpawnedChild&& o) noexcept;
    SpawnedChild(const SpawnedChild&) = delete;
    SpawnedChild& operator=(const SpawnedChild&) = delete;
    ~SpawnedChild() { drop(); }
    void release() noexcept { pid = in = out = err = -1; }

  private:
    void drop() noexcept;
};

// Throws std::system_error when the program cannot be started: exec's own error (ENOENT,
// EACCES, ENOEXEC...) comes back from the child, as glibc's posix_spawn reports it. Runs where
// it is called: posix_spawn holds the calling OS thread until the child has exec'd.
SpawnedChild spawn_child(const std::vector<std::string>& args, const subprocess::Options& opts);

// Closes one of the parent's pipe ends (the hub forgets it first) and sets it to -1.
void close_pipe_end(int& fd) noexcept;

}  // namespace green::detail
