// The crawler example end to end: 100 pages from its own local site, each answering after
// 100 ms, fetched with libcurl's blocking easy API in 100 fibers, take about one delay (gevent
// does it in 0.13 s), not 100; and a failing URL is reported, not hung on.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>

#include "support/command.hpp"

namespace {

// The crawler with `args`: its stdout and stderr, and exit code.
green_test::CommandRun run(const std::string& args) {
    return green_test::run_command(std::string(CRAWLER_EXE) + " " + args + " 2>&1");
}

int count(const std::string& text, const std::regex& re) {
    return static_cast<int>(
        std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
}

}  // namespace

TEST(Crawler, HundredSlowPagesTakeAboutOneDelay) {
    const green_test::CommandRun r = run("--pages 100 --delay 100 --size 3000");
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(count(r.out, std::regex(R"(GET: http://127\.0\.0\.1:\d+/page/\d+)")), 100) << r.out;
    EXPECT_EQ(
        count(r.out, std::regex(R"(\n3000 bytes received from http://127\.0\.0\.1:\d+/page/\d+)")),
        100)
        << r.out;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(run time is ([0-9.]+) s)"))) << r.out;
    const double seconds = std::stod(m[1]);
    EXPECT_GE(seconds, 0.1);
    EXPECT_LT(seconds, 2.0) << "100 fetches of a 100 ms page ran one after another?";
}

#ifdef CRAWLER_HTTPS
// --https: the local site is a TlsStreamServer and each fiber's libcurl does its TLS handshake
// and reads with its own OpenSSL on blocking-looking calls, made cooperative by the hooks: the
// handshakes and the slow pages overlap.
TEST(Crawler, HttpsPagesOverlapToo) {
    const green_test::CommandRun r = run("--https --pages 50 --delay 200 --size 3000");
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(
        count(r.out, std::regex(R"(\n3000 bytes received from https://localhost:\d+/page/\d+)")),
        50)
        << r.out;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(run time is ([0-9.]+) s)"))) << r.out;
    const double seconds = std::stod(m[1]);
    EXPECT_GE(seconds, 0.2);
    EXPECT_LT(seconds, 5.0) << "50 fetches of a 200 ms page over https ran one after another?";
}
#endif

TEST(Crawler, UnreachableUrlIsReportedAsAFailure) {
    // Port 1 on loopback: nothing listens there, the connect is refused at once.
    const green_test::CommandRun r = run("http://127.0.0.1:1/");
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_NE(r.out.find("GET: http://127.0.0.1:1/"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("failed to get http://127.0.0.1:1/"), std::string::npos) << r.out;
}

TEST(Crawler, BadOptionIsAClearError) {
    const green_test::CommandRun r = run("--pages nope");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.out.find("--pages wants a number"), std::string::npos) << r.out;
}
