// LineReader: buffered reads over a Socket (or a TlsSocket) for line-based protocols (HTTP headers,
// chat).
#include <algorithm>
#include <cstring>

#include "green/socket.hpp"

namespace green {

bool LineReader::fill() {
    if (pos_ > 0 && pos_ == buf_.size()) {
        buf_.clear();
        pos_ = 0;
    } else if (pos_ > chunk_) {  // keep the buffer from creeping forward forever
        buf_.erase(0, pos_);
        pos_ = 0;
    }
    const std::size_t old = buf_.size();
    buf_.resize(old + chunk_);
    std::size_t n = 0;
    try {
        n = recv_(stream_, buf_.data() + old, chunk_);
    } catch (...) {
        buf_.resize(old);
        throw;
    }
    buf_.resize(old + n);
    return n > 0;
}

std::string LineReader::readline(std::size_t limit) {
    std::size_t scanned = pos_;
    for (;;) {
        const std::size_t avail = buf_.size() - pos_;
        const char* base = buf_.data();
        const void* nl = std::memchr(base + scanned, '\n', buf_.size() - scanned);
        std::size_t take = 0;
        if (nl) {
            take = static_cast<std::size_t>(static_cast<const char*>(nl) - (base + pos_)) + 1;
        } else if (avail >= limit) {
            take = limit;
        }
        if (take) {
            take = std::min(take, limit);
            std::string line(buf_, pos_, take);
            pos_ += take;
            return line;
        }
        scanned = buf_.size();
        const std::size_t offset = scanned - pos_;
        if (!fill()) {  // end of stream: whatever is left, maybe ""
            std::string rest(buf_, pos_, std::min(avail, limit));
            pos_ += rest.size();
            return rest;
        }
        scanned = pos_ + offset;  // fill() may have moved the data to the front
    }
}

std::string LineReader::read(std::size_t n) {
    while (buffered() < n) {
        if (!fill()) break;
    }
    const std::size_t take = std::min(n, buffered());
    std::string out(buf_, pos_, take);
    pos_ += take;
    return out;
}

}  // namespace green
