// BaseServer: the start / serve_forever / stop life cycle both servers share, and the graceful
// stop order: stop the accept/read greenlet, close the socket, wait for handlers, kill the rest.
#include <cstdio>

#include "green/hub.hpp"
#include "green/server.hpp"
#include "handler_group.hpp"

namespace green {

BaseServer::BaseServer(const Address& address, int socktype, ServerOptions options, Pool* pool)
    : address_(address),
      options_(std::move(options)),
      socktype_(socktype),
      own_socket_(true),
      handlers_(std::make_unique<detail::HandlerGroup>(options_.max_handlers,
                                                       options_.handler_stack_size, pool)) {
    if (address.family() == AF_UNSPEC)
        throw std::invalid_argument("green server: the address is empty");
}

BaseServer::BaseServer(Socket socket, ServerOptions options)
    : socket_(std::move(socket)),
      options_(std::move(options)),
      socktype_(0),
      own_socket_(false),
      handlers_(std::make_unique<detail::HandlerGroup>(options_.max_handlers,
                                                       options_.handler_stack_size, nullptr)) {
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
    return handlers_->size();
}

void BaseServer::start() {
    if (state_ != State::Idle)
        throw std::logic_error("green server: start() on a server that is already running");
    if (!socket_) {
        if (!own_socket_)
            throw std::logic_error(
                "green server: a server built on a caller's socket cannot restart");
        Socket s(address_.family(), socktype_);
        if (address_.is_ip()) {
            if (options_.reuse_addr) s.set_reuseaddr();
            if (options_.reuse_port) s.set_reuseport();
        }
        s.bind(address_);
        socket_ = std::move(s);
    }
    prepare_socket();
    address_ = socket_.getsockname();
    state_ = State::Running;
    loop_ = spawn(SpawnOptions{options_.name + "-loop", 0}, [this] { serve_loop(); });
}

void BaseServer::serve_forever(Duration stop_timeout) {
    if (state_ == State::Idle) start();
    try {
        while (state_ != State::Idle) stopped_.wait();
    } catch (...) {
        stop(stop_timeout);
        throw;
    }
}

void BaseServer::stop(Duration timeout) {
    if (state_ != State::Running) return;
    state_ = State::Stopping;
    struct Finish {
        BaseServer& s;
        ~Finish() {
            s.state_ = State::Idle;
            s.stopped_.notify_all();
        }
    } finish{*this};
    const Deadline grace(timeout);
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
