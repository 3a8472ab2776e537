// Whether a range of a regular file is in the page cache: a kernel transfer from it (sendfile,
// splice) then does not wait for the disk and may run on the hub; otherwise the hooks run it on
// the offload pool. Internal to the hook library.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sync_table.hpp"

namespace green::hooks {

// Whether every page of fd's bytes [pos, pos + len) that lies before the end of the file is
// resident (mincore on a mapping of the range); pos -1 is the file position. false when it
// cannot tell: not a regular file, a range over 64 MiB, a mapping refused.
GREEN_HOOK_INTERNAL bool range_resident(int fd, std::int64_t pos, std::size_t len) noexcept;

}  // namespace green::hooks
