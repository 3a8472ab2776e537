// madvise over many scattered pages in one system call (process_madvise on this process), so
// that a chunk of 256 fiber stacks costs one call to guard and one to fault in, not 256 each:
// in a fresh process spawning 100k fibers those calls and page-fault traps are most of the time.
#pragma once

#include <cstddef>

namespace green::detail {

// Applies `advice` (MADV_GUARD_INSTALL, MADV_POPULATE_WRITE...) to the page at each of
// `pages[0 .. count)`, each `page_bytes` long. Returns false when the kernel cannot do it in one
// call (no process_madvise, or not with this advice); the caller then falls back to madvise per
// page. Async-signal-unsafe; never allocates.
bool advise_pages(char* const* pages, std::size_t count, std::size_t page_bytes,
                  int advice) noexcept;

}  // namespace green::detail
