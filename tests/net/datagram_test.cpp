// DatagramServer: replies with sendto, inline and spawned handlers, a failing handler that must
// not end the read loop, and a small chat room with several clients.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include <green/green.hpp>

using namespace std::chrono_literals;
using green::Address;
using green::DatagramServer;
using green::Socket;

namespace {

Socket udp_client() {
    Socket s = Socket::udp();
    s.bind(Address("127.0.0.1", 0));
    s.settimeout(5s);
    return s;
}

}  // namespace

TEST(DatagramServer, UpperEchoInlineAndSpawned) {
    for (bool spawned : {false, true}) {
        green::ServerOptions opts;
        opts.spawn_handlers = spawned;
        DatagramServer server(
            Address("127.0.0.1", 0),
            [](std::string_view data, const Address& peer, DatagramServer& s) {
                std::string up(data);
                for (auto& c : up) c = static_cast<char>(std::toupper(c));
                s.sendto(up, peer);
            },
            opts);
        server.start();
        Socket c = udp_client();
        for (int i = 0; i < 20; ++i) {
            c.sendto("dgram " + std::to_string(i), server.address());
            auto [reply, from] = c.recvfrom();
            EXPECT_EQ(reply, "DGRAM " + std::to_string(i));
            EXPECT_EQ(from, server.address());
        }
        server.stop();
    }
}

TEST(DatagramServer, HandlerErrorDoesNotStopTheLoop) {
    green::ServerOptions opts;
    opts.spawn_handlers = false;
    DatagramServer server(
        Address("127.0.0.1", 0),
        [](std::string_view data, const Address& peer, DatagramServer& s) {
            if (data == "bad") throw std::runtime_error("bad datagram");
            s.sendto(data, peer);
        },
        opts);
    server.start();
    Socket c = udp_client();
    c.sendto("bad", server.address());
    c.sendto("good", server.address());
    EXPECT_EQ(c.recvfrom().first, "good");
}

TEST(DatagramServer, ChatRoomWithSeveralClients) {
    // The seed's protocol: "L name" joins (reply OK or a refusal), "C name text" talks,
    // "Q name" leaves (reply EXIT). Everyone else hears "X joined", "X: text", "X left".
    std::map<std::string, Address> members;
    green::ServerOptions opts;
    opts.spawn_handlers = false;  // the room's order of events is the order of datagrams
    DatagramServer room(
        Address("127.0.0.1", 0),
        [&](std::string_view data, const Address& peer, DatagramServer& s) {
            const std::string msg(data);
            const auto sp1 = msg.find(' ');
            const std::string kind = msg.substr(0, sp1);
            const auto sp2 = msg.find(' ', sp1 + 1);
            const std::string name = msg.substr(sp1 + 1, sp2 - sp1 - 1);
            auto others = [&](const std::string& text) {
                for (auto& [n, a] : members)
                    if (n != name) s.sendto(text, a);
            };
            if (kind == "L") {
                if (members.count(name)) return (void)s.sendto("name taken", peer);
                others(name + " joined");
                members.emplace(name, peer);
                s.sendto("OK", peer);
            } else if (kind == "C") {
                others(name + ": " + msg.substr(sp2 + 1));
            } else if (kind == "Q") {
                others(name + " left");
                members.erase(name);
                s.sendto("EXIT", peer);
            }
        },
        opts);
    room.start();
    const char* names[] = {"ann", "bob", "cy"};
    std::map<std::string, Socket> socks;
    for (auto n : names) {
        socks[n] = udp_client();
        socks[n].sendto(std::string("L ") + n, room.address());
        EXPECT_EQ(socks[n].recvfrom().first, "OK");
    }
    Socket dup = udp_client();
    dup.sendto("L bob", room.address());
    EXPECT_EQ(dup.recvfrom().first, "name taken");
    EXPECT_EQ(socks["ann"].recv(), "bob joined");
    EXPECT_EQ(socks["ann"].recv(), "cy joined");
    EXPECT_EQ(socks["bob"].recv(), "cy joined");
    socks["bob"].sendto("C bob hi all", room.address());
    EXPECT_EQ(socks["ann"].recv(), "bob: hi all");
    EXPECT_EQ(socks["cy"].recv(), "bob: hi all");
    socks["cy"].sendto("Q cy", room.address());
    EXPECT_EQ(socks["cy"].recv(), "EXIT");
    EXPECT_EQ(socks["ann"].recv(), "cy left");
    EXPECT_EQ(socks["bob"].recv(), "cy left");
    // Nothing else is queued for anyone.
    for (auto n : names) {
        socks[n].settimeout(50ms);
        EXPECT_THROW(socks[n].recv(), green::Timeout) << n;
    }
}
