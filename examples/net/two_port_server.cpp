// The seed's select() server that listens on two ports, written the green way: one accept
// greenlet per listening socket, one greenlet per connection echoing what it receives.
// usage: two_port_server [host] [port1] [port2]   (defaults 127.0.0.1 60000 60001; 0: any)
#include <csignal>
#include <cstdio>
#include <vector>

#include <green/green.hpp>

#include "args.hpp"

namespace {

std::vector<green::GreenletHandle> connections;

void echo(green::Socket conn, green::Address peer) {
    try {
        char buf[1024];
        std::size_t n;
        while ((n = conn.recv(buf, sizeof buf)) > 0) {
            std::printf("message from %s: %.*s\n", peer.to_string().c_str(), int(n), buf);
            conn.sendall(buf, n);
        }
        std::printf("%s closed\n", peer.to_string().c_str());
    } catch (const std::system_error& e) {
        std::printf("%s: %s\n", peer.to_string().c_str(), e.what());
    }
}

void accept_loop(green::Socket& listener) {
    const std::string name = listener.getsockname().to_string();
    for (;;) {
        auto [conn, peer] = listener.accept();  // EBADF once closed ends this greenlet
        std::printf("new connection on %s from %s\n", name.c_str(), peer.to_string().c_str());
        std::erase_if(connections, [](auto& g) { return g.dead(); });
        connections.push_back(green::spawn(echo, std::move(conn), peer));
    }
}

}  // namespace

int main(int argc, char** argv) try {
    example::line_buffered_stdout();
    const green::Address first = example::address_arg(argc, argv, 1, 60000);
    const long second_port = example::number_arg(argc, argv, 3, 60001);
    const green::Address second(first.host(), static_cast<std::uint16_t>(second_port));

    green::Socket listeners[2];
    const green::Address wanted[2] = {first, second};
    for (int i = 0; i < 2; ++i) {
        listeners[i] = green::Socket::tcp(wanted[i].family());
        listeners[i].set_reuseaddr();
        listeners[i].bind(wanted[i]);
        listeners[i].listen(64);
    }
    std::printf("listening on %s and %s\n", listeners[0].getsockname().to_string().c_str(),
                listeners[1].getsockname().to_string().c_str());

    std::vector<green::GreenletHandle> acceptors;
    for (auto& l : listeners)
        acceptors.push_back(green::spawn([&l] {
            try {
                accept_loop(l);
            } catch (const std::system_error&) {  // the listener was closed: done
            }
        }));
    auto on_stop = green::on_signal({SIGINT, SIGTERM}, [&] {
        for (auto& l : listeners) l.close();
    });
    green::joinall(acceptors);
    green::killall(connections);
    std::printf("server stopped\n");
} catch (const std::exception& e) {
    std::fprintf(stderr, "two_port_server: %s\n", e.what());
    return 1;
}
