// Stack overflow reporting for fibers: the process-wide SIGSEGV handler on a per-hub alternate
// signal stack, and the named report shared with the canary check.
#include "overflow_guard.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "config.hpp"
#include "scheduler.hpp"

namespace green::detail {

namespace {

constexpr std::size_t kAltStackSize = 64 * 1024;
struct sigaction g_previous;

void write_report(const Fiber& f) noexcept {
    char buf[256];
    // name() may allocate; we are about to abort, and a name is worth the risk.
    std::string name = f.name();
    int n = std::snprintf(buf, sizeof buf,
                          "green: stack overflow in fiber '%s' (stack size %zu bytes); "
                          "raise it with SpawnOptions::stack_size or GREEN_STACK_SIZE\n",
                          name.c_str(), static_cast<std::size_t>(f.stack().size));
    if (n > 0)
        (void)!::write(2, buf, static_cast<std::size_t>(n) < sizeof buf ? n : sizeof buf - 1);
}

// The interrupted code's stack pointer, or 0 where we do not know how to read it.
std::uintptr_t interrupted_sp(void* uctx) noexcept {
    const auto* uc = static_cast<const ucontext_t*>(uctx);
#if defined(__x86_64__)
    return static_cast<std::uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);
#elif defined(__aarch64__)
    return static_cast<std::uintptr_t>(uc->uc_mcontext.sp);
#else
    (void)uc;
    return 0;
#endif
}

// Did the running fiber overflow its stack? Either the fault is in the page right below its
// stack (its guard page, or where a canary-only stack ends), or its stack pointer is below
// its stack: a frame ran past the end (through its neighbours, on a stack without a guard
// page, until the chunk's guard page stopped it; or in one jump, for a frame larger than a
// page) and then faulted anywhere.
bool overflowed(const Fiber& f, const void* fault, std::uintptr_t sp) noexcept {
    const auto base = reinterpret_cast<std::uintptr_t>(f.stack().base);
    if (!base) return false;  // the thread's own stack: the kernel's business
    const auto addr = reinterpret_cast<std::uintptr_t>(fault);
    if (addr < base && addr >= base - StackPool::page_size()) return true;
    // A stack pointer far below (more than the largest stack) is some other stack: a signal
    // handler on an alternate stack, say.
    return sp && sp < base && base - sp <= kMaxStackSize;
}

void on_segv(int sig, siginfo_t* info, void* uctx) {
    Hub* hub = Hub::peek();
    if (hub && hub->current() && overflowed(*hub->current(), info->si_addr, interrupted_sp(uctx))) {
        write_report(*hub->current());
        ::signal(SIGABRT, SIG_DFL);
        std::abort();
    }
    // Not ours: hand over to whatever was installed before, or die the default way.
    if (g_previous.sa_flags & SA_SIGINFO) {
        if (g_previous.sa_sigaction) return g_previous.sa_sigaction(sig, info, uctx);
    } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
        return g_previous.sa_handler(sig);
    }
    ::signal(sig, SIG_DFL);  // returning re-executes the fault, now fatal
}

}  // namespace

void install_overflow_guard(void** alt_stack_out) {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction sa;
        std::memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = &on_segv;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        ::sigaction(SIGSEGV, &sa, &g_previous);
    });
    stack_t current;
    if (::sigaltstack(nullptr, &current) == 0 && !(current.ss_flags & SS_DISABLE)) return;
    void* mem =
        ::mmap(nullptr, kAltStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return;
    stack_t ss{};
    ss.ss_sp = mem;
    ss.ss_size = kAltStackSize;
    if (::sigaltstack(&ss, nullptr) == 0) {
        *alt_stack_out = mem;
    } else {
        ::munmap(mem, kAltStackSize);
    }
}

void release_alt_stack(void* alt_stack) noexcept {
    if (!alt_stack) return;
    stack_t ss{};
    ss.ss_flags = SS_DISABLE;
    ::sigaltstack(&ss, nullptr);
    ::munmap(alt_stack, kAltStackSize);
}

void report_overflow(const Fiber& f) noexcept {
    write_report(f);
    ::signal(SIGABRT, SIG_DFL);
    std::abort();
}

}  // namespace green::detail
