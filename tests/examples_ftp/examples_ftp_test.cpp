// The FTP servers driven by real clients: curl's FTP client (download, upload, listings, -Q
// commands, 50 transfers at once checked byte for byte) and a raw control connection for the
// exact reply codes and the root confinement. Each test runs against the threaded server
// natively, the same binary under greenrun (where its 50 client threads must not be 50 OS
// threads) and the server written on green's API.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <green/green.hpp>

#include "support/child_process.hpp"
#include "support/command.hpp"
#include "support/files.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using green_test::Child;
using green_test::read_file;

namespace {

enum class Mode { Native, Greenrun, GreenApi };

std::string mode_name(const testing::TestParamInfo<Mode>& info) {
    switch (info.param) {
        case Mode::Native:
            return "ThreadedNative";
        case Mode::Greenrun:
            return "ThreadedUnderGreenrun";
        case Mode::GreenApi:
            return "GreenApi";
    }
    return "?";
}

// Test names end in the mode, not in gtest's bytes of the parameter.
void PrintTo(Mode m, std::ostream* os) {
    *os << static_cast<int>(m);
}

void write_file(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary) << bytes;
}

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

// curl to completion on an offload thread (popen blocks; the hub must not): stdout+stderr, status.
green_test::CommandRun curl(const std::string& args) {
    const std::string cmd = std::string(CURL) + " -sS --max-time 30 " + args + " 2>&1";
    return green::offload([cmd] { return green_test::run_command(cmd); });
}

// The OS threads of process `pid` (the Threads: line of /proc/PID/status).
int os_threads(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
    return -1;
}

// A control connection spoken by hand, for exact reply codes.
class Control {
  public:
    explicit Control(std::uint16_t port)
        : sock_(green::create_connection("127.0.0.1", port, 5s)), reader_(sock_) {
        sock_.settimeout(10s);
        EXPECT_EQ(code(reply()), 220);
    }
    // Sends one command; returns the final line of its reply ("250 ...").
    std::string cmd(const std::string& line) {
        sock_.sendall(line + "\r\n");
        return reply();
    }
    std::string reply() {
        std::string l = reader_.readline();
        // A multi-line reply "NNN-..." ends with a line "NNN ...".
        if (l.size() > 3 && l[3] == '-') {
            const std::string end = l.substr(0, 3) + " ";
            while (l.rfind(end, 0) != 0) l = reader_.readline();
        }
        while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();
        return l;
    }
    static int code(const std::string& reply) { return std::stoi(reply.substr(0, 3)); }
    void login(const std::string& user = "anonymous", const std::string& pass = "me@here") {
        EXPECT_EQ(code(cmd("USER " + user)), 331);
        EXPECT_EQ(code(cmd("PASS " + pass)), 230);
    }
    // EPSV, then `command` over the data connection: {final reply, the bytes that came}.
    std::pair<std::string, std::string> transfer(const std::string& command,
                                                 const std::string& upload = {}) {
        const std::string epsv = cmd("EPSV");
        EXPECT_EQ(code(epsv), 229) << epsv;
        const auto bar = epsv.find("|||");
        const auto port = static_cast<std::uint16_t>(std::stoi(epsv.substr(bar + 3)));
        green::Socket data = green::create_connection("127.0.0.1", port, 5s);
        data.settimeout(10s);
        const std::string first = cmd(command);
        if (code(first) != 150) return {first, {}};
        std::string got;
        if (!upload.empty()) {
            data.sendall(upload);
        } else {
            for (std::string chunk; !(chunk = data.recv()).empty();) got += chunk;
        }
        data.close();
        return {reply(), got};
    }

  private:
    green::Socket sock_;
    green::LineReader reader_;
};

class FtpServers : public testing::TestWithParam<Mode> {
  protected:
    void SetUp() override {
#ifdef GREEN_SANITIZED
        if (GetParam() == Mode::Greenrun) GTEST_SKIP() << "greenrun cannot preload into ASan";
#endif
        char tmpl[] = "/tmp/green_ftp_XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        base_ = tmpl;
        root_ = base_ / "root";
        outside_ = base_ / "outside";
        fs::create_directories(root_ / "sub");
        fs::create_directories(outside_);
        write_file(root_ / "hello.txt", "hello, ftp\nsecond line\n");
        write_file(root_ / "sub" / "inner.bin", random_bytes(300 * 1024, 1));
        write_file(outside_ / "secret.txt", "not for clients\n");
    }
    void TearDown() override {
        if (server_) {
            server_->signal(SIGTERM);
            server_->expect("server stopped");
            EXPECT_EQ(server_->wait(), 0) << server_->output();
        }
        if (!base_.empty()) fs::remove_all(base_);
    }

    void start(std::vector<std::string> extra = {}) {
        std::vector<std::string> args;
        if (GetParam() == Mode::Greenrun) args = {GREENRUN, "--"};
        args.push_back(GetParam() == Mode::GreenApi ? GREEN_FTP_SERVER : FTP_SERVER);
        for (std::string a : {"--host", "127.0.0.1", "--port", "0", "--root"}) args.push_back(a);
        args.push_back(root_.string());
        args.insert(args.end(), extra.begin(), extra.end());
        server_ = std::make_unique<Child>(args);
        port_ = static_cast<std::uint16_t>(
            std::stoi(server_->expect("^Listen the port (\\d+)\\.\\.\\.\\.$")[1]));
        url_ = "ftp://127.0.0.1:" + std::to_string(port_) + "/";
    }

    fs::path base_, root_, outside_;
    std::unique_ptr<Child> server_;
    std::uint16_t port_ = 0;
    std::string url_;
};

TEST_P(FtpServers, CurlDownloadsUploadsListsAndManages) {
    if (std::string(CURL).empty()) GTEST_SKIP() << "curl is not installed (.ci/setup installs it)";
    start();

    auto r = curl(url_ + "hello.txt");
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, "hello, ftp\nsecond line\n");
    server_->expect("^Connect from \\('127\\.0\\.0\\.1', \\d+\\)$");
    r = curl("-o " + (base_ / "inner.bin").string() + " " + url_ + "sub/inner.bin");
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(read_file(base_ / "inner.bin"), read_file(root_ / "sub" / "inner.bin"));
    r = curl("-I " + url_ + "sub/inner.bin");  // SIZE
    EXPECT_NE(r.out.find("Content-Length: 307200"), std::string::npos) << r.out;
    r = curl("--use-ascii " + url_ + "hello.txt");  // TYPE A: the same text after conversion
    EXPECT_EQ(r.out, "hello, ftp\nsecond line\n");

    // Upload, into the root and into a directory.
    const std::string up = random_bytes(200 * 1024, 2);
    write_file(base_ / "up.bin", up);
    r = curl("-T " + (base_ / "up.bin").string() + " " + url_);
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(read_file(root_ / "up.bin"), up);
    r = curl("-T " + (base_ / "up.bin").string() + " " + url_ + "sub/copy.bin");
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(read_file(root_ / "sub" / "copy.bin"), up);

    // Listings: names only (NLST) exactly, and the long form (LIST).
    r = curl("--list-only " + url_);
    EXPECT_EQ(r.out, "hello.txt\nsub\nup.bin\n");
    r = curl(url_ + "sub/");
    EXPECT_NE(r.out.find(" 307200 "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("inner.bin\n"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.rfind("-rw-", 0), 0u) << r.out;

    // -Q commands: MKD, DELE, RMD (the transfer after them is a listing of the root).
    r = curl("-Q 'MKD newdir' --list-only " + url_);
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_TRUE(fs::is_directory(root_ / "newdir"));
    EXPECT_NE(r.out.find("newdir\n"), std::string::npos);
    r = curl("-Q 'DELE up.bin' -Q 'RMD newdir' --list-only " + url_);
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(r.out, "hello.txt\nsub\n");
    EXPECT_FALSE(fs::exists(root_ / "up.bin"));
    r = curl("-Q 'DELE nothing.txt' --list-only " + url_);  // 550: curl says the quote failed
    EXPECT_EQ(r.status, 21) << r.out;
    r = curl(url_ + "missing.txt");
    EXPECT_EQ(r.status, 78) << r.out;  // remote file not found
}

TEST_P(FtpServers, ConfinedToTheRoot) {
    start();
    fs::create_symlink(outside_, root_ / "escape");
    fs::create_symlink(outside_ / "secret.txt", root_ / "secret_link");
    fs::create_symlink(outside_ / "new.txt", root_ / "dangling");
    fs::create_symlink(root_ / "hello.txt", root_ / "inside_link");

    Control c(port_);
    c.login();
    EXPECT_EQ(c.cmd("CWD ../../.."), "250 Directory changed to \"/\".");  // ".." stops at "/"
    EXPECT_EQ(c.cmd("PWD"), "257 \"/\" is the current directory");
    EXPECT_EQ(c.cmd("SIZE ../outside/secret.txt"),
              "550 /outside/secret.txt: No such file or directory");
    EXPECT_EQ(c.cmd("CWD escape"), "550 /escape: Permission denied (outside the served root)");
    EXPECT_EQ(c.cmd("SIZE secret_link"),
              "550 /secret_link: Permission denied (outside the served root)");
    EXPECT_EQ(c.cmd("SIZE escape/secret.txt"),
              "550 /escape/secret.txt: Permission denied (outside the served root)");
    EXPECT_EQ(c.transfer("RETR secret_link").first,
              "550 /secret_link: Permission denied (outside the served root)");
    EXPECT_EQ(c.transfer("LIST escape").first,
              "550 /escape: Permission denied (outside the served root)");
    EXPECT_EQ(c.transfer("STOR escape/x.txt", "x").first,
              "550 /escape: Permission denied (outside the served root)");
    EXPECT_EQ(c.transfer("STOR dangling", "x").first,
              "550 /dangling: Permission denied (outside the served root)");
    EXPECT_EQ(c.cmd("MKD escape/d"), "550 /escape: Permission denied (outside the served root)");
    EXPECT_FALSE(fs::exists(outside_ / "new.txt"));
    EXPECT_FALSE(fs::exists(outside_ / "x.txt"));
    EXPECT_FALSE(fs::exists(outside_ / "d"));
    // A link that stays inside works; DELE removes a link, never its target.
    EXPECT_EQ(c.cmd("SIZE inside_link"), "213 23");
    EXPECT_EQ(c.cmd("DELE secret_link"), "250 /secret_link deleted.");
    EXPECT_TRUE(fs::exists(outside_ / "secret.txt"));
    EXPECT_EQ(c.cmd("RMD escape"), "550 /escape: Not a directory");
    EXPECT_EQ(c.cmd("QUIT"), "221 Goodbye.");
}

TEST_P(FtpServers, ReplyCodesForEveryError) {
    start({"--user", "alice", "--password", "s3cret"});
    Control c(port_);
    EXPECT_EQ(c.cmd("LIST"), "530 Please login with USER and PASS.");
    EXPECT_EQ(c.cmd("PASS x"), "503 Login with USER first.");
    EXPECT_EQ(c.cmd("USER alice"), "331 Password required for alice.");
    EXPECT_EQ(c.cmd("PASS wrong"), "530 Login incorrect.");
    EXPECT_EQ(c.cmd("RETR hello.txt"), "530 Please login with USER and PASS.");
    EXPECT_EQ(c.cmd("BOGUS"), "500 Unknown command BOGUS.");
    EXPECT_EQ(c.cmd("SYST"), "215 UNIX Type: L8");
    c.login("alice", "s3cret");
    EXPECT_EQ(c.cmd("RETR hello.txt"), "425 Use PASV or EPSV first.");
    EXPECT_EQ(c.cmd("TYPE X"), "504 TYPE X is not supported.");
    EXPECT_EQ(c.cmd("TYPE"), "501 TYPE needs A or I.");
    EXPECT_EQ(c.cmd("RETR"), "501 RETR needs a file name.");
    EXPECT_EQ(c.cmd("PORT 127,0,0,1,4,1"), "502 Active mode is not supported; use PASV or EPSV.");
    EXPECT_EQ(c.cmd("CWD nowhere"), "550 /nowhere: No such file or directory");
    EXPECT_EQ(c.cmd("CWD hello.txt"), "550 /hello.txt: Not a directory");
    EXPECT_EQ(c.cmd("SIZE sub"), "550 /sub: Not a regular file");
    EXPECT_EQ(c.cmd("MKD sub"), "550 /sub: File exists");
    EXPECT_EQ(c.cmd("DELE sub"), "550 /sub: Is a directory (use RMD)");
    EXPECT_EQ(c.cmd("RMD sub"), "550 /sub: Directory not empty");
    EXPECT_EQ(c.transfer("RETR sub").first, "550 /sub: Not a regular file");
    EXPECT_EQ(c.cmd("CWD sub"), "250 Directory changed to \"/sub\".");
    EXPECT_EQ(c.cmd("RMD /sub"), "550 /sub: Is the current directory or above it");
    EXPECT_EQ(c.cmd("CDUP"), "250 Directory changed to \"/\".");
    // PASV announces the control connection's address.
    const std::string pasv = c.cmd("PASV");
    EXPECT_EQ(pasv.rfind("227 Entering Passive Mode (127,0,0,1,", 0), 0u) << pasv;
    auto [done, text] = c.transfer("RETR hello.txt");
    EXPECT_EQ(done, "226 Transfer complete.");
    EXPECT_EQ(text, "hello, ftp\nsecond line\n");
    EXPECT_EQ(c.cmd("QUIT"), "221 Goodbye.");

    // Anonymous logins still read, but with a configured user they may not write.
    Control anon(port_);
    anon.login();
    EXPECT_EQ(anon.transfer("RETR hello.txt").second, "hello, ftp\nsecond line\n");
    EXPECT_EQ(anon.cmd("MKD new"), "550 Permission denied (anonymous access is read only).");
    EXPECT_EQ(anon.cmd("DELE hello.txt"), "550 Permission denied (anonymous access is read only).");
    if (!std::string(CURL).empty()) {
        write_file(base_ / "up.txt", "from alice\n");
        auto r = curl("-T " + (base_ / "up.txt").string() + " " + url_);
        EXPECT_NE(r.status, 0) << r.out;
        r = curl("-u alice:wrong " + url_ + "hello.txt");
        EXPECT_EQ(r.status, 67) << r.out;  // login denied
        r = curl("-u alice:s3cret -T " + (base_ / "up.txt").string() + " " + url_);
        EXPECT_EQ(r.status, 0) << r.out;
        EXPECT_EQ(read_file(root_ / "up.txt"), "from alice\n");
    }
}

TEST_P(FtpServers, FiftyConcurrentTransfersOnFewOsThreads) {
    if (std::string(CURL).empty()) GTEST_SKIP() << "curl is not installed (.ci/setup installs it)";
    start();
    fs::create_directories(base_ / "got");
    fs::create_directories(base_ / "send");
    fs::create_directories(root_ / "in");
    std::string gets, puts;
    for (int i = 0; i < 50; ++i) {
        const std::string name = "f" + std::to_string(i) + ".bin";
        write_file(root_ / name, random_bytes(64 * 1024 + i, 100 + i));
        write_file(base_ / "send" / name, random_bytes(48 * 1024 + i, 200 + i));
        gets += " -o " + (base_ / "got" / name).string() + " " + url_ + name;
        puts += (puts.empty() ? "" : ",") + name;
    }
    // One curl, 50 connections at once in each direction.
    const std::string parallel = " --parallel --parallel-max 50 --parallel-immediate ";
    auto r = curl(parallel + gets);
    EXPECT_EQ(r.status, 0) << r.out;
    r = curl(parallel + "-T '" + (base_ / "send").string() + "/{" + puts + "}' " + url_ + "in/");
    EXPECT_EQ(r.status, 0) << r.out;
    for (int i = 0; i < 50; ++i) {
        const std::string name = "f" + std::to_string(i) + ".bin";
        EXPECT_EQ(std::hash<std::string>{}(read_file(base_ / "got" / name)),
                  std::hash<std::string>{}(read_file(root_ / name)))
            << name;
        EXPECT_EQ(std::hash<std::string>{}(read_file(root_ / "in" / name)),
                  std::hash<std::string>{}(read_file(base_ / "send" / name)))
            << name;
    }

    // 50 sessions open at once: one thread each natively, a few OS threads under greenrun.
    std::vector<std::unique_ptr<Control>> sessions;
    for (int i = 0; i < 50; ++i) {
        sessions.push_back(std::make_unique<Control>(port_));
        sessions.back()->login();
    }
    const int threads = os_threads(server_->pid());
    if (GetParam() == Mode::Native)
        EXPECT_GE(threads, 51);
    else
        EXPECT_LE(threads, 4) << "OS threads with 50 sessions open";
    EXPECT_EQ(sessions.front()->transfer("RETR f7.bin").second, read_file(root_ / "f7.bin"));
}

INSTANTIATE_TEST_SUITE_P(Examples, FtpServers,
                         testing::Values(Mode::Native, Mode::Greenrun, Mode::GreenApi), mode_name);

}  // namespace
