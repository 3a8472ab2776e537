// The FTP protocol, written once for both servers (see session.hpp).
#include "session.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <system_error>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace ftp {

namespace {

constexpr std::size_t max_line = 8192;  // a longer command line ends the session
constexpr auto data_accept_limit = 10s;

// RFC 959 quotes a path in a 257 reply between double quotes, doubling any inside it.
std::string quoted(const std::string& path) {
    std::string out = "\"";
    for (char c : path) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string errno_text(const std::string& vpath) {
    return vpath + ": " + std::strerror(errno);
}

bool is_anonymous(const std::string& name) {
    return name == "anonymous" || name == "ftp";
}

// One `ls -l` line; times in UTC so that every run prints the same.
std::string long_line(const std::string& host_path, const std::string& name) {
    struct stat st {};
    if (::lstat(host_path.c_str(), &st) != 0) return {};
    char mode[11] = "----------";
    if (S_ISDIR(st.st_mode)) mode[0] = 'd';
    if (S_ISLNK(st.st_mode)) mode[0] = 'l';
    const char rwx[] = "rwxrwxrwx";
    for (int i = 0; i < 9; ++i)
        if (st.st_mode & (0400 >> i)) mode[i + 1] = rwx[i];
    char when[32];
    struct tm tm {};
    ::gmtime_r(&st.st_mtime, &tm);
    const bool recent = std::labs(std::time(nullptr) - st.st_mtime) < 180L * 24 * 3600;
    std::strftime(when, sizeof when, recent ? "%b %e %H:%M" : "%b %e  %Y", &tm);
    char head[160];
    std::snprintf(head, sizeof head, "%s %3lu %-8u %-8u %12lld %s ", mode,
                  static_cast<unsigned long>(st.st_nlink), st.st_uid, st.st_gid,
                  static_cast<long long>(st.st_size), when);
    std::string line = head + name;
    if (S_ISLNK(st.st_mode)) {
        char target[4096];
        const ssize_t n = ::readlink(host_path.c_str(), target, sizeof target);
        if (n > 0) line += " -> " + std::string(target, static_cast<std::size_t>(n));
    }
    return line + "\r\n";
}

// TYPE A on the wire: "\r\n" line ends. Converting a file's "\n" for sending...
std::string to_network_ascii(std::string_view in) {
    std::string out;
    out.reserve(in.size() + in.size() / 16);
    for (char c : in) {
        if (c == '\n') out += '\r';
        out += c;
    }
    return out;
}

// ...and dropping the '\r' before each '\n' when receiving (a '\r' at a chunk's end is held
// back until the next chunk shows what follows it).
std::string from_network_ascii(std::string_view in, bool& held_cr) {
    std::string out;
    for (char c : in) {
        if (held_cr && c != '\n') out += '\r';
        held_cr = c == '\r';
        if (!held_cr) out += c;
    }
    return out;
}

// Closes a file descriptor on every path out.
struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

Session::Session(Transport& transport, const ServedRoot& root, const Options& options)
    : transport_(transport), root_(root), options_(options) {}

void Session::reply(int code, const std::string& text) {
    transport_.control().write_all(std::to_string(code) + " " + text + "\r\n");
}

std::optional<std::string> Session::read_command() {
    for (;;) {
        if (const auto nl = inbuf_.find('\n'); nl != std::string::npos) {
            std::string line = inbuf_.substr(0, nl);
            inbuf_.erase(0, nl + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            return line;
        }
        if (inbuf_.size() > max_line) {
            reply(500, "Command line too long.");
            return std::nullopt;
        }
        char buf[4096];
        const std::size_t n = transport_.control().read_some(buf, sizeof buf);
        if (n == 0) return std::nullopt;
        inbuf_.append(buf, n);
    }
}

void Session::run() {
    reply(220, "green FTP server ready.");
    while (auto line = read_command()) {
        const std::size_t space = line->find(' ');
        std::string verb = line->substr(0, space);
        for (char& c : verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        const std::string arg = space == std::string::npos ? "" : line->substr(space + 1);
        try {
            if (!dispatch(verb, arg)) return;
        } catch (const PathError& e) {
            reply(550, e.what());
        }
    }
}

bool Session::dispatch(const std::string& verb, const std::string& arg) {
    // Allowed before login.
    if (verb == "QUIT") {
        reply(221, "Goodbye.");
        return false;
    }
    if (verb == "USER") return user(arg), true;
    if (verb == "PASS") return pass(arg), true;
    if (verb == "NOOP") return reply(200, "NOOP ok."), true;
    if (verb == "SYST") return reply(215, "UNIX Type: L8"), true;
    if (verb == "FEAT") {
        transport_.control().write_all(
            "211-Features:\r\n EPSV\r\n PASV\r\n SIZE\r\n UTF8\r\n TVFS\r\n211 End\r\n");
        return true;
    }
    if (verb == "OPTS") {
        std::string upper = arg;
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (upper == "UTF8 ON") return reply(200, "Always in UTF8 mode."), true;
        return reply(501, "Option not understood."), true;
    }
    static const char* const known[] = {
        "PWD",  "XPWD", "CWD",  "CDUP", "XCUP", "LIST", "NLST", "RETR", "STOR", "DELE", "MKD",
        "XMKD", "RMD",  "XRMD", "SIZE", "TYPE", "PASV", "EPSV", "MODE", "STRU", "PORT", "EPRT"};
    if (std::find_if(std::begin(known), std::end(known),
                     [&](const char* k) { return verb == k; }) == std::end(known)) {
        reply(500, "Unknown command " + verb + ".");
        return true;
    }
    if (!logged_in_) {
        reply(530, "Please login with USER and PASS.");
        return true;
    }
    if (verb == "PWD" || verb == "XPWD") {
        reply(257, quoted(cwd_) + " is the current directory");
    } else if (verb == "CWD") {
        cwd(arg);
    } else if (verb == "CDUP" || verb == "XCUP") {
        cwd("..");
    } else if (verb == "LIST" || verb == "NLST") {
        list(arg, verb == "NLST");
    } else if (verb == "RETR") {
        retr(arg);
    } else if (verb == "STOR") {
        stor(arg);
    } else if (verb == "DELE") {
        dele(arg);
    } else if (verb == "MKD" || verb == "XMKD") {
        mkd(arg);
    } else if (verb == "RMD" || verb == "XRMD") {
        rmd(arg);
    } else if (verb == "SIZE") {
        size(arg);
    } else if (verb == "TYPE") {
        type(arg);
    } else if (verb == "PASV" || verb == "EPSV") {
        pasv(verb == "EPSV", arg);
    } else if (verb == "MODE") {
        reply(arg == "S" || arg == "s" ? 200 : 504,
              arg == "S" || arg == "s" ? "Mode set to S." : "Only stream mode is supported.");
    } else if (verb == "STRU") {
        reply(arg == "F" || arg == "f" ? 200 : 504, arg == "F" || arg == "f"
                                                        ? "Structure set to F."
                                                        : "Only file structure is supported.");
    } else {  // PORT, EPRT
        reply(502, "Active mode is not supported; use PASV or EPSV.");
    }
    return true;
}

void Session::user(const std::string& arg) {
    if (arg.empty()) return reply(501, "USER needs a name.");
    logged_in_ = false;
    passive_.reset();
    pending_user_ = arg;
    if (is_anonymous(arg)) return reply(331, "Anonymous login ok, send your e-mail as password.");
    reply(331, "Password required for " + arg + ".");
}

void Session::pass(const std::string& arg) {
    if (logged_in_) return reply(503, "Already logged in.");
    if (!pending_user_) return reply(503, "Login with USER first.");
    const std::string name = *std::exchange(pending_user_, std::nullopt);
    if (is_anonymous(name)) {
        logged_in_ = anonymous_ = true;
        return reply(230, options_.user ? "Anonymous access granted, read only."
                                        : "Anonymous access granted.");
    }
    if (options_.user && name == *options_.user && arg == *options_.password) {
        logged_in_ = true;
        anonymous_ = false;
        return reply(230, "User " + name + " logged in.");
    }
    reply(530, "Login incorrect.");
}

// With a configured user, anonymous sessions only read.
bool Session::may_write() {
    if (anonymous_ && options_.user) {
        reply(550, "Permission denied (anonymous access is read only).");
        return false;
    }
    return true;
}

void Session::cwd(const std::string& arg) {
    if (arg.empty()) return reply(501, "CWD needs a directory.");
    const std::string v = vpath(arg);
    struct stat st {};
    if (::stat(root_.existing(v).c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return reply(550, v + ": Not a directory");
    cwd_ = v;
    reply(250, "Directory changed to " + quoted(v) + ".");
}

std::unique_ptr<Stream> Session::open_data(const std::string& what) {
    if (!passive_) {
        reply(425, "Use PASV or EPSV first.");
        return nullptr;
    }
    reply(150, "Opening " + std::string(ascii_ ? "ASCII" : "BINARY") +
                   " mode data connection for " + what + ".");
    auto listener = std::move(passive_);
    std::unique_ptr<Stream> data = listener->accept(data_accept_limit);
    if (!data) reply(425, "No data connection came.");
    return data;
}

void Session::list(const std::string& arg, bool names_only) {
    // Clients often pass ls options ("-la"); they are ignored.
    std::string path = arg;
    while (path.size() >= 1 && path[0] == '-') {
        const std::size_t space = path.find(' ');
        path = space == std::string::npos ? "" : path.substr(space + 1);
    }
    const std::string v = vpath(path);
    const std::string host = root_.existing(v);
    struct stat st {};
    if (::stat(host.c_str(), &st) != 0) return reply(550, errno_text(v));
    std::string text;
    if (S_ISDIR(st.st_mode)) {
        DIR* dir = ::opendir(host.c_str());
        if (!dir) return reply(550, errno_text(v));
        std::vector<std::string> names;
        while (const dirent* e = ::readdir(dir))
            if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
                names.emplace_back(e->d_name);
        ::closedir(dir);
        std::sort(names.begin(), names.end());
        for (const auto& n : names) text += names_only ? n + "\r\n" : long_line(host + "/" + n, n);
    } else {
        const std::string name = v.substr(v.rfind('/') + 1);
        text = names_only ? name + "\r\n" : long_line(host, name);
    }
    auto data = open_data("the listing of " + v);
    if (!data) return;
    try {
        data->write_all(text);
    } catch (const std::system_error&) {
        return reply(426, "Connection closed; transfer aborted.");
    }
    data.reset();
    reply(226, "Transfer complete.");
}

void Session::retr(const std::string& arg) {
    if (arg.empty()) return reply(501, "RETR needs a file name.");
    const std::string v = vpath(arg);
    Fd file{::open(root_.existing(v).c_str(), O_RDONLY | O_CLOEXEC)};
    struct stat st {};
    if (file.fd < 0 || ::fstat(file.fd, &st) != 0) return reply(550, errno_text(v));
    if (!S_ISREG(st.st_mode)) return reply(550, v + ": Not a regular file");
    auto data = open_data(v + " (" + std::to_string(st.st_size) + " bytes)");
    if (!data) return;
    std::vector<char> buf(64 * 1024);
    try {
        for (;;) {
            const ssize_t n = ::read(file.fd, buf.data(), buf.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return reply(451, "Local error: " + errno_text(v));
            if (n == 0) break;
            const std::string_view chunk(buf.data(), static_cast<std::size_t>(n));
            if (ascii_)
                data->write_all(to_network_ascii(chunk));
            else
                data->write_all(chunk);
        }
    } catch (const std::system_error&) {
        return reply(426, "Connection closed; transfer aborted.");
    }
    data.reset();
    reply(226, "Transfer complete.");
}

void Session::stor(const std::string& arg) {
    if (arg.empty()) return reply(501, "STOR needs a file name.");
    if (!may_write()) return;
    const std::string v = vpath(arg);
    Fd file{::open(root_.creatable(v).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
    if (file.fd < 0) return reply(550, errno_text(v));
    auto data = open_data(v);
    if (!data) return;
    std::vector<char> buf(64 * 1024);
    bool held_cr = false;
    try {
        while (const std::size_t n = data->read_some(buf.data(), buf.size())) {
            std::string converted;
            std::string_view chunk(buf.data(), n);
            if (ascii_) chunk = converted = from_network_ascii(chunk, held_cr);
            while (!chunk.empty()) {
                const ssize_t w = ::write(file.fd, chunk.data(), chunk.size());
                if (w < 0 && errno == EINTR) continue;
                if (w < 0) return reply(451, "Local error: " + errno_text(v));
                chunk.remove_prefix(static_cast<std::size_t>(w));
            }
        }
        if (held_cr && ::write(file.fd, "\r", 1) != 1)
            return reply(451, "Local error: " + errno_text(v));
    } catch (const std::system_error&) {
        return reply(426, "Connection closed; transfer aborted.");
    }
    reply(226, "Transfer complete.");
}

void Session::size(const std::string& arg) {
    if (arg.empty()) return reply(501, "SIZE needs a file name.");
    const std::string v = vpath(arg);
    struct stat st {};
    if (::stat(root_.existing(v).c_str(), &st) != 0) return reply(550, errno_text(v));
    if (!S_ISREG(st.st_mode)) return reply(550, v + ": Not a regular file");
    reply(213, std::to_string(st.st_size));
}

void Session::type(const std::string& arg) {
    std::string t = arg;
    for (char& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (t == "I" || t == "L 8") {
        ascii_ = false;
        reply(200, "Switching to Binary mode.");
    } else if (t == "A" || t == "A N") {
        ascii_ = true;
        reply(200, "Switching to ASCII mode.");
    } else if (t.empty()) {
        reply(501, "TYPE needs A or I.");
    } else {
        reply(504, "TYPE " + arg + " is not supported.");
    }
}

void Session::pasv(bool extended, const std::string& arg) {
    if (extended && !arg.empty()) {
        std::string a = arg;
        for (char& c : a) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (a == "ALL") return reply(200, "EPSV ALL ok.");
        if (a != "1" && a != "2") return reply(522, "Network protocol not supported, use (1,2)");
    }
    if (!extended && !transport_.local_is_ipv4()) return reply(425, "PASV needs IPv4; use EPSV.");
    try {
        passive_ = transport_.listen_passive();
    } catch (const std::system_error& e) {
        return reply(425, std::string("Cannot open a passive port: ") + e.what());
    }
    const unsigned port = passive_->port();
    if (extended)
        return reply(229, "Entering Extended Passive Mode (|||" + std::to_string(port) + "|)");
    std::string ip = transport_.local_ip();
    std::replace(ip.begin(), ip.end(), '.', ',');
    reply(227, "Entering Passive Mode (" + ip + "," + std::to_string(port / 256) + "," +
                   std::to_string(port % 256) + ").");
}

void Session::dele(const std::string& arg) {
    if (arg.empty()) return reply(501, "DELE needs a file name.");
    if (!may_write()) return;
    const std::string v = vpath(arg);
    const std::string host = root_.entry(v);
    struct stat st {};
    if (::lstat(host.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        return reply(550, v + ": Is a directory (use RMD)");
    if (::unlink(host.c_str()) != 0) return reply(550, errno_text(v));
    reply(250, v + " deleted.");
}

void Session::mkd(const std::string& arg) {
    if (arg.empty()) return reply(501, "MKD needs a directory name.");
    if (!may_write()) return;
    const std::string v = vpath(arg);
    if (::mkdir(root_.creatable(v).c_str(), 0755) != 0) return reply(550, errno_text(v));
    reply(257, quoted(v) + " created.");
}

void Session::rmd(const std::string& arg) {
    if (arg.empty()) return reply(501, "RMD needs a directory name.");
    if (!may_write()) return;
    const std::string v = vpath(arg);
    if (v == cwd_ || cwd_.rfind(v + "/", 0) == 0)
        return reply(550, v + ": Is the current directory or above it");
    if (::rmdir(root_.entry(v).c_str()) != 0) return reply(550, errno_text(v));
    reply(250, v + " removed.");
}

}  // namespace ftp
