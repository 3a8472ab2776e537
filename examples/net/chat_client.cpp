// Client of the UDP chat room: joins with a name, prints what the room sends, sends each
// stdin line as a message. "quit", end of input, SIGINT or SIGTERM leave the room.
// usage: chat_client NAME [host] [port]   (defaults 127.0.0.1 8888)
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <string>

#include <green/green.hpp>

#include "args.hpp"

int main(int argc, char** argv) try {
    using namespace std::chrono_literals;
    example::line_buffered_stdout();
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s NAME [host] [port]\n", argv[0]);
        return 2;
    }
    const std::string name = argv[1];
    const green::Address room = example::address_arg(argc, argv, 2, 8888);
    green::Socket s = green::Socket::udp(room.family());
    s.connect(room);  // only the room's datagrams reach us

    s.send("L " + name);
    const std::string answer = s.recv(2048, 5s);
    if (answer != "OK") {
        std::printf("%s\n", answer.c_str());
        return 1;
    }
    std::printf("you are in the room\n");

    enum { Inside, Leaving, Left, Lost } state = Inside;
    green::WaitQueue changed;
    auto set_state = [&](decltype(state) st) {
        state = st;
        changed.notify_all();
    };
    auto receiver = green::spawn([&] {
        try {
            for (;;) {
                const std::string msg = s.recv(2048);
                if (msg == "EXIT") return set_state(Left);
                std::printf("%s\n", msg.c_str());
            }
        } catch (const std::system_error& e) {  // e.g. the room's port is closed
            std::printf("lost the room: %s\n", e.what());
            set_state(Lost);
        }
    });
    auto leave = [&] {
        if (state != Inside) return;
        s.send("Q " + name);
        set_state(Leaving);
    };
    auto on_stop = green::on_signal({SIGINT, SIGTERM}, leave);

    auto typing = green::spawn([&] {  // stdin lines -> "C name text"
        std::string pending;
        char buf[512];
        for (;;) {
            green::wait_read(STDIN_FILENO);
            const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
            if (n <= 0) return leave();
            pending.append(buf, static_cast<std::size_t>(n));
            for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos;
                 pending.erase(0, nl + 1)) {
                const std::string text = pending.substr(0, nl);
                if (text == "quit") return leave();
                if (!text.empty()) s.send("C " + name + " " + text);
            }
        }
    });
    while (state == Inside || state == Leaving) {
        // Once leaving, the room has 3 s to confirm with EXIT.
        if (!changed.wait(state == Leaving ? green::Deadline(3s) : green::Deadline())) break;
    }
    typing.kill();
    receiver.kill();
    if (state != Left) {
        std::printf("the room did not confirm\n");
        return 1;
    }
    std::printf("you left the room\n");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "chat_client: %s\n", e.what());
    return 1;
}
