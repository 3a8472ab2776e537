// 10,000 concurrent connections on one hub: the server runs here, the clients in a child
// process (each end needs one descriptor per connection and the hard limit is per process).
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <green/green.hpp>

#include "support/child_process.hpp"
#include "support/fd_limit.hpp"

using namespace std::chrono_literals;

TEST(Scale, TenThousandConcurrentConnections) {
    const int count = green_test::raise_fd_limit(10000, 100);
    ASSERT_GT(count, 1000);

    int active = 0, peak = 0, served = 0;
    green::ServerOptions opts;
    opts.backlog = 4096;
    opts.handler_stack_size = 64 * 1024;
    green::StreamServer server(
        green::Address("127.0.0.1", 0),
        [&](green::Socket& c, const green::Address&) {
            ++active;
            peak = std::max(peak, active);
            green::LineReader r(c);
            std::string line = r.readline();
            for (auto& ch : line) ch = static_cast<char>(std::toupper(ch));
            c.sendall(line);
            ++served;
            c.recv();  // until the client hangs up
            --active;
        },
        opts);
    server.start();

    const std::string port = std::to_string(server.address().port());
    const std::string n = std::to_string(count);
    const char* argv[] = {NET_MANY_CLIENTS, "127.0.0.1", port.c_str(), n.c_str(), nullptr};
    pid_t pid = -1;
    ASSERT_EQ(
        ::posix_spawn(&pid, NET_MANY_CLIENTS, nullptr, nullptr, const_cast<char**>(argv), environ),
        0);
    const int code = green_test::wait_exit(pid, 200s);
    EXPECT_EQ(code, 0) << (code < 0 ? "client process did not finish in time"
                                    : "client process failed");
    EXPECT_EQ(served, count);
    EXPECT_EQ(peak, count) << "not all connections were open at the same time";
    for (int i = 0; i < 2000 && active > 0; ++i) green::sleep(5ms);
    EXPECT_EQ(active, 0);
    server.stop();
}
