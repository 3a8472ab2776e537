// green's version: the one given in the top CMakeLists.txt (project(VERSION)), as compiled into
// the library in use. Packages, the CMake package and pkg-config carry the same number.
#pragma once

namespace green {

// "MAJOR.MINOR.PATCH" of the linked library (e.g. "0.2.0"); a static string.
const char* version() noexcept;

}  // namespace green
