// TlsSocket: handshake and echo, each verification failure with its reason, ALPN, session
// resumption, close_notify vs an abrupt close, a reset mid-record, kill and Timeout while the
// peer stalls, and 10 MB both ways at once.
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <green/green.hpp>
#include <green/tls.hpp>

#include "support/byte_pattern.hpp"
#include "support/sockets.hpp"
#include "tls/tls_fixture.hpp"

using namespace std::chrono_literals;
using green::Address;
using green::Socket;
using green::TlsContext;
using green::TlsError;
using green::TlsSocket;
using green::TlsStreamServer;
using green_test::tls_echo;
using green_test::TlsTest;

namespace {

// The message of what `f` throws as TlsError ("" if it throws nothing).
template <class F>
std::string tls_error_of(F&& f) {
    try {
        f();
    } catch (const TlsError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_F(TlsTest, HandshakeAndEcho) {
    TlsStreamServer server(Address("127.0.0.1", 0), server_ctx(), tls_echo);
    server.start();
    TlsSocket c =
        green::create_tls_connection("localhost", server.address().port(), client_ctx(), 10s);
    EXPECT_TRUE(c.handshake_done());
    EXPECT_EQ(c.version(), "TLSv1.3");
    EXPECT_FALSE(c.cipher().empty());
    c.sendall("hello over tls\n");
    EXPECT_EQ(c.recv_exact(15), "hello over tls\n");
    const auto cert = c.peer_certificate();
    ASSERT_TRUE(cert);
    EXPECT_EQ(cert->subject, "CN=localhost");
    EXPECT_EQ(cert->issuer, "CN=green test CA");
    EXPECT_EQ(cert->dns_names, std::vector<std::string>{"localhost"});
    EXPECT_NE(cert->pem.find("BEGIN CERTIFICATE"), std::string::npos);
    c.shutdown();
    EXPECT_EQ(server.failed_handshakes(), 0u);
}

TEST_F(TlsTest, IpAddressIsCheckedAgainstIpSubjectAltName) {
    TlsStreamServer server(Address("127.0.0.1", 0), server_ctx(), tls_echo);
    server.start();
    TlsSocket c =
        green::create_tls_connection("127.0.0.1", server.address().port(), client_ctx(), 10s);
    c.sendall("ip");
    EXPECT_EQ(c.recv_exact(2), "ip");
}

TEST_F(TlsTest, WrongHostnameFailsWithReasonAndClosesSocket) {
    TlsStreamServer server(Address("127.0.0.1", 0), server_ctx(), tls_echo);
    server.start();
    Socket s = Socket::tcp();
    s.connect(server.address());
    TlsSocket c(client_ctx(), std::move(s), "other.test");
    const std::string err = tls_error_of([&] { c.handshake(10s); });
    EXPECT_NE(err.find("certificate verify failed"), std::string::npos) << err;
    EXPECT_NE(err.find("hostname mismatch"), std::string::npos) << err;
    EXPECT_FALSE(c.valid());
}

TEST_F(TlsTest, UntrustedCaFails) {
    TlsStreamServer server(Address("127.0.0.1", 0), server_ctx(), tls_echo);
    server.start();
    green_test::CertAuthority other("some other CA");
    auto ctx = TlsContext::client();
    ctx.load_verify_pem(other.cert_pem());
    const std::string err = tls_error_of(
        [&] { green::create_tls_connection("localhost", server.address().port(), ctx, 10s); });
    EXPECT_NE(err.find("unable to get local issuer certificate"), std::string::npos) << err;
}

TEST_F(TlsTest, ExpiredCertificateFails) {
    const auto old = ca_.issue("localhost", {"localhost"}, -7200, -3600);
    auto sctx = TlsContext::server();
    sctx.use_certificate_chain_pem(old.cert);
    sctx.use_private_key_pem(old.key);
    TlsStreamServer server(Address("127.0.0.1", 0), sctx, tls_echo);
    server.start();
    const std::string err = tls_error_of([&] {
        green::create_tls_connection("localhost", server.address().port(), client_ctx(), 10s);
    });
    EXPECT_NE(err.find("certificate has expired"), std::string::npos) << err;
}

TEST_F(TlsTest, VerificationOffAcceptsAnyCertificate) {
    TlsStreamServer server(Address("127.0.0.1", 0), server_ctx(), tls_echo);
    server.start();
    auto ctx = TlsContext::client();  // the system store does not know the test CA
    ctx.set_verify(false);
    ctx.set_check_hostname(false);
    TlsSocket c = green::create_tls_connection("localhost", server.address().port(), ctx, 10s);
    c.sendall("x");
    EXPECT_EQ(c.recv_exact(1), "x");
}

TEST_F(TlsTest, ProtocolVersionMismatchFails) {
    auto sctx = server_ctx();
    sctx.set_max_version(green::TlsVersion::Tls1_2);
    TlsStreamServer server(Address("127.0.0.1", 0), sctx, tls_echo);
    server.start();
    auto ctx = client_ctx();
    ctx.set_min_version(green::TlsVersion::Tls1_3);
    const std::string err = tls_error_of(
        [&] { green::create_tls_connection("localhost", server.address().port(), ctx, 10s); });
    EXPECT_NE(err.find("protocol version"), std::string::npos) << err;
    // And TLS 1.2 itself works.
    TlsSocket c =
        green::create_tls_connection("localhost", server.address().port(), client_ctx(), 10s);
    EXPECT_EQ(c.version(), "TLSv1.2");
}

TEST_F(TlsTest, BadCertificateFilesAreClearErrors) {
    const std::string err =
        tls_error_of([&] { TlsContext::server(dir_.path() + "/missing.pem", key_file_); });
    EXPECT_NE(err.find("use_certificate_chain_file"), std::string::npos) << err;
    const auto other = ca_.issue("x", {"x"});
    const std::string mismatch =
        tls_error_of([&] { TlsContext::server(cert_file_, dir_.write("other.key", other.key)); });
    EXPECT_NE(mismatch.find("values mismatch"), std::string::npos) << mismatch;
}

TEST_F(TlsTest, AlpnServerPicksItsPreference) {
    auto sctx = server_ctx();
    sctx.set_alpn_protocols({"h2", "http/1.1"});
    std::string server_saw;
    TlsStreamServer server(Address("127.0.0.1", 0), sctx, [&](TlsSocket& c, const Address& a) {
        server_saw = c.alpn_protocol();
        tls_echo(c, a);
    });
    server.start();
    auto ctx = client_ctx();
    ctx.set_alpn_protocols({"http/1.1", "h2"});
    TlsSocket c = green::create_tls_connection("localhost", server.address().port(), ctx, 10s);
    EXPECT_EQ(c.alpn_protocol(), "h2");
    c.sendall("a");
    c.recv_exact(1);
    EXPECT_EQ(server_saw, "h2");

    auto other = client_ctx();
    other.set_alpn_protocols({"spdy/3"});
    TlsSocket d = green::create_tls_connection("localhost", server.address().port(), other, 10s);
    EXPECT_EQ(d.alpn_protocol(), "");
}

TEST_F(TlsTest, SessionIsResumedFromTicket) {
    std::vector<bool> server_reused;
    TlsStreamServer server(Address("127.0.0.1", 0), server_ctx(),
                           [&](TlsSocket& c, const Address& a) {
                               server_reused.push_back(c.session_reused());
                               tls_echo(c, a);
                           });
    server.start();
    auto ctx = client_ctx();
    for (int i = 0; i < 3; ++i) {
        TlsSocket c = green::create_tls_connection("localhost", server.address().port(), ctx, 10s);
        c.sendall("ping");
        EXPECT_EQ(c.recv_exact(4), "ping");  // reading takes in the server's tickets
        EXPECT_EQ(c.session_reused(), i > 0) << "connection " << i;
        c.shutdown();
    }
    green::sleep(20ms);
    EXPECT_EQ(server_reused, (std::vector<bool>{false, true, true}));

    auto fresh = client_ctx();
    fresh.set_session_resumption(false);
    for (int i = 0; i < 2; ++i) {
        TlsSocket c =
            green::create_tls_connection("localhost", server.address().port(), fresh, 10s);
        c.sendall("ping");
        c.recv_exact(4);
        EXPECT_FALSE(c.session_reused());
    }
}

TEST_F(TlsTest, CloseNotifyIsEndOfStreamAbruptCloseIsAnError) {
    TlsStreamServer server(Address("127.0.0.1", 0), server_ctx(), [](TlsSocket& c, const Address&) {
        const std::string how = c.recv_exact(6);
        c.sendall("bye");
        if (how == "notify") c.shutdown();
        c.close();  // without close_notify for "abrupt"
    });
    server.start();
    {
        TlsSocket c =
            green::create_tls_connection("localhost", server.address().port(), client_ctx(), 10s);
        c.sendall("notify");
        EXPECT_EQ(c.recv_exact(3), "bye");
        EXPECT_EQ(c.recv(100), "");
        EXPECT_EQ(c.recv(100), "");
    }
    {
        TlsSocket c =
            green::create_tls_connection("localhost", server.address().port(), client_ctx(), 10s);
        c.sendall("abrupt");
        EXPECT_EQ(c.recv_exact(3), "bye");
        const std::string err = tls_error_of([&] { c.recv(100); });
        EXPECT_NE(err.find("unexpected eof"), std::string::npos) << err;
    }
    {  // recv_exact before close_notify: IncompleteRead, as on a Socket
        TlsSocket c =
            green::create_tls_connection("localhost", server.address().port(), client_ctx(), 10s);
        c.sendall("notify");
        EXPECT_THROW(c.recv_exact(10), green::IncompleteRead);
    }
}

TEST_F(TlsTest, PeerResetMidRecordIsConnectionReset) {
    TlsStreamServer server(Address("127.0.0.1", 0), server_ctx(), [](TlsSocket& c, const Address&) {
        c.recv_exact(2);
        // The header of a 1000-byte application record and 10 of its bytes, then a reset.
        const char part[15] = {0x17, 0x03, 0x03, 0x03, static_cast<char>(0xe8)};
        c.socket().sendall(part, sizeof part);
        green::sleep(50ms);
        linger l{1, 0};
        ::setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
        c.close();
    });
    server.start();
    TlsSocket c =
        green::create_tls_connection("localhost", server.address().port(), client_ctx(), 10s);
    c.sendall("go");
    try {
        c.recv(100, green::Deadline(10s));
        FAIL() << "recv returned";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), ECONNRESET) << e.what();
    }
}

// A TCP listener that accepts and then says nothing: a stalled TLS peer.
struct SilentPeer {
    Socket listener = green_test::listener();
    std::vector<Socket> held;
    green::Greenlet<void> acceptor = green::spawn([this] {
        for (;;) held.push_back(listener.accept().first);
    });
    ~SilentPeer() { acceptor.kill(); }
};

TEST_F(TlsTest, TimeoutDuringHandshakeClosesSocket) {
    SilentPeer peer;
    Socket s = Socket::tcp();
    s.connect(peer.listener.getsockname());
    TlsSocket c(client_ctx(), std::move(s), "localhost");
    const auto t0 = green::Clock::now();
    EXPECT_THROW(c.handshake(green::Deadline(100ms)), green::Timeout);
    EXPECT_GE(green::Clock::now() - t0, 100ms);
    EXPECT_FALSE(c.valid());
    EXPECT_THROW(c.recv(10), std::system_error);  // EBADF, not a crash
}

TEST_F(TlsTest, KillMidHandshakeClosesSocket) {
    SilentPeer peer;
    Socket s = Socket::tcp();
    s.connect(peer.listener.getsockname());
    TlsSocket c(client_ctx(), std::move(s), "localhost");
    auto g = green::spawn([&] { c.handshake(); });
    green::sleep(30ms);
    g.kill();
    EXPECT_TRUE(g.ready());
    EXPECT_FALSE(c.valid());
}

TEST_F(TlsTest, RecvTimeoutLeavesConnectionUsable) {
    green::Event go;
    TlsStreamServer server(Address("127.0.0.1", 0), server_ctx(),
                           [&](TlsSocket& c, const Address&) {
                               go.wait(10s);
                               c.sendall("late");
                               c.recv(10);
                           });
    server.start();
    TlsSocket c =
        green::create_tls_connection("localhost", server.address().port(), client_ctx(), 10s);
    EXPECT_THROW(c.recv(10, green::Deadline(50ms)), green::Timeout);
    EXPECT_TRUE(c.valid());
    {
        green::Timeout t(50ms);  // a Timeout from outside the call
        EXPECT_THROW(c.recv(10), green::Timeout);
    }
    go.set();
    EXPECT_EQ(c.recv_exact(4, green::Deadline(10s)), "late");
}

TEST_F(TlsTest, TenMegabytesBothWaysAtOnce) {
    constexpr std::size_t kSize = 10 << 20;
    const std::string up = green_test::pattern(kSize, 1), down = green_test::pattern(kSize, 2);
    // The server receives `up` while another fiber sends `down` on the same TlsSocket.
    std::uint64_t server_got = 0;
    TlsStreamServer server(
        Address("127.0.0.1", 0), server_ctx(), [&](TlsSocket& c, const Address&) {
            auto sender = green::spawn([&] { c.sendall(down); });
            green_test::Fnv h;
            std::string buf(65536, '\0');
            for (std::size_t got = 0; got < kSize;) {
                const std::size_t n = c.recv(buf.data(), std::min(buf.size(), kSize - got));
                ASSERT_GT(n, 0u);
                h.add(buf.data(), n);
                got += n;
            }
            server_got = h.h;
            sender.get(30s);
            c.shutdown();
        });
    server.start();
    TlsSocket c =
        green::create_tls_connection("localhost", server.address().port(), client_ctx(), 10s);
    auto sender = green::spawn([&] { c.sendall(up); });
    green_test::Fnv h;
    std::string buf(65536, '\0');
    std::size_t got = 0;
    while (std::size_t n = c.recv(buf.data(), buf.size(), green::Deadline(30s))) {
        h.add(buf.data(), n);
        got += n;
    }
    sender.get(30s);
    EXPECT_EQ(got, kSize);
    green_test::Fnv want_down, want_up;
    want_down.add(down.data(), down.size());
    want_up.add(up.data(), up.size());
    EXPECT_EQ(h.h, want_down.h);
    EXPECT_EQ(server_got, want_up.h);
}

TEST_F(TlsTest, LineReaderReadsLinesOverTls) {
    TlsStreamServer server(Address("127.0.0.1", 0), server_ctx(), [](TlsSocket& c, const Address&) {
        green::LineReader lines(c);
        while (true) {
            const std::string line = lines.readline();
            if (line.empty()) break;
            c.sendall("got " + line);
        }
        c.shutdown();
    });
    server.start();
    TlsSocket c =
        green::create_tls_connection("localhost", server.address().port(), client_ctx(), 10s);
    c.sendall("first\nsecond\nthi");
    c.sendall("rd\n");
    c.shutdown();
    green::LineReader replies(c);
    EXPECT_EQ(replies.readline(), "got first\n");
    EXPECT_EQ(replies.readline(), "got second\n");
    EXPECT_EQ(replies.readline(), "got third\n");
    EXPECT_EQ(replies.readline(), "");
}

TEST_F(TlsTest, BadSocketsAndMissingNamesAreClearErrors) {
    EXPECT_THROW(TlsSocket(client_ctx(), Socket()), std::invalid_argument);
    try {  // a client must know its server: the session key needs the peer
        TlsSocket(client_ctx(), Socket::tcp(), "localhost");
        FAIL() << "no error";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), ENOTCONN) << e.what();
    }
    auto [s, peer] = green_test::tcp_pair();
    EXPECT_THROW(TlsSocket(client_ctx(), std::move(s)), std::invalid_argument);  // no host name
}

// A server that reads the ClientHello, then closes, or answers it with plain text.
TEST_F(TlsTest, PeerClosingOrTalkingGarbageMidHandshakeIsAClearError) {
    for (const std::string answer : {"", "HTTP/1.0 400 Bad Request\r\n\r\n"}) {
        Socket listener = green_test::listener();
        auto peer = green::spawn([&] {
            Socket c = listener.accept().first;
            c.recv(4096);
            if (!answer.empty()) c.sendall(answer);
            green::sleep(20ms);
        });
        Socket s = Socket::tcp();
        s.connect(listener.getsockname());
        TlsSocket c(client_ctx(), std::move(s), "localhost");
        const std::string err = tls_error_of([&] { c.handshake(10s); });
        if (answer.empty())
            EXPECT_NE(err.find("handshake: unexpected eof while reading"), std::string::npos)
                << err;
        else
            EXPECT_NE(err.find("handshake: wrong version number"), std::string::npos) << err;
        EXPECT_FALSE(c.valid());
        peer.get(10s);
    }
}
