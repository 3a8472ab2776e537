// flockfile, ftrylockfile and funlockfile per fiber (stdio_lock.hpp): fibers of one hub
// exclude each other on a FILE the way threads do natively, including across a cooperative
// stdio call that parks while holding it.
#include "stdio_lock.hpp"

namespace green::hooks::stdio {

namespace {

using sync::Entry;
using sync::FiberCtx;
using sync::Table;

// glibc's lock of f, taken by this OS thread (recursively, over every fiber): when another OS
// thread holds it, look again on the growing interval instead of blocking the hub.
void real_lock(FiberCtx c, FILE* f) noexcept {
    auto trylock = GREEN_REAL(ftrylockfile);
    if (!trylock) return;
    sync::Backoff backoff;
    sync::Masked mask(c);
    while (trylock(f) != 0)
        mask.guard([&] {
            green::sleep(backoff.next(Deadline::never()).remaining());
            return true;
        });
}

void real_unlock(FILE* f) noexcept {
    if (auto unlock = GREEN_REAL(funlockfile)) unlock(f);
}

}  // namespace

bool lock_in_use(const FILE* f) noexcept {
    Table* t = sync::table_if_any();
    return t && t->find(f);
}

void lock(FiberCtx c, FILE* f) noexcept {
    Table& t = sync::table();
    {
        sync::Pin e(t, f);
        if (e->owner != c.self) {
            sync::Masked mask(c);
            while (e->owner)
                if (mask.wait(e->queue, Deadline::never()) == sync::Wake::Deadlock)
                    sync::await_outside(c, "flockfile");
            e->owner = c.self;
        }
        ++e->count;
    }
    real_lock(c, f);
}

bool try_lock(FiberCtx c, FILE* f) noexcept {
    Table& t = sync::table();
    sync::Pin e(t, f);
    if (e->owner && e->owner != c.self) return false;
    auto trylock = GREEN_REAL(ftrylockfile);
    if (trylock && trylock(f) != 0) return false;
    e->owner = c.self;
    ++e->count;
    return true;
}

void unlock(FiberCtx c, FILE* f) noexcept {
    real_unlock(f);
    Table& t = sync::table();
    Entry* e = t.find(f);
    if (!e || e->owner != c.self) return;  // locked before this thread had a hub: libc's alone
    if (--e->count != 0) return;
    e->owner = nullptr;
    e->queue.notify_one();
    t.release(f, *e);
}

}  // namespace green::hooks::stdio

using namespace green::hooks;

extern "C" {

void flockfile(FILE* f) noexcept {
    if (rt::Hub* h = route(Need::Io)) return stdio::lock({h, rt::current(*h)}, f);
    if (auto real = GREEN_REAL(flockfile)) real(f);
}

int ftrylockfile(FILE* f) noexcept {
    if (rt::Hub* h = route(Need::Io)) return stdio::try_lock({h, rt::current(*h)}, f) ? 0 : 1;
    auto real = GREEN_REAL(ftrylockfile);
    return real ? real(f) : 0;
}

void funlockfile(FILE* f) noexcept {
    if (rt::Hub* h = route(Need::Io)) return stdio::unlock({h, rt::current(*h)}, f);
    if (auto real = GREEN_REAL(funlockfile)) real(f);
}

}  // extern "C"
