// spawn_child: posix_spawn(p) with file actions for the child's stdin/stdout/stderr, its cwd and
// close_fds, and a clean signal state (nothing blocked, SIGPIPE and SIGXFSZ at their default,
// as Python's restore_signals): a hub thread may block signals for its own signalfd, and a child
// that inherited that could not be terminated. glibc's posix_spawn runs the child in a
// CLONE_VFORK clone that reports a failed exec back as the return value.
#include "child_spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "green/hub.hpp"
#include "pidfd.hpp"

extern char** environ;

namespace green::detail {

namespace {

using subprocess::Redirect;

// A descriptor closed when it goes out of scope (close_pipe_end).
struct Fd {
    int fd = -1;
    Fd() = default;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { close_pipe_end(fd); }
    int release() noexcept { return std::exchange(fd, -1); }
};

[[noreturn]] void throw_errno(int err, const std::string& what) {
    throw std::system_error(err, std::system_category(), what);
}

// Moves `fd` above the standard streams: with the parent's 0, 1 or 2 closed, a pipe end could
// be numbered 0..2 and be overwritten by another stream's dup2 in the child.
void lift_above_stdio(int& fd) {
    if (fd > 2) return;
    const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (moved < 0) throw_errno(errno, "green::Popen: fcntl");
    ::close(fd);
    fd = moved;
}

// One piped stream: the parent's end (non-blocking, so reading never blocks the hub) and the
// child's (blocking, as a program expects its stdio).
void make_pipe(Fd& parent, Fd& child, bool child_reads) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) throw_errno(errno, "green::Popen: pipe2");
    (child_reads ? child : parent).fd = p[0];
    (child_reads ? parent : child).fd = p[1];
    lift_above_stdio(parent.fd);
    lift_above_stdio(child.fd);
    const int flags = ::fcntl(parent.fd, F_GETFL);
    if (flags < 0 || ::fcntl(parent.fd, F_SETFL, flags | O_NONBLOCK) < 0)
        throw_errno(errno, "green::Popen: fcntl");
}

// posix_spawn's attribute and file-action objects, destroyed however the start ends.
class SpawnPlan {
  public:
    SpawnPlan() {
        if (int e = ::posix_spawn_file_actions_init(&actions_)) throw_errno(e, "posix_spawn");
        if (int e = ::posix_spawnattr_init(&attr_)) {
            ::posix_spawn_file_actions_destroy(&actions_);
            throw_errno(e, "posix_spawn");
        }
    }
    SpawnPlan(const SpawnPlan&) = delete;
    SpawnPlan& operator=(const SpawnPlan&) = delete;
    ~SpawnPlan() {
        ::posix_spawnattr_destroy(&attr_);
        ::posix_spawn_file_actions_destroy(&actions_);
    }
    void check(int e) const {
        if (e) throw_errno(e, "green::Popen: posix_spawn setup");
    }
    posix_spawn_file_actions_t* actions() noexcept { return &actions_; }
    posix_spawnattr_t* attr() noexcept { return &attr_; }

  private:
    posix_spawn_file_actions_t actions_;
    posix_spawnattr_t attr_;
};

// Plans where the child's stream `target` (0, 1, 2) comes from; makes the pipe if asked.
void plan_stream(SpawnPlan& plan, Redirect how, int target, Fd& parent, Fd& child) {
    switch (how) {
        case Redirect::Inherit:
            return;
        case Redirect::Pipe:
            make_pipe(parent, child, target == STDIN_FILENO);
            plan.check(::posix_spawn_file_actions_adddup2(plan.actions(), child.fd, target));
            return;
        case Redirect::DevNull:
            plan.check(::posix_spawn_file_actions_addopen(
                plan.actions(), target, "/dev/null", target == STDIN_FILENO ? O_RDONLY : O_WRONLY,
                0));
            return;
        case Redirect::Stdout:
            if (target != STDERR_FILENO)
                throw std::invalid_argument("green::Popen: STDOUT is for stderr only");
            plan.check(::posix_spawn_file_actions_adddup2(plan.actions(), STDOUT_FILENO, target));
            return;
    }
}

std::vector<char*> c_strings(const std::vector<std::string>& v) {
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

}  // namespace

void close_pipe_end(int& fd) noexcept {
    if (fd < 0) return;
    const int f = std::exchange(fd, -1);
    green::notify_close(f);
    ::close(f);
}

SpawnedChild spawn_child(const std::vector<std::string>& args, const subprocess::Options& opts) {
    if (args.empty()) throw std::invalid_argument("green::Popen: empty argument list");
    SpawnPlan plan;
    Fd parent[3], child[3];
    plan_stream(plan, opts.in, STDIN_FILENO, parent[0], child[0]);
    plan_stream(plan, opts.out, STDOUT_FILENO, parent[1], child[1]);
    plan_stream(plan, opts.err, STDERR_FILENO, parent[2], child[2]);
    if (!opts.cwd.empty())
        plan.check(::posix_spawn_file_actions_addchdir_np(plan.actions(), opts.cwd.c_str()));
    if (opts.close_fds) plan.check(::posix_spawn_file_actions_addclosefrom_np(plan.actions(), 3));

    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGXFSZ);
    plan.check(::posix_spawnattr_setsigmask(plan.attr(), &none));
    plan.check(::posix_spawnattr_setsigdefault(plan.attr(), &defaults));
    plan.check(
        ::posix_spawnattr_setflags(plan.attr(), POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));

    std::vector<char*> argv = c_strings(args);
    std::vector<char*> envp;
    if (opts.env) envp = c_strings(*opts.env);
    char* const* env = opts.env ? envp.data() : environ;
    pid_t pid = -1;
    const bool search = args[0].find('/') == std::string::npos;
    const int e = search
                      ? ::posix_spawnp(&pid, argv[0], plan.actions(), plan.attr(), argv.data(), env)
                      : ::posix_spawn(&pid, argv[0], plan.actions(), plan.attr(), argv.data(), env);
    if (e) {
        std::string what = "green::Popen: cannot run '" + args[0] + "'";
        if (!opts.cwd.empty()) what += " in '" + opts.cwd + "'";
        throw_errno(e, what);
    }
    SpawnedChild c;
    c.pid = pid;
    c.in = parent[0].release();
    c.out = parent[1].release();
    c.err = parent[2].release();
    return c;
}

SpawnedChild& SpawnedChild::operator=(SpawnedChild&& o) noexcept {
    if (this != &o) {
        drop();
        pid = o.pid;
        in = o.in;
        out = o.out;
        err = o.err;
        o.release();
    }
    return *this;
}

void SpawnedChild::drop() noexcept {
    close_pipe_end(in);
    close_pipe_end(out);
    close_pipe_end(err);
    if (pid <= 0) return;
    kill_and_reap(std::exchange(pid, -1));
}

}  // namespace green::detail
