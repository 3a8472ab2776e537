// green::FileObject, gevent.fileobject's counterpart: buffered line and block reads and writes
// on any descriptor (pipe, FIFO, socket, terminal, regular file) that park only the calling
// fiber, without a thread and without changing the descriptor's O_NONBLOCK flag.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "green/clock.hpp"

namespace green {

// Reads and writes wait for readiness first (POLLIN/POLLOUT through the hub), then make one
// call that cannot block, so a descriptor shared with another process keeps its flags. A
// regular file is always "ready": its reads and writes are plain calls.
// Errors throw std::system_error ("read: Bad file descriptor"); a deadline that passes throws
// green::Timeout and loses nothing: bytes already read stay buffered for the next read, bytes not
// yet written stay buffered for the next write or flush. One object per descriptor; one fiber at
// a time (like a Python file object, it has no lock).
class FileObject {
  public:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    // `owns`: close() and the destructor close fd (gevent's close=True). `bufsize`: the most one
    // read asks for, and how much write() buffers before it writes.
    explicit FileObject(int fd, bool owns = true, std::size_t bufsize = 65536);
    FileObject(FileObject&& other) noexcept;
    FileObject& operator=(FileObject&& other) noexcept;
    FileObject(const FileObject&) = delete;
    FileObject& operator=(const FileObject&) = delete;
    // Flushes what is buffered and closes an owned fd; a failure here cannot be reported (call
    // close() to see it).
    ~FileObject();

    int fileno() const noexcept { return fd_; }
    bool closed() const noexcept { return fd_ < 0; }

    // One line with its '\n', at most `limit` bytes; what is left at the end of the stream
    // (without '\n'); "" at the end of the stream.
    std::string readline(std::size_t limit = npos, Deadline deadline = {});
    // n bytes; fewer only at the end of the stream.
    std::string read(std::size_t n, Deadline deadline = {});
    // Everything up to the end of the stream.
    std::string read_all(Deadline deadline = {});
    // What one read returns (at most `max` bytes; the buffered bytes first); "" at the end.
    std::string read_some(std::size_t max = 65536, Deadline deadline = {});

    // Buffers data, writing when the buffer fills (then waiting for the descriptor as needed).
    void write(std::string_view data, Deadline deadline = {});
    // write() then flush(): everything has reached the descriptor when it returns.
    void writeall(std::string_view data, Deadline deadline = {});
    // Writes what is buffered.
    void flush(Deadline deadline = {});
    // Flushes, then closes an owned fd (errors of both are thrown; the object is closed
    // either way). Closing twice does nothing.
    void close();

  private:
    std::size_t fill(const Deadline& deadline);  // one read into the buffer; 0 at the end
    std::string take(std::size_t n);
    void check_open(const char* op, bool allowed) const;

    int fd_ = -1;
    bool owns_ = false;
    bool pipe_ = false;     // a pipe or FIFO: writes go in PIPE_BUF pieces, which cannot block
    bool can_read_ = true;  // opened for reading (O_ACCMODE)
    bool can_write_ = true;
    std::size_t bufsize_ = 65536;
    std::string rbuf_;
    std::size_t rpos_ = 0;
    std::string wbuf_;
    std::size_t wpos_ = 0;
};

}  // namespace green
