// TlsStreamServer: handlers get handshaken connections; garbage, silent and vanishing clients are
// logged and dropped without harming the server; many handshakes at once; interoperability with
// openssl s_client, curl and openssl s_server.
#include <gtest/gtest.h>

#include <green/green.hpp>
#include <green/tls.hpp>

#include "support/child_process.hpp"
#include "support/command.hpp"
#include "support/fd_limit.hpp"
#include "support/sockets.hpp"
#include "tls/tls_fixture.hpp"

using namespace std::chrono_literals;
using green::Address;
using green::Socket;
using green::TlsSocket;
using green::TlsStreamServer;
using green_test::tls_echo;
using green_test::TlsTest;

namespace {

// Reads until the server closes the connection (or resets it); the bytes read.
std::string read_to_close(Socket& s) {
    std::string all;
    try {
        while (true) {
            std::string part = s.recv(4096, green::Deadline(10s));
            if (part.empty()) break;
            all += part;
        }
    } catch (const std::system_error&) {
    }
    return all;
}

bool have(const char* tool) {
    return green_test::run_command(std::string("command -v ") + tool + " >/dev/null 2>&1").status ==
           0;
}

}  // namespace

TEST_F(TlsTest, ServerSurvivesGarbageSilentAndVanishingClients) {
    int handled = 0;
    TlsStreamServer server(
        Address("127.0.0.1", 0), server_ctx(),
        [&](TlsSocket& c, const Address& a) {
            EXPECT_TRUE(c.handshake_done());
            ++handled;
            tls_echo(c, a);
        },
        {}, 300ms);
    server.start();

    Socket garbage = Socket::tcp();
    garbage.connect(server.address());
    garbage.sendall("GET / HTTP/1.0\r\n\r\n");
    const std::string answer = read_to_close(garbage);  // at most a TLS alert, then the close
    EXPECT_LT(answer.size(), 100u);

    Socket vanishing = Socket::tcp();
    vanishing.connect(server.address());
    vanishing.sendall(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11));
    vanishing.close();  // mid-ClientHello

    Socket silent = Socket::tcp();  // slowloris: connects and sends nothing
    silent.connect(server.address());
    const auto t0 = green::Clock::now();
    EXPECT_EQ(read_to_close(silent), "");
    const auto waited = green::Clock::now() - t0;
    EXPECT_GE(waited, 250ms);
    EXPECT_LT(waited, 8s);

    TlsSocket good =
        green::create_tls_connection("localhost", server.address().port(), client_ctx(), 10s);
    good.sendall("still here");
    EXPECT_EQ(good.recv_exact(10), "still here");
    EXPECT_EQ(server.failed_handshakes(), 3u);
    EXPECT_EQ(handled, 1);
    EXPECT_TRUE(server.started());
}

TEST_F(TlsTest, ManyConcurrentHandshakesOverlap) {
    // 1,000 connections (the count); both ends live in this process, so two descriptors
    // each. Under AddressSanitizer the handshakes' CPU is several times larger: half as many.
#ifdef __SANITIZE_ADDRESS__
    constexpr int kConnections = 500;
#else
    constexpr int kConnections = 1000;
#endif
    const int n = green_test::raise_fd_limit(2 * kConnections, 100) / 2;
    ASSERT_GT(n, 10);
    std::size_t peak = 0;
    green::ServerOptions options;
    options.backlog = 1024;
    TlsStreamServer server(
        Address("127.0.0.1", 0), server_ctx(),
        [&](TlsSocket& c, const Address& a) {
            peak = std::max(peak, server.active_handlers());
            tls_echo(c, a);
        },
        options, 120s);  // CPU-bound here (both ends, one thread): not a slowloris test
    server.start();
    auto ctx = client_ctx();
    ctx.set_session_resumption(false);
    std::vector<green::Greenlet<std::string>> clients;
    for (int i = 0; i < n; ++i)
        clients.push_back(green::spawn([&, i] {
            TlsSocket c =
                green::create_tls_connection("localhost", server.address().port(), ctx, 60s);
            green::sleep(10ms);  // every connection is open at once
            c.sendall("client " + std::to_string(i));
            std::string reply = c.recv(100, green::Deadline(60s));
            c.shutdown();
            return reply;
        }));
    for (int i = 0; i < n; ++i) EXPECT_EQ(clients[i].get(90s), "client " + std::to_string(i));
    EXPECT_GT(peak, static_cast<std::size_t>(n / 2));
    EXPECT_EQ(server.failed_handshakes(), 0u);
}

TEST_F(TlsTest, OpensslSClientTalksToGreenServer) {
    if (!have("openssl")) GTEST_SKIP() << "no openssl command";
    TlsStreamServer server(Address("127.0.0.1", 0), server_ctx(), [](TlsSocket& c, const Address&) {
        std::string line = c.recv(100);
        for (char& ch : line) ch = static_cast<char>(std::toupper(ch));
        c.sendall(line);
        c.shutdown();
    });
    server.start();
    const std::string cmd = "echo hello tls | timeout 20 openssl s_client -connect 127.0.0.1:" +
                            std::to_string(server.address().port()) + " -CAfile " + ca_file_ +
                            " -servername localhost -verify_hostname localhost" +
                            " -verify_return_error -quiet 2>&1";
    const auto r = green::offload(green_test::run_command, cmd);
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("HELLO TLS"), std::string::npos) << r.out;
}

TEST_F(TlsTest, CurlFetchesFromGreenServer) {
    if (!have("curl")) GTEST_SKIP() << "no curl command";
    TlsStreamServer server(Address("127.0.0.1", 0), server_ctx(), [](TlsSocket& c, const Address&) {
        std::string req;
        while (req.find("\r\n\r\n") == std::string::npos) {
            std::string part = c.recv(4096);
            if (part.empty()) return;
            req += part;
        }
        const std::string body = "hello from green over " + c.version() + "\n";
        c.sendall("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                  "\r\nConnection: close\r\n\r\n" + body);
        c.shutdown();
    });
    server.start();
    const std::string cmd = "curl -sS --max-time 20 --cacert " + ca_file_ +
                            " https://localhost:" + std::to_string(server.address().port()) +
                            "/ 2>&1";
    const auto r = green::offload(green_test::run_command, cmd);
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(r.out, "hello from green over TLSv1.3\n");
}

TEST_F(TlsTest, GreenClientTalksToOpensslSServer) {
    if (!have("openssl")) GTEST_SKIP() << "no openssl command";
    int port = 0;
    {
        Socket probe = green_test::listener();
        port = probe.getsockname().port();
    }
    green_test::Child s_server({"/usr/bin/openssl", "s_server", "-accept",
                                "127.0.0.1:" + std::to_string(port), "-cert", cert_file_, "-key",
                                key_file_, "-www", "-naccept", "1"});
    s_server.expect("ACCEPT", 10s);
    auto ctx = client_ctx();
    TlsSocket c =
        green::create_tls_connection("localhost", static_cast<std::uint16_t>(port), ctx, 10s);
    c.sendall("GET / HTTP/1.0\r\n\r\n");
    std::string page;
    try {
        while (true) {
            std::string part = c.recv(65536, green::Deadline(10s));
            if (part.empty()) break;
            page += part;
        }
    } catch (const green::TlsError&) {  // s_server may close without close_notify
    }
    EXPECT_EQ(page.rfind("HTTP/1.0 200 ok", 0), 0u) << page.substr(0, 200);
    EXPECT_NE(page.find("TLSv1.3"), std::string::npos);
}
