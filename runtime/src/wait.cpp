// Waiting on many things at once: iwait/wait over any Waitable, and joinall/killall for
// greenlets, as in gevent's module functions.
#include <green/greenlet.hpp>

namespace green {

IWait::IWait(const std::vector<WaitableRef>& objects, Deadline deadline, std::size_t count)
    : count_(count), deadline_(deadline) {
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

std::vector<GreenletHandle> joinall(const std::vector<GreenletHandle>& greenlets, Deadline deadline,
                                    bool raise_error) {
    if (raise_error) {
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
