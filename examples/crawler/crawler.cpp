// The seed's gevent crawler in C++:
//
//     def get_page(url):
//         print("GET: %s" % url)
//         res = requests.get(url)
//         print("%d bytes received from %s" % (len(res.text), url))
//     gevent.joinall([gevent.spawn(get_page, url) for url in urls])
//
// Each fiber calls libcurl's plain blocking curl_easy_perform. Linking green::hooks makes the
// poll/recv/send/connect calls inside libcurl cooperative, so the downloads overlap on one
// thread. Without URLs it serves its own site (pages that answer after a delay) on 127.0.0.1,
// so the demo runs without internet access; with --https that site serves over TLS (green's
// TlsStreamServer, a certificate made at build time) and libcurl's OpenSSL runs in the fibers.
//
//     crawler [--https] [--pages N] [--delay MS] [--size BYTES] [URL...]
#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <green/green.hpp>
#ifdef GREEN_EXAMPLE_TLS_CERT
#include <green/tls.hpp>
#endif

namespace {

struct Options {
    int pages = 5;
    int delay_ms = 500;
    std::size_t size = 2000;
    bool https = false;
    std::vector<std::string> urls;
};

[[noreturn]] void usage_error(const std::string& what) {
    std::fprintf(
        stderr,
        "crawler: %s\nusage: crawler [--https] [--pages N] [--delay MS] [--size BYTES] [URL...]\n",
        what.c_str());
    std::exit(2);
}

long number(const char* opt, const char* v, long lo, long hi) {
    char* end = nullptr;
    const long n = std::strtol(v, &end, 10);
    if (!*v || *end || n < lo || n > hi)
        usage_error(std::string(opt) + " wants a number in [" + std::to_string(lo) + ", " +
                    std::to_string(hi) + "], not '" + v + "'");
    return n;
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&] {
            if (i + 1 >= argc) usage_error(a + " needs a value");
            return argv[++i];
        };
        if (a == "--https")
#ifdef GREEN_EXAMPLE_TLS_CERT
            o.https = true;
#else
            usage_error("--https: built without green::tls or the openssl command");
#endif
        else if (a == "--pages")
            o.pages = static_cast<int>(number("--pages", value(), 1, 100000));
        else if (a == "--delay")
            o.delay_ms = static_cast<int>(number("--delay", value(), 0, 600000));
        else if (a == "--size")
            o.size = static_cast<std::size_t>(number("--size", value(), 0, 100 << 20));
        else if (!a.empty() && a[0] == '-')
            usage_error("unknown option " + a);
        else
            o.urls.push_back(a);
    }
    return o;
}

// The local site: every page answers after `delay`, like a slow web server. Written with
// green's StreamServer (TlsStreamServer for https); each request is handled in its own greenlet.
class SlowSite {
  public:
    SlowSite(green::Duration delay, std::size_t size, bool https)
        : delay_(delay), body_(make_body(size)) {
        const green::Address where("127.0.0.1", 0);
#ifdef GREEN_EXAMPLE_TLS_CERT
        if (https)
            server_ = std::make_unique<green::TlsStreamServer>(
                where, green::TlsContext::server(GREEN_EXAMPLE_TLS_CERT, GREEN_EXAMPLE_TLS_KEY),
                [this](green::TlsSocket& conn, const green::Address&) { serve(conn); });
#endif
        if (!server_)
            server_ = std::make_unique<green::StreamServer>(
                where, [this](green::Socket& conn, const green::Address&) { serve(conn); });
        (void)https;
        server_->start();
    }
    ~SlowSite() {
        server_->stop();
    }
    std::uint16_t port() const {
        return server_->address().port();
    }

  private:
    static std::string make_body(std::size_t size) {
        std::string b;
        while (b.size() < size) b += "All work and no play makes Jack a dull boy.\n";
        b.resize(size);
        return b;
    }

    template <class Connection>  // green::Socket or green::TlsSocket
    void serve(Connection& conn) {
        std::string request;
        while (request.find("\r\n\r\n") == std::string::npos) {
            std::string part = conn.recv(4096);
            if (part.empty()) return;
            request += part;
        }
        green::sleep(delay_);
        const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                                 std::to_string(body_.size()) + "\r\nConnection: close\r\n\r\n";
        conn.sendall(head);
        conn.sendall(body_);
    }

    green::Duration delay_;
    std::string body_;
    std::unique_ptr<green::StreamServer> server_;
};

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

// One page with the blocking easy API, exactly as a program unaware of green would write it.
// `cainfo`: the CA bundle to trust instead of the system's (empty: the system's).
bool get_page(const std::string& url, const std::string& cainfo) {
    std::printf("GET: %s\n", url.c_str());
    std::fflush(stdout);
    CURL* curl = curl_easy_init();
    if (!curl) throw std::runtime_error("curl_easy_init failed");
    std::string body;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    if (!cainfo.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, cainfo.c_str());
    const CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
        std::printf("failed to get %s: %s\n", url.c_str(), curl_easy_strerror(rc));
        return false;
    }
    if (status != 200) {
        std::printf("failed to get %s: HTTP status %ld\n", url.c_str(), status);
        return false;
    }
    std::printf("%zu bytes received from %s\n", body.size(), url.c_str());
    std::fflush(stdout);
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    Options opts = parse(argc, argv);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        std::fprintf(stderr, "crawler: curl_global_init failed\n");
        return 1;
    }
    std::unique_ptr<SlowSite> site;
    std::string cainfo;
    if (opts.urls.empty()) {
        site = std::make_unique<SlowSite>(std::chrono::milliseconds(opts.delay_ms), opts.size,
                                          opts.https);
        // https names the host as its certificate does; the certificate is its own CA.
        const std::string base = opts.https ? "https://localhost:" : "http://127.0.0.1:";
        for (int i = 0; i < opts.pages; ++i)
            opts.urls.push_back(base + std::to_string(site->port()) + "/page/" + std::to_string(i));
    }
#ifdef GREEN_EXAMPLE_TLS_CERT
    if (opts.https) cainfo = GREEN_EXAMPLE_TLS_CERT;
#endif

    const auto start = green::Clock::now();
    std::vector<green::Greenlet<bool>> jobs;
    for (const auto& url : opts.urls) jobs.push_back(green::spawn(get_page, url, cainfo));
    green::joinall(jobs);
    const std::chrono::duration<double> took = green::Clock::now() - start;
    std::printf("run time is %.3f s\n", took.count());

    int failed = 0;
    for (auto& j : jobs)
        if (!j.successful() || !j.get()) ++failed;
    site.reset();
    curl_global_cleanup();
    return failed ? 1 : 0;
}
