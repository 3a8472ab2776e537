// Python's socketserver in C++ on blocking POSIX sockets: a TCP server whose serve_forever()
// accepts connections and hands each to process_request(), which ThreadingTcpServer runs in a
// new thread and ForkingTcpServer in a new process (reaped on SIGCHLD). SIGINT/SIGTERM end
// serve_forever() through a self-pipe the accept loop polls with the listener.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace socketserver {

// The request handler (BaseRequestHandler.handle): the connected socket and "('ip', port)".
// The server closes the socket after it returns.
using Handler = std::function<void(int fd, const std::string& peer)>;

class TcpServer {
  public:
    // Listens on host:port (port 0: any). Throws std::system_error.
    TcpServer(const std::string& host, std::uint16_t port, Handler handler);
    virtual ~TcpServer();
    TcpServer(const TcpServer&) = delete;
    TcpServer& operator=(const TcpServer&) = delete;

    std::uint16_t port() const { return port_; }
    // Accepts until SIGINT or SIGTERM; returns the number of connections accepted.
    long serve_forever();

  protected:
    virtual void process_request(int fd, const std::string& peer) = 0;
    // Runs the handler (finish_request); a handler's exception is reported on stderr.
    void handle(int fd, const std::string& peer);
    int listener_ = -1;

  private:
    Handler handler_;
    std::uint16_t port_ = 0;
};

class ThreadingTcpServer : public TcpServer {
  public:
    using TcpServer::TcpServer;
    ~ThreadingTcpServer() override;
    // server_close(): shuts down the connections still open, so that their handlers end, and
    // joins every thread. Returns how many connections were still open.
    std::size_t close_connections();

  protected:
    void process_request(int fd, const std::string& peer) override;  // a new thread

  private:
    struct Worker {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };
    std::mutex mutex_;
    std::set<int> open_;  // connections whose handler runs
    std::vector<Worker> workers_;
};

class ForkingTcpServer : public TcpServer {
  public:
    // Installs the SIGCHLD handler that reaps children as they end.
    ForkingTcpServer(const std::string& host, std::uint16_t port, Handler handler);
    // Children forked and children reaped so far.
    long forked() const { return forked_; }
    static long reaped();
    // Waits for the children still running (server_close with block_on_close); returns the
    // number reaped in all.
    long wait_children();

  protected:
    void process_request(int fd, const std::string& peer) override;  // a child process

  private:
    long forked_ = 0;
};

}  // namespace socketserver
