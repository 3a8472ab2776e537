// Introspection: every fiber of the process, gevent's format_run_info / print_run_info.
//
//   green::print_run_info();          // to stderr
//   std::string s = green::format_run_info();
//
// Per hub (its OS thread id and name) every live fiber: id, name, state, what a parked fiber
// waits for (sleep, an fd and its events, an Event, a Lock, a Queue get, a join, an offload
// job, ...) and for how long, which fiber spawned it, and its stack size. The calling hub is
// read directly; every other hub is asked through its mailbox and answers at its next loop
// turn (a hub that does not answer within a second is listed as not responding). The main
// fiber is listed first; the hub's loop fiber is listed as "hub".
//
// With GREEN_DUMP_SIGNAL=USR2 (a name or a number; greenrun --dump-signal USR2) the first hub
// prints this to stderr at its next loop turn after the signal, and the program continues.
#pragma once

#include <cstdio>
#include <string>

namespace green {

// The run info of every hub in the process, one line per fiber.
std::string format_run_info();
// format_run_info() written to `out`.
void print_run_info(std::FILE* out = stderr);

}  // namespace green
