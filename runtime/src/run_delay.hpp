// How long a thread of this process has sat runnable without a CPU: the kernel's run_delay
// (/proc/<pid>/task/<tid>/schedstat, second field). The blocking monitor subtracts it, so that
// time the OS scheduler kept a hub's thread off the CPU is not blamed on the hub's fiber.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace green::detail {

class RunDelay {
  public:
    RunDelay() = default;
    RunDelay(const RunDelay&) = delete;
    RunDelay& operator=(const RunDelay&) = delete;
    ~RunDelay();

    // Nanoseconds thread `tid` has waited on a run queue so far, or -1 when the kernel does not
    // say (no schedstat, the thread is gone). The file stays open between reads of one thread:
    // one pread per sample.
    std::int64_t read(pid_t tid) noexcept;

  private:
    void close_file() noexcept;
    int fd_ = -1;
    pid_t pid_ = 0;  // the file's process and thread: a forked child, or another tid, reopens
    pid_t tid_ = 0;
};

}  // namespace green::detail
