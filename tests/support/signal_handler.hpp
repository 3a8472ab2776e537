// A signal handler installed for one scope: sigaction with an empty mask and the given flags on
// construction, SIG_DFL again on destruction.
#pragma once

#include <signal.h>

#include <gtest/gtest.h>

namespace green_test {

struct SignalHandler {
    int sig;
    SignalHandler(int s, void (*fn)(int), int flags = 0) : sig(s) {
        struct sigaction sa {};
        sa.sa_handler = fn;
        sa.sa_flags = flags;
        sigemptyset(&sa.sa_mask);
        EXPECT_EQ(::sigaction(sig, &sa, nullptr), 0);
    }
    SignalHandler(const SignalHandler&) = delete;
    SignalHandler& operator=(const SignalHandler&) = delete;
    ~SignalHandler() { ::signal(sig, SIG_DFL); }
};

}  // namespace green_test
