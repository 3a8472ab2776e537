// Servers in gevent's shape: StreamServer runs handler(socket, peer) in a new greenlet per
// accepted connection; DatagramServer runs handler(data, peer, server) per datagram. Both stop
// gracefully: stop accepting, let handlers finish up to a timeout, then kill the rest. Both
// serve on one hub, or on every hub of a HubPool (start(pool)).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "green/address.hpp"
#include "green/clock.hpp"
#include "green/greenlet.hpp"
#include "green/socket.hpp"
#include "green/wait_queue.hpp"

namespace green {

class HubPool;
class Pool;

namespace detail {
class HandlerGroup;
class ServerLanes;
}  // namespace detail

struct ServerOptions {
    int backlog = 256;                   // listen(2) backlog (StreamServer)
    bool reuse_addr = true;              // SO_REUSEADDR before bind (IP addresses)
    bool reuse_port = false;             // SO_REUSEPORT: several processes share the port
    std::size_t max_handlers = 0;        // cap on concurrent handler greenlets; 0: none. At the cap
                                         // the server stops accepting/reading until one finishes.
                                         // On a HubPool it counts the handlers of every hub.
    std::size_t handler_stack_size = 0;  // 0: green::default_stack_size()
    StackMode handler_stack_mode = StackMode::Unset;  // Compact: see stack_mode.hpp
    bool spawn_handlers = true;        // DatagramServer: false runs the handler in the read loop
    std::size_t max_datagram = 65536;  // DatagramServer receive buffer
    std::string name;                  // for log lines; default "StreamServer"/"DatagramServer"
    // On a HubPool: each hub gets its own socket bound with SO_REUSEPORT (the kernel spreads
    // connections by a hash of their addresses) instead of all hubs accepting from one socket.
    // IP addresses only. See README "Servers on every hub" for why one socket is the default.
    bool listener_per_hub = false;
};

// The life cycle shared by both servers (gevent's BaseServer).
class BaseServer {
  public:
    BaseServer(const BaseServer&) = delete;
    BaseServer& operator=(const BaseServer&) = delete;
    // Stops the server (without grace) if it still runs; waits for killed handlers to unwind.
    virtual ~BaseServer();

    // Creates and binds the socket if needed, then starts the accept/read greenlet. Returns at
    // once; the server runs while this hub runs.
    void start();
    // The same on every hub of `hubs`: each hub runs an accept/read greenlet and the handlers of
    // what it accepted. Callable from any thread; the pool must outlive the server's stop().
    // A server that runs handlers in a green::Pool cannot (std::logic_error).
    void start(HubPool& hubs);
    // start() if needed, then waits until stop() finishes. If the waiting fiber is killed or a
    // Timeout hits it, the server is stopped (with `stop_timeout`) before the exception goes on.
    void serve_forever(Duration stop_timeout = std::chrono::seconds(1));
    // start(hubs) if needed, then the same wait, from any thread (all waiters on one hub).
    void serve_forever(HubPool& hubs, Duration stop_timeout = std::chrono::seconds(1));
    // Stops accepting, waits up to `timeout` for running handlers, then kills the rest and waits
    // for them to unwind. A handler may call stop() on its own server: it is left running.
    // The socket is closed; start() may then serve again on a fresh one (servers constructed
    // from an existing socket cannot restart). On a HubPool: from any thread; every hub stops
    // accepting first, then all hubs' handlers share the one deadline.
    void stop(Duration timeout = std::chrono::seconds(1));

    bool started() const noexcept {
        return state_.load(std::memory_order_acquire) == State::Running;
    }
    // The bound address (a requested port 0 is resolved once started).
    const Address& address() const noexcept { return address_; }
    Socket& socket() noexcept { return socket_; }
    // Handlers running now (on every hub when started on a HubPool).
    std::size_t active_handlers() const noexcept;
    const ServerOptions& options() const noexcept { return options_; }
    // The number of hubs serving: 1, or the HubPool's size; 0 while stopped.
    std::size_t hubs() const noexcept;

  protected:
    BaseServer(const Address& address, int socktype, ServerOptions options, Pool* pool = nullptr);
    BaseServer(Socket socket, ServerOptions options);

    virtual void prepare_socket(Socket& s) { (void)s; }
    // The accept/read loop of one hub: `s` is that hub's socket, `handlers` its handler group.
    virtual void serve_loop(Socket& s, detail::HandlerGroup& handlers) = 0;
    // The socket of the calling fiber's hub (each hub of a pool waits on a socket of its own).
    Socket& io_socket() noexcept;
    // One line on stderr: "green: <name>: <what> failed: <error>".
    void log_error(const char* what, const std::exception& e);

    Socket socket_;
    Address address_;
    ServerOptions options_;

  private:
    friend class detail::ServerLanes;
    enum class State { Idle, Running, Stopping };
    void open_socket();
    void finish_stop() noexcept;

    int socktype_;
    bool own_socket_;
    Pool* pool_;
    std::atomic<State> state_{State::Idle};
    std::unique_ptr<detail::HandlerGroup> handlers_;
    GreenletHandle loop_;
    WaitQueue stopped_;
    std::unique_ptr<detail::ServerLanes> lanes_;  // while started on a HubPool
};

class StreamServer : public BaseServer {
  public:
    using Handler = std::function<void(Socket& connection, const Address& peer)>;

    // Listens on `address` (TCP over IPv4/IPv6, or a Unix stream socket).
    StreamServer(const Address& address, Handler handler, ServerOptions options = {});
    // Runs the handlers in `pool` (gevent's spawn=Pool): the server accepts only while the pool
    // has a free slot. stop() kills this server's handlers, not the pool's other greenlets.
    StreamServer(const Address& address, Handler handler, Pool& pool, ServerOptions options = {});
    // Serves on a socket the caller bound (listen() is called if needed).
    StreamServer(Socket listener, Handler handler, ServerOptions options = {});
    ~StreamServer() override;

  private:
    void prepare_socket(Socket& s) override;
    void serve_loop(Socket& s, detail::HandlerGroup& handlers) override;
    Handler handler_;
};

class DatagramServer : public BaseServer {
  public:
    using Handler =
        std::function<void(std::string_view data, const Address& peer, DatagramServer& server)>;

    DatagramServer(const Address& address, Handler handler, ServerOptions options = {});
    // Each datagram's handler runs in `pool` (spawn_handlers is implied).
    DatagramServer(const Address& address, Handler handler, Pool& pool, ServerOptions options = {});
    DatagramServer(Socket socket, Handler handler, ServerOptions options = {});
    ~DatagramServer() override;

    // Sends one datagram from the server's socket (e.g. a reply to `peer`); on a HubPool, from
    // the calling hub's socket.
    std::size_t sendto(std::string_view data, const Address& to) {
        return io_socket().sendto(data, to);
    }

  private:
    void serve_loop(Socket& s, detail::HandlerGroup& handlers) override;
    Handler handler_;
};

}  // namespace green
