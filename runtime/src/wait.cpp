// Waiting on many things at once: iwait/wait over any Waitable, and joinall/killall for
// greenlets, as in gevent's module functions.
#include <green/greenlet.hpp>
#include <green/queue.hpp>

#include <algorithm>
#include <memory>
#include <optional>

namespace green {

struct IWait::State {
    std::vector<Waitable*> objects;
    std::vector<std::unique_ptr<LinkNode>> nodes;
    std::vector<Waitable*> ready;
    std::size_t taken = 0;
    std::size_t count;
    Deadline deadline;
    WaitQueue wakeup;
};

IWait::IWait(const std::vector<WaitableRef>& objects, Deadline deadline, std::size_t count)
    : s_(std::make_unique<State>()) {
    s_->count = count;
    s_->deadline = deadline;
    s_->objects.reserve(objects.size());
    s_->nodes.reserve(objects.size());
    for (const auto& ref : objects) {
        Waitable* w = ref.get();
        s_->objects.push_back(w);
        s_->nodes.push_back(std::make_unique<LinkNode>(&IWait::on_ready, s_.get()));
        if (w->ready())
            s_->ready.push_back(w);
        else
            w->rawlink(*s_->nodes.back());
    }
}

IWait::~IWait() {
    for (std::size_t i = 0; i < s_->objects.size(); ++i)
        if (s_->nodes[i]->linked) s_->objects[i]->unlink(*s_->nodes[i]);
}

void IWait::on_ready(LinkNode& node, Waitable& source) {
    auto* s = static_cast<State*>(node.arg);
    s->ready.push_back(&source);
    s->wakeup.notify_one();
}

Waitable* IWait::next() {
    State& s = *s_;
    if (s.taken >= s.count || s.taken >= s.objects.size()) return nullptr;
    while (s.taken >= s.ready.size()) {
        if (!s.wakeup.wait(s.deadline)) {
            if (s.taken >= s.ready.size()) return nullptr;
        }
    }
    return s.ready[s.taken++];
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
