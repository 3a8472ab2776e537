// The pre-fork test's server: binds 127.0.0.1 on a kernel-chosen port, writes the port to
// PORTFILE, then runs green::prefork with WORKERS workers, each a StreamServer on the shared
// socket that answers every connection with its worker's pid and closes it.
// usage: prefork_server PORTFILE WORKERS
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <green/green.hpp>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s PORTFILE WORKERS\n", argv[0]);
        return 2;
    }
    green::Socket listener = green::Socket::tcp();
    listener.set_reuseaddr();
    listener.bind(green::Address("127.0.0.1", 0));
    listener.listen(128);
    // Written whole, then renamed: the test never reads half a number.
    const std::string tmp = std::string(argv[1]) + ".tmp";
    if (FILE* f = std::fopen(tmp.c_str(), "w")) {
        std::fprintf(f, "%u\n", listener.getsockname().port());
        std::fclose(f);
    }
    std::rename(tmp.c_str(), argv[1]);
    return green::prefork(
        std::strtoul(argv[2], nullptr, 10), std::move(listener), [](green::Socket l) {
            green::StreamServer server(std::move(l), [](green::Socket& c, const green::Address&) {
                c.sendall(std::to_string(::getpid()) + "\n");
            });
            server.serve_forever();
        });
}
