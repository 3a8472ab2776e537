// Group and Pool bookkeeping: members are tracked through a completion link on each greenlet,
// which removes them, frees their Pool slot and wakes join() when the group empties.
#include "green/pool.hpp"

#include <stdexcept>

namespace green {

Group::~Group() {
    for (auto& [core, m] : members_) detail::core_of(m->g).unlink(m->node);
}

void Group::insert(const GreenletHandle& g) {
    auto m = std::make_unique<Member>(this, g);
    Member* raw = m.get();
    members_.emplace(detail::core_ptr_of(g), std::move(m));
    detail::core_of(g).rawlink(raw->node);
}

void Group::on_done(LinkNode& node, Waitable& source) {
    auto* m = static_cast<Member*>(node.arg);
    Group* group = m->group;
    auto& core = static_cast<detail::GreenletCore&>(source);
    const bool failed = static_cast<bool>(core.exception());
    if (failed) {
        ++group->failures_;
        group->last_failure_ = core.exception();
    }
    group->members_.erase(&core);  // frees m
    group->release_slot();
    if (failed || group->members_.empty()) group->changed_.notify_all();
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
    detail::core_of(g).unlink(it->second->node);
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
        for (auto& g : gs)
            if (!g.join(deadline)) return;
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
