// How deep a fiber's stack has been written, measured from the stack itself when the run info
// asks (nothing is recorded while fibers run), and the cleaning of free pooled stacks that makes
// that figure the fiber's own.
#pragma once

#include <cstddef>
#include <vector>

#include "green/detail/fiber.hpp"

namespace green::detail {

// A stack is zero wherever nothing has written it yet (fresh anonymous memory), so the lowest
// non-zero word below a fiber's first frame marks the deepest its stack has been used so far.
// That is this fiber's own figure when its stack was all zero when it got it (StackSlot::zeroed:
// a freshly carved stack, or a free one that clean_free() zeroed); otherwise earlier fibers'
// leftovers on the same pooled stack count too and the figure is only an upper bound.
// Only the pages that may hold data are read: /proc/self/pagemap says which pages are present or
// swapped out (the rest are zero), so measuring a shallow fiber reads a page or two, and pages
// never touched are not faulted in. Without /proc, mincore (swapped-out pages count as zero).
class StackUseMeter {
  public:
    StackUseMeter() noexcept;
    ~StackUseMeter();
    StackUseMeter(const StackUseMeter&) = delete;
    StackUseMeter& operator=(const StackUseMeter&) = delete;

    // Bytes from `top` (where the fiber's first frame went) down to the lowest non-zero word
    // of `s`; 0 when it has none.
    std::size_t deepest(const StackSlot& s, const char* top);
    // Zeroes every written word of `s` (a free stack: nothing runs on it), touching only the
    // pages that hold data.
    void zero(const StackSlot& s);

  private:
    // Fills pages_ with whether each page of `s` may hold data; false when it cannot tell.
    bool map_pages(const StackSlot& s);

    int pagemap_fd_ = -1;
    std::vector<unsigned char> pages_;
    std::vector<unsigned long long> entries_;
};

}  // namespace green::detail
