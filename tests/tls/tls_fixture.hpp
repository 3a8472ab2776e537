// What the TLS tests share: a CA made at test time, a server certificate for localhost and
// 127.0.0.1 in a temp directory, contexts that trust it, and an echo handler.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include <green/green.hpp>
#include <green/tls.hpp>

#include "support/tls_certs.hpp"

namespace green_test {

class TlsTest : public ::testing::Test {
  protected:
    TlsTest()
        : leaf_(ca_.issue("localhost", {"localhost", "127.0.0.1"})),
          ca_file_(dir_.write("ca.pem", ca_.cert_pem())),
          cert_file_(dir_.write("cert.pem", leaf_.cert)),
          key_file_(dir_.write("key.pem", leaf_.key)) {}

    green::TlsContext server_ctx() const {
        return green::TlsContext::server(cert_file_, key_file_);
    }
    green::TlsContext client_ctx() const {
        auto c = green::TlsContext::client();
        c.load_verify_file(ca_file_);
        return c;
    }

    CertAuthority ca_;
    PemPair leaf_;
    TempDir dir_;
    std::string ca_file_, cert_file_, key_file_;
};

// Echoes until the peer's close_notify.
inline void tls_echo(green::TlsSocket& c, const green::Address&) {
    char buf[16384];
    while (std::size_t n = c.recv(buf, sizeof buf)) c.sendall(buf, n);
}

}  // namespace green_test
