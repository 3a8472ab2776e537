// The same FTP server on green's API: a green::StreamServer runs each client's session in its
// own greenlet; the protocol is the threaded server's (session.cpp), only the transport differs.
// usage: green_ftp_server [--host H] [--port P] --root DIR [--user U --password P]
#include <csignal>
#include <cstdio>

#include <green/green.hpp>

#include "green_transport.hpp"
#include "session.hpp"

int main(int argc, char** argv) try {
    const ftp::Options options = ftp::start_server("green_ftp_server", argc, argv);
    const ftp::ServedRoot root(options.root);
    green::ServerOptions server_options;
    server_options.name = "green_ftp_server";
    green::StreamServer server(
        green::Address(options.host, options.port),
        [&](green::Socket& conn, const green::Address& peer) {
            std::printf("Connect from ('%s', %u)\n", peer.host().c_str(), peer.port());
            ftp::GreenTransport transport(conn);
            ftp::Session(transport, root, options).run();
        },
        server_options);
    server.start();
    std::printf("Listen the port %u....\n", server.address().port());
    auto on_stop =
        green::on_signal({SIGINT, SIGTERM}, [&] { server.stop(std::chrono::seconds(0)); });
    server.serve_forever();
    std::printf("server stopped\n");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "green_ftp_server: %s\n", e.what());
    return 1;
}
