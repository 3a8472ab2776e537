// StreamServer: the accept loop. Each connection gets its own handler greenlet. Accept errors
// (EMFILE, ENFILE, ENOBUFS...) never end the loop: it logs once per burst and backs off.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "green/hub.hpp"
#include "green/server.hpp"
#include "handler_group.hpp"

namespace green {

namespace {

ServerOptions named(ServerOptions o, const char* name) {
    if (o.name.empty()) o.name = name;
    return o;
}

}  // namespace

StreamServer::StreamServer(const Address& address, Handler handler, ServerOptions options)
    : BaseServer(address, SOCK_STREAM, named(std::move(options), "StreamServer")),
      handler_(std::move(handler)) {
    if (!handler_) throw std::invalid_argument("green::StreamServer: empty handler");
}

StreamServer::StreamServer(const Address& address, Handler handler, Pool& pool,
                           ServerOptions options)
    : BaseServer(address, SOCK_STREAM, named(std::move(options), "StreamServer"), &pool),
      handler_(std::move(handler)) {
    if (!handler_) throw std::invalid_argument("green::StreamServer: empty handler");
}

StreamServer::StreamServer(Socket listener, Handler handler, ServerOptions options)
    : BaseServer(std::move(listener), named(std::move(options), "StreamServer")),
      handler_(std::move(handler)) {
    if (!handler_) throw std::invalid_argument("green::StreamServer: empty handler");
}

// Handlers call handler_, so they must be gone before it is destroyed.
StreamServer::~StreamServer() {
    try {
        stop(Duration::zero());
    } catch (...) {
    }
}

void StreamServer::prepare_socket(Socket& s) {
    s.listen(options_.backlog);
}

void StreamServer::serve_loop(Socket& listener, detail::HandlerGroup& handlers) {
    using namespace std::chrono_literals;
    constexpr Duration kMinDelay = 10ms, kMaxDelay = 1s, kBalanceDelay = 200us;
    Duration delay = kMinDelay;
    unsigned long failures = 0;
    for (;;) {
        auto slot = handlers.wait_for_slot();
        // Balanced accepts on a HubPool: every hub is woken for a new connection and the one
        // that happens to be running wins the race, so one hub could end up with most of the
        // long-lived connections. A hub ahead of another by more than one handler waits a
        // moment first; if nobody else takes the connection, it still does.
        if (handlers.ahead()) sleep(kBalanceDelay);
        Socket conn;
        Address peer;
        try {
            auto accepted = listener.accept(Deadline::never());
            conn = std::move(accepted.first);
            peer = accepted.second;
        } catch (const std::system_error& e) {
            // Out of descriptors or memory: the listener stays readable, so without a pause
            // this would spin. Other fibers closing connections is what ends the burst.
            if (failures++ == 0) log_error("accept", e);
            sleep(delay);
            delay = std::min(delay * 2, kMaxDelay);
            continue;
        }
        if (failures) {
            std::fprintf(stderr, "green: %s: accept works again after %lu failures\n",
                         options_.name.c_str(), failures);
            failures = 0;
            delay = kMinDelay;
        }
        handlers.spawn(std::move(slot), [this, c = std::move(conn), peer]() mutable {
            // Close when the handler ends, not when the greenlet object is freed.
            struct Closer {
                Socket& s;
                ~Closer() { s.close(); }
            } closer{c};
            handler_(c, peer);
        });
    }
}

}  // namespace green
