// green::Address parsing/formatting and green::resolve. Parsing is numeric only (inet_pton), so
// building an Address never touches DNS; resolve runs getaddrinfo on the offload pool.
#include "green/address.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "green/threadpool.hpp"

namespace green {

namespace {

std::string quoted(std::string_view s) {
    return "'" + std::string(s) + "'";
}

[[noreturn]] void bad(std::string_view host, const char* why) {
    std::string shown;  // a NUL would end the message early
    for (char c : host) shown += c ? std::string(1, c) : std::string("\\0");
    throw std::invalid_argument("green::Address: " + quoted(shown) + ": " + why);
}

// Fills a sockaddr_in / sockaddr_in6 from numeric text; false if it is not a numeric address.
// Throws invalid_argument for text that is malformed rather than a name: a NUL byte, empty
// brackets, an IPv4 address in brackets, an empty IPv6 scope.
bool parse_numeric(std::string_view host, std::uint16_t port, sockaddr_storage& ss,
                   socklen_t& len) {
    if (host.find('\0') != std::string_view::npos) bad(host, "contains a NUL byte");
    std::string h(host);
    const bool bracketed = h.size() >= 2 && h.front() == '[' && h.back() == ']';
    if (bracketed) {
        h = h.substr(1, h.size() - 2);
        if (h.empty()) bad(host, "empty brackets (write [::] for any IPv6 address)");
    }
    if (h.empty()) h = "0.0.0.0";
    if (h == "localhost" && !bracketed) h = "127.0.0.1";
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    if (::inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
        if (bracketed) bad(host, "brackets are for IPv6 addresses only");
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        len = sizeof(sockaddr_in);
        return true;
    }
    std::string scope;
    if (auto pct = h.find('%'); pct != std::string::npos) {
        scope = h.substr(pct + 1);
        h.resize(pct);
        if (scope.empty()) bad(host, "empty IPv6 scope after '%'");
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (::inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) != 1) return false;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    if (!scope.empty()) {
        unsigned id = 0;
        auto [p, ec] = std::from_chars(scope.data(), scope.data() + scope.size(), id);
        if (ec != std::errc() || p != scope.data() + scope.size())
            id = ::if_nametoindex(scope.c_str());
        if (id == 0)
            throw std::invalid_argument("green::Address: unknown IPv6 scope " + quoted(scope));
        v6->sin6_scope_id = id;
    }
    len = sizeof(sockaddr_in6);
    return true;
}

class GaiCategory final : public std::error_category {
  public:
    const char* name() const noexcept override { return "getaddrinfo"; }
    std::string message(int code) const override { return ::gai_strerror(code); }
};

}  // namespace

Address::Address() noexcept {
    std::memset(&storage_, 0, sizeof storage_);
    storage_.ss_family = AF_UNSPEC;
}

Address::Address(std::string_view host, std::uint16_t port) : Address() {
    if (!parse_numeric(host, port, storage_, length_))
        throw std::invalid_argument("green::Address: " + quoted(host) +
                                    " is not a numeric IPv4/IPv6 address (use green::resolve "
                                    "or green::create_connection for host names)");
}

Address Address::unix_path(std::string_view path) {
    Address a;
    auto* un = reinterpret_cast<sockaddr_un*>(&a.storage_);
    if (path.empty()) throw std::invalid_argument("green::Address: empty Unix socket path");
    // An abstract name ('@...') may hold any bytes; a path ends at its first NUL, so one inside
    // would silently cut it short.
    if (path.front() != '@' && path.find('\0') != std::string_view::npos)
        throw std::invalid_argument("green::Address: Unix socket path contains a NUL byte");
    if (path.size() >= sizeof un->sun_path)
        throw std::invalid_argument("green::Address: Unix socket path too long (" +
                                    std::to_string(path.size()) + " bytes, max " +
                                    std::to_string(sizeof un->sun_path - 1) + ")");
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, path.data(), path.size());
    if (path.front() == '@') un->sun_path[0] = '\0';  // abstract: no trailing NUL in the length
    a.length_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                       (path.front() == '@' ? 0 : 1));
    return a;
}

Address Address::parse(std::string_view text) {
    if (text.starts_with("unix:")) return unix_path(text.substr(5));
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
        throw std::invalid_argument("green::Address: " + quoted(text) +
                                    " has no port (expected host:port, [v6]:port or unix:/path)");
    std::string_view host = text.substr(0, colon);
    std::string_view port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos && !(host.starts_with('[') && host.ends_with(']')))
        throw std::invalid_argument("green::Address: " + quoted(text) +
                                    ": write IPv6 addresses in brackets, as [::1]:8000");
    unsigned port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port > 65535 ||
        port_text.empty())
        throw std::invalid_argument("green::Address: bad port in " + quoted(text));
    return Address(host, static_cast<std::uint16_t>(port));
}

Address Address::from_sockaddr(const sockaddr* sa, socklen_t len) {
    Address a;
    if (len > sizeof a.storage_) throw std::invalid_argument("green::Address: sockaddr too long");
    std::memcpy(&a.storage_, sa, len);
    a.length_ = len;
    return a;
}

bool Address::is_ip() const noexcept {
    return family() == AF_INET || family() == AF_INET6;
}

std::string Address::host() const {
    char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2] = {};
    switch (family()) {
        case AF_INET:
            ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf,
                        sizeof buf);
            return buf;
        case AF_INET6: {
            auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
            ::inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
            std::string s = buf;
            if (v6->sin6_scope_id) s += "%" + std::to_string(v6->sin6_scope_id);
            return s;
        }
        case AF_UNIX: {
            auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
            const std::size_t off = offsetof(sockaddr_un, sun_path);
            if (length_ <= off) return "";
            std::size_t n = length_ - off;
            if (un->sun_path[0] == '\0') return "@" + std::string(un->sun_path + 1, n - 1);
            return std::string(un->sun_path, ::strnlen(un->sun_path, n));
        }
        default:
            return "";
    }
}

std::uint16_t Address::port() const noexcept {
    if (family() == AF_INET)
        return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    if (family() == AF_INET6)
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    return 0;
}

std::string Address::to_string() const {
    switch (family()) {
        case AF_INET:
            return host() + ":" + std::to_string(port());
        case AF_INET6:
            return "[" + host() + "]:" + std::to_string(port());
        case AF_UNIX: {
            std::string h = host();
            return "unix:" + (h.empty() ? std::string("(unnamed)") : h);
        }
        default:
            return "(no address)";
    }
}

bool operator==(const Address& a, const Address& b) noexcept {
    return a.length_ == b.length_ && std::memcmp(&a.storage_, &b.storage_, a.length_) == 0;
}

std::size_t Address::hash() const noexcept {
    std::size_t h = 1469598103934665603ull;  // FNV-1a over the meaningful bytes
    const auto* p = reinterpret_cast<const unsigned char*>(&storage_);
    for (socklen_t i = 0; i < length_; ++i) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

const std::error_category& gai_category() noexcept {
    static const GaiCategory category;
    return category;
}

std::vector<Address> resolve(std::string_view host, std::uint16_t port, int family, int socktype,
                             Deadline deadline) {
    if (!host.empty() && host != "localhost") {  // names (even localhost) follow /etc/hosts
        sockaddr_storage ss{};
        socklen_t len = 0;
        bool numeric = false;
        try {
            numeric = parse_numeric(host, port, ss, len);
        } catch (const std::invalid_argument&) {
        }
        if (numeric && (family == AF_UNSPEC || family == ss.ss_family))
            return {Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len)};
    }
    auto lookup = [](std::string h, std::uint16_t p, int fam, int type) {
        addrinfo hints{};
        hints.ai_family = fam;
        hints.ai_socktype = type;
        hints.ai_flags = AI_ADDRCONFIG;
        if (h.empty()) hints.ai_flags |= AI_PASSIVE;
        addrinfo* res = nullptr;
        const std::string service = std::to_string(p);
        int rc = ::getaddrinfo(h.empty() ? nullptr : h.c_str(), service.c_str(), &hints, &res);
        if (rc == EAI_SYSTEM)
            throw std::system_error(errno, std::system_category(), "getaddrinfo " + h);
        if (rc != 0) throw std::system_error(rc, gai_category(), "getaddrinfo " + h);
        std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, &::freeaddrinfo);
        std::vector<Address> out;
        for (addrinfo* ai = res; ai; ai = ai->ai_next)
            out.push_back(Address::from_sockaddr(ai->ai_addr, ai->ai_addrlen));
        return out;
    };
    return default_threadpool().apply_until(deadline, lookup, std::string(host), port, family,
                                            socktype);
}

}  // namespace green
