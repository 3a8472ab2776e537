// Files for tests: reading a whole file into a string (to compare what a program served or wrote
// with the file it came from), a scratch file that no name leads to, and which of a file's
// pages are in the page cache.
#pragma once

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace green_test {

// The file's bytes; empty if it cannot be read.
inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// A descriptor on a fresh file under /tmp, unlinked at once so that it goes away with the
// descriptor; -1 if it could not be made.
inline int unlinked_temp_file() {
    char path[] = "/tmp/green_test.XXXXXX";
    const int fd = ::mkstemp(path);
    if (fd >= 0) ::unlink(path);
    return fd;
}

// How many of the first `size` bytes' pages of fd are in the page cache (mincore of a mapping).
inline std::size_t resident_pages(int fd, std::size_t size) {
    void* m = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) return 0;
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> in((size + page - 1) / page);
    std::size_t n = 0;
    if (::mincore(m, size, in.data()) == 0)
        for (unsigned char c : in) n += c & 1;
    ::munmap(m, size);
    return n;
}

}  // namespace green_test
