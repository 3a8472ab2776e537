// The two parsers behind every GREEN_* number and greenrun's flags: sizes (k/m/g suffixes) and
// counts. Strict on purpose: "12q", "-1" or a value past 64 bits is an error, never a guess.
#include "config.hpp"

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

}  // namespace green::detail
