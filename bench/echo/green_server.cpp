// green's echo server for the harness: a StreamServer whose handler is the obvious loop
// (recv, sendall). Run it with GREEN_BACKEND=io_uring or epoll.
// usage: green_server HOST PORT [--hubs N [--listener-per-hub]]
//   --hubs N: serve on every hub of a green::HubPool of N hubs (default: one hub, this thread's)
//   --listener-per-hub: with --hubs, one SO_REUSEPORT socket per hub instead of one shared
#include <sys/resource.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include <green/green.hpp>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s HOST PORT [--hubs N [--listener-per-hub]]\n", argv[0]);
        return 2;
    }
    std::size_t hubs = 0;
    green::ServerOptions opts;
    opts.backlog = 4096;
    for (int i = 3; i < argc; ++i) {
        if (std::strcmp(argv[i], "--hubs") == 0 && i + 1 < argc) {
            hubs = std::strtoul(argv[++i], nullptr, 10);
        } else if (std::strcmp(argv[i], "--listener-per-hub") == 0) {
            opts.listener_per_hub = true;
        } else {
            std::fprintf(stderr, "%s: unknown option %s\n", argv[0], argv[i]);
            return 2;
        }
    }
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    std::unique_ptr<green::HubPool> pool;
    if (hubs)
        pool = std::make_unique<green::HubPool>(hubs, green::HubPoolOptions{.pin_cpus = true});
    // Connections per hub, printed at the end (how evenly the hubs shared them).
    std::vector<std::atomic<long>> per_hub(hubs ? hubs : 1);
    green::StreamServer server(
        green::Address(argv[1], static_cast<std::uint16_t>(std::atoi(argv[2]))),
        [&](green::Socket& c, const green::Address&) {
            ++per_hub[pool ? pool->current_index() : 0];
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
    if (pool) {
        server.serve_forever(*pool);
    } else {
        server.serve_forever();
    }
    std::fprintf(stderr, "connections per hub:");
    for (auto& n : per_hub) std::fprintf(stderr, " %ld", n.load());
    std::fprintf(stderr, "\n");
}
