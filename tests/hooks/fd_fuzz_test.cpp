// A seeded randomized test of the hooks' fd table: several fibers make random sequences of
// socket/socketpair/pipe/dup/dup2/close/fcntl(F_SETFL O_NONBLOCK)/ioctl(FIONBIO)/poll calls, and
// after each step the hooks' view of every open descriptor must match the kernel's: O_NONBLOCK
// (F_GETFL by raw system call) and readiness (the hooked poll against a raw ppoll). A
// descriptor the program made non-blocking must also fail a read with EAGAIN at once, as
// natively. GREEN_FUZZ_SEED=<n> replays a run; the seed is printed with every failure.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <green/green.hpp>

#include "fd_table.hpp"

using namespace std::chrono_literals;

namespace {

std::uint64_t seed_from_env() {
    if (const char* s = std::getenv("GREEN_FUZZ_SEED")) return std::strtoull(s, nullptr, 10);
    return std::random_device{}();
}

bool kernel_nonblock(int fd) {
    const long fl = ::syscall(SYS_fcntl, fd, F_GETFL);
    return fl >= 0 && (fl & O_NONBLOCK);
}

short kernel_revents(int fd, short events) {
    pollfd p{fd, events, 0};
    timespec zero{0, 0};
    if (::syscall(SYS_ppoll, &p, 1, &zero, nullptr, 0) < 0) return -1;
    return p.revents;
}

// The descriptors the fibers share; each fiber owns the ones it made, so no fiber closes a
// descriptor another is using (which would be a race in the program, not in the hooks).
struct Pool {
    std::vector<int> fds;
    void add(int fd) {
        if (fd >= 0) fds.push_back(fd);
    }
    void remove(int fd) { fds.erase(std::remove(fds.begin(), fds.end(), fd), fds.end()); }
};

class Walker {
  public:
    Walker(std::uint64_t seed, std::string& trace) : rng_(seed), trace_(trace) {}

    ~Walker() {
        for (int fd : own_.fds) ::close(fd);
    }

    void step() {
        const int op = pick(10);
        const int fd = own_.fds.empty() ? -1 : own_.fds[pick(own_.fds.size())];
        switch (op) {
            case 0: {
                int sv[2];
                const int nb = pick(2) ? SOCK_NONBLOCK : 0;
                if (::socketpair(AF_UNIX, SOCK_STREAM | nb, 0, sv) == 0) {
                    own_.add(sv[0]);
                    own_.add(sv[1]);
                    log("socketpair", sv[0], nb);
                    if (pick(2)) (void)!::write(sv[1], "x", 1);  // some readiness to see
                }
                break;
            }
            case 1: {
                int p[2];
                const int nb = pick(2) ? O_NONBLOCK : 0;
                if (::pipe2(p, nb) == 0) {
                    own_.add(p[0]);
                    own_.add(p[1]);
                    log("pipe2", p[0], nb);
                }
                break;
            }
            case 2:
                own_.add(::socket(AF_INET, SOCK_STREAM | (pick(2) ? SOCK_NONBLOCK : 0), 0));
                log("socket", own_.fds.empty() ? -1 : own_.fds.back(), 0);
                break;
            case 3:
                if (fd >= 0) {
                    own_.add(::dup(fd));
                    log("dup", fd, own_.fds.back());
                }
                break;
            case 4:
                if (fd >= 0 && own_.fds.size() >= 2) {
                    const int to = own_.fds[pick(own_.fds.size())];
                    if (to != fd && ::dup2(fd, to) == to) log("dup2", fd, to);
                }
                break;
            case 5:
                if (fd >= 0) {
                    ::close(fd);
                    own_.remove(fd);
                    log("close", fd, 0);
                }
                break;
            case 6:
            case 7:
                if (fd >= 0) {
                    const int fl = ::fcntl(fd, F_GETFL);
                    const bool on = pick(2);
                    ::fcntl(fd, F_SETFL, on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK));
                    log("F_SETFL", fd, on);
                }
                break;
            case 8:
                if (fd >= 0) {
                    int on = pick(2);
                    ::ioctl(fd, FIONBIO, &on);
                    log("FIONBIO", fd, on);
                }
                break;
            default:
                if (fd >= 0) {
                    pollfd p{fd, POLLIN | POLLOUT, 0};
                    const int r = ::poll(&p, 1, 0);  // hooked
                    log("poll", fd, r);
                    EXPECT_EQ(r < 0 ? -1 : p.revents, kernel_revents(fd, POLLIN | POLLOUT))
                        << trace_;
                }
                break;
        }
        check();
    }

  private:
    int pick(std::size_t n) { return static_cast<int>(rng_() % n); }

    void log(const char* what, int a, int b) {
        trace_ += std::string(what) + "(" + std::to_string(a) + "," + std::to_string(b) + ") ";
        if (trace_.size() > 4000) trace_.erase(0, trace_.size() - 2000);
    }

    void check() {
        for (int fd : own_.fds) {
            const green::hooks::FdInfo info = green::hooks::fd_info(fd);
            ASSERT_EQ(info.nonblock, kernel_nonblock(fd)) << "fd " << fd << " after " << trace_;
            if (info.nonblock && info.readable &&
                !(kernel_revents(fd, POLLIN) & (POLLIN | POLLHUP | POLLERR))) {
                // Nothing to read and no end of stream: a non-blocking read fails at once.
                char c;
                errno = 0;
                EXPECT_EQ(::read(fd, &c, 1), -1) << "fd " << fd << " after " << trace_;
                EXPECT_TRUE(errno == EAGAIN || errno == ENOTCONN)
                    << "fd " << fd << " errno " << errno << " after " << trace_;
            }
        }
    }

    std::mt19937_64 rng_;
    std::string& trace_;
    Pool own_;
};

}  // namespace

TEST(FdTableFuzz, HooksViewMatchesTheKernel) {
    const std::uint64_t seed = seed_from_env();
    SCOPED_TRACE("GREEN_FUZZ_SEED=" + std::to_string(seed));
    const auto stop = green::Clock::now() + 5s;
    constexpr int kFibers = 4;
    std::vector<green::Greenlet<void>> gs;
    std::vector<std::string> traces(kFibers);
    for (int f = 0; f < kFibers; ++f) {
        gs.push_back(green::spawn([&, f] {
            Walker w(seed + static_cast<std::uint64_t>(f), traces[f]);
            for (int i = 0; i < 3000 && green::Clock::now() < stop; ++i) {
                w.step();
                if (::testing::Test::HasFatalFailure()) return;
                if (i % 7 == 0) green::sleep(0ms);  // interleave with the other fibers
            }
        }));
    }
    green::joinall(gs);
}
