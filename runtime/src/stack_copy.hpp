// Moving a compact fiber's stack between its hub's shared run stack and a heap image sized to
// fit (green/stack_mode.hpp), and the checked builds' pattern that shows whether a vacant run
// stack was written while its last fiber was switched out.
#pragma once

#include <cstddef>

#include "green/detail/fiber.hpp"

namespace green::detail {

// Copies [sp, top) into `img`, whose buffer grows, or shrinks when far too big, to fit.
void save_image(StackImage& img, const char* sp, const char* top) noexcept;
// Copies `img` back to the addresses it came from: [sp, sp + img.size).
void restore_image(const StackImage& img, char* sp) noexcept;
// Frees the buffer (a compact fiber is reaped).
void release_image(StackImage& img) noexcept;

// Checked builds: fills a vacated run stack [lo, hi) with the pattern; returns the first byte
// of [lo, hi) that no longer holds it (someone wrote there), or nullptr.
void fill_vacant(char* lo, const char* hi) noexcept;
const char* first_written(const char* lo, const char* hi) noexcept;

}  // namespace green::detail
