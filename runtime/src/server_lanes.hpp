// A server started on a HubPool: one lane per hub, each with a socket of its own (a duplicate of
// the one listening socket, or its own SO_REUSEPORT socket), its accept/read greenlet and its
// handler group; one Semaphore caps the handlers of all lanes together. Each lane's socket and
// group are touched only by its hub's thread; the stop sequence reaches them through the pool.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "green/event.hpp"
#include "green/semaphore.hpp"
#include "green/server.hpp"
#include "handler_group.hpp"

namespace green::detail {

class ServerLanes {
  public:
    // Opens a socket per hub for `server` (whose own socket is bound and prepared) and starts a
    // serve loop on each hub.
    ServerLanes(BaseServer& server, HubPool& pool);
    ServerLanes(const ServerLanes&) = delete;
    ServerLanes& operator=(const ServerLanes&) = delete;
    ~ServerLanes();

    // Kills every lane's loop, then on every hub closes its socket and waits for its handlers
    // until `grace`, then kills them; returns when all hubs are done. From any thread.
    void stop(Deadline grace);

    std::size_t size() const noexcept { return lanes_.size(); }
    std::size_t active() const noexcept;
    // The calling hub's socket, or nullptr when it runs none of the lanes.
    Socket* socket_here() noexcept;
    // Set by the server once stop() is done (serve_forever waits for it; each waiter keeps it).
    std::shared_ptr<Event> stopped() const noexcept { return stopped_; }

  private:
    struct Lane {
        Socket socket;
        std::unique_ptr<HandlerGroup> handlers;
        GreenletHandle loop;
    };
    Socket open_lane_socket(std::size_t i);

    BaseServer& server_;
    HubPool& pool_;
    std::unique_ptr<Semaphore> cap_;  // before the lanes: their handlers hold its permits
    std::vector<std::unique_ptr<Lane>> lanes_;
    std::shared_ptr<Event> stopped_ = std::make_shared<Event>(cross_thread);
};

}  // namespace green::detail
