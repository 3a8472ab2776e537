// green::Popen: the child's life after the start — waiting on its pidfd through the hub,
// reaping with waitid, signals, and the destructor's kill-and-reap.
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <system_error>

#include "child_spawn.hpp"
#include "green/hub.hpp"
#include "green/subprocess.hpp"
#include "green/threadpool.hpp"
#include "popen_state.hpp"

namespace green::subprocess {

namespace {

// One waitid on the child with WNOHANG, by system call (the hooks' waitid would wait
// cooperatively). Sets returncode once the child is reaped.
void reap(Popen::State& s) {
    if (s.returncode) return;
    siginfo_t si{};
    long r;
    do {
        r = ::syscall(SYS_waitid, P_PID, s.pid, &si, WEXITED | WNOHANG, nullptr);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        // ECHILD: someone else reaped it (a waitpid(-1) elsewhere, or SIGCHLD ignored so the
        // kernel did): its status is gone, and Python reports 0 then too.
        if (errno == ECHILD)
            s.returncode = 0;
        else
            throw std::system_error(errno, std::system_category(), "green::Popen: waitid");
    } else if (si.si_pid == s.pid) {
        s.returncode = si.si_code == CLD_EXITED ? si.si_status : -si.si_status;
    }
    if (s.returncode) s.pidfd.reset();
}

}  // namespace

Popen::Popen(std::vector<std::string> args, const Options& options) {
    // On the offload pool: posix_spawn holds its OS thread until the child has exec'd (a
    // millisecond, tens on a loaded machine), and the hub must keep running meanwhile; many
    // starts then also overlap. The job owns copies: a fiber killed while it waits leaves the
    // job to finish, and the dropped child is killed and reaped.
    detail::SpawnedChild c =
        green::offload([a = args, o = options] { return detail::spawn_child(a, o); });
    s_ = std::make_unique<State>(c.pid);
    s_->args = std::move(args);
    s_->in = c.in;
    s_->out = c.out;
    s_->err = c.err;
    c.release();
}

Popen::Popen(Popen&&) noexcept = default;

Popen& Popen::operator=(Popen&& o) noexcept {
    if (this != &o) {
        Popen gone(std::move(*this));
        s_ = std::move(o.s_);
    }
    return *this;
}

Popen::~Popen() {
    if (!s_) return;
    detail::close_pipe_end(s_->in);
    detail::close_pipe_end(s_->out);
    detail::close_pipe_end(s_->err);
    if (s_->returncode) return;
    try {
        reap(*s_);
    } catch (const std::system_error&) {  // waitid's EINVAL: cannot happen for our own child
    }
    // Still ours and not reaped (so its pid cannot have been reused): kill it and reap it without
    // parking, since the destructor may run while a kill unwinds this fiber.
    if (!s_->returncode) detail::kill_and_reap(s_->pid);
}

pid_t Popen::pid() const noexcept {
    return s_->pid;
}
const std::vector<std::string>& Popen::args() const noexcept {
    return s_->args;
}
int Popen::stdin_fd() const noexcept {
    return s_->in;
}
int Popen::stdout_fd() const noexcept {
    return s_->out;
}
int Popen::stderr_fd() const noexcept {
    return s_->err;
}
void Popen::close_stdin() noexcept {
    detail::close_pipe_end(s_->in);
}

std::optional<int> Popen::returncode() const noexcept {
    return s_->returncode;
}

std::optional<int> Popen::poll() {
    reap(*s_);
    return s_->returncode;
}

int Popen::wait(Deadline deadline) {
    using std::chrono::milliseconds;
    // Without a pidfd (an old kernel, no descriptors left) look again on a growing interval.
    Duration interval = milliseconds(1);
    for (;;) {
        reap(*s_);
        if (s_->returncode) return *s_->returncode;
        if (deadline.expired()) throw TimeoutExpired(s_->args, s_->out_buf, s_->err_buf);
        const int fd = s_->pidfd.fd();
        if (fd >= 0) {
            const int r = green::wait_fd(fd, POLLIN, deadline);
            if (r < 0) s_->pidfd.reset();  // gone bad: poll from now on
        } else {
            green::sleep(std::min(interval, deadline.remaining()));
            interval = std::min<Duration>(interval * 2, milliseconds(50));
        }
    }
}

std::pair<std::string, std::string> Popen::communicate(std::string_view input, Deadline deadline) {
    State& s = *s_;
    if (!s.communicating) {
        if (!input.empty() && s.in < 0)
            throw std::invalid_argument(
                "green::Popen::communicate: input, but stdin is not a pipe");
        s.communicating = true;
        s.input.assign(input);
        if (s.input.empty()) close_stdin();
    }
    if (!detail::pump_pipes(s, deadline)) throw TimeoutExpired(s.args, s.out_buf, s.err_buf);
    wait(deadline);
    return {std::exchange(s.out_buf, {}), std::exchange(s.err_buf, {})};
}

void Popen::send_signal(int sig) {
    if (s_->returncode) return;
    if (s_->pidfd.fd() >= 0) {
        const int r = detail::pidfd_signal(s_->pidfd.fd(), sig);
        if (r == 0 || r == -ESRCH) return;  // ESRCH: exited, not yet reaped
        if (r != -ENOSYS) throw std::system_error(-r, std::system_category(), "pidfd_send_signal");
    }
    // The pid is still ours: we have not reaped it, so the kernel cannot reuse it.
    if (::kill(s_->pid, sig) < 0 && errno != ESRCH)
        throw std::system_error(errno, std::system_category(), "kill");
}

void Popen::terminate() {
    send_signal(SIGTERM);
}
void Popen::kill() {
    send_signal(SIGKILL);
}

}  // namespace green::subprocess
