// TlsContext: an SSL_CTX configured the way green's sockets use it (verification on for
// clients, TLS 1.2 minimum, ALPN, the client's per-server session cache).
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <memory>
#include <stdexcept>

#include "green/tls.hpp"
#include "tls_internal.hpp"

namespace green {

namespace detail {

TlsContextState::~TlsContextState() {
    for (auto& [key, s] : sessions) SSL_SESSION_free(s);
    SSL_CTX_free(ctx);
}

void TlsContextState::remember(const std::string& key, SSL_SESSION* s) {
    std::lock_guard lock(sessions_lock);
    SSL_SESSION*& slot = sessions[key];
    if (slot) SSL_SESSION_free(slot);
    slot = s;
}

SSL_SESSION* TlsContextState::take_copy(const std::string& key) {
    std::lock_guard lock(sessions_lock);
    const auto it = sessions.find(key);
    if (it == sessions.end()) return nullptr;
    SSL_SESSION_up_ref(it->second);
    return it->second;
}

int tls_session_key_index() {
    static const int index = SSL_get_ex_new_index(
        0, nullptr, nullptr, nullptr, [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
            delete static_cast<std::string*>(ptr);
        });
    return index;
}

}  // namespace detail

namespace {

using detail::throw_tls_error;
using detail::TlsContextState;

TlsContextState& state_of(const SSL* ssl) {
    return *static_cast<TlsContextState*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
}

// OpenSSL hands each new client session (a TLS 1.3 ticket arrives after the handshake) here.
int on_new_session(SSL* ssl, SSL_SESSION* session) {
    const auto* key =
        static_cast<const std::string*>(SSL_get_ex_data(ssl, detail::tls_session_key_index()));
    TlsContextState& st = state_of(ssl);
    if (!key || !st.resume_sessions || !SSL_SESSION_is_resumable(session)) return 0;
    st.remember(*key, session);
    return 1;  // we keep the reference
}

int on_alpn_select(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                   unsigned int inlen, void* arg) {
    auto& st = *static_cast<TlsContextState*>(arg);
    unsigned char* chosen = nullptr;
    if (st.alpn.empty() || SSL_select_next_proto(&chosen, outlen, st.alpn.data(),
                                                 static_cast<unsigned>(st.alpn.size()), in,
                                                 inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

std::shared_ptr<TlsContextState> make_state(bool server) {
    SSL_CTX* ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx) throw_tls_error("TlsContext");
    auto st = std::make_shared<TlsContextState>(ctx, server);
    SSL_CTX_set_app_data(ctx, st.get());
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) throw_tls_error("TlsContext");
    // sendall retries a partial write from wherever its buffer now starts.
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
    if (server) {
        SSL_CTX_set_alpn_select_cb(ctx, on_alpn_select, st.get());
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
        SSL_CTX_set_session_cache_mode(ctx,
                                       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, on_new_session);
    }
    return st;
}

int version_constant(TlsVersion v) {
    return v == TlsVersion::Tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

// A BIO reading PEM text in place.
struct MemBio {
    explicit MemBio(std::string_view pem)
        : bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))) {
        if (!bio) throw_tls_error("TlsContext");
    }
    ~MemBio() { BIO_free(bio); }
    BIO* bio;
};

}  // namespace

TlsContext TlsContext::client() {
    TlsContext c(make_state(false));
    c.load_default_verify_paths();
    return c;
}

TlsContext TlsContext::server() {
    return TlsContext(make_state(true));
}

TlsContext TlsContext::server(const std::string& cert_file, const std::string& key_file) {
    TlsContext c = server();
    c.use_certificate_chain_file(cert_file);
    c.use_private_key_file(key_file);
    return c;
}

void TlsContext::use_certificate_chain_file(const std::string& path) {
    if (SSL_CTX_use_certificate_chain_file(state_->ctx, path.c_str()) != 1)
        throw_tls_error("use_certificate_chain_file " + path);
}

void TlsContext::use_private_key_file(const std::string& path) {
    if (SSL_CTX_use_PrivateKey_file(state_->ctx, path.c_str(), SSL_FILETYPE_PEM) != 1)
        throw_tls_error("use_private_key_file " + path);
    if (SSL_CTX_check_private_key(state_->ctx) != 1)
        throw_tls_error("use_private_key_file " + path);
}

void TlsContext::use_certificate_chain_pem(std::string_view pem) {
    MemBio in(pem);
    X509* leaf = PEM_read_bio_X509_AUX(in.bio, nullptr, nullptr, nullptr);
    if (!leaf || SSL_CTX_use_certificate(state_->ctx, leaf) != 1) {
        X509_free(leaf);
        throw_tls_error("use_certificate_chain_pem", "no certificate");
    }
    X509_free(leaf);
    SSL_CTX_clear_chain_certs(state_->ctx);
    while (X509* ca = PEM_read_bio_X509(in.bio, nullptr, nullptr, nullptr)) {
        if (SSL_CTX_add0_chain_cert(state_->ctx, ca) != 1) {  // takes `ca` on success only
            X509_free(ca);
            throw_tls_error("use_certificate_chain_pem");
        }
    }
    ERR_clear_error();  // the loop ends on "no start line"
}

void TlsContext::use_private_key_pem(std::string_view pem) {
    MemBio in(pem);
    EVP_PKEY* key = PEM_read_bio_PrivateKey(in.bio, nullptr, nullptr, nullptr);
    const bool ok = key && SSL_CTX_use_PrivateKey(state_->ctx, key) == 1 &&
                    SSL_CTX_check_private_key(state_->ctx) == 1;
    EVP_PKEY_free(key);
    if (!ok) throw_tls_error("use_private_key_pem", "no private key");
}

void TlsContext::load_verify_file(const std::string& path) {
    if (SSL_CTX_load_verify_locations(state_->ctx, path.c_str(), nullptr) != 1)
        throw_tls_error("load_verify_file " + path);
}

void TlsContext::load_verify_dir(const std::string& path) {
    if (SSL_CTX_load_verify_locations(state_->ctx, nullptr, path.c_str()) != 1)
        throw_tls_error("load_verify_dir " + path);
}

void TlsContext::load_verify_pem(std::string_view pem) {
    MemBio in(pem);
    X509_STORE* store = SSL_CTX_get_cert_store(state_->ctx);
    int added = 0;
    while (X509* ca = PEM_read_bio_X509(in.bio, nullptr, nullptr, nullptr)) {
        const int ok = X509_STORE_add_cert(store, ca);
        X509_free(ca);
        if (ok != 1) throw_tls_error("load_verify_pem");
        ++added;
    }
    ERR_clear_error();
    if (added == 0) throw TlsError("load_verify_pem: no certificate in the text");
}

void TlsContext::load_default_verify_paths() {
    if (SSL_CTX_set_default_verify_paths(state_->ctx) != 1)
        throw_tls_error("load_default_verify_paths");
}

void TlsContext::set_verify(bool on) {
    int mode = SSL_VERIFY_NONE;
    if (on)
        mode = state_->server_side ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                                   : SSL_VERIFY_PEER;
    SSL_CTX_set_verify(state_->ctx, mode, nullptr);
}

bool TlsContext::verify() const noexcept {
    return SSL_CTX_get_verify_mode(state_->ctx) & SSL_VERIFY_PEER;
}

void TlsContext::set_check_hostname(bool on) noexcept {
    state_->check_hostname = on;
}
bool TlsContext::check_hostname() const noexcept {
    return state_->check_hostname;
}

void TlsContext::set_alpn_protocols(const std::vector<std::string>& protocols) {
    std::vector<unsigned char> wire;
    for (const std::string& p : protocols) {
        if (p.empty() || p.size() > 255)
            throw std::invalid_argument("set_alpn_protocols: a name must have 1..255 bytes");
        wire.push_back(static_cast<unsigned char>(p.size()));
        wire.insert(wire.end(), p.begin(), p.end());
    }
    // A client sends the list; a server's select callback reads state_->alpn.
    if (!state_->server_side &&
        SSL_CTX_set_alpn_protos(state_->ctx, wire.data(), static_cast<unsigned>(wire.size())) != 0)
        throw_tls_error("set_alpn_protocols");
    state_->alpn = std::move(wire);
}

void TlsContext::set_min_version(TlsVersion v) {
    if (!SSL_CTX_set_min_proto_version(state_->ctx, version_constant(v)))
        throw_tls_error("set_min_version");
}

void TlsContext::set_max_version(TlsVersion v) {
    if (!SSL_CTX_set_max_proto_version(state_->ctx, version_constant(v)))
        throw_tls_error("set_max_version");
}

void TlsContext::set_ciphers(const std::string& list) {
    if (SSL_CTX_set_cipher_list(state_->ctx, list.c_str()) != 1)
        throw_tls_error("set_ciphers " + list);
}

void TlsContext::set_ciphersuites(const std::string& list) {
    if (SSL_CTX_set_ciphersuites(state_->ctx, list.c_str()) != 1)
        throw_tls_error("set_ciphersuites " + list);
}

void TlsContext::set_session_resumption(bool on) noexcept {
    state_->resume_sessions = on;
}

bool TlsContext::server_side() const noexcept {
    return state_->server_side;
}

}  // namespace green
