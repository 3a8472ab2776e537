// green::version(): runtime/CMakeLists.txt passes the project version to this file alone
// (GREEN_VERSION), so a new version recompiles one object.
#include "green/version.hpp"

namespace green {

const char* version() noexcept {
    return GREEN_VERSION;
}

}  // namespace green
