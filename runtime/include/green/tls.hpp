// TLS on OpenSSL 3 for green (the green::tls library, gevent.ssl's counterpart): TlsContext holds
// the configuration (certificates, verification, ALPN, versions, the client's session cache),
// TlsSocket runs TLS over a connected green::Socket with the same calls, deadlines and exceptions
// as Socket, and TlsStreamServer hands its handlers connections that have already shaken hands.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "green/address.hpp"
#include "green/clock.hpp"
#include "green/server.hpp"
#include "green/socket.hpp"

struct ssl_st;  // OpenSSL's SSL, for native_handle()

namespace green {

// A TLS failure: OpenSSL's error text, with the certificate verification result when that is
// what failed ("certificate verify failed: Hostname mismatch").
class TlsError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

enum class TlsVersion { Tls1_2, Tls1_3 };

namespace detail {
struct TlsContextState;
}

class TlsContext {
  public:
    // A client context: verifies the server's chain against the system's CA store and its name
    // against the host name given to the TlsSocket (SNI); TLS 1.2 or newer.
    static TlsContext client();
    // A server context with a certificate chain and its private key, both PEM files.
    static TlsContext server(const std::string& cert_file, const std::string& key_file);
    // A server context whose certificate is set later (use_certificate_*).
    static TlsContext server();

    // The certificate chain (leaf first) and the private key, from PEM files or PEM text.
    void use_certificate_chain_file(const std::string& path);
    void use_private_key_file(const std::string& path);
    void use_certificate_chain_pem(std::string_view pem);
    void use_private_key_pem(std::string_view pem);

    // Trust anchors: a PEM bundle, a hashed directory (c_rehash), PEM text, or the system store.
    void load_verify_file(const std::string& path);
    void load_verify_dir(const std::string& path);
    void load_verify_pem(std::string_view pem);
    void load_default_verify_paths();

    // Verification of the peer's certificate: on by default for clients; on a server it asks
    // for a client certificate and requires one.
    void set_verify(bool on);
    bool verify() const noexcept;
    // Whether a client checks the server's certificate against the host name (default on).
    void set_check_hostname(bool on) noexcept;
    bool check_hostname() const noexcept;

    // ALPN protocols in order of preference ("h2", "http/1.1"). A client offers them; a server
    // picks its most preferred one the client offers, or none.
    void set_alpn_protocols(const std::vector<std::string>& protocols);
    void set_min_version(TlsVersion v);
    void set_max_version(TlsVersion v);
    // OpenSSL cipher strings: TLS 1.2 ciphers and TLS 1.3 suites.
    void set_ciphers(const std::string& list);
    void set_ciphersuites(const std::string& list);

    // Clients keep the last session ticket per server (host name and address) and offer it on
    // the next connection to the same server; false turns that off.
    void set_session_resumption(bool on) noexcept;
    bool server_side() const noexcept;

    const std::shared_ptr<detail::TlsContextState>& state_ptr() const noexcept { return state_; }

  private:
    explicit TlsContext(std::shared_ptr<detail::TlsContextState> s) : state_(std::move(s)) {}
    std::shared_ptr<detail::TlsContextState> state_;
};

// What a TlsSocket tells about the peer's certificate.
struct TlsCertificate {
    std::string subject;  // "CN=example.test,O=..." (RFC 2253)
    std::string issuer;
    std::vector<std::string> dns_names;  // subjectAltName DNS entries
    std::string pem;
};

class TlsSocket {
  public:
    TlsSocket() noexcept;
    // TLS over `sock` (connected; a client's, or one a server accepted), client or server as
    // the context says. A client names the server in `server_hostname`: it is sent as SNI and,
    // when the context checks host names, the certificate must match it. Nothing is sent until
    // handshake() (or the first recv/send, which shake hands first).
    TlsSocket(const TlsContext& ctx, Socket sock, std::string_view server_hostname = {});
    TlsSocket(TlsSocket&& o) noexcept;
    TlsSocket& operator=(TlsSocket&& o) noexcept;
    TlsSocket(const TlsSocket&) = delete;
    TlsSocket& operator=(const TlsSocket&) = delete;
    ~TlsSocket();

    // The handshake. Failures throw TlsError (system_error for the connection itself, Timeout at
    // the deadline); any failure or interruption (kill, Timeout) closes the socket.
    void handshake();
    void handshake(Deadline deadline);
    bool handshake_done() const noexcept;

    // As Socket's. recv returns 0 when the peer sent close_notify; a peer that closes the
    // connection without one is TlsError ("unexpected eof"): the data may have been truncated.
    // An interrupted recv leaves the connection usable (OpenSSL keeps a partial record); an
    // interrupted send/sendall has sent part of a record, so it closes the socket.
    std::size_t recv(void* buf, std::size_t len);
    std::size_t recv(void* buf, std::size_t len, Deadline deadline);
    std::string recv(std::size_t max = 16384);
    std::string recv(std::size_t max, Deadline deadline);
    void recv_exact(void* buf, std::size_t len);
    void recv_exact(void* buf, std::size_t len, Deadline deadline);
    std::string recv_exact(std::size_t len);
    std::string recv_exact(std::size_t len, Deadline deadline);
    std::size_t send(const void* buf, std::size_t len);
    std::size_t send(const void* buf, std::size_t len, Deadline deadline);
    std::size_t send(std::string_view data) { return send(data.data(), data.size()); }
    void sendall(const void* buf, std::size_t len);
    void sendall(const void* buf, std::size_t len, Deadline deadline);
    void sendall(std::string_view data) { sendall(data.data(), data.size()); }
    // Decrypted bytes buffered inside OpenSSL, readable without waiting.
    std::size_t pending() const noexcept;

    // Sends close_notify (the TLS end of stream; the TCP connection stays open: close() it).
    void shutdown();
    void shutdown(Deadline deadline);
    // Frees the TLS state and closes the socket, waking its waiters. Idempotent.
    void close() noexcept;

    // As Socket::settimeout: the default limit of every call without a Deadline.
    void settimeout(std::optional<Duration> t) noexcept { sock_.settimeout(t); }
    std::optional<Duration> gettimeout() const noexcept { return sock_.gettimeout(); }
    int fd() const noexcept { return sock_.fd(); }
    bool valid() const noexcept { return sock_.valid(); }
    explicit operator bool() const noexcept { return valid(); }
    Socket& socket() noexcept { return sock_; }
    Address getpeername() const { return sock_.getpeername(); }
    Address getsockname() const { return sock_.getsockname(); }

    // After the handshake: the negotiated protocol ("TLSv1.3"), cipher, ALPN protocol (empty if
    // none), whether the session was resumed, and the peer's certificate (none: nullopt).
    std::string version() const;
    std::string cipher() const;
    std::string alpn_protocol() const;
    bool session_reused() const;
    std::optional<TlsCertificate> peer_certificate() const;
    const std::string& server_hostname() const noexcept { return hostname_; }
    ssl_st* native_handle() const noexcept { return ssl_; }

  private:
    void setup_client();
    template <class Attempt>
    long run(const char* op, short first_events, const Deadline& deadline, Attempt&& attempt);
    [[noreturn]] void fail(const char* op, int ssl_error, int saved_errno);
    Deadline default_deadline() const noexcept;

    Socket sock_;
    std::shared_ptr<detail::TlsContextState> ctx_;
    ssl_st* ssl_ = nullptr;
    std::string hostname_;
    bool handshaken_ = false;
};

// Connects to host:port (green::create_connection), then shakes hands with `host` as the server
// name, all within `timeout`.
TlsSocket create_tls_connection(std::string_view host, std::uint16_t port, const TlsContext& ctx,
                                std::optional<Duration> timeout = std::nullopt);

// StreamServer over TLS: each accepted connection shakes hands in its own greenlet, bounded by
// `handshake_timeout` (a client that connects and sends nothing is dropped then); the handler
// gets the connection only after a successful handshake. A failed handshake is one log line
// ("green: TlsStreamServer: handshake with 127.0.0.1:5555 failed: ...") and never stops the server.
class TlsStreamServer : public StreamServer {
  public:
    using Handler = std::function<void(TlsSocket& connection, const Address& peer)>;

    TlsStreamServer(const Address& address, TlsContext ctx, Handler handler,
                    ServerOptions options = {},
                    Duration handshake_timeout = std::chrono::seconds(10));
    ~TlsStreamServer() override;

    // Handshakes that failed or timed out so far.
    std::size_t failed_handshakes() const noexcept { return failed_; }

  private:
    void serve_connection(Socket& conn, const Address& peer);
    TlsContext ctx_;
    Handler tls_handler_;
    Duration handshake_timeout_;
    std::size_t failed_ = 0;
};

}  // namespace green
