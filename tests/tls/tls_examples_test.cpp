// The TLS echo examples as processes: the client verifies the server's build-time certificate,
// echoes, and resumes its session on the second connection; a wrong name is refused and the
// server logs the failed handshake and goes on; SIGTERM stops the server.
#include <csignal>

#include <gtest/gtest.h>

#include <green/green.hpp>

#include "support/child_process.hpp"
#include "support/command.hpp"

using namespace std::chrono_literals;

namespace {

green_test::CommandRun client(const std::string& args) {
    return green::offload(green_test::run_command,
                          std::string(TLS_ECHO_CLIENT) + " " + args + " 2>&1");
}

}  // namespace

TEST(TlsExamples, EchoResumeRefuseAndStop) {
    green_test::Child server({TLS_ECHO_SERVER, "127.0.0.1", "0"});
    const std::string port = server.expect(R"(listening on 127\.0\.0\.1:(\d+))")[1];

    const auto ok = client("--name localhost 127.0.0.1 " + port + " hello world");
    EXPECT_EQ(ok.status, 0) << ok.out;
    EXPECT_EQ(ok.out,
              "connected: TLSv1.3 TLS_AES_256_GCM_SHA384 alpn=echo/1 resumed=no\n"
              "echo: hello\necho: world\n"
              "connected: TLSv1.3 TLS_AES_256_GCM_SHA384 alpn=echo/1 resumed=yes\n"
              "echo: hello\necho: world\n");
    server.expect(R"(127\.0\.0\.1:\d+: TLSv1\.3 TLS_AES_256_GCM_SHA384 alpn=echo/1)");
    server.expect(R"(: closed)");

    const auto wrong = client("--name not-localhost 127.0.0.1 " + port + " x");
    EXPECT_EQ(wrong.status, 1) << wrong.out;
    EXPECT_NE(wrong.out.find("certificate verify failed: hostname mismatch"), std::string::npos)
        << wrong.out;

    server.signal(SIGTERM);
    EXPECT_EQ(server.wait(10s), 0);
    EXPECT_NE(server.rest().find("stopped after 1 failed handshakes"), std::string::npos)
        << server.output();
}
