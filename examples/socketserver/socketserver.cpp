// The socketserver classes (see socketserver.hpp).
#include "socketserver.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>
#include <thread>

namespace socketserver {

namespace {

[[noreturn]] void fail(const char* what) {
    throw std::system_error(errno, std::system_category(), what);
}

// SIGINT/SIGTERM write a byte here; serve_forever() polls the read end with the listener.
int stop_pipe[2] = {-1, -1};
std::atomic<long> reaped_children{0};

void on_stop_signal(int) {
    const int saved = errno;
    [[maybe_unused]] ssize_t n = ::write(stop_pipe[1], "x", 1);
    errno = saved;
}

// Reaps every child that has ended (several may end per SIGCHLD).
void on_sigchld(int) {
    const int saved = errno;
    while (::waitpid(-1, nullptr, WNOHANG) > 0) ++reaped_children;
    errno = saved;
}

void install(int signo, void (*handler)(int), int flags) {
    struct sigaction sa {};
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    ::sigaction(signo, &sa, nullptr);
}

std::string peer_text(const sockaddr_in& a) {
    char ip[INET_ADDRSTRLEN] = "";
    ::inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
    return "('" + std::string(ip) + "', " + std::to_string(ntohs(a.sin_port)) + ")";
}

}  // namespace

TcpServer::TcpServer(const std::string& host, std::uint16_t port, Handler handler)
    : handler_(std::move(handler)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
        throw std::invalid_argument(host + ": not an IPv4 address");
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener_ < 0) fail("socket");
    const int on = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);  // allow_reuse_address
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) fail("bind");
    if (::listen(listener_, 128) != 0) fail("listen");
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    if (stop_pipe[0] < 0) {
        if (::pipe2(stop_pipe, O_CLOEXEC) != 0) fail("pipe2");
        install(SIGINT, on_stop_signal, SA_RESTART);
        install(SIGTERM, on_stop_signal, SA_RESTART);
    }
}

TcpServer::~TcpServer() {
    if (listener_ >= 0) ::close(listener_);
}

long TcpServer::serve_forever() {
    long accepted = 0;
    for (;;) {
        pollfd fds[2] = {{listener_, POLLIN, 0}, {stop_pipe[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            fail("poll");
        }
        if (fds[1].revents) return accepted;
        if (!fds[0].revents) continue;
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        const int fd = ::accept4(listener_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EINTR && errno != ECONNABORTED) std::perror("accept");
            continue;
        }
        ++accepted;
        process_request(fd, peer_text(peer));
    }
}

void TcpServer::handle(int fd, const std::string& peer) {
    try {
        handler_(fd, peer);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", peer.c_str(), e.what());
    }
}

void ThreadingTcpServer::process_request(int fd, const std::string& peer) {
    std::lock_guard lock(mutex_);
    std::erase_if(workers_, [](Worker& w) {  // join the threads that have finished
        if (!*w.done) return false;
        w.thread.join();
        return true;
    });
    open_.insert(fd);
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::thread thread([this, fd, peer, done] {
        handle(fd, peer);
        // Forgotten before it is closed: once closed, accept() may hand out the same number.
        std::lock_guard lock(mutex_);
        open_.erase(fd);
        ::close(fd);
        *done = true;
    });
    workers_.push_back({std::move(thread), std::move(done)});
}

std::size_t ThreadingTcpServer::close_connections() {
    std::vector<Worker> workers;
    std::size_t still_open;
    {
        std::lock_guard lock(mutex_);
        still_open = open_.size();
        for (int fd : open_) ::shutdown(fd, SHUT_RDWR);  // their recv() returns 0
        workers.swap(workers_);
    }
    for (auto& w : workers) w.thread.join();
    return still_open;
}

ThreadingTcpServer::~ThreadingTcpServer() {
    close_connections();
}

ForkingTcpServer::ForkingTcpServer(const std::string& host, std::uint16_t port, Handler handler)
    : TcpServer(host, port, std::move(handler)) {
    install(SIGCHLD, on_sigchld, SA_RESTART | SA_NOCLDSTOP);
}

long ForkingTcpServer::reaped() {
    return reaped_children;
}

long ForkingTcpServer::wait_children() {
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &chld, &old);  // the handler must not reap under our feet
    while (reaped_children < forked_) {
        if (::waitpid(-1, nullptr, 0) > 0) {
            ++reaped_children;
        } else if (errno != EINTR) {
            break;
        }
    }
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    return reaped_children;
}

void ForkingTcpServer::process_request(int fd, const std::string& peer) {
    const pid_t pid = ::fork();
    if (pid < 0) {
        std::perror("fork");
        ::close(fd);
        return;
    }
    if (pid == 0) {  // the child serves this client only, then leaves
        ::close(listener_);
        handle(fd, peer);
        ::close(fd);
        std::fflush(stdout);
        ::_exit(0);
    }
    ++forked_;
    ::close(fd);
}

}  // namespace socketserver
