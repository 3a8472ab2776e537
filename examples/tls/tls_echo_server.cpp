// A TLS echo server: TlsStreamServer runs each connection's handler in its own greenlet after
// the handshake (5 s at most: silent clients are dropped). Stops cleanly on SIGINT/SIGTERM.
// usage: tls_echo_server [--cert FILE --key FILE] [host] [port]   (defaults: the build's
// localhost certificate, 127.0.0.1, 60443; port 0: any)
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include <green/green.hpp>
#include <green/tls.hpp>

#include "args.hpp"

namespace {

void echo(green::TlsSocket& conn, const green::Address& peer) {
    std::printf("%s: %s %s alpn=%s\n", peer.to_string().c_str(), conn.version().c_str(),
                conn.cipher().c_str(), conn.alpn_protocol().c_str());
    try {
        char buf[16384];
        while (std::size_t n = conn.recv(buf, sizeof buf)) conn.sendall(buf, n);
        conn.shutdown();  // answer the client's close_notify with ours
        std::printf("%s: closed\n", peer.to_string().c_str());
    } catch (const std::exception& e) {
        std::printf("%s: %s\n", peer.to_string().c_str(), e.what());
    }
}

}  // namespace

int main(int argc, char** argv) try {
    example::line_buffered_stdout();
    std::string cert = GREEN_EXAMPLE_TLS_CERT, key = GREEN_EXAMPLE_TLS_KEY;
    int first = 1;
    while (first + 1 < argc && argv[first][0] == '-' && argv[first][1] == '-') {
        if (std::strcmp(argv[first], "--cert") == 0)
            cert = argv[first + 1];
        else if (std::strcmp(argv[first], "--key") == 0)
            key = argv[first + 1];
        else
            throw std::invalid_argument(std::string("unknown option ") + argv[first]);
        first += 2;
    }
    const green::Address where = example::address_arg(argc, argv, first, 60443);

    auto ctx = green::TlsContext::server(cert, key);
    ctx.set_alpn_protocols({"echo/1"});
    green::TlsStreamServer server(where, ctx, echo, {}, std::chrono::seconds(5));
    server.start();
    std::printf("listening on %s\n", server.address().to_string().c_str());
    auto on_stop = green::on_signal({SIGINT, SIGTERM}, [&] { server.stop(); });
    server.serve_forever();
    std::printf("stopped after %zu failed handshakes\n", server.failed_handshakes());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "tls_echo_server: %s\n", e.what());
    return 1;
}
