// green's TLS echo server for the bench: TlsStreamServer, one greenlet per connection, each
// looping recv/sendall on its TlsSocket.
// usage: tls_green_server HOST PORT CERT KEY
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>

#include <green/green.hpp>
#include <green/tls.hpp>

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: %s HOST PORT CERT KEY\n", argv[0]);
        return 2;
    }
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    green::ServerOptions options;
    options.backlog = 4096;
    green::TlsStreamServer server(
        green::Address(argv[1], static_cast<std::uint16_t>(std::atoi(argv[2]))),
        green::TlsContext::server(argv[3], argv[4]),
        [](green::TlsSocket& c, const green::Address&) {
            c.socket().set_nodelay();
            char buf[16384];
            try {
                while (std::size_t n = c.recv(buf, sizeof buf)) c.sendall(buf, n);
            } catch (const std::exception&) {  // the load generator closes without close_notify
            }
        },
        options);
    server.serve_forever();
}
