// Waitable: anything that becomes ready once and can tell its observers (a Greenlet finishing,
// an Event being set). green::wait / iwait / joinall work on any mix of them.
#pragma once

#include "green/detail/intrusive_list.hpp"

namespace green {

class Waitable;

// An observer hooked onto a Waitable. Intrusive: the observer owns the node and must unlink
// it before the node dies. `fire` runs on the hub thread and must not block.
struct LinkNode {
    using Fire = void (*)(LinkNode& self, Waitable& source);
    explicit LinkNode(Fire f, void* a = nullptr) noexcept : fire(f), arg(a) {}
    LinkNode(const LinkNode&) = delete;
    LinkNode& operator=(const LinkNode&) = delete;

    Fire fire;
    void* arg;
    LinkNode* prev = nullptr;
    LinkNode* next = nullptr;
    bool linked = false;
};

// A FIFO of LinkNodes with the bookkeeping every Waitable needs.
class LinkList {
  public:
    void push(LinkNode& n) noexcept { nodes_.push_back(n); }
    void remove(LinkNode& n) noexcept { nodes_.remove(n); }
    // Unlinks each node, then fires it; nodes linked while firing are kept for the next call.
    void fire_all(Waitable& source);
    bool empty() const noexcept { return nodes_.empty(); }
    LinkNode* front() const noexcept { return nodes_.front(); }  // then node->next

  private:
    detail::IntrusiveFifo<LinkNode> nodes_;  // one pointer: in every greenlet and event
};

class Waitable {
  public:
    virtual ~Waitable() = default;
    virtual bool ready() const noexcept = 0;
    // Fires `node` once when this becomes ready. Callers check ready() first.
    virtual void rawlink(LinkNode& node) = 0;
    virtual void unlink(LinkNode& node) noexcept = 0;
};

}  // namespace green
