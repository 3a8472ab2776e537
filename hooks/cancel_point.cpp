// The bridge from the I/O and sleep hooks' cancellation points to the thread hooks'
// cancellation (thread_hooks.cpp), and the state they share.
#include "cancel_point.hpp"

#include "fiber_thread.hpp"

namespace green::hooks::cancel {

std::atomic<bool> g_fiber_threads{false};
std::atomic<unsigned> g_pending{0};
constinit thread_local Scope* t_scopes = nullptr;

void act_on_request() {
    threads::test_cancel();
}

}  // namespace green::hooks::cancel
