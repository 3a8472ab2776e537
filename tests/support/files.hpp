// Reading a whole file into a string, for tests that compare what a program served or wrote
// with the file it came from.
#pragma once

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

}  // namespace green_test
