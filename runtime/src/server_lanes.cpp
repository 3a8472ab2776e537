// ServerLanes: starting a server on every hub of a HubPool and stopping it across them. Stop
// order: no hub accepts any more (every loop killed), then each hub closes its socket and drains
// its handlers against the one deadline, in parallel, so the grace period is not paid per hub.
#include "server_lanes.hpp"

#include <fcntl.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "green/hub_pool.hpp"

namespace green::detail {

ServerLanes::ServerLanes(BaseServer& server, HubPool& pool) : server_(server), pool_(pool) {
    const ServerOptions& o = server.options_;
    if (o.max_handlers)
        cap_ = std::make_unique<Semaphore>(static_cast<std::ptrdiff_t>(o.max_handlers));
    lanes_.reserve(pool.size());
    for (std::size_t i = 0; i < pool.size(); ++i) {
        auto lane = std::make_unique<Lane>();
        lane->socket = open_lane_socket(i);
        lane->handlers = std::make_unique<HandlerGroup>(0, o.handler_stack_size,
                                                        o.handler_stack_mode, nullptr, cap_.get());
        lanes_.push_back(std::move(lane));
    }
    for (auto& lane : lanes_) {
        std::vector<const HandlerGroup*> others;
        for (auto& other : lanes_)
            if (other != lane) others.push_back(other->handlers.get());
        lane->handlers->set_siblings(std::move(others));
    }
    try {
        for (std::size_t i = 0; i < lanes_.size(); ++i) {
            Lane* lane = lanes_[i].get();
            lane->loop =
                pool.spawn_on(i, SpawnOptions{o.name + "-loop", 0, true, StackMode::Default},
                              [this, lane] { server_.serve_loop(lane->socket, *lane->handlers); });
        }
    } catch (...) {
        stop(Deadline(Duration::zero()));
        throw;
    }
}

ServerLanes::~ServerLanes() {
    // stop() leaves running a handler that stopped its own server; when it ends it counts itself
    // out of its lane's group, so the groups wait for it, each on its own hub.
    GreenletCore* const self = current_greenlet();
    for (std::size_t i = 0; i < lanes_.size(); ++i) {
        Lane* lane = lanes_[i].get();
        if (lane->handlers->drained()) continue;
        try {
            pool_.spawn(i, [lane, self] { lane->handlers->wait_idle(Deadline{}, self); }).join();
        } catch (const std::logic_error&) {
            // The pool was stopped first: it killed and joined every greenlet of its hubs.
        }
    }
}

Socket ServerLanes::open_lane_socket(std::size_t i) {
    Socket& shared = server_.socket_;
    if (i > 0 && server_.options_.listener_per_hub) {
        Socket s(server_.address_.family(), server_.socktype_);
        if (server_.options_.reuse_addr) s.set_reuseaddr();
        s.set_reuseport();
        s.bind(server_.address_);
        server_.prepare_socket(s);
        return s;
    }
    // A duplicate descriptor of the one socket: each hub's backend registers and forgets its own
    // descriptor, so closing it on that hub never leaves another hub's table stale.
    const int fd = ::fcntl(shared.fd(), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) throw std::system_error(errno, std::system_category(), "green server: dup");
    return Socket::adopt(fd);
}

std::size_t ServerLanes::active() const noexcept {
    std::size_t n = 0;
    for (auto& l : lanes_) n += l->handlers->size();
    return n;
}

Socket* ServerLanes::socket_here() noexcept {
    const std::size_t i = pool_.current_index();
    return i < lanes_.size() ? &lanes_[i]->socket : nullptr;
}

void ServerLanes::stop(Deadline grace) {
    std::vector<GreenletHandle> loops;
    for (auto& l : lanes_)
        if (l->loop) loops.push_back(l->loop);
    killall(loops, /*block=*/true);
    server_.socket_.close();
    // A handler calling stop() on its own server is left running, wherever it runs.
    GreenletCore* const spare = current_greenlet();
    std::vector<GreenletHandle> drains;
    for (std::size_t i = 0; i < lanes_.size(); ++i) {
        Lane* lane = lanes_[i].get();
        try {
            drains.push_back(pool_.spawn(i, [lane, grace, spare] {
                lane->socket.close();
                if (!lane->handlers->wait_idle(grace, spare)) lane->handlers->kill_all(spare);
            }));
        } catch (const std::logic_error&) {
            // The pool was stopped first: it killed every greenlet of its hubs, the handlers
            // included, and no hub is left to wait on this socket.
            lane->socket.close();
        }
    }
    for (auto& d : drains) d.join();
    for (auto& l : lanes_) l->loop = {};
}

}  // namespace green::detail
