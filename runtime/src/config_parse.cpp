// The two parsers behind every GREEN_* number and greenrun's flags: sizes (k/m/g suffixes) and
// counts. Strict on purpose: "12q", "-1" or a value past 64 bits is an error, never a guess.
#include "config.hpp"

#include <signal.h>

namespace green::detail {

namespace {

// Digits only, no sign; TooLarge when the value does not fit in 64 bits.
ParseError parse_digits(std::string_view text, std::uint64_t& out) noexcept {
    if (text.empty()) return ParseError::Malformed;
    std::uint64_t n = 0;
    bool overflow = false;
    for (char c : text) {
        if (c < '0' || c > '9') return ParseError::Malformed;
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (n > (UINT64_MAX - digit) / 10) overflow = true;  // keep scanning: junk wins
        n = n * 10 + digit;
    }
    if (overflow) return ParseError::TooLarge;
    out = n;
    return ParseError::None;
}

ParseError check_range(std::uint64_t n, std::uint64_t min, std::uint64_t max,
                       std::uint64_t& out) noexcept {
    if (n < min) return ParseError::TooSmall;
    if (n > max) return ParseError::TooLarge;
    out = n;
    return ParseError::None;
}

}  // namespace

ParseError parse_size(std::string_view text, std::uint64_t min, std::uint64_t max,
                      std::uint64_t& out) noexcept {
    unsigned shift = 0;
    if (!text.empty()) {
        switch (text.back()) {
            case 'k':
            case 'K':
                shift = 10;
                break;
            case 'm':
            case 'M':
                shift = 20;
                break;
            case 'g':
            case 'G':
                shift = 30;
                break;
            default:
                break;
        }
        if (shift) text.remove_suffix(1);
    }
    std::uint64_t n = 0;
    if (const ParseError e = parse_digits(text, n); e != ParseError::None) return e;
    if (n > (UINT64_MAX >> shift)) return ParseError::TooLarge;
    return check_range(n << shift, min, max, out);
}

ParseError parse_count(std::string_view text, std::uint64_t min, std::uint64_t max,
                       std::uint64_t& out) noexcept {
    std::uint64_t n = 0;
    if (const ParseError e = parse_digits(text, n); e != ParseError::None) return e;
    return check_range(n, min, max, out);
}

ParseError parse_signal(std::string_view text, int& out) noexcept {
    struct Name {
        const char* name;
        int signo;
    };
    static constexpr Name names[] = {
        {"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"USR1", SIGUSR1},
        {"USR2", SIGUSR2}, {"ALRM", SIGALRM},   {"TERM", SIGTERM}, {"CHLD", SIGCHLD},
        {"CONT", SIGCONT}, {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
        {"URG", SIGURG},   {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
        {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},     {"PWR", SIGPWR},
        {"SYS", SIGSYS},   {"PIPE", SIGPIPE},   {"ABRT", SIGABRT}, {"TRAP", SIGTRAP},
    };
    if (!text.empty() && text.front() >= '0' && text.front() <= '9') {
        std::uint64_t n = 0;
        const ParseError e = parse_count(text, 1, 64, n);
        if (e != ParseError::None) return e;
        if (n == SIGKILL || n == SIGSTOP || static_cast<int>(n) > SIGRTMAX)
            return ParseError::TooLarge;
        out = static_cast<int>(n);
        return ParseError::None;
    }
    auto upper = [](char ch) { return ch >= 'a' && ch <= 'z' ? static_cast<char>(ch - 32) : ch; };
    auto equal = [&](std::string_view a, std::string_view b) {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i)
            if (upper(a[i]) != b[i]) return false;
        return true;
    };
    std::string_view bare = text;
    if (bare.size() > 3 && equal(bare.substr(0, 3), "SIG")) bare.remove_prefix(3);
    for (const auto& n : names) {
        if (equal(bare, n.name)) {
            out = n.signo;
            return ParseError::None;
        }
    }
    if (equal(bare, "KILL") || equal(bare, "STOP")) return ParseError::TooLarge;
    return ParseError::Malformed;
}

}  // namespace green::detail
