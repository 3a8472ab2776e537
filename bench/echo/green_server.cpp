// green's echo server for the harness: a StreamServer whose handler is the obvious loop
// (recv, sendall). Run it with GREEN_BACKEND=io_uring or epoll.
// usage: green_server HOST PORT
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include <green/green.hpp>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
        return 2;
    }
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    green::ServerOptions opts;
    opts.backlog = 4096;
    green::StreamServer server(
        green::Address(argv[1], static_cast<std::uint16_t>(std::atoi(argv[2]))),
        [](green::Socket& c, const green::Address&) {
            c.set_nodelay();
            char buf[4096];
            try {
                while (std::size_t n = c.recv(buf, sizeof buf)) c.sendall(buf, n);
            } catch (const std::system_error&) {
                // A client that resets is an ordinary end of a connection here.
            }
        },
        opts);
    auto on_stop =
        green::on_signal({SIGINT, SIGTERM}, [&] { server.stop(std::chrono::seconds(0)); });
    server.serve_forever();
}
