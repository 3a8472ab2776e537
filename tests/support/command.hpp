// Running a program to completion through the shell (popen): what it wrote to stdout (add
// " 2>&1" to the command for stderr too), its exit code and how long it took.
#pragma once

#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <system_error>

#include "support/stopwatch.hpp"

namespace green_test {

struct CommandRun {
    std::string out;
    int status = -1;  // the exit code, 128+signal if a signal ended it
    double seconds = 0;
};

// Throws std::system_error if the shell cannot be started.
inline CommandRun run_command(const std::string& cmd) {
    const auto t0 = green::Clock::now();
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) throw std::system_error(errno, std::system_category(), "popen " + cmd);
    CommandRun r;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
    const int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r.seconds = seconds_since(t0);
    return r;
}

}  // namespace green_test
