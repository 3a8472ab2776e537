// A seeded randomized test of Address parsing: random and mutated address text never crashes,
// fails only with std::invalid_argument, and whatever parses round-trips (parse -> to_string ->
// parse gives an equal address with the same text), and text with a NUL byte is refused (an
// abstract Unix name aside). GREEN_FUZZ_SEED=<n> replays a failing run;
// the seed is printed with every failure. Bounded by count and time.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>

#include <green/green.hpp>

namespace {

std::uint64_t seed_from_env() {
    if (const char* s = std::getenv("GREEN_FUZZ_SEED")) return std::strtoull(s, nullptr, 10);
    return std::random_device{}();
}

class TextMaker {
  public:
    explicit TextMaker(std::uint64_t seed) : rng_(seed) {}

    std::string next() {
        std::string t = base();
        const int mutations = pick(4);
        for (int i = 0; i < mutations; ++i) mutate(t);
        return t;
    }

  private:
    int pick(int n) { return static_cast<int>(rng_() % static_cast<unsigned>(n)); }

    std::string port() {
        switch (pick(4)) {
            case 0:
                return std::to_string(pick(65536));
            case 1:
                return std::to_string(65530 + pick(20));
            case 2:
                return "";
            default:
                return std::to_string(pick(100));
        }
    }

    std::string v4() {
        char buf[INET_ADDRSTRLEN];
        std::uint32_t a = static_cast<std::uint32_t>(rng_());
        ::inet_ntop(AF_INET, &a, buf, sizeof buf);
        return buf;
    }

    std::string v6() {
        unsigned char a[16];
        for (auto& b : a) b = pick(3) == 0 ? 0 : static_cast<unsigned char>(rng_());
        char buf[INET6_ADDRSTRLEN];
        ::inet_ntop(AF_INET6, a, buf, sizeof buf);
        std::string s = buf;
        if (pick(4) == 0) s += "%" + (pick(2) ? std::to_string(pick(3)) : std::string("lo"));
        return s;
    }

    // Well-formed text of every kind, which the mutations then bend.
    std::string base() {
        switch (pick(7)) {
            case 0:
                return v4() + ":" + port();
            case 1:
                return "[" + v6() + "]:" + port();
            case 2:
                return ":" + port();
            case 3:
                return "localhost:" + port();
            case 4:
                return "unix:/tmp/" + std::to_string(pick(1000));
            case 5:
                return "unix:@" + std::string(1 + pick(5), static_cast<char>(pick(256)));
            default:
                return v6() + ":" + port();  // unbracketed: refused
        }
    }

    void mutate(std::string& t) {
        static const char alphabet[] = "0123456789abcdefABCDEF:.[]%@/ unix-\0\xff";
        const char c = alphabet[pick(sizeof alphabet - 1)];
        const std::size_t at = t.empty() ? 0 : static_cast<std::size_t>(pick(t.size() + 1));
        switch (pick(3)) {
            case 0:
                t.insert(at, 1, c);
                break;
            case 1:
                if (at < t.size()) t.erase(at, 1);
                break;
            default:
                if (at < t.size()) t[at] = c;
                break;
        }
    }

    std::mt19937_64 rng_;
};

}  // namespace

TEST(AddressFuzz, ParseNeverCrashesAndRoundTrips) {
    const std::uint64_t seed = seed_from_env();
    SCOPED_TRACE("GREEN_FUZZ_SEED=" + std::to_string(seed));
    TextMaker make(seed);
    const auto stop = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    int parsed = 0, refused = 0;
    for (int i = 0; i < 50000 && std::chrono::steady_clock::now() < stop; ++i) {
        const std::string text = make.next();
        green::Address a;
        try {
            a = green::Address::parse(text);
        } catch (const std::invalid_argument& e) {
            ++refused;
            EXPECT_NE(std::string(e.what()), "") << "text: " << ::testing::PrintToString(text);
            continue;
        } catch (...) {
            ADD_FAILURE() << "not invalid_argument for " << ::testing::PrintToString(text);
            continue;
        }
        ++parsed;
        // Nothing after a NUL may be ignored: only an abstract Unix name may hold one.
        if (!text.starts_with("unix:@")) {
            EXPECT_EQ(text.find('\0'), std::string::npos)
                << "accepted a NUL: " << ::testing::PrintToString(text);
        }
        const std::string shown = a.to_string();
        try {
            const green::Address b = green::Address::parse(shown);
            EXPECT_EQ(a, b) << ::testing::PrintToString(text) << " -> " << shown;
            EXPECT_EQ(b.to_string(), shown) << ::testing::PrintToString(text);
        } catch (const std::exception& e) {
            ADD_FAILURE() << ::testing::PrintToString(text) << " -> " << shown
                          << " does not parse again: " << e.what();
        }
        if (::testing::Test::HasFailure()) break;  // one case is enough to debug
    }
    // Both outcomes were exercised: the generator is not degenerate.
    EXPECT_GT(parsed, 100);
    EXPECT_GT(refused, 100);
}
