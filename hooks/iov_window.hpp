// An iovec array viewed from a byte offset, at most a given number of bytes long: what a hook
// that moved part of a vector passes on for the rest (stream sends, pipes, file transfers).
#pragma once

#include <sys/uio.h>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace green::hooks {

class IovWindow {
  public:
    IovWindow(const iovec* iov, int n, std::size_t offset, std::size_t limit) {
        for (int i = 0; i < n && limit > 0; ++i) {
            std::size_t len = iov[i].iov_len;
            char* base = static_cast<char*>(iov[i].iov_base);
            if (offset >= len) {
                offset -= len;
                continue;
            }
            base += offset;
            len -= offset;
            offset = 0;
            len = std::min(len, limit);
            limit -= len;
            v_.push_back(iovec{base, len});
        }
    }
    iovec* data() noexcept { return v_.data(); }
    int size() const noexcept { return static_cast<int>(v_.size()); }

  private:
    std::vector<iovec> v_;
};

inline std::size_t iov_total(const iovec* iov, int n) noexcept {
    std::size_t t = 0;
    for (int i = 0; i < n; ++i) t += iov[i].iov_len;
    return t;
}

}  // namespace green::hooks
