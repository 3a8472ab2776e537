// green::FileObject on real descriptors in blocking mode (pipes, a socket pair, a terminal):
// line and block reads across slow writers, writes into a full pipe, deadlines that lose
// nothing, end of stream and errors; the hub keeps running other fibers meanwhile.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <system_error>

#include <green/green.hpp>

using namespace std::chrono_literals;

namespace {

// A pipe in blocking mode, as a program gets it from pipe(2) or its parent.
struct BlockingPipe {
    int r = -1, w = -1;
    BlockingPipe() {
        int fds[2];
        EXPECT_EQ(::pipe(fds), 0);
        r = fds[0];
        w = fds[1];
    }
    ~BlockingPipe() {
        for (int fd : {r, w})
            if (fd >= 0) {
                green::notify_close(fd);
                ::close(fd);
            }
    }
};

bool nonblocking(int fd) {
    return (::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
}

}  // namespace

TEST(FileObject, LinesAndBlocksFromASlowPipe) {
    BlockingPipe p;
    auto writer = green::spawn([&] {
        for (const char* part : {"first ", "line\nsecond line\nab", "cdef", "tail"}) {
            green::sleep(30ms);
            ASSERT_EQ(::write(p.w, part, strlen(part)), static_cast<ssize_t>(strlen(part)));
        }
        green::notify_close(p.w);
        ::close(p.w);
        p.w = -1;
    });
    // The writer is a fiber of this hub: had a read blocked the hub, nothing would ever arrive.
    green::FileObject in(p.r, false);
    EXPECT_EQ(in.readline(), "first line\n");
    EXPECT_EQ(in.readline(), "second line\n");
    EXPECT_EQ(in.read(4), "abcd");
    EXPECT_EQ(in.read_all(), "eftail");
    EXPECT_EQ(in.readline(), "");
    EXPECT_EQ(in.read(3), "");
    writer.join();
    EXPECT_FALSE(nonblocking(p.r));
}

TEST(FileObject, ReadlineLimitAndReadSome) {
    BlockingPipe p;
    ASSERT_EQ(::write(p.w, "0123456789\nxy", 13), 13);
    green::FileObject in(p.r, false);
    EXPECT_EQ(in.readline(4), "0123");
    EXPECT_EQ(in.readline(), "456789\n");
    EXPECT_EQ(in.read_some(), "xy");
}

TEST(FileObject, ReadDeadlineKeepsWhatArrived) {
    BlockingPipe p;
    green::FileObject in(p.r, false);
    ASSERT_EQ(::write(p.w, "par", 3), 3);
    EXPECT_THROW(in.readline(green::FileObject::npos, 50ms), green::Timeout);
    ASSERT_EQ(::write(p.w, "tial\n", 5), 5);
    EXPECT_EQ(in.readline(green::FileObject::npos, 5s), "partial\n");
}

TEST(FileObject, WritesIntoAFullPipeWaitForTheReader) {
    BlockingPipe p;
    const std::size_t total = 1 << 20;
    std::string data(total, '\0');
    for (std::size_t i = 0; i < total; ++i) data[i] = static_cast<char>('a' + i % 26);
    // The watcher runs only once this fiber parks: then the pipe is full and nothing was read.
    std::size_t written = 0, written_when_parked = 0;
    green::Event pipe_full;
    auto watcher = green::spawn([&] {
        written_when_parked = written;
        pipe_full.set();
    });
    auto reader = green::spawn([&] {
        green::FileObject in(p.r, false);
        pipe_full.wait();
        return in.read_all();
    });
    {
        green::FileObject out(p.w, true, 4096);
        for (; written < total; written += 1000)
            out.write(std::string_view(data).substr(written, 1000));
        out.flush();
        EXPECT_FALSE(nonblocking(p.w));
    }  // closes the write end: the reader sees the end
    p.w = -1;
    EXPECT_EQ(reader.get(), data);
    watcher.join();
    // Parked mid-stream, once the pipe had filled.
    EXPECT_GT(written_when_parked, 0u);
    EXPECT_LT(written_when_parked, total);
}

TEST(FileObject, WriteDeadlineKeepsTheRest) {
    BlockingPipe p;
    green::FileObject out(p.w, false);
    const std::string data(256 * 1024, 'z');  // more than the pipe holds
    EXPECT_THROW(out.writeall(data, 50ms), green::Timeout);
    auto reader = green::spawn([&] {
        green::FileObject in(p.r, false);
        return in.read(data.size());
    });
    out.flush(5s);  // the reader drains it: the rest goes out
    EXPECT_EQ(reader.get(), data);
}

TEST(FileObject, SocketPairBothWays) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    green::FileObject a(sv[0]), b(sv[1]);
    auto echo = green::spawn([&] {
        for (std::string line; !(line = b.readline()).empty();) b.writeall("echo " + line);
        ::shutdown(sv[1], SHUT_WR);
    });
    a.writeall("one\ntwo\n");
    EXPECT_EQ(a.readline(), "echo one\n");
    EXPECT_EQ(a.readline(), "echo two\n");
    ::shutdown(sv[0], SHUT_WR);
    echo.join();
    EXPECT_EQ(a.read_all(), "");
}

TEST(FileObject, Terminal) {
    int master = -1, slave = -1;
    if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) GTEST_SKIP() << "no pty";
    green::FileObject term(slave);
    green::FileObject ctl(master);
    auto typist = green::spawn([&] {
        green::sleep(30ms);
        ctl.writeall("typed line\n");
    });
    EXPECT_EQ(term.readline(green::FileObject::npos, 5s), "typed line\n");
    typist.join();
}

TEST(FileObject, Errors) {
    EXPECT_THROW(green::FileObject(-1), std::system_error);
    BlockingPipe p;
    green::FileObject wrong(p.w, false);
    try {
        wrong.read(1);
        ADD_FAILURE() << "read on a pipe's write end";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EBADF);
    }
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    green::FileObject f(fds[0]);
    ::close(fds[1]);
    f.close();
    EXPECT_TRUE(f.closed());
    f.close();  // twice: nothing
    EXPECT_THROW(f.readline(), std::system_error);
    EXPECT_THROW(f.write("x"), std::system_error);
}
