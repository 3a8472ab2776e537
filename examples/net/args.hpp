// Command-line helpers shared by the network examples: "[host] [port]" with defaults, and a
// stdout that reaches a pipe line by line (the tests read it as the program runs).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <green/green.hpp>

namespace example {

inline void line_buffered_stdout() {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
}

// argv[first] is the host (default 127.0.0.1), argv[first + 1] the port.
inline green::Address address_arg(int argc, char** argv, int first, std::uint16_t default_port) {
    const std::string host = argc > first ? argv[first] : "127.0.0.1";
    long port = default_port;
    if (argc > first + 1) {
        char* end = nullptr;
        port = std::strtol(argv[first + 1], &end, 10);
        if (!end || *end || port < 0 || port > 65535)
            throw std::invalid_argument(std::string("bad port: ") + argv[first + 1]);
    }
    return green::Address(host, static_cast<std::uint16_t>(port));
}

inline long number_arg(int argc, char** argv, int index, long fallback) {
    return argc > index ? std::strtol(argv[index], nullptr, 10) : fallback;
}

}  // namespace example
