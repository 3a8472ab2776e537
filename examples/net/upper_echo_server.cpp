// The seed's gevent socket server: an accept loop that spawns one greenlet per connection;
// each connection gets its messages back upper-cased. Stops cleanly on SIGINT/SIGTERM.
// usage: upper_echo_server [-q] [host] [port]     (defaults 127.0.0.1 60000; port 0: any)
#include <csignal>
#include <cstdio>
#include <cstring>
#include <vector>

#include <green/green.hpp>

#include "args.hpp"

namespace {

bool quiet = false;

// The communication loop (the seed's comm_cycle).
void serve(green::Socket conn, green::Address peer) {
    try {
        char buf[1024];
        std::size_t n;
        while ((n = conn.recv(buf, sizeof buf)) > 0) {
            if (!quiet) std::printf("%s: %.*s\n", peer.to_string().c_str(), int(n), buf);
            for (std::size_t i = 0; i < n; ++i) buf[i] = static_cast<char>(std::toupper(buf[i]));
            conn.sendall(buf, n);
        }
    } catch (const std::system_error& e) {
        std::printf("%s: %s\n", peer.to_string().c_str(), e.what());
    }
}

}  // namespace

int main(int argc, char** argv) try {
    example::line_buffered_stdout();
    int first = 1;
    if (argc > 1 && std::strcmp(argv[1], "-q") == 0) quiet = true, first = 2;
    const green::Address where = example::address_arg(argc, argv, first, 60000);

    green::Socket listener = green::Socket::tcp(where.family());
    listener.set_reuseaddr();
    listener.bind(where);
    listener.listen(512);
    std::printf("listening on %s\n", listener.getsockname().to_string().c_str());

    // A signal closes the listener: the accept below then fails with EBADF and the loop ends.
    auto on_stop = green::on_signal({SIGINT, SIGTERM}, [&] { listener.close(); });

    std::vector<green::GreenletHandle> connections;
    for (;;) {
        std::pair<green::Socket, green::Address> accepted;
        try {
            accepted = listener.accept();
        } catch (const std::system_error& e) {
            if (e.code().value() == EBADF) break;  // closed by the signal handler
            std::printf("accept: %s\n", e.what());
            green::sleep(std::chrono::milliseconds(100));
            continue;
        }
        std::erase_if(connections, [](auto& g) { return g.dead(); });
        connections.push_back(green::spawn(serve, std::move(accepted.first), accepted.second));
    }
    std::printf("stopping: closing %zu connection(s)\n", connections.size());
    green::killall(connections);
    std::printf("server stopped\n");
} catch (const std::exception& e) {
    std::fprintf(stderr, "upper_echo_server: %s\n", e.what());
    return 1;
}
