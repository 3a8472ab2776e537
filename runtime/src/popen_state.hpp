// What a green::Popen holds: the child, the parent's pipe ends, its pidfd and what communicate()
// has gathered so far (kept across a timeout, so a second call carries on). Internal.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "green/subprocess.hpp"
#include "pidfd.hpp"

namespace green::subprocess {

struct Popen::State {
    explicit State(pid_t child) : pid(child), pidfd(child) {}
    std::vector<std::string> args;
    pid_t pid;
    detail::OwnedPidfd pidfd;  // fd -1 where the kernel has no pidfds: waits then poll
    int in = -1, out = -1, err = -1;
    std::optional<int> returncode;

    // communicate()'s progress.
    bool communicating = false;
    std::string input;
    std::size_t input_done = 0;
    std::string out_buf, err_buf;
};

}  // namespace green::subprocess

namespace green::detail {

// Moves the pipes until stdin is written and closed and stdout/stderr reached their end.
// Returns false when the deadline passed first. Interrupts (kill, Timeout) are thrown.
bool pump_pipes(subprocess::Popen::State& s, const Deadline& deadline);

}  // namespace green::detail
