// green's echo server for the harness: a StreamServer whose handler is the obvious loop
// (recv, sendall). Run it with GREEN_BACKEND=io_uring or epoll.
// usage: green_server HOST PORT [--hubs N [--listener-per-hub]] [--stack-buf 4096|65536]
//   --hubs N: serve on every hub of a green::HubPool of N hubs (default: one hub, this thread's)
//   --listener-per-hub: with --hubs, one SO_REUSEPORT socket per hub instead of one shared
//   --stack-buf B: the handler's receive buffer, a `char buf[B]` on its own stack as ordinary C
//                  code declares it (default 4096; 65536 is the big-buffer case of issue 18)
#include <sys/resource.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include <green/green.hpp>

namespace {

// The handler: count the connection on its hub, then the obvious loop with a `char buf[Size]` on
// the fiber's own stack, as a C programmer writes it (inline in the lambda, as it always was).
template <std::size_t Size>
green::StreamServer::Handler echo_handler(std::vector<std::atomic<long>>& per_hub,
                                          const std::unique_ptr<green::HubPool>& pool) {
    return [&per_hub, &pool](green::Socket& c, const green::Address&) {
        ++per_hub[pool ? pool->current_index() : 0];
        c.set_nodelay();
        char buf[Size];
        try {
            while (std::size_t n = c.recv(buf, sizeof buf)) c.sendall(buf, n);
        } catch (const std::system_error&) {
            // A client that resets is an ordinary end of a connection here.
        }
    };
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(
            stderr,
            "usage: %s HOST PORT [--hubs N [--listener-per-hub]] [--stack-buf 4096|65536]\n",
            argv[0]);
        return 2;
    }
    std::size_t hubs = 0;
    std::size_t stack_buf = 4096;
    green::ServerOptions opts;
    opts.backlog = 4096;
    for (int i = 3; i < argc; ++i) {
        if (std::strcmp(argv[i], "--hubs") == 0 && i + 1 < argc) {
            hubs = std::strtoul(argv[++i], nullptr, 10);
        } else if (std::strcmp(argv[i], "--listener-per-hub") == 0) {
            opts.listener_per_hub = true;
        } else if (std::strcmp(argv[i], "--stack-buf") == 0 && i + 1 < argc) {
            stack_buf = std::strtoul(argv[++i], nullptr, 10);
            if (stack_buf != 4096 && stack_buf != 65536) {
                std::fprintf(stderr, "%s: --stack-buf takes 4096 or 65536\n", argv[0]);
                return 2;
            }
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
        stack_buf == 65536 ? echo_handler<65536>(per_hub, pool) : echo_handler<4096>(per_hub, pool),
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
