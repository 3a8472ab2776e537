// Linked hooks, names: getaddrinfo / getnameinfo / gethostbyname(_r) called in fibers run on the
// offload pool (glibc's resolver cannot be made cooperative from outside) and return exactly
// what libc returns, with results owned by the caller.
#include <arpa/inet.h>
#include <netdb.h>

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include <green/green.hpp>

#include "support/loopback.hpp"
#include "support/overlap.hpp"

using namespace std::chrono_literals;
using namespace green_test;

namespace {

std::set<std::string> addresses(const addrinfo* list) {
    std::set<std::string> out;
    for (auto* a = list; a; a = a->ai_next) {
        char buf[INET6_ADDRSTRLEN] = {};
        if (a->ai_family == AF_INET)
            ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr, buf,
                        sizeof buf);
        else if (a->ai_family == AF_INET6)
            ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr, buf,
                        sizeof buf);
        out.insert(buf);
    }
    return out;
}

}  // namespace

TEST(DnsHooks, GetaddrinfoInAFiberRunsOffThread) {
    const std::size_t before = green::default_threadpool().started_threads();
    auto g = green::spawn([] {
        addrinfo hints{};
        hints.ai_family = AF_INET;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* res = nullptr;
        const int rc = ::getaddrinfo("localhost", "80", &hints, &res);
        EXPECT_EQ(rc, 0) << ::gai_strerror(rc);
        auto got = addresses(res);
        if (res) {
            EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_port), 80);
            ::freeaddrinfo(res);
        }
        return got;
    });
    EXPECT_EQ(g.get().count("127.0.0.1"), 1u);
    EXPECT_GE(green::default_threadpool().started_threads(), std::max<std::size_t>(before, 1));
}

TEST(DnsHooks, ManyFibersResolveWhileOthersRun) {
    // Each call checks in before it resolves; the first to return must see all 30 in. Calls
    // that held the hub would run one after another: the first would see only itself.
    Overlap overlap;
    std::vector<green::Greenlet<int>> gs;
    for (int i = 0; i < 30; ++i) {
        gs.push_back(green::spawn([&overlap] {
            overlap.enter();
            addrinfo* res = nullptr;
            addrinfo hints{};
            hints.ai_socktype = SOCK_STREAM;
            const int rc = ::getaddrinfo("localhost", nullptr, &hints, &res);
            overlap.woke();
            const bool has_v4 = rc == 0 && addresses(res).count("127.0.0.1");
            if (rc == 0) ::freeaddrinfo(res);
            return has_v4 ? 0 : (rc ? rc : -1);
        }));
    }
    for (auto& g : gs) EXPECT_EQ(g.get(), 0);
    EXPECT_EQ(overlap.started_before_first_wake(), 30);
}

TEST(DnsHooks, ErrorsAreLibcErrors) {
    auto g = green::spawn([] {
        addrinfo hints{};
        hints.ai_flags = AI_NUMERICHOST;
        addrinfo* res = nullptr;
        return ::getaddrinfo("not-a-number", nullptr, &hints, &res);
    });
    EXPECT_EQ(g.get(), EAI_NONAME);
}

TEST(DnsHooks, GetnameinfoNumeric) {
    auto g = green::spawn([] {
        sockaddr_in a = loopback(8080);
        char host[64] = {}, serv[16] = {};
        const int rc = ::getnameinfo(reinterpret_cast<sockaddr*>(&a), sizeof a, host, sizeof host,
                                     serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV);
        EXPECT_EQ(rc, 0);
        return std::string(host) + ":" + serv;
    });
    EXPECT_EQ(g.get(), "127.0.0.1:8080");
}

TEST(DnsHooks, GethostbynameFamily) {
    auto g = green::spawn([] {
        hostent* he = ::gethostbyname("localhost");
        EXPECT_NE(he, nullptr);
        if (!he) return std::string();
        EXPECT_EQ(he->h_addrtype, AF_INET);
        EXPECT_EQ(he->h_length, 4);
        char buf[INET_ADDRSTRLEN] = {};
        ::inet_ntop(AF_INET, he->h_addr_list[0], buf, sizeof buf);
        return std::string(buf);
    });
    EXPECT_EQ(g.get(), "127.0.0.1");

    auto r = green::spawn([] {
        hostent he{};
        hostent* result = nullptr;
        int herr = 0;
        std::vector<char> buf(2048);
        int rc = ::gethostbyname_r("localhost", &he, buf.data(), buf.size(), &result, &herr);
        EXPECT_EQ(rc, 0);
        EXPECT_EQ(result, &he);
        // Every pointer lives in the caller's buffer, not in the job's.
        const char* lo = buf.data();
        const char* hi = buf.data() + buf.size();
        auto inside = [&](const void* p) {
            return static_cast<const char*>(p) >= lo && static_cast<const char*>(p) < hi;
        };
        EXPECT_TRUE(inside(he.h_name));
        EXPECT_TRUE(inside(he.h_addr_list));
        EXPECT_TRUE(inside(he.h_addr_list[0]));
        char text[INET_ADDRSTRLEN] = {};
        ::inet_ntop(AF_INET, he.h_addr_list[0], text, sizeof text);
        // Too small a buffer: ERANGE, as libc says.
        char tiny[8];
        EXPECT_EQ(::gethostbyname_r("localhost", &he, tiny, sizeof tiny, &result, &herr), ERANGE);
        EXPECT_EQ(result, nullptr);
        return std::string(text);
    });
    EXPECT_EQ(r.get(), "127.0.0.1");
}
