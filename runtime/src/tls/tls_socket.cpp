// TlsSocket: OpenSSL's non-blocking state machine driven by the runtime's one I/O primitive
// (detail::io_call_parking): each attempt is one SSL call; WANT_READ/WANT_WRITE park the fiber on
// that readiness of the socket, with the call's deadline; kills and Timeouts come out of the wait,
// never from inside OpenSSL.
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <cerrno>
#include <memory>
#include <system_error>
#include <utility>

#include "green/greenlet.hpp"
#include "green/tls.hpp"
#include "io_call.hpp"
#include "scheduler.hpp"
#include "tls_internal.hpp"

namespace green {

namespace {

bool is_ip_literal(const std::string& host) {
    unsigned char buf[sizeof(in6_addr)];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 ||
           inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// Closes `s` unless the call completed: a handshake or record interrupted halfway cannot resume.
struct CloseUnlessDone {
    TlsSocket& s;
    bool done = false;
    ~CloseUnlessDone() {
        if (!done) s.close();
    }
};

}  // namespace

TlsSocket::TlsSocket() noexcept = default;

TlsSocket::TlsSocket(const TlsContext& ctx, Socket sock, std::string_view server_hostname)
    : sock_(std::move(sock)), ctx_(ctx.state_ptr()), hostname_(server_hostname) {
    if (!sock_) throw std::invalid_argument("green::TlsSocket: no socket");
    ssl_ = SSL_new(ctx_->ctx);
    if (!ssl_) detail::throw_tls_error("SSL_new");
    try {
        BIO* bio = detail::new_socket_bio(sock_.fd());
        SSL_set_bio(ssl_, bio, bio);
        if (ctx_->server_side)
            SSL_set_accept_state(ssl_);
        else
            setup_client();
    } catch (...) {
        close();  // no destructor runs for a constructor that throws
        throw;
    }
}

void TlsSocket::setup_client() {
    SSL_set_connect_state(ssl_);
    if (!hostname_.empty()) {
        const bool ip = is_ip_literal(hostname_);
        // SNI carries names only (RFC 6066); an address is checked against the IP SANs.
        if (!ip && SSL_set_tlsext_host_name(ssl_, hostname_.c_str()) != 1)
            detail::throw_tls_error("server_hostname " + hostname_);
        if (ctx_->check_hostname) {
            X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
            const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, hostname_.c_str())
                              : SSL_set1_host(ssl_, hostname_.c_str());
            if (ok != 1) detail::throw_tls_error("server_hostname " + hostname_);
        }
    } else if (ctx_->check_hostname && (SSL_get_verify_mode(ssl_) & SSL_VERIFY_PEER)) {
        throw std::invalid_argument(
            "green::TlsSocket: a client that checks host names needs server_hostname");
    }
    if (ctx_->resume_sessions) {
        std::string key = hostname_ + '|' + sock_.getpeername().to_string();
        if (SSL_SESSION* s = ctx_->take_copy(key)) {
            SSL_set_session(ssl_, s);
            SSL_SESSION_free(s);
        }
        auto owned = std::make_unique<std::string>(std::move(key));
        if (SSL_set_ex_data(ssl_, detail::tls_session_key_index(), owned.get()) == 1)
            owned.release();  // freed with the SSL (tls_session_key_index's free callback)
    }
}

TlsSocket::TlsSocket(TlsSocket&& o) noexcept
    : sock_(std::move(o.sock_)),
      ctx_(std::move(o.ctx_)),
      ssl_(std::exchange(o.ssl_, nullptr)),
      hostname_(std::move(o.hostname_)),
      handshaken_(o.handshaken_) {}

TlsSocket& TlsSocket::operator=(TlsSocket&& o) noexcept {
    if (this != &o) {
        close();
        sock_ = std::move(o.sock_);
        ctx_ = std::move(o.ctx_);
        ssl_ = std::exchange(o.ssl_, nullptr);
        hostname_ = std::move(o.hostname_);
        handshaken_ = o.handshaken_;
    }
    return *this;
}

TlsSocket::~TlsSocket() {
    close();
}

void TlsSocket::close() noexcept {
    if (ssl_) SSL_free(std::exchange(ssl_, nullptr));  // frees the BIO too; sends nothing
    sock_.close();
}

Deadline TlsSocket::default_deadline() const noexcept {
    const auto t = sock_.gettimeout();
    return t ? Deadline(*t) : Deadline();
}

// One SSL call (`attempt`, returning OpenSSL's result) until it succeeds or fails for good,
// parking on the readiness it asks for. Returns 1 on success, 0 when the peer sent close_notify.
template <class Attempt>
long TlsSocket::run(const char* op, short first_events, const Deadline& deadline,
                    Attempt&& attempt) {
    if (!ssl_) throw std::system_error(EBADF, std::system_category(), op);
    const int fd = sock_.fd();
    detail::IoBackend& io = detail::Hub::get().io();
    short events = first_events;
    int ssl_error = SSL_ERROR_NONE, saved_errno = 0;
    const long r = detail::io_call_parking([&] { return io.wait_fd(fd, events, deadline); },
                                           [&]() -> long {
                                               ERR_clear_error();
                                               errno = 0;
                                               const int n = attempt();
                                               if (n > 0) return 1;
                                               ssl_error = SSL_get_error(ssl_, n);
                                               saved_errno = errno;
                                               switch (ssl_error) {
                                                   case SSL_ERROR_WANT_READ:
                                                       events = POLLIN;
                                                       return -EAGAIN;
                                                   case SSL_ERROR_WANT_WRITE:
                                                       events = POLLOUT;
                                                       return -EAGAIN;
                                                   case SSL_ERROR_ZERO_RETURN:
                                                       return 0;
                                                   default:
                                                       return -EPROTO;  // ssl_error says what
                                               }
                                           });
    if (r >= 0) return r;
    if (r == -ETIME) detail::throw_timeout_expired();
    if (r != -EPROTO) throw std::system_error(static_cast<int>(-r), std::system_category(), op);
    fail(op, ssl_error, saved_errno);
}

void TlsSocket::fail(const char* op, int ssl_error, int saved_errno) {
    if (ssl_error == SSL_ERROR_SYSCALL && saved_errno != 0) {
        ERR_clear_error();
        throw std::system_error(saved_errno, std::system_category(), op);
    }
    std::string text = detail::tls_error_text(op, "the connection closed unexpectedly");
    if (ssl_ && SSL_get_verify_result(ssl_) != X509_V_OK) {
        text += ": ";
        text += X509_verify_cert_error_string(SSL_get_verify_result(ssl_));
    }
    throw TlsError(text);
}

void TlsSocket::handshake() {
    handshake(default_deadline());
}

void TlsSocket::handshake(Deadline deadline) {
    if (handshaken_) return;
    CloseUnlessDone guard{*this};
    if (run("handshake", POLLIN, deadline, [this] { return SSL_do_handshake(ssl_); }) == 0)
        throw TlsError("handshake: the peer closed the connection");
    handshaken_ = true;
    guard.done = true;
}

bool TlsSocket::handshake_done() const noexcept {
    return handshaken_;
}

std::size_t TlsSocket::recv(void* buf, std::size_t len) {
    return recv(buf, len, default_deadline());
}

std::size_t TlsSocket::recv(void* buf, std::size_t len, Deadline deadline) {
    if (!handshaken_) handshake(deadline);
    if (len == 0) return 0;
    std::size_t got = 0;
    const long r = run("recv", POLLIN, deadline, [&] { return SSL_read_ex(ssl_, buf, len, &got); });
    return r == 0 ? 0 : got;
}

std::string TlsSocket::recv(std::size_t max) {
    return recv(max, default_deadline());
}

std::string TlsSocket::recv(std::size_t max, Deadline deadline) {
    std::string out(max, '\0');
    out.resize(recv(out.data(), max, deadline));
    return out;
}

void TlsSocket::recv_exact(void* buf, std::size_t len) {
    recv_exact(buf, len, default_deadline());
}

void TlsSocket::recv_exact(void* buf, std::size_t len, Deadline deadline) {
    auto* p = static_cast<char*>(buf);
    std::size_t got = 0;
    while (got < len) {
        const std::size_t n = recv(p + got, len - got, deadline);
        if (n == 0) throw IncompleteRead(got, len);
        got += n;
    }
}

std::string TlsSocket::recv_exact(std::size_t len) {
    return recv_exact(len, default_deadline());
}

std::string TlsSocket::recv_exact(std::size_t len, Deadline deadline) {
    std::string out(len, '\0');
    recv_exact(out.data(), len, deadline);
    return out;
}

std::size_t TlsSocket::send(const void* buf, std::size_t len) {
    return send(buf, len, default_deadline());
}

std::size_t TlsSocket::send(const void* buf, std::size_t len, Deadline deadline) {
    if (!handshaken_) handshake(deadline);
    if (len == 0) return 0;
    CloseUnlessDone guard{*this};
    std::size_t sent = 0;
    run("send", POLLOUT, deadline, [&] { return SSL_write_ex(ssl_, buf, len, &sent); });
    guard.done = true;
    return sent;
}

void TlsSocket::sendall(const void* buf, std::size_t len) {
    sendall(buf, len, default_deadline());
}

void TlsSocket::sendall(const void* buf, std::size_t len, Deadline deadline) {
    const auto* p = static_cast<const char*>(buf);
    while (len > 0) {
        const std::size_t n = send(p, len, deadline);
        p += n;
        len -= n;
    }
}

std::size_t TlsSocket::pending() const noexcept {
    return ssl_ ? static_cast<std::size_t>(SSL_pending(ssl_)) : 0;
}

void TlsSocket::shutdown() {
    shutdown(default_deadline());
}

void TlsSocket::shutdown(Deadline deadline) {
    if (!handshaken_) throw TlsError("shutdown: no handshake yet");
    // SSL_shutdown says 0 once our close_notify is out (the peer's has not come): that is done.
    CloseUnlessDone guard{*this};
    run("shutdown", POLLOUT, deadline, [this] {
        const int r = SSL_shutdown(ssl_);
        return r == 0 ? 1 : r;
    });
    guard.done = true;
}

// ---- what was negotiated ------------------------------------------------------------------

namespace {

std::string bio_text(BIO* b) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(b, &data);
    std::string s(data, static_cast<std::size_t>(n > 0 ? n : 0));
    BIO_free(b);
    return s;
}

std::string name_text(const X509_NAME* name) {
    BIO* b = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253);
    return bio_text(b);
}

}  // namespace

std::string TlsSocket::version() const {
    return ssl_ && handshaken_ ? SSL_get_version(ssl_) : "";
}

std::string TlsSocket::cipher() const {
    const char* c = ssl_ && handshaken_ ? SSL_get_cipher_name(ssl_) : nullptr;
    return c ? c : "";
}

std::string TlsSocket::alpn_protocol() const {
    const unsigned char* p = nullptr;
    unsigned len = 0;
    if (ssl_) SSL_get0_alpn_selected(ssl_, &p, &len);
    return p ? std::string(reinterpret_cast<const char*>(p), len) : std::string();
}

bool TlsSocket::session_reused() const {
    return ssl_ && SSL_session_reused(ssl_) == 1;
}

std::optional<TlsCertificate> TlsSocket::peer_certificate() const {
    X509* cert = ssl_ ? SSL_get1_peer_certificate(ssl_) : nullptr;
    if (!cert) return std::nullopt;
    TlsCertificate out;
    out.subject = name_text(X509_get_subject_name(cert));
    out.issuer = name_text(X509_get_issuer_name(cert));
    if (auto* sans = static_cast<GENERAL_NAMES*>(
            X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
        for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
            const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
            if (n->type == GEN_DNS)
                out.dns_names.emplace_back(
                    reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                    static_cast<std::size_t>(ASN1_STRING_length(n->d.dNSName)));
        }
        GENERAL_NAMES_free(sans);
    }
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, cert);
    out.pem = bio_text(b);
    X509_free(cert);
    return out;
}

}  // namespace green
