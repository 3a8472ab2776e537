// DatagramServer: one read loop on the bound socket; each datagram goes to the handler, in its
// own greenlet or (spawn_handlers = false) inline, which keeps datagrams strictly in order.
#include <cstdio>
#include <string>
#include <vector>

#include "green/hub.hpp"
#include "green/server.hpp"
#include "handler_group.hpp"

namespace green {

namespace {

ServerOptions named(ServerOptions o, const char* name) {
    if (o.name.empty()) o.name = name;
    if (o.max_datagram == 0)
        throw std::invalid_argument("green::DatagramServer: max_datagram is 0");
    return o;
}

}  // namespace

DatagramServer::DatagramServer(const Address& address, Handler handler, ServerOptions options)
    : BaseServer(address, SOCK_DGRAM, named(std::move(options), "DatagramServer")),
      handler_(std::move(handler)) {
    if (!handler_) throw std::invalid_argument("green::DatagramServer: empty handler");
}

DatagramServer::DatagramServer(const Address& address, Handler handler, Pool& pool,
                               ServerOptions options)
    : BaseServer(
          address, SOCK_DGRAM,
          [&] {
              ServerOptions o = named(std::move(options), "DatagramServer");
              o.spawn_handlers = true;
              return o;
          }(),
          &pool),
      handler_(std::move(handler)) {
    if (!handler_) throw std::invalid_argument("green::DatagramServer: empty handler");
}

DatagramServer::DatagramServer(Socket socket, Handler handler, ServerOptions options)
    : BaseServer(std::move(socket), named(std::move(options), "DatagramServer")),
      handler_(std::move(handler)) {
    if (!handler_) throw std::invalid_argument("green::DatagramServer: empty handler");
}

DatagramServer::~DatagramServer() {
    try {
        stop(Duration::zero());
    } catch (...) {
    }
}

void DatagramServer::serve_loop(Socket& sock, detail::HandlerGroup& handlers) {
    using namespace std::chrono_literals;
    std::vector<char> buf(options_.max_datagram);
    for (;;) {
        auto slot = handlers.wait_for_slot();
        std::size_t n = 0;
        Address peer;
        try {
            std::tie(n, peer) = sock.recvfrom(buf.data(), buf.size(), 0, Deadline::never());
        } catch (const std::system_error& e) {
            // e.g. ECONNREFUSED reported for an earlier sendto: the socket itself is fine.
            log_error("recvfrom", e);
            sleep(10ms);
            continue;
        }
        if (options_.spawn_handlers) {
            handlers.spawn(std::move(slot), [this, data = std::string(buf.data(), n), peer] {
                handler_(data, peer, *this);
            });
            continue;
        }
        try {
            handler_(std::string_view(buf.data(), n), peer, *this);
        } catch (const GreenletExit&) {
            throw;  // stop() is killing the read loop
        } catch (const std::exception& e) {
            log_error("handler", e);
        }
    }
}

}  // namespace green
