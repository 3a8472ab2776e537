// What the green::tls sources share: the context's state behind TlsContext, the error text of
// OpenSSL's error queue, and the BIO that moves TLS records over a non-blocking socket.
#pragma once

#include <openssl/ssl.h>

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace green::detail {

struct TlsContextState {
    TlsContextState(SSL_CTX* c, bool server) : ctx(c), server_side(server) {}
    ~TlsContextState();
    TlsContextState(const TlsContextState&) = delete;
    TlsContextState& operator=(const TlsContextState&) = delete;

    SSL_CTX* ctx;
    bool server_side;
    bool check_hostname = true;
    bool resume_sessions = true;
    std::vector<unsigned char> alpn;  // wire format: length-prefixed names

    // The client's session cache: the newest ticket per server key (host name and address).
    // Contexts may be shared by hubs on several threads, hence the lock.
    std::mutex sessions_lock;
    std::unordered_map<std::string, SSL_SESSION*> sessions;
    void remember(const std::string& key, SSL_SESSION* s);
    SSL_SESSION* take_copy(const std::string& key);  // a new reference, or nullptr
};

// "op: <OpenSSL's queued errors>", emptying the queue; `fallback` when the queue is empty.
std::string tls_error_text(std::string_view op, std::string_view fallback);
[[noreturn]] void throw_tls_error(std::string_view op, std::string_view fallback = "failed");

// The ex_data slot of an SSL holding its session key (a std::string*, freed with the SSL).
int tls_session_key_index();

// A BIO over `fd` (non-blocking): raw recv/send system calls, so that the hook library (when
// loaded) does not turn them into a second wait; EAGAIN is a retry, a closed peer an EOF.
BIO* new_socket_bio(int fd);

}  // namespace green::detail
