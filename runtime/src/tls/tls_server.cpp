// TlsStreamServer and create_tls_connection: the handshake in front of StreamServer's handler
// and create_connection, each bounded by its deadline.
#include <cstdio>

#include "green/errors.hpp"
#include "green/timeout.hpp"
#include "green/tls.hpp"

namespace green {

TlsSocket create_tls_connection(std::string_view host, std::uint16_t port, const TlsContext& ctx,
                                std::optional<Duration> timeout) {
    const Deadline deadline = timeout ? Deadline(*timeout) : Deadline();
    Socket sock = create_connection(host, port, timeout);
    TlsSocket tls(ctx, std::move(sock), host);
    tls.handshake(deadline);
    return tls;
}

TlsStreamServer::TlsStreamServer(const Address& address, TlsContext ctx, Handler handler,
                                 ServerOptions options, Duration handshake_timeout)
    : StreamServer(
          address, [this](Socket& conn, const Address& peer) { serve_connection(conn, peer); },
          [&] {
              if (options.name.empty()) options.name = "TlsStreamServer";
              return std::move(options);
          }()),
      ctx_(std::move(ctx)),
      tls_handler_(std::move(handler)),
      handshake_timeout_(handshake_timeout) {
    if (!tls_handler_) throw std::invalid_argument("green::TlsStreamServer: empty handler");
    if (!ctx_.server_side())
        throw std::invalid_argument("green::TlsStreamServer: needs a server context");
}

// The handlers use ctx_ and tls_handler_: stop them before those members go.
TlsStreamServer::~TlsStreamServer() {
    try {
        stop(Duration::zero());
    } catch (...) {
    }
}

void TlsStreamServer::serve_connection(Socket& conn, const Address& peer) {
    TlsSocket tls;
    try {
        tls = TlsSocket(ctx_, std::move(conn), {});
        tls.handshake(Deadline(handshake_timeout_));
    } catch (const GreenletExit&) {
        throw;  // the server stops: not a failed handshake
    } catch (const Timeout&) {
        ++failed_;
        std::fprintf(
            stderr, "green: %s: handshake with %s failed: no handshake within %lld ms\n",
            options_.name.c_str(), peer.to_string().c_str(),
            static_cast<long long>(
                std::chrono::duration_cast<std::chrono::milliseconds>(handshake_timeout_).count()));
        return;
    } catch (const std::exception& e) {
        ++failed_;
        const std::string what = "handshake with " + peer.to_string();
        log_error(what.c_str(), e);
        return;
    }
    tls_handler_(tls, peer);
}

}  // namespace green
