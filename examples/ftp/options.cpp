// Parsing of the FTP servers' shared command line.
#include "options.hpp"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace ftp {

Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) throw std::invalid_argument(a + ": missing value or unknown option");
        const std::string v = argv[++i];
        if (a == "--host") {
            o.host = v;
        } else if (a == "--port") {
            char* end = nullptr;
            const long p = std::strtol(v.c_str(), &end, 10);
            if (v.empty() || *end || p < 0 || p > 65535)
                throw std::invalid_argument("--port " + v + ": not a port number");
            o.port = static_cast<std::uint16_t>(p);
        } else if (a == "--root") {
            o.root = v;
        } else if (a == "--user") {
            o.user = v;
        } else if (a == "--password") {
            o.password = v;
        } else {
            throw std::invalid_argument(a + ": unknown option");
        }
    }
    if (o.root.empty()) throw std::invalid_argument("--root DIR is required");
    if (o.user.has_value() != o.password.has_value())
        throw std::invalid_argument("--user and --password go together");
    if (o.user && (*o.user == "anonymous" || *o.user == "ftp"))
        throw std::invalid_argument("--user " + *o.user + ": reserved for anonymous login");
    return o;
}

Options start_server(const char* name, int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    try {
        return parse_options(argc, argv);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "%s: %s\n", name, e.what());
        std::fprintf(stderr, usage, argv[0]);
        std::exit(2);
    }
}

}  // namespace ftp
