// An allocator that takes its memory straight from mmap, for the hub structures that grow while
// a fiber parks (the timer heap). Under the preload a program's own malloc may take a pthread
// mutex that a fiber then waits on with a deadline: had arming that deadline grown a vector
// through malloc, the wait would have re-entered the allocator it waits in, without end.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <new>

namespace green::detail {

template <class T>
class MappedAllocator {
  public:
    using value_type = T;
    MappedAllocator() noexcept = default;
    template <class U>
    MappedAllocator(const MappedAllocator<U>&) noexcept {}

    T* allocate(std::size_t n) {
        void* p =
            ::mmap(nullptr, bytes(n), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        return static_cast<T*>(p);
    }
    void deallocate(T* p, std::size_t n) noexcept { ::munmap(p, bytes(n)); }

    template <class U>
    bool operator==(const MappedAllocator<U>&) const noexcept {
        return true;
    }

  private:
    static std::size_t bytes(std::size_t n) noexcept {
        const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
        return (n * sizeof(T) + page - 1) / page * page;
    }
};

}  // namespace green::detail
