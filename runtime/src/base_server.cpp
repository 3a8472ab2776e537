// BaseServer: the start / serve_forever / stop life cycle both servers share, and the graceful
// stop order: stop the accept/read greenlet, close the socket, wait for handlers, kill the rest.
// On a HubPool the same steps run on every hub (server_lanes.cpp).
#include <cstdio>

#include "green/hub.hpp"
#include "green/hub_pool.hpp"
#include "green/server.hpp"
#include "handler_group.hpp"
#include "server_lanes.hpp"

namespace green {

BaseServer::BaseServer(const Address& address, int socktype, ServerOptions options, Pool* pool)
    : address_(address),
      options_(std::move(options)),
      socktype_(socktype),
      own_socket_(true),
      pool_(pool),
      handlers_(std::make_unique<detail::HandlerGroup>(
          options_.max_handlers, options_.handler_stack_size, options_.handler_stack_mode, pool)) {
    if (address.family() == AF_UNSPEC)
        throw std::invalid_argument("green server: the address is empty");
}

BaseServer::BaseServer(Socket socket, ServerOptions options)
    : socket_(std::move(socket)),
      options_(std::move(options)),
      socktype_(0),
      own_socket_(false),
      pool_(nullptr),
      handlers_(std::make_unique<detail::HandlerGroup>(options_.max_handlers,
                                                       options_.handler_stack_size,
                                                       options_.handler_stack_mode, nullptr)) {
    if (!socket_) throw std::invalid_argument("green server: invalid socket");
    address_ = socket_.getsockname();
}

BaseServer::~BaseServer() {
    try {
        stop(Duration::zero());
    } catch (...) {
        // A destructor cannot report it; the handlers were killed as far as possible.
    }
}

std::size_t BaseServer::active_handlers() const noexcept {
    if (lanes_) return lanes_->active();
    return handlers_->size();
}

std::size_t BaseServer::hubs() const noexcept {
    if (!started()) return 0;
    return lanes_ ? lanes_->size() : 1;
}

Socket& BaseServer::io_socket() noexcept {
    if (lanes_)
        if (Socket* s = lanes_->socket_here()) return *s;
    return socket_;
}

void BaseServer::open_socket() {
    if (!socket_) {
        if (!own_socket_)
            throw std::logic_error(
                "green server: a server built on a caller's socket cannot restart");
        Socket s(address_.family(), socktype_);
        if (address_.is_ip()) {
            if (options_.reuse_addr) s.set_reuseaddr();
            if (options_.reuse_port || options_.listener_per_hub) s.set_reuseport();
        }
        s.bind(address_);
        socket_ = std::move(s);
    }
    prepare_socket(socket_);
    address_ = socket_.getsockname();
}

void BaseServer::start() {
    if (state_.load(std::memory_order_acquire) != State::Idle)
        throw std::logic_error("green server: start() on a server that is already running");
    open_socket();
    lanes_.reset();
    state_.store(State::Running, std::memory_order_release);
    loop_ = spawn(SpawnOptions{options_.name + "-loop", 0, true, StackMode::Default},
                  [this] { serve_loop(socket_, *handlers_); });
}

void BaseServer::start(HubPool& hubs) {
    if (state_.load(std::memory_order_acquire) != State::Idle)
        throw std::logic_error("green server: start() on a server that is already running");
    if (pool_)
        throw std::logic_error(
            "green server: a server whose handlers run in a green::Pool serves on one hub");
    if (options_.listener_per_hub && (!own_socket_ || !address_.is_ip()))
        throw std::invalid_argument(
            "green server: listener_per_hub needs an IP address to bind (SO_REUSEPORT)");
    // Each hub's loop holds a permit while it waits on its own socket; with fewer permits than
    // hubs, a connection queued on a hub without one would wait for ever.
    if (options_.listener_per_hub && options_.max_handlers && options_.max_handlers < hubs.size())
        throw std::invalid_argument(
            "green server: listener_per_hub needs max_handlers >= the number of hubs");
    open_socket();
    state_.store(State::Running, std::memory_order_release);
    try {
        lanes_ = std::make_unique<detail::ServerLanes>(*this, hubs);
    } catch (...) {
        lanes_.reset();
        socket_.close();
        state_.store(State::Idle, std::memory_order_release);
        throw;
    }
}

void BaseServer::serve_forever(Duration stop_timeout) {
    if (state_.load(std::memory_order_acquire) == State::Idle) start();
    try {
        while (state_.load(std::memory_order_acquire) != State::Idle) stopped_.wait();
    } catch (...) {
        stop(stop_timeout);
        throw;
    }
}

void BaseServer::serve_forever(HubPool& hubs, Duration stop_timeout) {
    if (state_.load(std::memory_order_acquire) == State::Idle) start(hubs);
    if (!lanes_) return serve_forever(stop_timeout);  // it was started on this hub only
    const std::shared_ptr<Event> stopped = lanes_->stopped();
    try {
        stopped->wait();
    } catch (...) {
        stop(stop_timeout);
        throw;
    }
}

void BaseServer::finish_stop() noexcept {
    state_.store(State::Idle, std::memory_order_release);
    if (lanes_) {
        lanes_->stopped()->set();
    } else {
        stopped_.notify_all();
    }
}

void BaseServer::stop(Duration timeout) {
    State running = State::Running;
    if (!state_.compare_exchange_strong(running, State::Stopping, std::memory_order_acq_rel))
        return;
    struct Finish {
        BaseServer& s;
        ~Finish() { s.finish_stop(); }
    } finish{*this};
    const Deadline grace(timeout);
    if (lanes_) return lanes_->stop(grace);
    if (loop_ && !loop_.dead()) {
        const bool ran = detail::core_of(loop_).has_context();  // it has (or had) a stack
        loop_.kill(/*block=*/true);
        // Killed before it ever ran: it sits dead in the run queue until the hub passes by;
        // let it, so a program that ends right here leaves nothing behind.
        if (!ran) yield();
    }
    loop_ = {};
    socket_.close();
    if (!handlers_->wait_idle(grace)) handlers_->kill_all();
}

void BaseServer::log_error(const char* what, const std::exception& e) {
    std::fprintf(stderr, "green: %s: %s failed: %s\n", options_.name.c_str(), what, e.what());
}

}  // namespace green
