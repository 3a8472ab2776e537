// Files for tests: reading a whole file into a string (to compare what a program served or wrote
// with the file it came from), and a scratch file that no name leads to.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

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

}  // namespace green_test
