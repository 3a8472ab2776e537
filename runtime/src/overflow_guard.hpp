// Stack overflow reporting: a SIGSEGV handler (on an alternate signal stack) that recognises a
// fiber that ran off its stack (a fault in its guard page, or its stack pointer below its
// stack), and the canary check for stacks without a guard page. Both name the fiber and abort
// instead of letting corrupted memory run on.
#pragma once

namespace green::detail {

class Fiber;

// Installs the process-wide handler (once) and this thread's alternate signal stack.
void install_overflow_guard(void** alt_stack_out);
void release_alt_stack(void* alt_stack) noexcept;
[[noreturn]] void report_overflow(const Fiber& f) noexcept;

}  // namespace green::detail
