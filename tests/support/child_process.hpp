// A child process driven from a fiber: Child spawns a program with stdin/stdout pipes read and
// written cooperatively and signals it; wait_exit waits for any child's exit (pidfd) without
// blocking the hub and never past a deadline.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <green/green.hpp>

extern char** environ;

namespace green_test {

using namespace std::chrono_literals;

// Waits for child `pid` to end without blocking the hub: a pidfd is readable once it exits.
// The exit code (128+signal if killed by one); -1 if it did not end within `limit` (then killed).
inline int wait_exit(pid_t pid, green::Duration limit) {
    const green::Deadline deadline(limit);
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    int status = 0, result = -1;
    for (;;) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            result = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            break;
        }
        if (deadline.expired()) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            break;
        }
        try {
            if (pidfd >= 0)
                green::wait_read(pidfd, earliest(deadline, green::Deadline(50ms)));
            else
                green::sleep(10ms);
        } catch (const green::Timeout&) {
        }
    }
    if (pidfd >= 0) {
        green::notify_close(pidfd);
        ::close(pidfd);
    }
    return result;
}

class Child {
  public:
    explicit Child(std::vector<std::string> args) {
        int in[2], out[2];
        if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC))
            throw std::system_error(errno, std::system_category(), "pipe2");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        const int rc = ::posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        ::close(in[0]);
        ::close(out[1]);
        stdin_ = in[1];
        stdout_ = out[0];
        ::fcntl(stdout_, F_SETFL, O_NONBLOCK);
        if (rc != 0) throw std::system_error(rc, std::system_category(), "posix_spawn " + args[0]);
        name_ = args[0].substr(args[0].rfind('/') + 1);
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
        if (pid_ > 0 && !exited_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        close_stdin();
        green::notify_close(stdout_);
        ::close(stdout_);
    }

    // Next line of output (without '\n'); throws green::Timeout, or runtime_error at EOF.
    std::string line(green::Duration limit = 10s) {
        const green::Deadline deadline(limit);
        for (;;) {
            if (auto nl = buf_.find('\n'); nl != std::string::npos) {
                std::string l = buf_.substr(0, nl);
                buf_.erase(0, nl + 1);
                output_ += l + "\n";
                return l;
            }
            if (!fill(deadline)) throw std::runtime_error(name_ + ": end of output");
        }
    }
    // Reads lines until one matches; returns the match groups ([0]: the whole match). Fails
    // the test (and throws) on timeout or end of output.
    std::vector<std::string> expect(const std::string& pattern, green::Duration limit = 10s) {
        const std::regex re(pattern);
        const green::Deadline deadline(limit);
        try {
            for (;;) {
                const std::string l = line(deadline.remaining());
                std::smatch m;
                if (std::regex_search(l, m, re)) return {m.begin(), m.end()};
            }
        } catch (const std::exception& e) {
            ADD_FAILURE() << name_ << ": waiting for /" << pattern << "/: " << e.what()
                          << "\noutput so far:\n"
                          << output_;
            throw;
        }
    }
    // Everything until end of output.
    std::string rest(green::Duration limit = 10s) {
        const green::Deadline deadline(limit);
        while (fill(deadline)) {
        }
        output_ += buf_;
        return std::exchange(buf_, {});
    }

    void write(const std::string& text) {
        ASSERT_EQ(::write(stdin_, text.data(), text.size()), ssize_t(text.size()));
    }
    void close_stdin() {
        if (stdin_ >= 0) ::close(stdin_);
        stdin_ = -1;
    }
    void signal(int signo) { ::kill(pid_, signo); }
    pid_t pid() const { return pid_; }

    // The exit code (128+signal if killed by one); -1 if it did not end in time (then killed).
    int wait(green::Duration limit = 10s) {
        const int result = wait_exit(pid_, limit);
        exited_ = true;
        return result;
    }
    const std::string& output() const { return output_; }

  private:
    bool fill(const green::Deadline& deadline) {
        char tmp[4096];
        for (;;) {
            const ssize_t n = ::read(stdout_, tmp, sizeof tmp);
            if (n > 0) {
                buf_.append(tmp, static_cast<std::size_t>(n));
                return true;
            }
            if (n == 0) return false;
            if (errno != EAGAIN) throw std::system_error(errno, std::system_category(), "read");
            green::wait_read(stdout_, deadline);
        }
    }

    pid_t pid_ = -1;
    int stdin_ = -1, stdout_ = -1;
    bool exited_ = false;
    std::string name_, buf_, output_;
};

}  // namespace green_test
