// Group and Pool bookkeeping: members are tracked through a completion link on each greenlet,
// which removes them, frees their Pool slot and wakes join() when the group empties.
#include "green/pool.hpp"

#include <stdexcept>

#include "scheduler.hpp"

namespace green {

namespace detail {
struct GroupHome {
    Group* group;
    HubHandle hub;
};
}  // namespace detail

Group::~Group() {
    for (auto& [core, m] : members_) untrack(*m);
    if (home_) home_->group = nullptr;
}

void Group::insert(const GreenletHandle& g) {
    auto m = std::make_unique<Member>(this, g);
    Member* raw = m.get();
    const void* key = detail::core_ptr_of(g);
    members_.emplace(key, std::move(m));
    auto& core = detail::core_of(g);
    if (!detail::is_remote(core)) return core.rawlink(raw->node);
    // A greenlet of another hub of a HubPool: its link runs there, and posts its completion to
    // this hub, where the group's state lives.
    try {
        if (!home_) home_ = std::make_shared<detail::GroupHome>(this, detail::Hub::get().handle());
        raw->remote_link = g.link([home = home_](const GreenletHandle& done) {
            std::exception_ptr error = detail::core_of(done).exception();
            home->hub.post([home, done, error] {
                if (home->group) home->group->member_done(detail::core_ptr_of(done), error);
            });
        });
    } catch (...) {
        members_.erase(key);
        throw;
    }
}

void Group::untrack(Member& m) noexcept {
    if (m.remote_link)
        m.g.unlink(m.remote_link);  // posted to its hub; a completion already posted is ignored
    else
        detail::core_of(m.g).unlink(m.node);
}

void Group::on_done(LinkNode& node, Waitable& source) {
    auto* m = static_cast<Member*>(node.arg);
    auto& core = static_cast<detail::GreenletCore&>(source);
    m->group->member_done(&core, core.exception());
}

void Group::member_done(const void* core, std::exception_ptr error) {
    auto it = members_.find(core);
    if (it == members_.end()) return;  // discarded after its completion was posted
    const bool failed = static_cast<bool>(error);
    if (failed) {
        ++failures_;
        last_failure_ = std::move(error);
    }
    members_.erase(it);
    release_slot();
    changed_.notify_all();  // join() waits for a failure or the end; kill() for these members
}

bool Group::add(const GreenletHandle& g, Deadline deadline) {
    if (!g) throw std::invalid_argument("green::Group::add: empty greenlet handle");
    if (contains(g) || g.ready()) return true;
    if (!acquire_slot(deadline)) return false;
    if (g.ready() || contains(g)) {  // finished or added by someone else while we waited
        release_slot();
        return true;
    }
    insert(g);
    return true;
}

void Group::discard(const GreenletHandle& g) noexcept {
    if (!g) return;
    auto it = members_.find(detail::core_ptr_of(g));
    if (it == members_.end()) return;
    untrack(*it->second);
    members_.erase(it);
    release_slot();
    if (members_.empty()) changed_.notify_all();
}

bool Group::contains(const GreenletHandle& g) const noexcept {
    return g && members_.count(detail::core_ptr_of(g)) != 0;
}

std::vector<GreenletHandle> Group::greenlets() const {
    std::vector<GreenletHandle> out;
    out.reserve(members_.size());
    for (auto& [core, m] : members_) out.push_back(m->g);
    return out;
}

bool Group::join(Deadline deadline, bool raise_error) {
    const std::size_t seen = failures_;
    for (;;) {
        if (raise_error && failures_ > seen) std::rethrow_exception(last_failure_);
        if (members_.empty()) return true;
        if (!changed_.wait(deadline)) {
            if (raise_error && failures_ > seen) std::rethrow_exception(last_failure_);
            return members_.empty();
        }
    }
}

void Group::kill(bool block, Deadline deadline) {
    for (;;) {
        auto gs = greenlets();
        if (gs.empty()) return;
        for (auto& g : gs) g.kill(false);
        if (!block) return;
        for (auto& g : gs) {
            if (!g.join(deadline)) return;
            // A member of another hub leaves once its completion, posted here, has run.
            while (contains(g))
                if (!changed_.wait(deadline)) return;
        }
    }
}

void Group::killone(const GreenletHandle& g, bool block, Deadline deadline) {
    if (contains(g)) g.kill(block, deadline);
}

Pool::Pool(std::size_t size) : size_(size), slots_(static_cast<std::ptrdiff_t>(size)) {
    if (size == 0) throw std::invalid_argument("green::Pool: size must be at least 1");
}

// Members outliving the pool must not release into the destroyed semaphore.
Pool::~Pool() {
    for (auto& g : greenlets()) discard(g);
}

bool Pool::wait_available(Deadline deadline) {
    if (!slots_.acquire(deadline)) return false;
    slots_.release();
    return true;
}

}  // namespace green
