// Drives the network examples as real processes: the upper-casing echo server with the 500
// concurrent clients, the two-port server, the UDP chat room with several clients, and the
// HTTP server fetched by the system's curl. Every server must stop cleanly on SIGINT/SIGTERM.
#include <gtest/gtest.h>

#include <string>

#include <green/green.hpp>

#include "support/child_process.hpp"
#include "support/command.hpp"
#include "support/files.hpp"
#include "support/sockets.hpp"

using namespace std::chrono_literals;
using green_test::Child;
using green_test::read_file;

namespace {

std::uint16_t port_of(const std::string& addr) {
    return static_cast<std::uint16_t>(std::stoi(addr.substr(addr.rfind(':') + 1)));
}

std::string ask(std::uint16_t port, const std::string& msg) {
    return green_test::ask(green::Address("127.0.0.1", port), msg);
}

// Runs a shell command (curl) to completion and returns its stdout.
std::string shell(const std::string& cmd) {
    return green_test::run_command(cmd).out;
}

}  // namespace

TEST(NetExamples, UpperEchoServerWith500Clients) {
    Child server({UPPER_ECHO_SERVER, "-q", "127.0.0.1", "0"});
    const std::uint16_t port = port_of(server.expect("listening on (\\S+)")[1]);
    EXPECT_EQ(ask(port, "hello"), "HELLO");

    Child clients({HELLO_CLIENTS, "127.0.0.1", std::to_string(port), "500", "2"});
    const std::string out = clients.rest(60s);
    EXPECT_EQ(clients.wait(60s), 0) << out.substr(0, 2000);
    std::size_t hellos = 0;
    for (std::size_t pos = 0; (pos = out.find("SAY HELLO ", pos)) != std::string::npos; ++pos)
        ++hellos;
    EXPECT_EQ(hellos, 1000u);
    EXPECT_NE(out.find("500 clients: 1000 replies, 0 errors"), std::string::npos);

    server.signal(SIGINT);
    server.expect("server stopped");
    EXPECT_EQ(server.wait(), 0);
}

TEST(NetExamples, UpperEchoServerPrintsMessagesAndStopsWithOpenConnections) {
    Child server({UPPER_ECHO_SERVER, "127.0.0.1", "0"});
    const std::uint16_t port = port_of(server.expect("listening on (\\S+)")[1]);
    green::Socket idle = green::create_connection("127.0.0.1", port, 5s);
    idle.sendall("quiet one");
    EXPECT_EQ(idle.recv_exact(9), "QUIET ONE");
    server.expect(": quiet one$");
    server.signal(SIGTERM);
    server.expect("closing 1 connection");
    EXPECT_EQ(server.wait(), 0);
    EXPECT_EQ(idle.recv(), "");  // the server closed it on the way out
}

TEST(NetExamples, TwoPortServer) {
    Child server({TWO_PORT_SERVER, "127.0.0.1", "0", "0"});
    const auto m = server.expect("listening on (\\S+) and (\\S+)");
    const std::uint16_t p1 = port_of(m[1]), p2 = port_of(m[2]);
    ASSERT_NE(p1, p2);
    green::Socket a = green::create_connection("127.0.0.1", p1, 5s);
    green::Socket b = green::create_connection("127.0.0.1", p2, 5s);
    b.sendall("to the second");
    a.sendall("to the first");
    EXPECT_EQ(a.recv_exact(12), "to the first");
    EXPECT_EQ(b.recv_exact(13), "to the second");
    server.expect("new connection on 127\\.0\\.0\\.1:" + std::to_string(p1));
    server.signal(SIGINT);
    server.expect("server stopped");
    EXPECT_EQ(server.wait(), 0);
}

TEST(NetExamples, UdpChatRoom) {
    Child room({CHAT_SERVER, "127.0.0.1", "0"});
    const std::string port = std::to_string(port_of(room.expect("chat room on (\\S+)")[1]));
    auto join = [&](const char* name) {
        auto c =
            std::make_unique<Child>(std::vector<std::string>{CHAT_CLIENT, name, "127.0.0.1", port});
        c->expect("you are in the room");
        return c;
    };
    auto ann = join("ann");
    auto bob = join("bob");
    ann->expect("^bob joined$");
    auto cy = join("cy");
    ann->expect("^cy joined$");
    bob->expect("^cy joined$");

    Child dup({CHAT_CLIENT, "bob", "127.0.0.1", port});
    dup.expect("the name bob is taken");
    EXPECT_EQ(dup.wait(), 1);

    bob->write("hi all\n");
    ann->expect("^bob: hi all$");
    cy->expect("^bob: hi all$");
    room.write("welcome\n");  // the admin's broadcast
    for (auto* c : {ann.get(), bob.get(), cy.get()}) c->expect("^admin: welcome$");

    cy->write("quit\n");
    cy->expect("you left the room");
    EXPECT_EQ(cy->wait(), 0);
    ann->expect("^cy left$");
    bob->expect("^cy left$");

    ann->signal(SIGINT);  // leaves like "quit"
    ann->expect("you left the room");
    EXPECT_EQ(ann->wait(), 0);
    bob->expect("^ann left$");
    bob->close_stdin();  // end of input leaves too
    EXPECT_EQ(bob->wait(), 0);
    EXPECT_EQ(bob->output().find("bob: hi all"), std::string::npos);  // nobody hears themselves

    room.signal(SIGTERM);
    room.expect("chat room closed");
    EXPECT_EQ(room.wait(), 0);
}

TEST(NetExamples, HttpServerWithCurl) {
    if (shell("command -v curl").empty())
        GTEST_SKIP() << "curl is not installed (.ci/setup installs it)";
    Child server({HTTP_SERVER, "--dir", STATIC_DIR, "127.0.0.1", "0"});
    const std::string base = server.expect("on (http://\\S+)/$")[1];
    const std::string curl = "curl -sS --no-progress-meter --max-time 10 ";
    const std::string fmt = " -w '%{http_code} %{content_type}'";

    // Each fetch runs in a shell on an offload thread: popen blocks, the hub must not.
    auto fetch = [&](const std::string& args) {
        return green::offload([cmd = curl + args] { return shell(cmd); });
    };
    std::string page = fetch("-o /dev/null" + fmt + " " + base + "/");
    EXPECT_EQ(page, "200 text/html; charset=utf-8");
    EXPECT_EQ(fetch(base + "/"), read_file(std::string(STATIC_DIR) + "/index.html"));
    EXPECT_EQ(fetch(base + "/about.html"), read_file(std::string(STATIC_DIR) + "/about.html"));
    EXPECT_EQ(fetch(base + "/images/logo.png"),
              read_file(std::string(STATIC_DIR) + "/images/logo.png"));
    EXPECT_EQ(fetch("-o /dev/null" + fmt + " " + base + "/images/logo.png"), "200 image/png");
    EXPECT_EQ(fetch("-o /dev/null" + fmt + " " + base + "/images/checks.gif"), "200 image/gif");
    EXPECT_EQ(fetch("-o /dev/null" + fmt + " " + base + "/style.css"), "200 text/css");
    EXPECT_EQ(fetch("-o /dev/null" + fmt + " " + base + "/missing.html"),
              "404 text/html; charset=utf-8");
    EXPECT_EQ(fetch("-o /dev/null -w '%{http_code}' --path-as-is " + base + "/../CMakeLists.txt"),
              "403");
    EXPECT_EQ(fetch("-o /dev/null -w '%{http_code}' -X POST " + base + "/"), "405");
    const std::string head = fetch("-I " + base + "/about.html");
    EXPECT_NE(head.find("Content-Length: " +
                        std::to_string(read_file(std::string(STATIC_DIR) + "/about.html").size())),
              std::string::npos)
        << head;

    // One curl, several URLs: they share one keep-alive connection.
    const std::string reuse =
        fetch("-o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\\n' " + base + "/ " +
              base + "/about.html " + base + "/style.css");
    EXPECT_EQ(reuse, "1\n0\n0\n");

    // Twenty browsers at once.
    const std::string many = fetch("-o /dev/null -w '%{http_code}\\n' " + [&] {
        std::string urls;
        for (int i = 0; i < 20; ++i) urls += base + "/images/checks.gif ";
        return urls;
    }() + " --parallel --parallel-max 20 --parallel-immediate");
    std::size_t ok = 0;
    for (std::size_t pos = 0; (pos = many.find("200\n", pos)) != std::string::npos; ++pos) ++ok;
    EXPECT_EQ(ok, 20u) << many;

    server.signal(SIGTERM);
    server.expect("server stopped");
    EXPECT_EQ(server.wait(), 0);
}
