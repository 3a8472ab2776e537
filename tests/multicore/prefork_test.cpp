// green::prefork with real processes: the workers answer on the shared port, a worker killed
// with SIGKILL is replaced (a new pid answers), SIGTERM to the master stops every worker and the
// master exits 0, a dead master takes its workers with it, and prefork refuses to fork a process
// in which a hub exists.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <green/green.hpp>
#include <set>
#include <string>

using namespace std::chrono_literals;
using green::Address;
using green::Socket;

namespace {

namespace fs = std::filesystem;

// The parent pid and state of `pid` from /proc, or {0, 0} when it is gone.
std::pair<pid_t, char> proc_stat(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(f, stat)) return {0, 0};
    const auto close = stat.rfind(')');
    if (close == std::string::npos || close + 4 > stat.size()) return {0, 0};
    const char state = stat[close + 2];
    return {static_cast<pid_t>(std::atol(stat.c_str() + close + 4)), state};
}

// Gone, or a zombie nobody reaps (an init that does not reap, in a container).
bool gone(pid_t pid) {
    const auto [ppid, state] = proc_stat(pid);
    return ppid == 0 || state == 'Z';
}

bool wait_gone(pid_t pid) {
    for (int i = 0; i < 2000 && !gone(pid); ++i) green::sleep(5ms);
    return gone(pid);
}

std::set<pid_t> children_of(pid_t parent) {
    std::set<pid_t> out;
    for (auto& e : fs::directory_iterator("/proc")) {
        const std::string name = e.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        const pid_t pid = std::atoi(name.c_str());
        const auto [ppid, state] = proc_stat(pid);
        if (ppid == parent && state != 'Z') out.insert(pid);
    }
    return out;
}

// The pid a worker answers with, or 0.
pid_t ask_pid(int port) {
    try {
        Socket c = Socket::tcp();
        c.connect(Address("127.0.0.1", static_cast<std::uint16_t>(port)), green::Deadline(10s));
        std::string answer;
        while (true) {
            std::string part = c.recv(64, green::Deadline(10s));
            if (part.empty()) break;
            answer += part;
        }
        return static_cast<pid_t>(std::atol(answer.c_str()));
    } catch (const std::exception&) {
        return 0;
    }
}

class Prefork : public testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("green-prefork-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
        const std::string portfile = dir_ / "port";
        master_ = std::make_unique<green::Popen>(
            std::vector<std::string>{PREFORK_SERVER, portfile, "2"},
            green::subprocess::Options{.err = green::subprocess::PIPE});
        for (int i = 0; i < 2000 && !fs::exists(portfile); ++i) green::sleep(5ms);
        std::ifstream(portfile) >> port_;
        ASSERT_GT(port_, 0);
    }
    void TearDown() override {
        if (master_ && !master_->returncode()) {
            master_->kill();
            master_->wait(green::Deadline(30s));
        }
        fs::remove_all(dir_);
    }

    // Asks until `want` distinct workers answered (bounded); returns them. The asks are spaced
    // out: a worker that has just accepted is the first to wait again, and one asker making
    // back-to-back connections would mostly reach it.
    std::set<pid_t> workers_answering(std::size_t want) {
        std::set<pid_t> seen;
        for (int i = 0; i < 2000 && seen.size() < want; ++i) {
            if (pid_t p = ask_pid(port_)) seen.insert(p);
            green::sleep(5ms);
        }
        return seen;
    }

    fs::path dir_;
    std::unique_ptr<green::Popen> master_;
    int port_ = 0;
};

TEST_F(Prefork, KilledWorkerIsReplacedAndSigtermStopsAll) {
    const pid_t master = master_->pid();
    const std::set<pid_t> first = workers_answering(2);
    ASSERT_EQ(first.size(), 2u);
    for (pid_t w : first) EXPECT_EQ(proc_stat(w).first, master) << w;
    EXPECT_EQ(children_of(master), first);

    const pid_t victim = *first.begin();
    ASSERT_EQ(::kill(victim, SIGKILL), 0);
    ASSERT_TRUE(wait_gone(victim));
    // A new worker answers; the master keeps two.
    pid_t replacement = 0;
    for (int i = 0; i < 2000 && !replacement; ++i) {
        const pid_t p = ask_pid(port_);
        if (p && !first.count(p)) replacement = p;
        green::sleep(5ms);
    }
    ASSERT_NE(replacement, 0);
    EXPECT_EQ(proc_stat(replacement).first, master);
    std::set<pid_t> now;
    for (int i = 0; i < 400 && (now = children_of(master)).size() != 2; ++i) green::sleep(5ms);
    EXPECT_EQ(now.size(), 2u);
    EXPECT_EQ(now.count(victim), 0u);

    ASSERT_EQ(::kill(master, SIGTERM), 0);
    auto [out, err] = master_->communicate({}, green::Deadline(30s));
    EXPECT_EQ(master_->returncode(), 0) << err;
    EXPECT_NE(err.find("was killed by signal 9"), std::string::npos) << err;
    for (pid_t w : now) EXPECT_TRUE(gone(w)) << w;  // reaped by the master before it exited
    EXPECT_EQ(ask_pid(port_), 0);                   // nobody listens any more
}

TEST_F(Prefork, WorkersDieWithTheirMaster) {
    const std::set<pid_t> workers = workers_answering(2);
    ASSERT_EQ(workers.size(), 2u);
    ASSERT_EQ(::kill(master_->pid(), SIGKILL), 0);
    master_->wait(green::Deadline(30s));
    for (pid_t w : workers) EXPECT_TRUE(wait_gone(w)) << w;
}

TEST(PreforkRefuses, WhenAHubExistsOrNoWorker) {
    green::sleep(0ms);  // this thread's hub now exists
    Socket l = Socket::tcp();
    l.bind(Address("127.0.0.1", 0));
    l.listen();
    EXPECT_THROW(green::prefork(2, std::move(l), [](Socket) {}), std::logic_error);
    EXPECT_THROW(green::prefork(0, Address("127.0.0.1", 0), [](Socket) {}), std::invalid_argument);
    Socket unbound = Socket::tcp();
    EXPECT_THROW(green::prefork(1, std::move(unbound), [](Socket) {}), std::invalid_argument);
}

}  // namespace
