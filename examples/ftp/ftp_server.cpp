// The seed's FTP file server, thread per client, the way the seed writes it: blocking POSIX
// sockets and one std::thread (daemon) per connection, no green API at all. Run natively, or
// under `greenrun` where every client thread becomes a fiber of one OS thread.
// usage: ftp_server [--host H] [--port P] --root DIR [--user U --password P]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "posix_transport.hpp"
#include "session.hpp"

namespace {

// Detached client threads may outlive main(): what they share lives for the whole process.
struct Shared {
    ftp::Options options;
    ftp::ServedRoot root;
};
Shared* shared = nullptr;

void serve_client(int fd) {
    try {
        ftp::PosixTransport transport(fd);
        ftp::Session(transport, shared->root, shared->options).run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ftp_server: connection: %s\n", e.what());
    }
}

std::string peer_text(const sockaddr_storage& ss) {
    char ip[INET6_ADDRSTRLEN] = "";
    unsigned port;
    if (ss.ss_family == AF_INET) {
        auto& a = reinterpret_cast<const sockaddr_in&>(ss);
        ::inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
        port = ntohs(a.sin_port);
    } else {
        auto& a = reinterpret_cast<const sockaddr_in6&>(ss);
        ::inet_ntop(AF_INET6, &a.sin6_addr, ip, sizeof ip);
        port = ntohs(a.sin6_port);
    }
    return "('" + std::string(ip) + "', " + std::to_string(port) + ")";
}

}  // namespace

int main(int argc, char** argv) try {
    const ftp::Options options = ftp::start_server("ftp_server", argc, argv);
    shared = new Shared{options, ftp::ServedRoot(options.root)};
    const int listener = ftp::listen_tcp(options.host, options.port, 128);
    std::printf("Listen the port %u....\n", ftp::local_port(listener));

    // SIGINT/SIGTERM are blocked in every thread and taken by one waiting thread, which shuts
    // the listener down: the accept below then fails and the loop ends.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    std::atomic<bool> stopping{false};
    std::thread waiter([&] {
        int sig = 0;
        sigwait(&stop, &sig);
        stopping = true;
        ::shutdown(listener, SHUT_RDWR);
    });

    for (;;) {
        sockaddr_storage peer{};
        socklen_t len = sizeof peer;
        const int conn =
            ::accept4(listener, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
        if (conn < 0) {
            if (stopping) break;
            if (errno == EINTR || errno == ECONNABORTED) continue;
            std::perror("accept");
            std::this_thread::sleep_for(std::chrono::milliseconds(100));  // EMFILE and kin
            continue;
        }
        std::printf("Connect from %s\n", peer_text(peer).c_str());
        std::thread(serve_client, conn).detach();
    }
    waiter.join();
    ::close(listener);
    std::printf("server stopped\n");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "ftp_server: %s\n", e.what());
    return 1;
}
