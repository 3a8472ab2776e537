// Child processes in gevent.subprocess's shape: green::Popen and green::subprocess::run. Waiting
// for the child (its pidfd) and moving data through its pipes park only the calling fiber; the
// hub keeps running the others.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "green/clock.hpp"

namespace green::subprocess {

// Where one of the child's standard streams goes.
enum class Redirect : std::uint8_t {
    Inherit,  // the parent's own descriptor (Python's None)
    Pipe,     // a new pipe; the parent's end is Popen::stdin_fd()/stdout_fd()/stderr_fd()
    DevNull,  // /dev/null
    Stdout,   // for stderr only: wherever stdout goes (Python's STDOUT)
};
inline constexpr Redirect PIPE = Redirect::Pipe;
inline constexpr Redirect DEVNULL = Redirect::DevNull;
inline constexpr Redirect STDOUT = Redirect::Stdout;

// How to start a child. The first group is Popen's; run() also reads the second. Fields keep
// this order, for designated initializers: run({"ls"}, {.out = PIPE, .check = true}).
struct Options {
    Redirect in = Redirect::Inherit;
    Redirect out = Redirect::Inherit;
    Redirect err = Redirect::Inherit;
    // The child's whole environment ("NAME=value" each); nullopt: the parent's. A program name
    // without a slash is looked up in the parent's PATH either way.
    std::optional<std::vector<std::string>> env{};
    // The directory the child starts in; empty: the parent's.
    std::string cwd{};
    // Close every descriptor above 2 in the child (Python's default). Descriptors green makes
    // are close-on-exec in any case.
    bool close_fds = true;

    // run() only.
    std::optional<std::string> input{};  // written to the child's stdin (which becomes a pipe)
    bool capture_output = false;         // stdout and stderr become pipes
    bool check = false;                  // a non-zero returncode throws CalledProcessError
    Deadline timeout{};                  // then the child is killed and TimeoutExpired thrown
};

// The base of the errors below (a failed start is std::system_error, as from the kernel).
class SubprocessError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// run(check=true) or CompletedProcess::check_returncode: the child failed. Carries what it
// printed when that was captured.
class CalledProcessError : public SubprocessError {
  public:
    CalledProcessError(int returncode, std::vector<std::string> cmd, std::string out,
                       std::string err);
    int returncode;  // exit status, or -N when signal N ended the child
    std::vector<std::string> cmd;
    std::string out;
    std::string err;
};

// A deadline passed in wait() or communicate() (the child still runs; communicate may be called
// again and continues where it stopped), or in run() (the child was killed and reaped).
class TimeoutExpired : public SubprocessError {
  public:
    TimeoutExpired(std::vector<std::string> cmd, std::string out, std::string err);
    std::vector<std::string> cmd;
    std::string out;  // what the child wrote to piped stdout/stderr so far
    std::string err;
};

struct CompletedProcess {
    std::vector<std::string> args;
    int returncode = 0;
    std::string out;  // captured stdout (empty unless piped)
    std::string err;  // captured stderr
    // Throws CalledProcessError if returncode is non-zero.
    void check_returncode() const;
};

// One child process. Movable, not copyable; one fiber at a time may use it.
// The destructor closes the parent's pipe ends and, if the child was not waited for, kills it
// (SIGKILL) and reaps it: nothing outlives its Popen, no zombie is left behind. A fiber killed
// (or timed out) inside communicate() or wait() leaves the child running until then.
class Popen {
  public:
    // Starts argv[0] (looked up in PATH when it has no slash) with `args`. A program that
    // cannot be started (ENOENT, EACCES, a bad cwd) throws std::system_error in the parent;
    // empty args throws std::invalid_argument.
    explicit Popen(std::vector<std::string> args, const Options& options = {});
    Popen(Popen&&) noexcept;
    Popen& operator=(Popen&&) noexcept;
    Popen(const Popen&) = delete;
    Popen& operator=(const Popen&) = delete;
    ~Popen();

    pid_t pid() const noexcept;
    const std::vector<std::string>& args() const noexcept;
    // The parent's end of each piped stream (non-blocking, close-on-exec), or -1.
    int stdin_fd() const noexcept;
    int stdout_fd() const noexcept;
    int stderr_fd() const noexcept;
    // Closes the parent's end of stdin: the child reads end of file.
    void close_stdin() noexcept;

    // Writes `input` to stdin (then closes it), reads stdout and stderr to their end, all at
    // once so that no full pipe can stall the child, then waits for it. Returns what was read
    // from {stdout, stderr} (empty for streams that are not pipes). At the deadline throws
    // TimeoutExpired with the output so far; a later call carries on (its input is ignored).
    // Input for a stdin that is not a pipe throws std::invalid_argument. A child that closes
    // its stdin early is not an error (the rest of the input is dropped).
    std::pair<std::string, std::string> communicate(std::string_view input = {},
                                                    Deadline deadline = {});

    // Parks until the child ends; returns its returncode. TimeoutExpired at the deadline.
    int wait(Deadline deadline = {});
    // The returncode if the child has ended (reaping it), else nullopt; never parks.
    std::optional<int> poll();
    // Exit status, or -N when signal N ended it; nullopt until wait/poll/communicate saw it
    // end. A child reaped by someone else (a waitpid(-1) elsewhere, SIGCHLD ignored) reads 0.
    std::optional<int> returncode() const noexcept;

    // Signals the child, unless it has already been reaped (then nothing happens).
    void send_signal(int sig);
    void terminate();  // SIGTERM
    void kill();       // SIGKILL

    struct State;

  private:
    std::unique_ptr<State> s_;
};

// Starts `args`, feeds it options.input, collects its output, waits for it (gevent/Python's
// subprocess.run). Any exception while it runs (the deadline, a kill of the calling fiber)
// kills and reaps the child first.
CompletedProcess run(std::vector<std::string> args, Options options = {});

}  // namespace green::subprocess

namespace green {
using subprocess::CalledProcessError;
using subprocess::CompletedProcess;
using subprocess::Popen;
using subprocess::TimeoutExpired;
}  // namespace green
