// How a greenlet's stack is kept: a stack of its own (the default), or compact — it runs on its
// hub's shared run stack, and while it is switched out only the part it used is kept, copied out
// to a heap buffer sized to fit (greenlet's and libco's "copy stack"). For many idle fibers.
#pragma once

#include <cstdint>

namespace green {

// Chosen per greenlet (SpawnOptions::stack_mode, ServerOptions::handler_stack_mode); Unset takes
// GREEN_STACK_MODE (compact or default; default when unset).
//
// Compact fibers cost about 1.4 KB each while parked instead of a 4 KiB stack page, and pay a
// copy of their used stack at each switch out and back in. The rule they
// must keep: while a compact fiber is switched out (waiting, yielding), its stack is not where
// its addresses say — another compact fiber runs there. So no other fiber may use a pointer to
// an object on a compact fiber's stack while that fiber is switched out (do not hand `&local`
// to another greenlet and then wait; put shared objects on the heap or in a longer-lived
// object). Debug and sanitizer builds detect a write into a switched-out compact fiber's stack
// made while no other compact fiber runs there, and abort with a message naming the fiber (a
// write while another one runs there lands in that one's frames and is not detected). The runtime
// itself keeps every record that lives across a wait (wait-queue nodes, select branches, iwait
// state, timers, I/O operations, copy_file_range's offsets) off compact stacks. Their stack size
// is the hub's default stack size, shared by all compact fibers of the hub. The run info shows a
// parked compact fiber's backtrace, unwound from its copied-out image.
enum class StackMode : std::uint8_t {
    Unset,    // GREEN_STACK_MODE decides
    Default,  // a stack of its own
    Compact,  // the hub's shared run stack, copied out while switched out
};

}  // namespace green
