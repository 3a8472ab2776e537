// The seed's HTTP server v2: serves a static directory (index, .html pages, images with their
// Content-Type, 404 for the rest) to many browsers at once, one greenlet per connection on a
// StreamServer, with HTTP/1.1 keep-alive. Files are read on the offload pool.
// usage: http_server [--dir DIR] [host] [port]   (defaults ./static next to the source,
//        127.0.0.1, 8000; port 0: any)
#include <sys/stat.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include <green/green.hpp>

#include "args.hpp"

namespace {

using namespace std::chrono_literals;

std::string root_dir = GREEN_HTTP_DEFAULT_DIR;

std::string content_type(const std::string& path) {
    static const std::map<std::string, std::string> types = {
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        {".css", "text/css"},
        {".js", "text/javascript"},
        {".txt", "text/plain; charset=utf-8"},
        {".json", "application/json"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".svg", "image/svg+xml"},
        {".ico", "image/x-icon"},
    };
    const auto dot = path.rfind('.');
    if (dot != std::string::npos && path.find('/', dot) == std::string::npos) {
        std::string ext = path.substr(dot);
        for (auto& c : ext) c = static_cast<char>(std::tolower(c));
        if (auto it = types.find(ext); it != types.end()) return it->second;
    }
    return "application/octet-stream";
}

// "/a%20b.html?x=1" -> "/a b.html"; nullopt for bad escapes or a ".." segment.
std::optional<std::string> clean_path(const std::string& target) {
    std::string path = target.substr(0, target.find_first_of("?#"));
    if (path.empty() || path[0] != '/') return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < path.size(); ++i) {
        if (path[i] == '%') {
            if (i + 2 >= path.size() || !std::isxdigit(path[i + 1]) || !std::isxdigit(path[i + 2]))
                return std::nullopt;
            out += static_cast<char>(std::stoi(path.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += path[i];
        }
    }
    if (out.find('\0') != std::string::npos) return std::nullopt;
    for (std::size_t pos = 0; (pos = out.find("..", pos)) != std::string::npos; pos += 2) {
        const bool starts = pos == 0 || out[pos - 1] == '/';
        const bool ends = pos + 2 == out.size() || out[pos + 2] == '/';
        if (starts && ends) return std::nullopt;
    }
    return out;
}

// Reads a regular file on the offload pool (disk reads would block the hub).
std::optional<std::string> read_file(const std::string& file) {
    return green::offload([file]() -> std::optional<std::string> {
        struct stat st {};
        if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
        std::ifstream in(file, std::ios::binary);
        if (!in) return std::nullopt;
        std::ostringstream body;
        body << in.rdbuf();
        return body.str();
    });
}

bool is_directory(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void respond(green::Socket& c, int status, const char* reason, const std::string& type,
             const std::string& body, bool head_only, bool keep_alive) {
    std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
    head += "Server: green-http/2.0\r\n";
    head += "Content-Type: " + type + "\r\n";
    head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    if (status == 405) head += "Allow: GET, HEAD\r\n";
    head += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
    if (!head_only) head += body;
    c.sendall(head);
}

std::string error_page(int status, const char* reason) {
    return "<!DOCTYPE html><html><body><h1>" + std::to_string(status) + " " + reason +
           "</h1></body></html>\n";
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(c));
    return s;
}

// One browser connection: requests until the client closes, asks to close, or idles 30 s.
void serve_browser(green::Socket& c, const green::Address& peer) {
    c.settimeout(30s);
    green::LineReader reader(c);
    try {
        for (;;) {
            std::string request_line = reader.readline(8192);
            if (request_line.empty()) return;  // the browser closed the connection
            while (!request_line.empty() &&
                   (request_line.back() == '\n' || request_line.back() == '\r'))
                request_line.pop_back();
            std::istringstream parts(request_line);
            std::string method, target, version;
            parts >> method >> target >> version;
            bool keep_alive = version == "HTTP/1.1";
            for (int n = 0;; ++n) {  // headers
                std::string h = reader.readline(8192);
                if (h.empty() || h == "\r\n" || h == "\n" || n > 100) break;
                const std::string lh = lower(h);
                if (lh.starts_with("connection:")) {
                    if (lh.find("close") != std::string::npos) keep_alive = false;
                    if (lh.find("keep-alive") != std::string::npos) keep_alive = true;
                }
            }
            const bool head = method == "HEAD";
            int status = 200;
            const char* reason = "OK";
            std::string type = "text/html; charset=utf-8", body;
            const auto path = clean_path(target);
            if (method.empty() || target.empty() || !version.starts_with("HTTP/")) {
                status = 400, reason = "Bad Request", keep_alive = false;
            } else if (method != "GET" && !head) {
                status = 405, reason = "Method Not Allowed";
            } else if (!path) {
                status = 403, reason = "Forbidden";
            } else {
                std::string file = root_dir + *path;
                if (file.back() == '/' || is_directory(file))
                    file += (file.back() == '/' ? "" : "/") + std::string("index.html");
                if (auto data = read_file(file)) {
                    body = std::move(*data);
                    type = content_type(file);
                } else {
                    status = 404, reason = "Not Found";
                }
            }
            if (status != 200) body = error_page(status, reason);
            std::printf("%s \"%s\" %d %zu\n", peer.to_string().c_str(), request_line.c_str(),
                        status, body.size());
            respond(c, status, reason, type, body, head, keep_alive);
            if (!keep_alive) return;
        }
    } catch (const green::Timeout&) {
        // An idle keep-alive connection: just close it.
    } catch (const std::system_error& e) {
        std::printf("%s: %s\n", peer.to_string().c_str(), e.what());
    }
}

}  // namespace

int main(int argc, char** argv) try {
    example::line_buffered_stdout();
    int first = 1;
    if (argc > 2 && std::strcmp(argv[1], "--dir") == 0) {
        root_dir = argv[2];
        first = 3;
    }
    while (root_dir.size() > 1 && root_dir.back() == '/') root_dir.pop_back();
    if (!is_directory(root_dir)) {
        std::fprintf(stderr, "http_server: %s is not a directory\n", root_dir.c_str());
        return 2;
    }
    const green::Address where = example::address_arg(argc, argv, first, 8000);
    green::StreamServer server(where, serve_browser);
    server.start();
    std::printf("serving %s on http://%s/\n", root_dir.c_str(),
                server.address().to_string().c_str());
    auto on_stop = green::on_signal({SIGINT, SIGTERM}, [&] { server.stop(2s); });
    server.serve_forever();
    std::printf("server stopped\n");
} catch (const std::exception& e) {
    std::fprintf(stderr, "http_server: %s\n", e.what());
    return 1;
}
