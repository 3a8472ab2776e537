// The seed's IO-multiplexing servers (plain C: select, poll, epoll, and select on two ports),
// each run natively and under greenrun with the same real clients: 500 hello_clients at once
// for the three single-port servers, a scripted pair of clients for the two-port one. What
// they print must be the same in both runs (client ports aside; the order of 500 concurrent
// clients' lines is the kernel's, so those are compared sorted).
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <green/green.hpp>

#include "support/child_process.hpp"

using namespace std::chrono_literals;
using green_test::Child;

namespace {

std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

long count(const std::vector<std::string>& ls, const std::string& line) {
    return std::count(ls.begin(), ls.end(), line);
}

std::vector<std::string> with(std::vector<std::string> shim, std::vector<std::string> args) {
    shim.insert(shim.end(), args.begin(), args.end());
    return shim;
}

// The shims a test runs its program under: none, and greenrun (not under ASan).
std::vector<std::vector<std::string>> shims() {
#ifdef GREEN_SANITIZED
    return {{}};
#else
    return {{}, {GREENRUN, "--"}};
#endif
}

struct Outputs {
    std::vector<std::string> server, clients;  // sorted, the client ports blanked
};

// One server run serving 500 clients of 2 messages each, then exiting (its output after the
// "listening on port N" line).
Outputs serve_hello_clients(const std::vector<std::string>& shim, const std::string& server_path) {
    Child server(with(shim, {server_path, "127.0.0.1", "0", "500"}));
    const std::string port = server.expect("^listening on port (\\d+)$")[1];
    Child clients({HELLO_CLIENTS, "127.0.0.1", port, "500", "2"});
    Outputs run;
    run.clients = lines(clients.rest(60s));
    EXPECT_EQ(clients.wait(60s), 0);
    const std::string out = server.rest(60s);
    EXPECT_EQ(server.wait(60s), 0);
    static const std::regex peer(R"(^Connect from \('127\.0\.0\.1', \d+\)$)");
    for (auto& l : lines(out))
        run.server.push_back(std::regex_replace(l, peer, "Connect from ('127.0.0.1', PORT)"));
    std::sort(run.server.begin(), run.server.end());
    std::sort(run.clients.begin(), run.clients.end());
    return run;
}

class MultiplexServers : public testing::TestWithParam<const char*> {};

TEST_P(MultiplexServers, FiveHundredClientsSameOutputNativelyAndUnderGreenrun) {
    std::vector<Outputs> runs;
    for (const auto& shim : shims()) runs.push_back(serve_hello_clients(shim, GetParam()));
    const Outputs& native = runs.front();
    EXPECT_EQ(count(native.server, "Connect from ('127.0.0.1', PORT)"), 500);
    EXPECT_EQ(count(native.server, "say hello 0"), 500);
    EXPECT_EQ(count(native.server, "say hello 1"), 500);
    EXPECT_EQ(count(native.server, "served 500 clients, 1000 messages"), 1);
    EXPECT_EQ(native.server.size(), 1501u);
    EXPECT_EQ(count(native.clients, "SAY HELLO 0"), 500);
    EXPECT_EQ(count(native.clients, "SAY HELLO 1"), 500);
    EXPECT_EQ(count(native.clients, "500 clients: 1000 replies, 0 errors"), 1);
    for (std::size_t i = 1; i < runs.size(); ++i) {
        EXPECT_EQ(runs[i].server, native.server) << "server output under greenrun";
        EXPECT_EQ(runs[i].clients, native.clients) << "client output under greenrun";
    }
}

INSTANTIATE_TEST_SUITE_P(Examples, MultiplexServers,
                         testing::Values(SELECT_SERVER, POLL_SERVER, EPOLL_SERVER),
                         [](const auto& info) {
                             const std::string path = info.param;
                             return path.substr(path.rfind('/') + 1);
                         });

// The seed's two-port select server, driven one step at a time so that its output is fixed.
std::string two_ports_session(const std::vector<std::string>& shim) {
    Child server(with(shim, {SELECT_TWO_PORTS, "127.0.0.1", "0", "0", "2"}));
    const auto m = server.expect("^listening on ports (\\d+) and (\\d+)$");
    const auto p1 = static_cast<std::uint16_t>(std::stoi(m[1]));
    const auto p2 = static_cast<std::uint16_t>(std::stoi(m[2]));
    const std::string sep = "^-+分割线-+$";
    green::Socket a = green::create_connection("127.0.0.1", p1, 5s);
    server.expect(sep);
    a.sendall("hello from a");
    EXPECT_EQ(a.recv_exact(2), "ok");
    green::Socket b = green::create_connection("127.0.0.1", p2, 5s);
    server.expect("^新连接： \\('127\\.0\\.0\\.1', " + std::to_string(p2) + "\\)$");
    b.sendall("hello from b");
    EXPECT_EQ(b.recv_exact(2), "ok");
    a.sendall("again");
    EXPECT_EQ(a.recv_exact(2), "ok");
    a.close();
    server.expect("^空消息$");
    server.expect(sep);
    b.close();
    server.rest(10s);
    std::string out = server.output();  // everything it printed
    EXPECT_EQ(server.wait(), 0);
    out = std::regex_replace(out, std::regex("\\b" + std::to_string(p1) + "\\b"), "P1");
    return std::regex_replace(out, std::regex("\\b" + std::to_string(p2) + "\\b"), "P2");
}

TEST(SelectTwoPorts, PrintsTheSeedsLinesNativelyAndUnderGreenrun) {
    const std::string sep = "----------------------------分割线-----------------------------\n";
    const std::string expected =
        "listening on ports P1 and P2\n"
        "新连接： ('127.0.0.1', P1)\n" +
        sep + "hello from a\n" + sep + "新连接： ('127.0.0.1', P2)\n" + sep + "hello from b\n" +
        sep + "again\n" + sep + "空消息\n" + sep + "空消息\n" + sep + "served 2 clients\n";
    for (const auto& shim : shims())
        EXPECT_EQ(two_ports_session(shim), expected) << (shim.empty() ? "native" : "greenrun");
}

}  // namespace
