// green::Address: numeric parsing and formatting of IPv4, IPv6 and Unix addresses, clear errors
// for bad input, and green::resolve for names.
#include <netinet/in.h>

#include <gtest/gtest.h>

#include <string_view>
#include <unordered_set>

#include <green/green.hpp>

#include "support/ticker.hpp"

using namespace std::chrono_literals;

TEST(Address, Ipv4) {
    green::Address a("127.0.0.1", 8000);
    EXPECT_EQ(a.family(), AF_INET);
    EXPECT_EQ(a.host(), "127.0.0.1");
    EXPECT_EQ(a.port(), 8000);
    EXPECT_EQ(a.to_string(), "127.0.0.1:8000");
    EXPECT_EQ(a.length(), sizeof(sockaddr_in));
    EXPECT_EQ(green::Address("", 1).host(), "0.0.0.0");
    EXPECT_EQ(green::Address("localhost", 1).host(), "127.0.0.1");
}

TEST(Address, Ipv6) {
    green::Address a("::1", 443);
    EXPECT_EQ(a.family(), AF_INET6);
    EXPECT_EQ(a.to_string(), "[::1]:443");
    EXPECT_EQ(green::Address("[::1]", 443), a);
    EXPECT_EQ(green::Address::parse("[::1]:443"), a);
    EXPECT_EQ(green::Address("fe80::1%1", 5).host(), "fe80::1%1");
}

TEST(Address, Unix) {
    auto a = green::Address::unix_path("/tmp/green.sock");
    EXPECT_EQ(a.family(), AF_UNIX);
    EXPECT_EQ(a.host(), "/tmp/green.sock");
    EXPECT_EQ(a.to_string(), "unix:/tmp/green.sock");
    EXPECT_EQ(a.port(), 0);
    auto abstract = green::Address::parse("unix:@green-test");
    EXPECT_EQ(abstract.host(), "@green-test");
    EXPECT_EQ(abstract.to_string(), "unix:@green-test");
    EXPECT_THROW(green::Address::unix_path(std::string(200, 'x')), std::invalid_argument);
    EXPECT_THROW(green::Address::unix_path(""), std::invalid_argument);
}

TEST(Address, ParseAndErrors) {
    EXPECT_EQ(green::Address::parse("10.0.0.1:80"), green::Address("10.0.0.1", 80));
    EXPECT_THROW(green::Address("example.com", 80), std::invalid_argument);
    EXPECT_THROW(green::Address("1.2.3.4.5", 80), std::invalid_argument);
    EXPECT_THROW(green::Address::parse("127.0.0.1"), std::invalid_argument);
    EXPECT_THROW(green::Address::parse("127.0.0.1:99999"), std::invalid_argument);
    EXPECT_THROW(green::Address::parse("127.0.0.1:8x"), std::invalid_argument);
    EXPECT_THROW(green::Address::parse("::1:80"), std::invalid_argument);
    try {
        green::Address("no.such.host", 1);
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("no.such.host"), std::string::npos);
    }
}

// Text that used to be accepted by mistake is refused, with a message naming the problem.
TEST(Address, MalformedTextIsRejected) {
    auto message = [](auto&& make) -> std::string {
        try {
            make();
        } catch (const std::invalid_argument& e) {
            return e.what();
        }
        return "(accepted)";
    };
    using namespace std::string_view_literals;
    EXPECT_NE(message([] { green::Address::parse("[]:80"); }).find("empty brackets"),
              std::string::npos);
    EXPECT_NE(message([] { green::Address::parse("[127.0.0.1]:80"); }).find("IPv6 addresses only"),
              std::string::npos);
    EXPECT_NE(message([] { green::Address::parse("[::1%]:80"); }).find("empty IPv6 scope"),
              std::string::npos);
    EXPECT_NE(message([] { green::Address("::1%", 80); }).find("empty IPv6 scope"),
              std::string::npos);
    EXPECT_NE(message([] { green::Address::parse("127.0.0.1\0junk:80"sv); }).find("NUL byte"),
              std::string::npos);
    EXPECT_NE(message([] { green::Address("127.0.0.1\0"sv, 80); }).find("NUL byte"),
              std::string::npos);
    EXPECT_NE(message([] { green::Address::parse("127.0.0.1:80\0"sv); }).find("bad port"),
              std::string::npos);
    EXPECT_NE(message([] { green::Address::unix_path("/tmp/a\0b"sv); }).find("NUL byte"),
              std::string::npos);
    EXPECT_THROW(green::Address::parse("[localhost]:80"), std::invalid_argument);
    // Still fine: the any-addresses, brackets around IPv6, abstract names with any bytes.
    EXPECT_EQ(green::Address::parse(":80").host(), "0.0.0.0");
    EXPECT_EQ(green::Address::parse("[::]:80").host(), "::");
    EXPECT_EQ(green::Address::parse("[::1%1]:80").host(), "::1%1");
    EXPECT_EQ(green::Address::parse("unix:@a\0b"sv).host(), "@a\0b"sv);
}

TEST(Address, EqualityAndHash) {
    std::unordered_set<green::Address> set;
    set.insert(green::Address("127.0.0.1", 1));
    set.insert(green::Address("127.0.0.1", 1));
    set.insert(green::Address("127.0.0.1", 2));
    set.insert(green::Address("::1", 1));
    EXPECT_EQ(set.size(), 3u);
    EXPECT_FALSE(green::Address("127.0.0.1", 1) == green::Address("127.0.0.2", 1));
    EXPECT_EQ(green::Address().family(), AF_UNSPEC);
}

TEST(Resolve, NumericIsInline) {
    auto v = green::resolve("127.0.0.1", 80);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0], green::Address("127.0.0.1", 80));
}

TEST(Resolve, LocalhostByName) {
    // A name goes through getaddrinfo (/etc/hosts) on the offload pool while the hub runs: the
    // wait hands the hub to the ticker, queued ahead of this fiber's wake-up. Resolved inline,
    // on the hub's thread, it would see no tick.
    green_test::Ticker ticker;
    const long ticks_before = ticker.ticks();
    auto v = green::resolve("localhost", 8080, AF_INET, SOCK_STREAM, 10s);
    EXPECT_GT(ticker.ticks(), ticks_before);
    ASSERT_FALSE(v.empty());
    EXPECT_EQ(v[0], green::Address("127.0.0.1", 8080));
}

TEST(Resolve, UnknownNameFails) {
    try {
        green::resolve("no-such-host.invalid", 80, AF_UNSPEC, SOCK_STREAM, 20s);
        FAIL() << "resolved a .invalid name";
    } catch (const std::system_error& e) {
        EXPECT_NE(std::string(e.what()).find("getaddrinfo"), std::string::npos);
    } catch (const green::Timeout&) {
        // No DNS reachable from here: the deadline ended the lookup, which is also correct.
    }
}
