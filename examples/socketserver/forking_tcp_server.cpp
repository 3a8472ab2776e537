// socketserver.ForkingTCPServer from the seed: the 10086 hotline, one child process per caller,
// every child reaped by the SIGCHLD handler as it ends (no zombies), the rest waited for on
// stop. usage: forking_tcp_server [host] [port]   (defaults 127.0.0.1 60000; port 0: any)
#include <cstdio>
#include <cstdlib>

#include "call_center.hpp"
#include "socketserver.hpp"

int main(int argc, char** argv) try {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    const char* host = argc > 1 ? argv[1] : "127.0.0.1";
    const auto port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 60000);
    socketserver::ForkingTcpServer server(host, port, socketserver::call_center);
    std::printf("listening on port %u\n", server.port());
    const long served = server.serve_forever();
    const long reaped = server.wait_children();
    std::printf("server stopped after %ld connections, %ld of %ld children reaped\n", served,
                reaped, server.forked());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "forking_tcp_server: %s\n", e.what());
    return 1;
}
