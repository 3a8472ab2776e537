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
    while (Member* m = members_.front()) {
        untrack(*m);
        members_.remove(*m);
        delete m;
    }
    if (home_) home_->group = nullptr;
}

void Group::insert(const GreenletHandle& g) {
    auto owned = std::make_unique<Member>(this, g);
    Member& m = *owned;
    auto& core = detail::core_of(g);
    if (!detail::is_remote(core)) {
        core.rawlink(m.node);
        members_.push_back(*owned.release());
        return;
    }
    // A greenlet of another hub of a HubPool: its link runs there, and posts its completion to
    // this hub, where the group's state lives.
    const void* key = &core;
    remote_.emplace(key, &m);
    try {
        if (!home_) home_ = std::make_shared<detail::GroupHome>(this, detail::Hub::get().handle());
        m.remote_link = g.link([home = home_](const GreenletHandle& done) {
            std::exception_ptr error = detail::core_of(done).exception();
            home->hub.post([home, done, error] {
                if (home->group) home->group->remote_done(detail::core_ptr_of(done), error);
            });
        });
    } catch (...) {
        remote_.erase(key);
        throw;
    }
    members_.push_back(*owned.release());
}

Group::Member* Group::find(const GreenletHandle& g) const noexcept {
    if (!g) return nullptr;
    const auto& core = detail::core_of(g);
    if (core.home() && !core.home().is_current()) {
        auto it = remote_.find(&core);
        return it == remote_.end() ? nullptr : it->second;
    }
    // A greenlet of this hub carries our node in its link list (a greenlet of a plain thread's
    // hub other than ours can never have been inserted, and its list is not ours to read).
    if (core.hub() && core.hub() != detail::Hub::peek()) return nullptr;
    for (LinkNode* n = core.links().front(); n; n = n->next)
        if (n->fire == &Group::on_done && static_cast<Member*>(n->arg)->group == this)
            return static_cast<Member*>(n->arg);
    return nullptr;
}

void Group::untrack(Member& m) noexcept {
    if (m.remote_link) {
        m.g.unlink(m.remote_link);  // posted to its hub; a completion already posted is ignored
        remote_.erase(detail::core_ptr_of(m.g));
    } else {
        detail::core_of(m.g).unlink(m.node);
    }
}

void Group::drop(Member& m) noexcept {
    members_.remove(m);
    delete &m;
    release_slot();
}

void Group::on_done(LinkNode& node, Waitable&) {
    auto* m = static_cast<Member*>(node.arg);
    m->group->member_done(*m, detail::core_of(m->g).exception());
}

void Group::remote_done(const void* core, std::exception_ptr error) {
    auto it = remote_.find(core);
    if (it == remote_.end()) return;  // discarded after its completion was posted
    Member& m = *it->second;
    remote_.erase(it);
    member_done(m, error);
}

void Group::member_done(Member& m, const std::exception_ptr& error) {
    if (error) {
        ++failures_;
        last_failure_ = error;
    }
    drop(m);
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
    Member* m = find(g);
    if (!m) return;
    untrack(*m);
    drop(*m);
    if (members_.empty()) changed_.notify_all();
}

bool Group::contains(const GreenletHandle& g) const noexcept {
    return find(g) != nullptr;
}

std::vector<GreenletHandle> Group::greenlets() const {
    std::vector<GreenletHandle> out;
    out.reserve(members_.size());
    for (const Member* m = members_.front(); m; m = m->next) out.push_back(m->g);
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
