// popen() and pclose(): glibc's, with pclose's wait made cooperative. glibc's pclose waits for
// the shell inside libc, where no hook reaches, so while I/O is patched every popen is made here
// (exactly as glibc makes it: modes "r"/"w" with "e", a close-on-exec pipe, "/bin/sh -c", the
// streams of earlier popen calls closed in the child, the caller's signal mask; from a fiber the
// shell starts on the offload pool) and remembered, and its pclose closes the
// stream, then waits with the cooperative waitpid (cancellation disabled meanwhile, as glibc
// does) and returns the wait status; fclose of such a stream does the same, as in glibc. Streams
// this file did not open go to libc's pclose.
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sched.h>

#include <atomic>
#include <mutex>

#include "green/semaphore.hpp"

#include "hook_common.hpp"
#include "popen_streams.hpp"
#include "shell_child.hpp"
#include "spin_lock.hpp"

namespace green::hooks {

namespace {

// One open popen stream (glibc's proc_file_chain).
struct ProcFile {
    FILE* fp;
    int fd;
    pid_t pid;
    ProcFile* next;
};

SpinLock g_lock;  // the chain's
ProcFile* g_chain = nullptr;
std::atomic<int> g_open{0};  // entries in g_chain: fclose looks only while there are any

ProcFile* unlink_proc_file(FILE* fp) noexcept {
    std::lock_guard lk(g_lock);
    for (ProcFile** p = &g_chain; *p; p = &(*p)->next) {
        if ((*p)->fp != fp) continue;
        ProcFile* found = *p;
        *p = found->next;
        g_open.fetch_sub(1, std::memory_order_relaxed);
        return found;
    }
    return nullptr;
}

// The mode as glibc reads it: 'r' or 'w' (exactly one), any number of 'e', nothing else.
bool parse_mode(const char* mode, bool& read, bool& cloexec) noexcept {
    bool r = false, w = false;
    cloexec = false;
    for (; *mode; ++mode) {
        switch (*mode) {
            case 'r':
                r = true;
                break;
            case 'w':
                w = true;
                break;
            case 'e':
                cloexec = true;
                break;
            default:
                return false;
        }
    }
    read = r;
    return r != w;
}

// One popen start at a time, held from reading the chain until the new stream is in it and
// inheritable, as glibc holds its chain's lock across the spawn: a shell started meanwhile
// could otherwise inherit the new stream's descriptor and keep its pipe open. A fiber's turn is
// a green::Lock (the start parks it on the pool); a caller without a hub takes it by polling.
class SpawnTurn {
  public:
    SpawnTurn() {
        if (route(Need::Io)) {
            lock().acquire();
        } else {
            while (!lock().try_acquire()) ::sched_yield();
        }
    }
    SpawnTurn(const SpawnTurn&) = delete;
    SpawnTurn& operator=(const SpawnTurn&) = delete;
    ~SpawnTurn() { lock().release(); }

  private:
    static green::Lock& lock() {
        static green::Lock l;
        return l;
    }
};

// The spawn: every earlier stream's fd closed in the child, which starts with the caller's
// signal mask (glibc's child inherits it from the calling thread; the pool thread's differs).
int spawn_with_chain(posix_spawn_file_actions_t* fa, int child_fd, const char* command,
                     ReapOnUnwind& child) {
    {
        std::lock_guard lk(g_lock);
        for (ProcFile* p = g_chain; p; p = p->next)
            if (p->fd != child_fd) ::posix_spawn_file_actions_addclose(fa, p->fd);
    }
    sigset_t mask;
    ::pthread_sigmask(SIG_BLOCK, nullptr, &mask);
    posix_spawnattr_t attr;
    ::posix_spawnattr_init(&attr);
    ::posix_spawnattr_setsigmask(&attr, &mask);
    ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    const int e = start_shell(child.slot(), fa, &attr, command);
    ::posix_spawnattr_destroy(&attr);
    return e;
}

void add_to_chain(ProcFile* entry) noexcept {
    std::lock_guard lk(g_lock);
    entry->next = g_chain;
    g_chain = entry;
    g_open.fetch_add(1, std::memory_order_relaxed);
}

FILE* cooperative_popen(const char* command, const char* mode) {
    bool read = false, cloexec = false;
    if (!parse_mode(mode, read, cloexec)) {
        errno = EINVAL;
        return nullptr;
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) return nullptr;
    const int parent = read ? fds[0] : fds[1];
    int child = read ? fds[1] : fds[0];
    const int child_fd = read ? STDOUT_FILENO : STDIN_FILENO;
    auto fail = [&](int err) -> FILE* {
        ::close(child);
        ::close(parent);
        errno = err;
        return nullptr;
    };
    if (child == child_fd) {
        // Already the child's number: move it, or dup2 in the child could not clear its
        // close-on-exec flag without a window where the parent leaks it.
        const int moved = ::fcntl(child, F_DUPFD_CLOEXEC, 0);
        if (moved < 0) return fail(errno);
        ::close(child);
        child = moved;
    }
    FILE* fp = ::fdopen(parent, read ? "r" : "w");
    if (!fp) return fail(errno);
    int e;
    {
        posix_spawn_file_actions_t fa;
        ::posix_spawn_file_actions_init(&fa);
        e = ::posix_spawn_file_actions_adddup2(&fa, child, child_fd);
        SpawnTurn turn;
        ReapOnUnwind shell;  // a caller killed as the start completes: the shell is reaped,
        struct Cleanup {     // and the pipe and the stream are closed
            posix_spawn_file_actions_t& fa;
            int child;
            FILE* fp;
            ~Cleanup() {
                ::posix_spawn_file_actions_destroy(&fa);
                ::close(child);
                if (fp) ::fclose(fp);  // fclose, not close: the FILE goes too (it owns `parent`)
            }
        } cleanup{fa, child, fp};
        if (e == 0) e = spawn_with_chain(&fa, child_fd, command, shell);
        if (e == 0) {
            add_to_chain(new ProcFile{fp, parent, shell.pid(), nullptr});
            shell.dismiss();
            cleanup.fp = nullptr;
            if (!cloexec) ::fcntl(parent, F_SETFD, 0);  // undo pipe2's close-on-exec
        }
    }
    if (e != 0) {
        errno = e;
        return nullptr;
    }
    return fp;
}

int cooperative_pclose(ProcFile* entry) {
    const pid_t pid = entry->pid;
    const int flushed = ::fclose(entry->fp);
    delete entry;
    int state = 0, status = 0;
    pid_t r;
    // POSIX: the wait must not be cut short by cancellation; a handled signal restarts it.
    ::pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
    do {
        r = ::waitpid(pid, &status, 0);
    } while (r == -1 && errno == EINTR);
    ::pthread_setcancelstate(state, nullptr);
    if (r == -1) return -1;
    // glibc returns the close's result (the wait status) unless it is 0, then the flush's.
    return status != 0 ? status : (flushed == 0 ? 0 : -1);
}

}  // namespace

bool is_popen_stream(FILE* fp) noexcept {
    if (g_open.load(std::memory_order_relaxed) == 0) return false;
    std::lock_guard lk(g_lock);
    for (ProcFile* p = g_chain; p; p = p->next)
        if (p->fp == fp) return true;
    return false;
}

}  // namespace green::hooks

using namespace green::hooks;

extern "C" {

FILE* popen(const char* command, const char* mode) {
    if (!patched(Need::Io)) return GREEN_REAL(popen)(command, mode);
    return cooperative_popen(command, mode);
}

int pclose(FILE* fp) {
    if (ProcFile* entry = unlink_proc_file(fp)) return cooperative_pclose(entry);
    return GREEN_REAL(pclose)(fp);
}

}  // extern "C"
