// The calling thread's hub pointer and the one field of a Hub that inline code in public headers
// reads without seeing the Hub's definition (runtime/src/scheduler.hpp): its running fiber.
#pragma once

namespace green::detail {

class Fiber;
class Hub;

// The calling thread's hub, or nullptr (hub.cpp).
extern thread_local constinit Hub* t_hub __attribute__((tls_model("initial-exec")));

// Hub's first base class, so that it sits at the Hub's own address (hub.cpp checks it).
struct HubHead {
    Fiber* current_;
};

// The fiber running on this thread; nullptr before the thread has a hub. Inline: the queues
// ask it on every wait, to choose between a stack and a heap waiter (compact fibers).
inline const Fiber* running_fiber() noexcept {
    Hub* hub = t_hub;
    return hub ? reinterpret_cast<const HubHead*>(hub)->current_ : nullptr;
}

// The same where the thread has a hub for certain: after HubAffinity::local() (which makes one).
inline const Fiber* hub_running_fiber() noexcept {
    return reinterpret_cast<const HubHead*>(t_hub)->current_;
}

}  // namespace green::detail
