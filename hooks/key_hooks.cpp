// pthread keys as fiber-local storage: a fiber thread keeps its own values, other callers (the
// main stack, real threads) keep libc's. Keys themselves come from libc, so a key number is
// valid everywhere; destructors run when a fiber thread ends, as libc runs them for a thread.
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>

#include <atomic>
#include <cstring>

#include "fiber_thread.hpp"
#include "real_symbols.hpp"

namespace green::hooks::threads {

namespace {

// Per key: generation (odd while the key exists, as in glibc), destructor, and whether the key
// belongs to a sanitizer runtime, which tracks OS threads and must keep libc's per-thread value.
struct KeyInfo {
    std::atomic<unsigned> seq{0};
    std::atomic<void (*)(void*)> dtor{nullptr};
    std::atomic<bool> os_thread_only{false};
};
KeyInfo g_keys[PTHREAD_KEYS_MAX];

bool key_live(pthread_key_t k, unsigned* seq) noexcept {
    if (k >= PTHREAD_KEYS_MAX) return false;
    *seq = g_keys[k].seq.load(std::memory_order_acquire);
    return (*seq & 1) != 0;
}

bool os_thread_only(pthread_key_t k) noexcept {
    return k < PTHREAD_KEYS_MAX && g_keys[k].os_thread_only.load(std::memory_order_relaxed);
}

bool from_sanitizer(const void* caller) noexcept {
    Dl_info info;
    return ::dladdr(caller, &info) && info.dli_fname && std::strstr(info.dli_fname, "san.so");
}

}  // namespace

void run_key_destructors(ThreadCore& t) noexcept {
    for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS; ++round) {
        bool ran = false;
        for (pthread_key_t k = 0; k < t.specific.size(); ++k) {
            auto& slot = t.specific[k];
            unsigned seq;
            if (!slot.value || !key_live(k, &seq) || slot.seq != seq) continue;
            auto dtor = g_keys[k].dtor.load(std::memory_order_acquire);
            void* v = slot.value;
            slot.value = nullptr;
            if (dtor) {
                dtor(v);
                ran = true;
            }
        }
        if (!ran) break;
    }
    t.specific.clear();
}

}  // namespace green::hooks::threads

using green::hooks::threads::g_keys;
using green::hooks::threads::ThreadCore;

extern "C" {

int pthread_key_create(pthread_key_t* key, void (*dtor)(void*)) noexcept {
    const int rc = GREEN_REAL(pthread_key_create)(key, dtor);
    if (rc == 0 && *key < PTHREAD_KEYS_MAX) {
        g_keys[*key].dtor.store(dtor, std::memory_order_relaxed);
        g_keys[*key].os_thread_only.store(
            green::hooks::threads::from_sanitizer(__builtin_return_address(0)),
            std::memory_order_relaxed);
        g_keys[*key].seq.fetch_add(1, std::memory_order_release);  // now odd: live
    }
    return rc;
}

int pthread_key_delete(pthread_key_t key) noexcept {
    const int rc = GREEN_REAL(pthread_key_delete)(key);
    if (rc == 0 && key < PTHREAD_KEYS_MAX) {
        g_keys[key].seq.fetch_add(1, std::memory_order_release);  // even: gone; values stale
    }
    return rc;
}

void* pthread_getspecific(pthread_key_t key) noexcept {
    ThreadCore* t = ThreadCore::current();
    if (!t || green::hooks::threads::os_thread_only(key))
        return GREEN_REAL(pthread_getspecific)(key);
    unsigned seq;
    if (key >= t->specific.size() || !green::hooks::threads::key_live(key, &seq)) return nullptr;
    const auto& slot = t->specific[key];
    return slot.seq == seq ? slot.value : nullptr;
}

int pthread_setspecific(pthread_key_t key, const void* value) noexcept {
    ThreadCore* t = ThreadCore::current();
    if (!t || green::hooks::threads::os_thread_only(key))
        return GREEN_REAL(pthread_setspecific)(key, value);
    unsigned seq;
    if (!green::hooks::threads::key_live(key, &seq)) return EINVAL;
    if (!t->specific.reserve(key)) return ENOMEM;
    t->specific[key] = {seq, const_cast<void*>(value)};
    return 0;
}

}  // extern "C"
