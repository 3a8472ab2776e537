// Pre-forked worker processes sharing one listening socket (gunicorn's `-k gevent` model): the
// master binds once, forks N workers that each run a hub serving the socket, restarts a worker
// that dies, and stops them all together when it gets SIGTERM, SIGINT or SIGQUIT.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>

#include "green/address.hpp"
#include "green/clock.hpp"
#include "green/socket.hpp"

namespace green {

struct PreforkOptions {
    int backlog = 1024;  // listen(2) backlog when prefork binds the address itself
    // After forwarding SIGTERM, how long the master waits for its workers before SIGKILL.
    Duration stop_timeout = std::chrono::seconds(10);
    // A worker that dies sooner than this after its start is restarted after a delay that
    // doubles with each such death (100 ms up to 5 s), so a worker that cannot start does not
    // make the master fork in a tight loop.
    Duration min_uptime = std::chrono::seconds(1);
};

// Runs in each worker, in a greenlet of the worker's (fresh) hub, with the shared listening
// socket. Typically `StreamServer server(std::move(listener), handle); server.serve_forever();`.
// On SIGTERM/SIGINT/SIGQUIT the greenlet is killed, so serve_forever stops the server
// gracefully (its stop_timeout) before the worker exits.
using WorkerMain = std::function<void(Socket listener)>;

// The master: forks `workers` processes running worker_main(listener) and supervises them until
// SIGTERM, SIGINT or SIGQUIT, which it forwards to every worker as SIGTERM; waits up to
// stop_timeout, kills what is left, and returns 0 if every worker exited with status 0 (a worker
// exits 0 when worker_main returns or is killed by the stop; 1 when it throws). A worker that
// dies meanwhile (even by SIGKILL) is reaped, logged on stderr, and replaced. Workers get
// SIGTERM if the master itself dies (PR_SET_PDEATHSIG), so none outlives it.
//
// Call it before green is used in the process: from a single-threaded program in which no hub
// exists yet (std::logic_error otherwise), because fork(2) copies only the calling thread: a
// lock another thread held would stay locked in every worker, and a hub's fibers and rings would
// be copied into each. The master itself creates no hub; each worker creates its own.
// std::invalid_argument if `workers` is 0 or the listener is not a listening socket.
int prefork(std::size_t workers, Socket listener, WorkerMain worker_main,
            PreforkOptions options = {});
// Binds `address` (SO_REUSEADDR) and listens, then the same.
int prefork(std::size_t workers, const Address& address, WorkerMain worker_main,
            PreforkOptions options = {});

}  // namespace green
