// The seed's socketserver servers with real callers: 20 calls at once through the whole 10086
// dialogue, then 10 callers holding the line. The threading server gets a thread per caller
// natively and stays on a few OS threads under greenrun; the forking server gets a process per
// caller and reaps every one of them as it ends, natively and under greenrun (no child left,
// zombie or not, in /proc). Both print the same lines either way.
#include <gtest/gtest.h>

#include <dirent.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <green/green.hpp>

#include "support/child_process.hpp"

using namespace std::chrono_literals;
using green_test::Child;

namespace {

const std::string greeting = "欢迎致电10086，请输入1XXX，0转人工服务。";
const std::string recording = "您的通话可能会被录音。。。";
const std::string again = "请重新输入。";

green::Socket dial(std::uint16_t port) {
    green::Socket s = green::create_connection("127.0.0.1", port, 5s);
    s.settimeout(10s);
    EXPECT_EQ(s.recv_exact(greeting.size()), greeting);
    return s;
}

// The seed client's dialogue: "0", something else, then "exit" (the server hangs up).
void talk(green::Socket& s) {
    s.sendall("0");
    EXPECT_EQ(s.recv_exact(recording.size()), recording);
    s.sendall("1234");
    EXPECT_EQ(s.recv_exact(again.size()), again);
    s.sendall("exit");
    EXPECT_EQ(s.recv(), "");
}

int os_threads(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
    return -1;
}

// The children of `pid` in /proc, each as "PID:STATE" (Z: a zombie).
std::vector<std::string> children_of(pid_t pid) {
    std::vector<std::string> out;
    DIR* proc = ::opendir("/proc");
    while (const dirent* e = ::readdir(proc)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        std::ifstream in(std::string("/proc/") + e->d_name + "/stat");
        std::string stat;
        std::getline(in, stat);
        const auto close = stat.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(stat.substr(close + 2));
        std::string state;
        pid_t ppid = 0;
        rest >> state >> ppid;
        if (ppid == pid) out.push_back(std::string(e->d_name) + ":" + state);
    }
    ::closedir(proc);
    return out;
}

std::vector<std::string> children_after(pid_t pid, std::size_t want, green::Duration limit) {
    const green::Deadline deadline(limit);
    auto kids = children_of(pid);
    while (kids.size() != want && !deadline.expired()) {
        green::sleep(20ms);
        kids = children_of(pid);
    }
    return kids;
}

struct Case {
    const char* program;
    bool greenrun;
};

void PrintTo(const Case& c, std::ostream* os) {
    *os << c.program << (c.greenrun ? " under greenrun" : "");
}

class SocketServers : public testing::TestWithParam<Case> {};

TEST_P(SocketServers, ConcurrentCallersThenStop) {
    const auto [program, under_greenrun] = GetParam();
#ifdef GREEN_SANITIZED
    if (under_greenrun) GTEST_SKIP() << "greenrun cannot preload into ASan";
#endif
    const bool forking = std::string(program) == FORKING_TCP_SERVER;
    std::vector<std::string> args;
    if (under_greenrun) args = {GREENRUN, "--"};
    for (std::string a : {std::string(program), std::string("127.0.0.1"), std::string("0")})
        args.push_back(a);
    Child server(args);
    const auto port =
        static_cast<std::uint16_t>(std::stoi(server.expect("^listening on port (\\d+)$")[1]));

    std::vector<green::GreenletHandle> calls;
    for (int i = 0; i < 20; ++i)
        calls.push_back(green::spawn([port] {
            green::Socket s = dial(port);
            talk(s);
        }));
    green::joinall(calls);

    std::vector<green::Socket> held;
    for (int i = 0; i < 10; ++i) held.push_back(dial(port));
    if (forking) {
        EXPECT_EQ(children_after(server.pid(), 10, 5s).size(), 10u);  // one per caller
    } else {
        const int threads = os_threads(server.pid());
        if (under_greenrun)
            EXPECT_LE(threads, 4) << "OS threads with 10 callers on the line";
        else
            EXPECT_GE(threads, 11);
    }
    for (int i = 0; i < 9; ++i) talk(held[i]);
    if (forking) {
        talk(held[9]);
        // Every child ended and was reaped by the SIGCHLD handler: none is left, not even a zombie.
        const auto kids = children_after(server.pid(), 0, 5s);
        EXPECT_TRUE(kids.empty()) << "children left: " << testing::PrintToString(kids);
    }

    server.signal(SIGTERM);
    const std::string stop =
        forking ? "^server stopped after 30 connections, 30 of 30 children reaped$"
                : "^server stopped after 30 connections \\(1 still open were closed\\)$";
    server.expect(stop);
    if (!forking) {
        EXPECT_EQ(held[9].recv(), "");  // shut down by the server on its way out
    }
    EXPECT_EQ(server.wait(), 0);
    const std::string out = server.output();
    const std::regex connected(R"(\('127\.0\.0\.1', \d+\) connected)");
    const std::regex hung_up(R"(\('127\.0\.0\.1', \d+\) hung up)");
    EXPECT_EQ(std::distance(std::sregex_iterator(out.begin(), out.end(), connected), {}), 30)
        << out;
    EXPECT_EQ(std::distance(std::sregex_iterator(out.begin(), out.end(), hung_up), {}), 30) << out;
}

INSTANTIATE_TEST_SUITE_P(
    Examples, SocketServers,
    testing::Values(Case{THREADING_TCP_SERVER, false}, Case{THREADING_TCP_SERVER, true},
                    Case{FORKING_TCP_SERVER, false}, Case{FORKING_TCP_SERVER, true}),
    [](const auto& info) {
        const std::string path = info.param.program;
        return path.substr(path.rfind('/') + 1) + (info.param.greenrun ? "_greenrun" : "_native");
    });

}  // namespace
