// How the hub enters Boost.Context's jump_fcontext. jump_fcontext leaves through an indirect
// jmp, so entering it with a `call` pushes a return-stack-buffer entry that no `ret` pops: after
// every switch the CPU predicts each `ret` from a stale entry, and mispredicts.
#pragma once

#include <boost/context/detail/fcontext.hpp>

namespace green::detail {

// Same contract as jump_fcontext(to, vp); Boost.Context still does the switch. On x86-64 the
// return address is pushed by hand and jump_fcontext is entered with a jmp: no return-stack
// entry is made, so the resumed fiber's `ret`s are predicted from the entries its peer pushed on
// its way into the switch — right whenever both took the same path (fibers running the same
// code, parked at the same call sites). bench/core: two fibers yielding to each other went from
// 38.8 to 14.5 ns per round (README, "Decisions changed").
inline boost::context::detail::transfer_t jump_context(boost::context::detail::fcontext_t to,
                                                       void* vp) noexcept {
#if defined(__x86_64__) && defined(__linux__)
    register void* rdi asm("rdi") = to;
    register void* rsi asm("rsi") = vp;
    register void* rax asm("rax");
    register void* rdx asm("rdx");
    // The 128 bytes step over the red zone: as far as the compiler knows, the enclosing function
    // may be a leaf keeping data below %rsp. jump_fcontext saves rbx, rbp, r12-r15, MXCSR and the
    // x87 control word; everything else is clobbered, as by a call (the resumed side arrives
    // with its resumer's values in those registers).
    asm volatile(
        "leaq -128(%%rsp), %%rsp\n\t"
        "leaq 1f(%%rip), %%rcx\n\t"
        "pushq %%rcx\n\t"
        "jmp jump_fcontext@PLT\n\t"
        "1:\n\t"
        "leaq 128(%%rsp), %%rsp\n\t"
        : "=r"(rax), "=r"(rdx), "+r"(rdi), "+r"(rsi)
        :
        : "rcx", "r8", "r9", "r10", "r11", "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
          "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
          "xmm15",
#if defined(__AVX512F__)
          "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25",
          "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31", "k0", "k1", "k2", "k3", "k4", "k5",
          "k6", "k7",
#endif
          "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)", "mm0", "mm1", "mm2",
          "mm3", "mm4", "mm5", "mm6", "mm7");
    return {rax, rdx};
#else
    return boost::context::detail::jump_fcontext(to, vp);
#endif
}

}  // namespace green::detail
