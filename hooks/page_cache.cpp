// range_resident (page_cache.hpp): mincore over a read-only shared mapping of the range, which
// is never touched, so mapping it reads nothing and unmapping it costs no TLB shootdown.
#include "page_cache.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace green::hooks {

namespace {

// Beyond this a range is not checked (the mapping and the page walk grow with it).
constexpr std::size_t kMaxChecked = std::size_t{64} << 20;

}  // namespace

bool range_resident(int fd, std::int64_t pos, std::size_t len) noexcept {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return false;
    if (pos < 0) pos = ::lseek(fd, 0, SEEK_CUR);
    if (pos < 0) return false;
    if (pos >= st.st_size || len == 0) return true;  // nothing to read: the call returns at once
    len = static_cast<std::size_t>(
        std::min<std::int64_t>(static_cast<std::int64_t>(len), st.st_size - pos));
    if (len > kMaxChecked) return false;
    const auto page = static_cast<std::int64_t>(::sysconf(_SC_PAGESIZE));
    const std::int64_t start = pos / page * page;
    const auto span = static_cast<std::size_t>(pos + static_cast<std::int64_t>(len) - start);
    void* m = ::mmap(nullptr, span, PROT_READ, MAP_SHARED, fd, start);
    if (m == MAP_FAILED) return false;
    bool resident = true;
    unsigned char vec[256];
    const std::size_t step = sizeof vec * static_cast<std::size_t>(page);
    for (std::size_t at = 0; resident && at < span; at += step) {
        const std::size_t n = std::min(step, span - at);
        if (::mincore(static_cast<char*>(m) + at, n, vec) != 0) {
            resident = false;
            break;
        }
        const std::size_t pages = (n + static_cast<std::size_t>(page) - 1) / page;
        resident = std::all_of(vec, vec + pages, [](unsigned char v) { return (v & 1) != 0; });
    }
    ::munmap(m, span);
    return resident;
}

}  // namespace green::hooks
