// A TLS echo client: connects (verifying the server against --ca, the build's localhost
// certificate by default), sends each message and prints the echo, then reconnects once to
// show the session resumed from the server's ticket.
// usage: tls_echo_client [--ca FILE] [--name HOST] host port message...
#include <cstdio>
#include <cstring>
#include <string>

#include <green/green.hpp>
#include <green/tls.hpp>

#include "args.hpp"

int main(int argc, char** argv) try {
    example::line_buffered_stdout();
    std::string ca = GREEN_EXAMPLE_TLS_CERT, name;
    int first = 1;
    while (first + 1 < argc && argv[first][0] == '-' && argv[first][1] == '-') {
        if (std::strcmp(argv[first], "--ca") == 0)
            ca = argv[first + 1];
        else if (std::strcmp(argv[first], "--name") == 0)
            name = argv[first + 1];
        else
            throw std::invalid_argument(std::string("unknown option ") + argv[first]);
        first += 2;
    }
    if (argc < first + 2) {
        std::fprintf(stderr,
                     "usage: tls_echo_client [--ca FILE] [--name HOST] host port message...\n");
        return 2;
    }
    const std::string host = argv[first];
    const auto port = static_cast<std::uint16_t>(example::number_arg(argc, argv, first + 1, 0));
    if (name.empty()) name = host;

    auto ctx = green::TlsContext::client();
    ctx.load_verify_file(ca);
    ctx.set_alpn_protocols({"echo/1"});
    for (int round = 0; round < 2; ++round) {
        green::Socket sock = green::create_connection(host, port, std::chrono::seconds(10));
        green::TlsSocket conn(ctx, std::move(sock), name);
        conn.handshake(std::chrono::seconds(10));
        std::printf("connected: %s %s alpn=%s resumed=%s\n", conn.version().c_str(),
                    conn.cipher().c_str(), conn.alpn_protocol().c_str(),
                    conn.session_reused() ? "yes" : "no");
        for (int i = first + 2; i < argc; ++i) {
            conn.sendall(argv[i], std::strlen(argv[i]));
            std::printf("echo: %s\n", conn.recv_exact(std::strlen(argv[i])).c_str());
        }
        conn.shutdown();
        conn.recv(1);  // the server's close_notify
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "tls_echo_client: %s\n", e.what());
    return 1;
}
