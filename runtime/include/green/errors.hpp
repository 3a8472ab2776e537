// The exceptions the runtime itself raises into fibers. Names follow gevent:
// GreenletExit unwinds a killed greenlet, LoopExit replaces a wait that could never end.
#pragma once

#include <stdexcept>
#include <string>

namespace green {

// Thrown inside a greenlet by kill(). Destructors run as it unwinds; a greenlet that lets it
// escape counts as killed, not failed (gevent treats GreenletExit as a normal exit).
class GreenletExit : public std::exception {
  public:
    const char* what() const noexcept override { return "green::GreenletExit"; }
};

// Thrown into the main fiber when it waits while nothing is left that could ever wake the hub:
// no runnable fiber, no timer, no I/O wait, no outside reference. Replaces a silent hang.
class LoopExit : public std::runtime_error {
  public:
    LoopExit() : std::runtime_error("green::LoopExit: this operation would block forever") {}
};

}  // namespace green
