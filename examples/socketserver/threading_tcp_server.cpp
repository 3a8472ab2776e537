// socketserver.ThreadingTCPServer from the seed: the 10086 hotline, one thread per caller
// (blocking POSIX sockets, nothing of green; under greenrun the threads are fibers).
// usage: threading_tcp_server [host] [port]   (defaults 127.0.0.1 60000; port 0: any)
#include <cstdio>
#include <cstdlib>

#include "call_center.hpp"
#include "socketserver.hpp"

int main(int argc, char** argv) try {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    const char* host = argc > 1 ? argv[1] : "127.0.0.1";
    const auto port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 60000);
    socketserver::ThreadingTcpServer server(host, port, socketserver::call_center);
    std::printf("listening on port %u\n", server.port());
    const long served = server.serve_forever();
    const std::size_t open = server.close_connections();
    std::printf("server stopped after %ld connections (%zu still open were closed)\n", served,
                open);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "threading_tcp_server: %s\n", e.what());
    return 1;
}
