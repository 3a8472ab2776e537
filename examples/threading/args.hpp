// Tiny command-line helper shared by the threading lessons: "--name value" integer options,
// used to shorten the seed's delays when the tests run the lessons.
#pragma once

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

inline long option(int argc, char** argv, const char* name, long fallback) {
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], name) == 0) {
            char* end = nullptr;
            long v = std::strtol(argv[i + 1], &end, 10);
            if (!end || *end || v < 0)
                throw std::invalid_argument(std::string(name) + " wants a number >= 0");
            return v;
        }
    return fallback;
}

inline bool flag(int argc, char** argv, const char* name) {
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], name) == 0) return true;
    return false;
}
