// The seed's concurrent clients: 500 greenlets each connect to the echo server, send
// "say hello N" and print the reply, all at once on one thread.
// usage: hello_clients [host] [port] [clients] [rounds]   (defaults 127.0.0.1 60000 500 1)
#include <cstdio>
#include <vector>

#include <green/green.hpp>

#include "args.hpp"

int main(int argc, char** argv) try {
    using namespace std::chrono_literals;
    example::line_buffered_stdout();
    const green::Address server = example::address_arg(argc, argv, 1, 60000);
    const long clients = example::number_arg(argc, argv, 3, 500);
    const long rounds = example::number_arg(argc, argv, 4, 1);
    long replies = 0, errors = 0;

    auto client = [&] {
        try {
            green::Socket c(server.family(), SOCK_STREAM);
            c.settimeout(30s);
            c.connect(server);
            for (long count = 0; count < rounds; ++count) {
                const std::string msg = "say hello " + std::to_string(count);
                c.sendall(msg);
                const std::string reply = c.recv_exact(msg.size());
                std::printf("%s\n", reply.c_str());
                ++replies;
            }
        } catch (const std::exception& e) {
            std::printf("error: %s\n", e.what());
            ++errors;
        }
    };
    std::vector<green::GreenletHandle> threads;
    for (long i = 0; i < clients; ++i) threads.push_back(green::spawn(client));
    green::joinall(threads);
    std::printf("%ld clients: %ld replies, %ld errors\n", clients, replies, errors);
    return errors == 0 ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "hello_clients: %s\n", e.what());
    return 1;
}
