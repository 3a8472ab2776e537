// The FTP servers' command line: ftp_server [--host H] [--port P] --root DIR
// [--user U --password P]. Both servers take exactly the same options.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ftp {

struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 2121;  // 0: any free port (printed on start)
    std::string root;
    std::optional<std::string> user, password;
};

// Throws std::invalid_argument with a message fit for the user.
Options parse_options(int argc, char** argv);

inline const char* usage = "usage: %s [--host H] [--port P] --root DIR [--user U --password P]\n";

// A server's start: line-buffered stdout (its log is read line by line), then the options, or
// the error and the usage on stderr and exit status 2.
Options start_server(const char* name, int argc, char** argv);

}  // namespace ftp
