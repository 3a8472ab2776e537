// Waiting on many things at once: iwait/wait over any Waitable, and joinall/killall for
// greenlets, as in gevent's module functions.
#include <green/greenlet.hpp>
#include <green/queue.hpp>

#include <algorithm>
#include <memory>
#include <optional>

namespace green {

IWait::IWait(const std::vector<WaitableRef>& objects, Deadline deadline, std::size_t count)
    : count_(count), deadline_(deadline) {
    // Its completions write into this object while its fiber waits.
    if (const detail::Fiber* f = detail::running_fiber(); f && f->compact()) [[unlikely]]
        detail::refuse_compact_stack_record(this, "green::iwait/wait state");
    objects_.reserve(objects.size());
    nodes_.reserve(objects.size());
    for (const auto& ref : objects) {
        Waitable* w = ref.get();
        objects_.push_back(w);
        nodes_.push_back(std::make_unique<LinkNode>(&IWait::on_ready, this));
        if (w->ready())
            ready_.push_back(w);
        else
            w->rawlink(*nodes_.back());
    }
}

IWait::~IWait() {
    for (std::size_t i = 0; i < objects_.size(); ++i)
        if (nodes_[i]->linked) objects_[i]->unlink(*nodes_[i]);
}

void IWait::on_ready(LinkNode& node, Waitable& source) {
    auto* self = static_cast<IWait*>(node.arg);
    self->ready_.push_back(&source);
    self->wakeup_.notify_one();
}

Waitable* IWait::next() {
    if (taken_ >= count_ || taken_ >= objects_.size()) return nullptr;
    while (taken_ >= ready_.size()) {
        if (!wakeup_.wait(deadline_)) {
            if (taken_ >= ready_.size()) return nullptr;
        }
    }
    return ready_[taken_++];
}

std::vector<Waitable*> wait(const std::vector<WaitableRef>& objects, Deadline deadline,
                            std::size_t count) {
    std::vector<Waitable*> out;
    IWait it(objects, deadline, count);
    while (Waitable* w = it.next()) out.push_back(w);
    return out;
}

namespace {

// joinall(raise_error) over greenlets of several hubs (HubPool): each one's link, which runs on
// its own hub, puts it into a queue shared between the hubs; this fiber takes them in completion
// order. The queue outlives an early return (links still to fire find it).
void join_across_hubs(const std::vector<GreenletHandle>& greenlets, Deadline deadline) {
    auto finished = std::make_shared<Queue<GreenletHandle>>();
    std::vector<GreenletHandle::LinkId> links;
    links.reserve(greenlets.size());
    struct Unlink {
        const std::vector<GreenletHandle>& gs;
        std::vector<GreenletHandle::LinkId>& ids;
        ~Unlink() {
            for (std::size_t i = 0; i < ids.size(); ++i) gs[i].unlink(ids[i]);
        }
    } unlink{greenlets, links};
    for (const auto& g : greenlets)
        links.push_back(g.link([finished](const GreenletHandle& h) { finished->put(h); }));
    for (std::size_t left = greenlets.size(); left > 0; --left) {
        std::optional<GreenletHandle> g = finished->try_get(deadline);
        if (!g) return;
        if (auto& error = detail::core_of(*g).exception()) std::rethrow_exception(error);
    }
}

}  // namespace

std::vector<GreenletHandle> joinall(const std::vector<GreenletHandle>& greenlets, Deadline deadline,
                                    bool raise_error) {
    const bool across_hubs = std::any_of(greenlets.begin(), greenlets.end(), [](const auto& g) {
        return g && detail::is_remote(detail::core_of(g));
    });
    if (raise_error && across_hubs) {
        join_across_hubs(greenlets, deadline);
    } else if (raise_error) {
        std::vector<WaitableRef> refs(greenlets.begin(), greenlets.end());
        IWait it(refs, deadline);
        while (Waitable* w = it.next()) {
            auto& core = static_cast<detail::GreenletCore&>(*w);
            if (core.exception()) std::rethrow_exception(core.exception());
        }
    } else {
        for (const auto& g : greenlets)
            if (!g.join(deadline)) break;
    }
    std::vector<GreenletHandle> done;
    for (const auto& g : greenlets)
        if (g.ready()) done.push_back(g);
    return done;
}

void killall(const std::vector<GreenletHandle>& greenlets, bool block, Deadline deadline) {
    for (const auto& g : greenlets) g.kill(false);
    if (!block) return;
    for (const auto& g : greenlets)
        if (!g.join(deadline)) break;
}

}  // namespace green
