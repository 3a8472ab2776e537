// Client half of the 10,000-connection test: COUNT fibers each connect, say hello, check the
// upper-cased reply, then hold the connection until all COUNT are connected at once.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <green/green.hpp>

using namespace std::chrono_literals;

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s HOST PORT COUNT\n", argv[0]);
        return 2;
    }
    const std::string host = argv[1];
    const auto port = static_cast<std::uint16_t>(std::atoi(argv[2]));
    const int count = std::atoi(argv[3]);
    green::set_default_stack_size(64 * 1024);
    int connected = 0, failed = 0;
    green::WaitQueue all_connected;
    std::vector<green::GreenletHandle> clients;
    for (int i = 0; i < count; ++i) {
        clients.push_back(green::spawn([&, i] {
            try {
                green::Socket c = green::create_connection(host, port, 60s);
                const std::string hello = "hello " + std::to_string(i) + "\n";
                c.sendall(hello);
                green::LineReader r(c);
                std::string want = hello;
                for (auto& ch : want) ch = static_cast<char>(std::toupper(ch));
                if (r.readline() != want) throw std::runtime_error("wrong reply");
                if (++connected == count) all_connected.notify_all();
                while (connected < count) all_connected.wait(60s);
            } catch (const std::exception& e) {
                if (failed++ < 5) std::fprintf(stderr, "client %d: %s\n", i, e.what());
                if (connected + failed == count) all_connected.notify_all();
            }
        }));
    }
    green::joinall(clients, 120s);
    std::printf("%d connected at once, %d failed\n", connected, failed);
    return connected == count && failed == 0 ? 0 : 1;
}
