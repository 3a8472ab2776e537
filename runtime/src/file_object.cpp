// green::FileObject: buffered reads and writes over the runtime's one I/O primitive
// (io_call_parking with a readiness park), each attempt made only once a zero-timeout poll says
// it cannot block (when_ready_attempt), so the descriptor's blocking mode is never touched.
#include "green/file_object.hpp"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <system_error>
#include <utility>

#include "green/detail/greenlet_core.hpp"
#include "green/hub.hpp"
#include "io_call.hpp"
#include "scheduler.hpp"

namespace green {

namespace {

[[noreturn]] void throw_result(long r, const char* op) {
    if (r == -ETIME) detail::throw_timeout_expired();
    throw std::system_error(static_cast<int>(-r), std::system_category(), op);
}

// One call on fd once it is ready for `events` (EINTR retried, as SA_RESTART would), parking
// the fiber until then or the deadline.
template <class Call>
long when_ready(int fd, short events, const Deadline& deadline, Call call) {
    auto once = [&]() -> long {
        for (;;) {
            const long r = call();
            if (r != -EINTR) return r;
        }
    };
    detail::IoBackend& io = detail::Hub::get().io();
    return detail::io_call_parking([&] { return io.wait_fd(fd, events, deadline); },
                                   detail::when_ready_attempt(fd, events, once));
}

}  // namespace

FileObject::FileObject(int fd, bool owns, std::size_t bufsize)
    : fd_(fd), owns_(owns), bufsize_(std::max<std::size_t>(bufsize, 1)) {
    struct stat st;
    if (fd < 0 || ::fstat(fd, &st) != 0)
        throw std::system_error(fd < 0 ? EBADF : errno, std::system_category(), "FileObject");
    pipe_ = S_ISFIFO(st.st_mode);
    // A direction the descriptor was not opened for fails at once, as read(2)/write(2) would,
    // instead of waiting for a readiness that never comes (a pipe's write end is never POLLIN).
    const int mode = ::fcntl(fd, F_GETFL) & O_ACCMODE;
    can_read_ = mode != O_WRONLY;
    can_write_ = mode != O_RDONLY;
}

FileObject::FileObject(FileObject&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      owns_(o.owns_),
      pipe_(o.pipe_),
      can_read_(o.can_read_),
      can_write_(o.can_write_),
      bufsize_(o.bufsize_),
      rbuf_(std::move(o.rbuf_)),
      rpos_(std::exchange(o.rpos_, 0)),
      wbuf_(std::move(o.wbuf_)),
      wpos_(std::exchange(o.wpos_, 0)) {}

FileObject& FileObject::operator=(FileObject&& o) noexcept {
    if (this != &o) {
        this->~FileObject();
        new (this) FileObject(std::move(o));
    }
    return *this;
}

FileObject::~FileObject() {
    try {
        close();
    } catch (...) {
    }
}

void FileObject::check_open(const char* op, bool allowed) const {
    if (fd_ < 0 || !allowed) throw std::system_error(EBADF, std::system_category(), op);
}

// ---- reading --------------------------------------------------------------------------------

std::size_t FileObject::fill(const Deadline& deadline) {
    check_open("read", can_read_);
    if (rpos_ == rbuf_.size()) {
        rbuf_.clear();
        rpos_ = 0;
    } else if (rpos_ >= bufsize_) {  // keep the buffer from creeping forward
        rbuf_.erase(0, rpos_);
        rpos_ = 0;
    }
    const std::size_t old = rbuf_.size();
    rbuf_.resize(old + bufsize_);
    const long n = when_ready(fd_, POLLIN, deadline, [&] {
        return detail::sys_read(fd_, rbuf_.data() + old, bufsize_, -1);
    });
    rbuf_.resize(old + static_cast<std::size_t>(std::max(n, 0L)));
    if (n < 0) throw_result(n, "read");
    return static_cast<std::size_t>(n);
}

std::string FileObject::take(std::size_t n) {
    n = std::min(n, rbuf_.size() - rpos_);
    std::string out(rbuf_, rpos_, n);
    rpos_ += n;
    return out;
}

std::string FileObject::readline(std::size_t limit, Deadline deadline) {
    std::size_t scanned = 0;  // bytes after rpos_ known to hold no '\n'
    for (;;) {
        const std::size_t avail = rbuf_.size() - rpos_;
        const char* base = rbuf_.data() + rpos_;
        if (const void* nl = std::memchr(base + scanned, '\n', avail - scanned))
            return take(
                std::min(limit, static_cast<std::size_t>(static_cast<const char*>(nl) - base) + 1));
        if (avail >= limit) return take(limit);
        scanned = avail;
        if (fill(deadline) == 0) return take(limit);
    }
}

std::string FileObject::read(std::size_t n, Deadline deadline) {
    while (rbuf_.size() - rpos_ < n)
        if (fill(deadline) == 0) break;
    return take(n);
}

std::string FileObject::read_all(Deadline deadline) {
    while (fill(deadline) != 0) {
    }
    return take(npos);
}

std::string FileObject::read_some(std::size_t max, Deadline deadline) {
    if (rpos_ == rbuf_.size()) fill(deadline);
    return take(max);
}

// ---- writing --------------------------------------------------------------------------------

void FileObject::write(std::string_view data, Deadline deadline) {
    check_open("write", can_write_);
    wbuf_.append(data);
    if (wbuf_.size() - wpos_ >= bufsize_) flush(deadline);
}

void FileObject::writeall(std::string_view data, Deadline deadline) {
    write(data, deadline);
    flush(deadline);
}

void FileObject::flush(Deadline deadline) {
    if (wpos_ == wbuf_.size()) return;
    check_open("write", can_write_);
    while (wpos_ < wbuf_.size()) {
        // A pipe takes PIPE_BUF bytes without blocking once poll says it is writable.
        std::size_t piece = wbuf_.size() - wpos_;
        if (pipe_) piece = std::min<std::size_t>(piece, PIPE_BUF);
        const long n = when_ready(fd_, POLLOUT, deadline, [&] {
            return detail::sys_write(fd_, wbuf_.data() + wpos_, piece, -1);
        });
        if (n < 0) throw_result(n, "write");
        wpos_ += static_cast<std::size_t>(n);
    }
    wbuf_.clear();
    wpos_ = 0;
}

void FileObject::close() {
    if (fd_ < 0) return;
    std::exception_ptr failed;
    try {
        flush();
    } catch (...) {
        failed = std::current_exception();
    }
    const int fd = std::exchange(fd_, -1);
    wbuf_.clear();
    wpos_ = 0;
    if (owns_) {
        green::notify_close(fd);
        if (::close(fd) != 0 && !failed)
            failed =
                std::make_exception_ptr(std::system_error(errno, std::system_category(), "close"));
    }
    if (failed) std::rethrow_exception(failed);
}

}  // namespace green
