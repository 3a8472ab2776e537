// Copying compact stacks in and out. The stack bytes carry ASan's shadow of frames that never
// returned (their redzones stay poisoned): the source is unpoisoned before it is read and the
// destination before it is written, so neither copy nor the next fiber's frames trip on it.
#include "stack_copy.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>

#include "sanitizer.hpp"

namespace green::detail {

namespace {
constexpr unsigned char kVacant = 0xa5;
// Images are rounded up to this, so a fiber parked at slightly different depths keeps its
// buffer, and one far smaller than its buffer gets a new one (the resident cost is the point).
constexpr std::uint32_t kGrain = 64;
}  // namespace

void save_image(StackImage& img, const char* sp, const char* top) noexcept {
    const auto size = static_cast<std::uint32_t>(top - sp);
    const std::uint32_t want = (size + kGrain - 1) / kGrain * kGrain;
    if (img.cap < want || img.cap > 2 * want + kGrain) {
        std::free(img.data);
        img.data = static_cast<char*>(std::malloc(want));
        if (!img.data) {
            std::fprintf(stderr, "green: out of memory for a compact fiber's stack image\n");
            std::abort();
        }
        img.cap = want;
    }
    asan::unpoison(sp, size);
    std::memcpy(img.data, sp, size);
    img.size = size;
}

void restore_image(const StackImage& img, char* sp) noexcept {
    std::memcpy(sp, img.data, img.size);
}

void release_image(StackImage& img) noexcept {
    std::free(img.data);
    img = StackImage{};
}

void fill_vacant(char* lo, const char* hi) noexcept {
    std::memset(lo, kVacant, static_cast<std::size_t>(hi - lo));
}

const char* first_written(const char* lo, const char* hi) noexcept {
    for (const char* p = lo; p < hi; ++p)
        if (static_cast<unsigned char>(*p) != kVacant) return p;
    return nullptr;
}

}  // namespace green::detail
