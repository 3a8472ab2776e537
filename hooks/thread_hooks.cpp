// pthread_create as fiber creation (gevent's patch of `threading`): threads become greenlets of
// the creating thread's hub, with join/detach/exit/self and the pthread_t-taking calls programs
// commonly make answered for them. Calls naming a real thread (an even pthread_t) go to libc.
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "cancel_point.hpp"
#include "fiber_thread.hpp"
#include "hook_interface.hpp"
#include "hub_set.hpp"
#include "spin_lock.hpp"
#include "sync_table.hpp"

// glibc declares these for C only (C++ gets a destructor-based pthread_cleanup_push).
extern "C" {
void __pthread_register_cancel(__pthread_unwind_buf_t* buf);
void __pthread_unregister_cancel(__pthread_unwind_buf_t* buf);
[[noreturn]] void __pthread_unwind_next(__pthread_unwind_buf_t* buf);
}

namespace green::hooks::threads {

namespace sync = green::hooks::sync;

namespace {

bool is_fiber_id(pthread_t t) noexcept {
    return (t & 1) != 0;
}

// ---- registry: pthread_t -> fiber thread, each entry holding a reference ----------------
SpinLock g_lock;
std::unordered_map<pthread_t, ThreadCore*>* g_threads;  // created on first use, never freed
std::atomic<std::uint64_t> g_next_id{1};

void registry_add(ThreadCore* t) {
    std::lock_guard lk(g_lock);
    if (!g_threads) g_threads = new std::unordered_map<pthread_t, ThreadCore*>();
    g_threads->emplace(t->id, t);
    t->add_ref();
}

// A new reference to the fiber thread `id`, or an empty handle.
GreenletHandle registry_find(pthread_t id) noexcept {
    std::lock_guard lk(g_lock);
    if (!g_threads) return {};
    auto it = g_threads->find(id);
    return it == g_threads->end() ? GreenletHandle() : GreenletHandle(it->second);
}

void registry_remove(ThreadCore* t) noexcept {
    {
        std::lock_guard lk(g_lock);
        if (!g_threads || !g_threads->erase(t->id)) return;
    }
    t->release();
}

ThreadCore* thread_of(const GreenletHandle& h) noexcept {
    return static_cast<ThreadCore*>(rt::core_ptr_of(h));
}

bool is_main_thread() noexcept {
    return ::gettid() == ::getpid();
}

std::size_t libc_default_stack() noexcept {
    static const std::size_t size = [] {
        pthread_attr_t a;
        std::size_t s = 0;
        if (pthread_attr_init(&a) == 0) {
            pthread_attr_getstacksize(&a, &s);
            pthread_attr_destroy(&a);
        }
        return s ? s : std::size_t{8} << 20;
    }();
    return size;
}

// A size the program asked for is honoured. Otherwise GREEN_STACK_SIZE (greenrun
// --stack-size) if set, else libc's own default (RLIMIT_STACK, usually 8 MiB): interpreters and
// deep recursion need what a real thread would have, and stack pages are only reserved.
std::size_t stack_size_for(const pthread_attr_t* attr, rt::Hub& hub) noexcept {
    std::size_t want = 0;
    if (attr && pthread_attr_getstacksize(attr, &want) == 0 && want != libc_default_stack())
        return want;
    if (rt::config().stack_size_set) return rt::default_stack_size(hub);
    return libc_default_stack();
}

// ---- exit and C cleanup handlers -------------------------------------------------------
// pthread_exit unwinds the fiber. C handlers (pthread_cleanup_push in C code) live in frames
// that a C++ exception passes without stopping, so, as glibc does, a forced unwind runs the
// C++ cleanups up to the innermost handler's frame and longjmps into it; the handler then calls
// __pthread_unwind_next, which continues with the next one, or throws ThreadExit at the end.
_Unwind_Reason_Code stop_at_handler(int, _Unwind_Action actions, _Unwind_Exception_Class,
                                    _Unwind_Exception*, _Unwind_Context* ctx, void* param) {
    auto* target = static_cast<__pthread_unwind_buf_t*>(param);
    if ((actions & _UA_END_OF_STACK) ||
        _Unwind_GetCFA(ctx) > reinterpret_cast<std::uintptr_t>(target)) {
        if (ThreadCore* t = ThreadCore::current())
            t->cleanup = static_cast<__pthread_unwind_buf_t*>(target->__pad[0]);
        longjmp(reinterpret_cast<__jmp_buf_tag*>(target->__cancel_jmp_buf), 1);
    }
    return _URC_NO_REASON;
}

[[noreturn]] void unwind_next(ThreadCore& t) {
    __pthread_unwind_buf_t* target = t.cleanup;
    if (!target) throw ThreadExit{};
    t.unwind_exc = {};
    t.unwind_exc.exception_class = 0x4752454e45584954ULL;  // "GRENEXIT"
    t.unwind_exc.exception_cleanup = [](_Unwind_Reason_Code, _Unwind_Exception*) {};
    _Unwind_ForcedUnwind(&t.unwind_exc, stop_at_handler, target);
    std::abort();  // the unwinder found no frames: nothing sensible is left to do
}

// The main thread's pthread_exit: the process lives on until every fiber thread has ended,
// then exits normally, as a process does when its last thread exits.
[[noreturn]] void exit_main_thread(sync::FiberCtx c) {
    // The main thread is gone for the others: robust mutexes it holds are now "owner died".
    sync::release_robust_mutexes(c.self);
    sync::Table& t = sync::table();
    // With several hubs the count is process-wide; its last decrement posts to this hub.
    auto live = [&] {
        return hubs::multi() ? hubs::g_live_threads.load(std::memory_order_acquire)
                             : t.live_threads;
    };
    {
        sync::Masked mask(c);
        while (live() > 0) {
            if (mask.wait(t.threads_done, Deadline::never()) == sync::Wake::Deadlock)
                sync::await_outside(c, "pthread_exit");
        }
    }
    std::exit(0);
}

// A cancellation point (unless try_only).
int join(pthread_t id, void** ret, const Deadline& deadline, bool try_only) {
    if (!try_only) test_cancel();
    GreenletHandle h = registry_find(id);
    ThreadCore* t = thread_of(h);
    if (!t) return ESRCH;
    const sync::FiberCtx c = sync::fiber_ctx();
    if (c && c.self == t) return EDEADLK;
    if (t->detached_ || t->joining) return EINVAL;
    if (!t->finished()) {
        if (try_only) return EBUSY;
        // Fibers are joined on their own hub, or from any hub when they have a home mailbox
        // (several hubs: the join travels there).
        if (!c || (c.hub != t->hub() && !t->home())) return EINVAL;
        t->joining = true;
        struct Unmark {
            ThreadCore* t;
            ~Unmark() { t->joining = false; }
        } unmark{t};
        CancelPoint cancel_point;
        sync::Masked mask(c);
        while (!t->finished()) {
            const sync::Wake w = mask.guard([&] { return rt::join(*t, deadline); });
            if (w == sync::Wake::Deadlock) sync::await_outside(c, "pthread_join");
            if (w == sync::Wake::Interrupted) test_cancel();
            if (w == sync::Wake::TimedOut || (!t->finished() && deadline.expired()))
                return ETIMEDOUT;
        }
    }
    if (ret) *ret = t->result;
    registry_remove(t);
    return 0;
}

// pthread_getattr_np's answer for a fiber: its stack (or the size it will get), guard, detach.
int describe_stack(const rt::Fiber& f, bool detached, pthread_attr_t* attr) noexcept {
    if (int rc = pthread_attr_init(attr)) return rc;
    if (f.stack().base)
        pthread_attr_setstack(attr, f.stack().base, f.stack().size);
    else
        pthread_attr_setstacksize(attr, f.stack_size());
    pthread_attr_setguardsize(attr, f.stack().guarded ? rt::page_size() : 0);
    pthread_attr_setdetachstate(attr, detached ? PTHREAD_CREATE_DETACHED : PTHREAD_CREATE_JOINABLE);
    return 0;
}

int timed_join(pthread_t id, void** ret, clockid_t clock, const timespec* abstime) {
    if (!sync::valid_timespec(abstime)) return EINVAL;
    if (abstime->tv_sec < 0) return join(id, ret, Deadline(Clock::now()), false);
    return join(id, ret, sync::deadline_from(clock, *abstime), false);
}

// The count the main thread's pthread_exit waits on: this hub's, or with several hubs the
// process-wide one.
void thread_counted() noexcept {
    if (hubs::multi())
        hubs::g_live_threads.fetch_add(1, std::memory_order_relaxed);
    else
        ++sync::table().live_threads;
}

void thread_gone() noexcept {
    if (hubs::multi()) return hubs::thread_ended();
    sync::Table& t = sync::table();
    if (--t.live_threads == 0) t.threads_done.notify_all();
}

// Starts a new fiber thread on hub `i`, another hub than the caller's: its start is posted to
// that hub's mailbox. A start that fails there (no memory for the stack) ends the thread as
// killed, so a joiner is not left waiting.
void start_on_hub(std::size_t i, ThreadCore* t, const green::SpawnOptions& opts) {
    GreenletHandle keep(t);
    t->signals.exited();  // it inherited the creator's mask here; it takes it to its hub
    const bool posted = hubs::post(i, [keep, opts] {
        ThreadCore* t = thread_of(keep);
        t->signals.join_here();
        try {
            rt::start(*t, opts, std::nullopt);
        } catch (...) {
            rt::finish_unstarted(*t, std::make_exception_ptr(GreenletExit()));
            t->result = PTHREAD_CANCELED;
            thread_gone();
            if (t->detached_) registry_remove(t);
        }
    });
    if (!posted) throw std::runtime_error("green: hub thread gone");
}

}  // namespace

void test_cancel() {
    ThreadCore* t = ThreadCore::current();
    if (!t || !t->cancel_pending || t->cancel_disabled) return;
    t->cancel_disabled = true;  // as in libc: no second cancellation while unwinding
    t->exit_value = PTHREAD_CANCELED;
    unwind_next(*t);
}

void ThreadCore::run() {
    try {
        result = start_(arg_);
    } catch (const ThreadExit&) {
        result = exit_value;
    } catch (const GreenletExit&) {
        result = PTHREAD_CANCELED;
    } catch (...) {
        std::terminate();  // as for a real thread: an exception may not leave its start routine
    }
    if (cancel_pending) cancel::g_pending.fetch_sub(1, std::memory_order_relaxed);
    run_key_destructors(*this);
    sync::release_robust_mutexes(this);  // after the destructors, as the kernel does at exit
    signals.exited();
    thread_gone();
    if (detached_) registry_remove(this);
}

// fork(2) from a fiber thread: natively only the calling thread lives on in the child, so the
// other fibers of its hub (the other threads, and the main thread when another one forked) stay
// where they are and never run again. Without thread patching (--no-threads, the linked
// library) nothing changes: real threads are gone anyway, and plain greenlets go on in the
// child, as gevent's do.
[[gnu::constructor]] static void abandon_threads_on_fork() {
    ::pthread_atfork(nullptr, nullptr, [] {
        if (rt::Hub* h = route(Need::Threads)) rt::abandon_other_fibers_after_fork(*h);
    });
}

[[gnu::constructor]] static void adopt_real_pthread_create() {
    // The runtime's own threads (offload pool, monitor) must stay real OS threads. In a
    // ThreadSanitizer program they must also be TSan's: libc's pthread_create, which RTLD_NEXT
    // finds past TSan's interceptor, starts a thread that TSan has no state for, and the
    // instrumented runtime crashes on its first function entry there.
    if (::dlsym(RTLD_DEFAULT, "__tsan_init"))
        if (void* tsan_create = ::dlsym(RTLD_DEFAULT, "__interceptor_pthread_create")) {
            rt::set_os_thread_create(reinterpret_cast<decltype(&::pthread_create)>(tsan_create));
            return;
        }
    if (auto f = GREEN_REAL(pthread_create)) rt::set_os_thread_create(f);
}

}  // namespace green::hooks::threads

using namespace green::hooks;
using namespace green::hooks::threads;

extern "C" {

int pthread_create(pthread_t* out, const pthread_attr_t* attr, void* (*start)(void*),
                   void* arg) noexcept {
    // A fiber when the caller takes the fiber path, or is the main thread, whose hub is made
    // now; never from the loop fiber or the runtime's own OS threads.
    if (!route(Need::Threads) && (rt::hub() || !is_main_thread() || !patched(Need::Threads)))
        return GREEN_REAL(pthread_create)(out, attr, start, arg);
    try {
        auto& hub = rt::hub_or_create();
        hubs::start();  // GREEN_HUBS > 1: the other hubs, at the main thread's first call
        int detach = PTHREAD_CREATE_JOINABLE;
        if (attr) pthread_attr_getdetachstate(attr, &detach);
        const std::uint64_t n = g_next_id.fetch_add(1, std::memory_order_relaxed);
        green::SpawnOptions opts;
        opts.name = "Thread-" + std::to_string(n);
        opts.stack_size = stack_size_for(attr, hub);
        // Threads share their stack objects with each other as a matter of course: never
        // compact (green/stack_mode.hpp), whatever GREEN_STACK_MODE says.
        opts.stack_mode = green::StackMode::Default;
        auto* t = new ThreadCore(start, arg, detach == PTHREAD_CREATE_DETACHED);
        t->id = static_cast<pthread_t>(n * 2 + 1);
        t->os_thread = GREEN_REAL(pthread_self)();
        const std::size_t home = hubs::multi() ? hubs::place(attr) : 0;
        const bool away = hubs::multi() && home != hubs::current();
        if (hubs::multi()) {
            // Before it is shared: its reference count is atomic from now on.
            try {
                t->set_home(hubs::handle(home));
            } catch (...) {  // no memory: not counted or registered yet
                delete t;
                throw;
            }
            t->hub_index = home;
            t->os_thread = hubs::os_thread(home);
        }
        registry_add(t);
        thread_counted();
        green::hooks::cancel::g_fiber_threads.store(true, std::memory_order_relaxed);
        try {  // start() throws for a stack size above 1 GiB or no memory: undo, say EAGAIN
            if (away)
                start_on_hub(home, t, opts);
            else
                rt::start(*t, opts, std::nullopt);
        } catch (...) {
            thread_gone();
            registry_remove(t);  // drops the only reference
            throw;
        }
        *out = t->id;
        return 0;
    } catch (...) {
        return EAGAIN;  // out of memory: libc's answer when it cannot make a thread
    }
}

pthread_t pthread_self() noexcept {
    if (ThreadCore* t = ThreadCore::current()) return t->id;
    return GREEN_REAL(pthread_self)();
}

int pthread_equal(pthread_t a, pthread_t b) noexcept {
    return a == b;
}

int pthread_join(pthread_t id, void** ret) {
    if (!is_fiber_id(id)) return GREEN_REAL(pthread_join)(id, ret);
    return join(id, ret, green::Deadline::never(), false);
}

int pthread_tryjoin_np(pthread_t id, void** ret) noexcept {
    if (!is_fiber_id(id)) return GREEN_REAL(pthread_tryjoin_np)(id, ret);
    return join(id, ret, green::Deadline::never(), true);
}

int pthread_timedjoin_np(pthread_t id, void** ret, const struct timespec* abstime) {
    if (!is_fiber_id(id)) return GREEN_REAL(pthread_timedjoin_np)(id, ret, abstime);
    return timed_join(id, ret, CLOCK_REALTIME, abstime);
}

int pthread_clockjoin_np(pthread_t id, void** ret, clockid_t clock,
                         const struct timespec* abstime) {
    if (!is_fiber_id(id)) return GREEN_REAL(pthread_clockjoin_np)(id, ret, clock, abstime);
    if (!sync::valid_wait_clock(clock)) return EINVAL;
    return timed_join(id, ret, clock, abstime);
}

int pthread_detach(pthread_t id) noexcept {
    if (!is_fiber_id(id)) return GREEN_REAL(pthread_detach)(id);
    green::GreenletHandle h = registry_find(id);
    ThreadCore* t = thread_of(h);
    if (!t) return ESRCH;
    if (t->detached_) return EINVAL;
    t->detached_ = true;
    if (t->finished()) registry_remove(t);
    return 0;
}

void pthread_exit(void* value) {
    if (ThreadCore* t = ThreadCore::current()) {
        t->exit_value = value;
        unwind_next(*t);
    }
    const sync::FiberCtx c = sync::fiber_ctx();
    if (patched(Need::Threads)) {
        if (is_main_thread() && (!c || c.self == &rt::main_fiber(*c.hub))) {
            if (c) exit_main_thread(c);
            if (!rt::hub()) std::exit(0);  // no fiber thread was ever made
        }
        if (c) throw green::GreenletExit();  // a plain greenlet: end it, not the OS thread
    }
    GREEN_REAL(pthread_exit)(value);
    __builtin_unreachable();
}

void __pthread_register_cancel(__pthread_unwind_buf_t* buf) {
    if (ThreadCore* t = ThreadCore::current()) {
        buf->__pad[0] = t->cleanup;
        t->cleanup = buf;
        return;
    }
    GREEN_REAL(__pthread_register_cancel)(buf);
}

void __pthread_unregister_cancel(__pthread_unwind_buf_t* buf) {
    if (ThreadCore* t = ThreadCore::current()) {
        t->cleanup = static_cast<__pthread_unwind_buf_t*>(buf->__pad[0]);
        return;
    }
    GREEN_REAL(__pthread_unregister_cancel)(buf);
}

[[noreturn]] void __pthread_unwind_next(__pthread_unwind_buf_t* buf) {
    if (ThreadCore* t = ThreadCore::current()) unwind_next(*t);
    GREEN_REAL(__pthread_unwind_next)(buf);
    __builtin_unreachable();
}

int pthread_getattr_np(pthread_t id, pthread_attr_t* attr) noexcept {
    if (!is_fiber_id(id)) {
        // A plain greenlet asking about "its" thread gets its own stack, not the main one:
        // callers want the bounds of the stack they run on.
        const sync::FiberCtx c = sync::fiber_ctx();
        if (!c || c.self == &rt::main_fiber(*c.hub) || id != GREEN_REAL(pthread_self)())
            return GREEN_REAL(pthread_getattr_np)(id, attr);
        return describe_stack(*c.self, false, attr);
    }
    green::GreenletHandle h = registry_find(id);
    ThreadCore* t = thread_of(h);
    if (!t) return ESRCH;
    return describe_stack(*t, t->detached_, attr);
}

int pthread_setname_np(pthread_t id, const char* name) noexcept {
    if (!is_fiber_id(id)) return GREEN_REAL(pthread_setname_np)(id, name);
    green::GreenletHandle h = registry_find(id);
    ThreadCore* t = thread_of(h);
    if (!t) return ESRCH;
    const std::size_t n = std::strlen(name);
    if (n >= sizeof t->name_) return ERANGE;
    std::memcpy(t->name_, name, n + 1);
    try {
        t->set_name(name);  // green's own reports (failures, the monitor) use it too
    } catch (...) {
    }
    return 0;
}

int pthread_getname_np(pthread_t id, char* buf, size_t len) noexcept {
    if (!is_fiber_id(id)) return GREEN_REAL(pthread_getname_np)(id, buf, len);
    green::GreenletHandle h = registry_find(id);
    ThreadCore* t = thread_of(h);
    if (!t) return ESRCH;
    char name[16] = {};
    if (t->name_[0])
        std::memcpy(name, t->name_, sizeof name);
    else
        ::prctl(PR_GET_NAME, name);  // a new thread inherits its creator's name
    const std::size_t n = std::strlen(name);
    if (len <= n) return ERANGE;
    std::memcpy(buf, name, n + 1);
    return 0;
}

int pthread_kill(pthread_t id, int sig) noexcept {
    if (!is_fiber_id(id)) {
        if (int rc; green::hooks::signals::send_to_hub_thread(id, sig, rc)) return rc;
        return GREEN_REAL(pthread_kill)(id, sig);
    }
    green::GreenletHandle h = registry_find(id);
    ThreadCore* t = thread_of(h);
    if (!t || t->finished()) return ESRCH;
    if (sig == 0) return 0;
    if (t->hub() == rt::hub()) return green::hooks::signals::send_to_thread(t->signals, *t, sig);
    if (hubs::multi()) {
        // A fiber of another hub: the signal is held for it there, by its own hub.
        if (sig < 1 || sig >= NSIG) return EINVAL;
        hubs::post(t->hub_index, [h, sig] {
            ThreadCore* t = thread_of(h);
            if (!t->finished()) green::hooks::signals::send_to_thread(t->signals, *t, sig);
        });
        return 0;
    }
    return GREEN_REAL(pthread_kill)(t->os_thread, sig);  // the OS thread that runs the fiber
}

// Wakes `t` if it waits in one of the hooks' cancellation points; otherwise it acts at the
// next one (or at pthread_testcancel, or where it enables cancellation again). The
// asynchronous type acts no sooner: a fiber is only ever stopped inside a hook, and the hooks
// that park it are where it can be reached. On t's own hub.
static void wake_for_cancel(rt::Hub& hub, ThreadCore& t) noexcept {
    if (!t.cancel_disabled && t.state() == rt::FiberState::Parked &&
        (t.in_cancel_point || green::hooks::cancel::Scope::holds(&t)))
        rt::interrupt(hub, t, std::make_exception_ptr(green::hooks::CancelWake{}));
}

int pthread_cancel(pthread_t id) noexcept {
    if (!is_fiber_id(id)) return GREEN_REAL(pthread_cancel)(id);
    green::GreenletHandle h = registry_find(id);
    ThreadCore* t = thread_of(h);
    if (!t) return ESRCH;
    if (t->finished()) return 0;
    if (!t->cancel_pending) {
        t->cancel_pending = true;
        green::hooks::cancel::g_pending.fetch_add(1, std::memory_order_relaxed);
    }
    const sync::FiberCtx c = sync::fiber_ctx();
    if (c && c.hub == t->hub()) {
        wake_for_cancel(*c.hub, *t);
    } else if (hubs::multi()) {
        // A fiber of another hub: only that hub may touch it. Without memory for the post it
        // acts at its next cancellation point.
        hubs::post(t->hub_index, [h] {
            if (rt::Hub* here = rt::hub()) wake_for_cancel(*here, *thread_of(h));
        });
    }
    return 0;
}

void pthread_testcancel() {
    if (ThreadCore::current()) return test_cancel();
    GREEN_REAL(pthread_testcancel)();
}

// Both act at once on a pending request when they leave the thread enabled and asynchronous,
// as libc does.
int pthread_setcancelstate(int state, int* old) {
    ThreadCore* t = ThreadCore::current();
    if (!t) return GREEN_REAL(pthread_setcancelstate)(state, old);
    if (state != PTHREAD_CANCEL_ENABLE && state != PTHREAD_CANCEL_DISABLE) return EINVAL;
    if (old) *old = t->cancel_disabled ? PTHREAD_CANCEL_DISABLE : PTHREAD_CANCEL_ENABLE;
    t->cancel_disabled = state == PTHREAD_CANCEL_DISABLE;
    if (t->cancel_async) test_cancel();
    return 0;
}

int pthread_setcanceltype(int type, int* old) {
    ThreadCore* t = ThreadCore::current();
    if (!t) return GREEN_REAL(pthread_setcanceltype)(type, old);
    if (type != PTHREAD_CANCEL_DEFERRED && type != PTHREAD_CANCEL_ASYNCHRONOUS) return EINVAL;
    if (old) *old = t->cancel_async ? PTHREAD_CANCEL_ASYNCHRONOUS : PTHREAD_CANCEL_DEFERRED;
    t->cancel_async = type == PTHREAD_CANCEL_ASYNCHRONOUS;
    if (t->cancel_async) test_cancel();
    return 0;
}

// Defined under its own C++ name: <sched.h> declares sched_yield noexcept, and an asynchronous
// cancellation unwinds out of it.
int green_sched_yield() __asm__("sched_yield");
int green_sched_yield() {
    const sync::FiberCtx c = sync::fiber_ctx();
    if (!c) return GREEN_REAL(sched_yield)();
    sync::Masked mask(c);
    mask.guard([&] {
        rt::yield(*c.hub);
        return true;
    });
    // Where a fiber thread of the asynchronous cancellation type that computes in a loop can
    // be reached (a real thread would be stopped anywhere in it).
    if (green::hooks::cancel::g_pending.load(std::memory_order_relaxed) != 0) [[unlikely]]
        if (ThreadCore* t = ThreadCore::current(); t && t->cancel_async) test_cancel();
    return 0;
}

// <pthread.h> maps pthread_yield onto sched_yield; binaries built against older headers still
// call it by name.
int green_pthread_yield() __asm__("pthread_yield");
int green_pthread_yield() {
    return green_sched_yield();
}

}  // extern "C"

// Scheduling, affinity and CPU-clock calls about a fiber thread are about its OS thread.
#define GREEN_FORWARD_TO_OS_THREAD(fn, params, args)     \
    extern "C" int fn params noexcept {                  \
        if (is_fiber_id(id)) {                           \
            green::GreenletHandle h = registry_find(id); \
            if (!h) return ESRCH;                        \
            id = thread_of(h)->os_thread;                \
        }                                                \
        return GREEN_REAL(fn) args;                      \
    }
GREEN_FORWARD_TO_OS_THREAD(pthread_getschedparam,
                           (pthread_t id, int* policy, struct sched_param* param),
                           (id, policy, param))
GREEN_FORWARD_TO_OS_THREAD(pthread_setschedparam,
                           (pthread_t id, int policy, const struct sched_param* param),
                           (id, policy, param))
GREEN_FORWARD_TO_OS_THREAD(pthread_setschedprio, (pthread_t id, int prio), (id, prio))
GREEN_FORWARD_TO_OS_THREAD(pthread_getaffinity_np, (pthread_t id, size_t size, cpu_set_t* set),
                           (id, size, set))
GREEN_FORWARD_TO_OS_THREAD(pthread_setaffinity_np,
                           (pthread_t id, size_t size, const cpu_set_t* set), (id, size, set))
GREEN_FORWARD_TO_OS_THREAD(pthread_getcpuclockid, (pthread_t id, clockid_t* clock), (id, clock))
GREEN_FORWARD_TO_OS_THREAD(pthread_sigqueue, (pthread_t id, int sig, const union sigval value),
                           (id, sig, value))
#undef GREEN_FORWARD_TO_OS_THREAD
