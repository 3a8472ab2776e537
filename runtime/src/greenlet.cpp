// Greenlet lifecycle: start (now or later), the body that records a result or a failure,
// failure reports, join, kill, and user-level link callbacks.
#include "green/greenlet.hpp"

#include <cxxabi.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "green/detail/park_local.hpp"
#include "green/event.hpp"
#include "scheduler.hpp"

namespace green {
namespace detail {

// A greenlet of another thread's hub (greenlet_core.hpp). Only HubPool greenlets (which have a home
// mailbox) may be reached from there; the others stay a logic_error, as their state is not
// thread-safe.
bool is_remote(const GreenletCore& core) {
    // By its home, set before the greenlet was shared: its hub pointer is written by the home
    // hub's thread when the start it posted runs.
    if (core.home()) return !core.home().is_current();
    Hub* here = Hub::peek();
    if (core.hub() && core.hub() != here)
        throw std::logic_error(
            "green: a greenlet can only be joined or killed from its own thread (greenlets of "
            "a HubPool hub excepted)");
    return false;
}

namespace {

std::atomic<std::uint64_t> g_next_greenlet{1};

std::string describe(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        int status = 0;
        const char* mangled = typeid(ex).name();
        char* demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
        std::string out = (status == 0 && demangled) ? demangled : mangled;
        std::free(demangled);
        return out + ": " + ex.what();
    } catch (...) {
        return "unknown exception";
    }
}

void wake_fiber(LinkNode& node, Waitable&) {
    auto* f = static_cast<Fiber*>(node.arg);
    f->hub()->ready(*f);
}

// Runs `fn` on the greenlet's home hub; false when that hub has exited (and so every greenlet
// it ran has finished, or never will run).
bool post_home(const GreenletCore& core, std::function<void()> fn) {
    return core.home().post(std::move(fn));
}

// join() from another thread: the greenlet's hub links an Event that this thread waits on.
// The link holds the Event and the greenlet, so a join that times out leaves nothing dangling.
// A request the hub drops unrun (it exited first) still sets the Event: no joiner waits for ever.
bool remote_join(GreenletCore& core, Deadline deadline) {
    struct Request {
        LinkNode node{&Request::fire};
        std::shared_ptr<Event> done = std::make_shared<Event>(cross_thread);
        GreenletHandle keep;
        explicit Request(GreenletCore& c) : keep(&c) { node.arg = this; }
        Request(const Request&) = delete;
        Request& operator=(const Request&) = delete;
        ~Request() { done->set(); }
        static void fire(LinkNode& n, Waitable&) { delete static_cast<Request*>(n.arg); }
    };
    auto req = std::make_unique<Request>(core);
    std::shared_ptr<Event> done = req->done;
    auto held = std::make_shared<std::unique_ptr<Request>>(std::move(req));
    const bool posted = post_home(core, [held] {
        Request* r = held->get();
        auto& c = core_of(r->keep);
        if (c.ready()) return held->reset();  // sets the Event
        c.rawlink(held->release()->node);     // freed (and the Event set) when it fires
    });
    if (!posted) return core.ready();
    return done->wait(deadline) || core.ready();
}

}  // namespace

namespace {

// Ids come from g_next_greenlet in batches per thread, as Go's goidcache does: unique, increasing
// on each thread, and one locked add per batch instead of one per spawn (it was the single
// costliest instruction of a spawn, bench/sync's Pool.map).
constexpr std::uint64_t kIdBatch = 64;
constinit thread_local std::uint64_t t_next_id __attribute__((tls_model("initial-exec"))) = 0;
constinit thread_local std::uint64_t t_ids_end __attribute__((tls_model("initial-exec"))) = 0;

std::uint64_t next_greenlet_id() noexcept {
    if (t_next_id == t_ids_end) [[unlikely]] {
        t_next_id = g_next_greenlet.fetch_add(kIdBatch, std::memory_order_relaxed);
        t_ids_end = t_next_id + kIdBatch;
    }
    return t_next_id++;
}

}  // namespace

const HubHandle GreenletCore::kNoHome{};

GreenletCore::GreenletCore() : id_(next_greenlet_id()) {}

GreenletCore::~GreenletCore() = default;

std::string GreenletCore::name() const {
    return extras_ && !extras_->name.empty() ? extras_->name : "Greenlet-" + std::to_string(id_);
}

void GreenletCore::rawlink(LinkNode& node) {
    if (pooled_ && is_remote(*this))
        throw std::logic_error(
            "green: wait/iwait/joinall(raise_error) on a greenlet of another hub; use join() or "
            "link() for it");
    links_.push(node);
}
void GreenletCore::unlink(LinkNode& node) noexcept {
    links_.remove(node);
}

void GreenletCore::body() noexcept {
    try {
        run();
        finish(nullptr, false);
    } catch (const GreenletExit&) {
        finish(nullptr, true);
    } catch (...) {
        finish(std::current_exception(), false);
    }
}

void GreenletCore::finish(std::exception_ptr error, bool killed) noexcept {
    killed_ = killed;
    exception_ = std::move(error);
    finished_.store(true, std::memory_order_release);
    if (exception_) {
        // gevent prints the traceback once; we print the failure once, then keep it for get().
        std::fprintf(stderr, "green: %s failed with %s\n", name().c_str(),
                     describe(exception_).c_str());
    }
    try {
        links_.fire_all(*this);
    } catch (...) {
        std::fprintf(stderr, "green: a link callback of %s failed\n", name().c_str());
    }
}

void finish_unstarted(GreenletCore& core, std::exception_ptr exc) {
    bool is_exit = false;
    try {
        std::rethrow_exception(exc);
    } catch (const GreenletExit&) {
        is_exit = true;
    } catch (...) {
    }
    Hub::transition(core, FiberState::Dead);
    core.finish(is_exit ? nullptr : exc, is_exit);
}

void GreenletCore::reaped() noexcept {
    release();
}

void start(GreenletCore& core, const SpawnOptions& opts, std::optional<Duration> delay) {
    Hub& hub = Hub::get();
    if (hub.pooled() && !core.home()) core.set_home(hub.handle());  // before anyone shares it
    core.prepare(hub, opts.stack_size, opts.ref);
    if (opts.stack_mode == StackMode::Compact ||
        (opts.stack_mode == StackMode::Unset && hub.compact_by_default())) [[unlikely]]
        core.set_compact(true);
    core.set_spawned_by(hub.current(), &hub.main_fiber());
    if (!opts.name.empty()) core.set_name(opts.name);
    if (delay) core.make_start_timer();  // before anything can't be undone
    // The stack is reserved here, so that an impossible size (std::length_error) or no memory
    // (std::bad_alloc) is thrown by spawn, to its caller, rather than failing the first switch;
    // the fiber takes it when it first runs.
    hub.reserve_stack(core);
    core.add_ref();  // the running fiber's own reference, dropped when it is reaped
    if (!delay) {
        hub.launch(core);
        return;
    }
    Timer& t = *core.start_timer();
    t.when = after_now(*delay);
    t.arg = &core;
    t.ref = opts.ref;
    t.fire = [](Timer& fired) {
        auto* c = static_cast<GreenletCore*>(fired.arg);
        c->hub()->launch(*c);
    };
    hub.add_timer(t);
}

bool join(GreenletCore& core, Deadline deadline) {
    if (core.ready()) return true;
    if (is_remote(core)) return remote_join(core, deadline);
    Hub& hub = Hub::get();
    if (&core == hub.current()) throw std::logic_error("green: a greenlet cannot join itself");
    const ParkLocal<LinkNode> node(hub.current(), &wake_fiber, hub.current());
    core.rawlink(*node);
    struct Unlink {
        GreenletCore& c;
        LinkNode& n;
        ~Unlink() { c.unlink(n); }
    } guard{core, *node};
    const WaitNote note(hub.current(), WaitKind::Join, &core);
    while (!core.ready()) {
        if (!hub.park(deadline)) break;
    }
    return core.ready();
}

void kill(GreenletCore& core, std::exception_ptr exc, bool block, Deadline deadline) {
    if (core.ready()) return;
    if (!exc) exc = std::make_exception_ptr(GreenletExit());
    if (is_remote(core)) {
        post_home(core, [exc, keep = GreenletHandle(&core)] {
            kill(core_of(keep), exc, false, Deadline{});
        });
        if (block) remote_join(core, deadline);
        return;
    }
    Hub& hub = Hub::get();
    const bool never_ran = !core.has_context() && core.state() != FiberState::Running;
    if (never_ran) {
        // gevent: a greenlet killed before it starts never runs and is dead at once.
        const bool delayed = core.state() == FiberState::Created;
        if (Timer* t = core.start_timer()) hub.cancel_timer(*t);
        finish_unstarted(core, exc);
        if (delayed) hub.reap(core);  // not in the run queue: give back its stack and reference
        return;
    }
    if (&core == hub.current()) std::rethrow_exception(exc);
    hub.interrupt(core, exc, 0);  // a kill, whatever its exception
    if (block) join(core, deadline);
}

GreenletCore* current_greenlet() noexcept {
    Hub* hub = Hub::peek();
    return hub ? dynamic_cast<GreenletCore*>(hub->current()) : nullptr;
}

void throw_timeout_expired() {
    Timeout expired(Duration::zero(), false);
    throw expired;
}

}  // namespace detail

GreenletHandle getcurrent() {
    return GreenletHandle(detail::current_greenlet());
}

namespace {

enum class LinkWhen { Always, OnValue, OnException };

std::atomic<GreenletHandle::LinkId> g_next_link{1};

// A link callback: fired by the greenlet's completion, it runs the user's function in a new
// greenlet (so it may block) and then frees itself.
// Its id, not its address, is the user's handle: the link frees itself when it fires, and a
// later unlink must find that it is gone (by searching the greenlet's live links) rather than
// read the freed node — or another link that reused its address.
struct UserLink {
    LinkNode node;
    std::function<void(const GreenletHandle&)> cb;
    LinkWhen when;
    GreenletHandle::LinkId id;

    UserLink(std::function<void(const GreenletHandle&)> f, LinkWhen w)
        : node(&UserLink::fire, this),
          cb(std::move(f)),
          when(w),
          id(g_next_link.fetch_add(1, std::memory_order_relaxed)) {}

    static void fire(LinkNode& n, Waitable& source) {
        std::unique_ptr<UserLink> self(static_cast<UserLink*>(n.arg));
        auto& core = static_cast<detail::GreenletCore&>(source);
        const bool failed = static_cast<bool>(core.exception());
        if ((self->when == LinkWhen::OnValue && failed) ||
            (self->when == LinkWhen::OnException && !failed))
            return;
        spawn(std::move(self->cb), GreenletHandle(&core));
    }
};

void add_link_here(detail::GreenletCore& core, UserLink* link) {
    if (core.ready()) return UserLink::fire(link->node, core);
    core.rawlink(link->node);
}

GreenletHandle::LinkId add_link(detail::GreenletCore& core,
                                std::function<void(const GreenletHandle&)> cb, LinkWhen when) {
    auto* link = new UserLink(std::move(cb), when);
    if (detail::is_remote(core)) {
        // The callback runs in a new greenlet on the greenlet's own hub, as a local link's does.
        const auto id = link->id;
        std::unique_ptr<UserLink> owned(link);
        auto take = std::make_shared<std::unique_ptr<UserLink>>(std::move(owned));
        detail::post_home(core, [take, keep = GreenletHandle(&core)] {
            add_link_here(detail::core_of(keep), take->release());
        });
        return id;
    }
    if (core.ready()) {
        UserLink::fire(link->node, core);
        return 0;
    }
    core.rawlink(link->node);
    return link->id;
}

}  // namespace

GreenletHandle::LinkId GreenletHandle::link(std::function<void(const GreenletHandle&)> cb) const {
    return add_link(core(), std::move(cb), LinkWhen::Always);
}
GreenletHandle::LinkId GreenletHandle::link_value(
    std::function<void(const GreenletHandle&)> cb) const {
    return add_link(core(), std::move(cb), LinkWhen::OnValue);
}
GreenletHandle::LinkId GreenletHandle::link_exception(
    std::function<void(const GreenletHandle&)> cb) const {
    return add_link(core(), std::move(cb), LinkWhen::OnException);
}

void GreenletHandle::unlink(LinkId id) const noexcept {
    if (!id) return;
    if (core().home() && detail::is_remote(core())) {
        try {
            core().home().post([id, keep = *this] { keep.unlink(id); });
        } catch (...) {
            // Out of memory: the link stays and fires once; nothing is corrupted.
        }
        return;
    }
    for (LinkNode* n = core().links().front(); n; n = n->next) {
        if (n->fire != &UserLink::fire) continue;
        auto* link = static_cast<UserLink*>(n->arg);
        if (link->id != id) continue;
        core().unlink(*n);
        delete link;
        return;
    }
}

}  // namespace green
