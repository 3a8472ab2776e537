// The seed's request handler (socketserver lesson of seed 000): the 10086 hotline greets the
// caller, answers "0" with the recording notice, anything else with "please re-enter", and
// hangs up on "exit". Shared by the threading and forking servers.
#pragma once

#include <string>

namespace socketserver {

void call_center(int fd, const std::string& peer);

}  // namespace socketserver
