// gevent.local in C++: green::local<T> holds one T per fiber. A fiber's value is made on its
// first access and destroyed when that greenlet finishes (the main fiber's at thread exit).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

namespace green {

namespace detail {
using LocalDestroy = void (*)(void*) noexcept;
std::uint64_t new_local_key() noexcept;
// The calling fiber's value for `key`, or null. Throws std::logic_error in a fiber that has no
// fiber-local storage (a raw greenlet, or a greenlet that already finished).
void* local_find(std::uint64_t key);
// Stores `value` for the calling fiber (takes ownership) and returns it.
void* local_store(std::uint64_t key, void* value, LocalDestroy destroy);
// Destroys the calling fiber's value for `key`, if any.
void local_erase(std::uint64_t key) noexcept;
// The local object is gone: destroys its values held by fibers of this thread.
void local_forget(std::uint64_t key) noexcept;
}  // namespace detail

// Usage: green::local<Request> req;  ...  req->user = "bob";   (each greenlet sees its own)
// Works in greenlets and in the main fiber of any thread; values must not block in their
// destructors (they run while the greenlet finishes).
template <class T>
class local {
  public:
    local() : make_([] { return T{}; }) {}
    // `make` builds each fiber's first value.
    explicit local(std::function<T()> make) : make_(std::move(make)) {}
    local(const local&) = delete;
    local& operator=(const local&) = delete;
    ~local() { detail::local_forget(key_); }

    T& get() {
        if (void* p = detail::local_find(key_)) return *static_cast<T*>(p);
        auto value = std::make_unique<T>(make_());
        void* p = detail::local_store(key_, value.get(), &destroy);
        value.release();
        return *static_cast<T*>(p);
    }
    T& operator*() { return get(); }
    T* operator->() { return &get(); }
    // Whether the calling fiber has made its value yet.
    bool has_value() { return detail::local_find(key_) != nullptr; }
    // Destroys the calling fiber's value; the next access makes a new one.
    void reset() noexcept { detail::local_erase(key_); }

  private:
    static void destroy(void* p) noexcept { delete static_cast<T*>(p); }

    std::uint64_t key_ = detail::new_local_key();
    std::function<T()> make_;
};

}  // namespace green
