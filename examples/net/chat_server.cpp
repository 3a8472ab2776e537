// The seed's UDP group chat room on a DatagramServer. Protocol (one datagram each):
//   "L name" join -> "OK", or a refusal that the client prints;  "C name text" say something;
//   "Q name" leave -> "EXIT". Members hear "name joined", "name: text", "name left".
// Lines typed on the server's stdin go to everyone as "admin: text" (the seed's 管理员消息).
// usage: chat_server [host] [port]   (defaults 127.0.0.1 8888; port 0: any)
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <map>
#include <string>

#include <green/green.hpp>

#include "args.hpp"

namespace {

class ChatRoom {
  public:
    void handle(std::string_view data, const green::Address& peer, green::DatagramServer& s) {
        const std::string msg(data);
        const auto sp = msg.find(' ');
        if (sp == std::string::npos || sp != 1) return s.sendto("bad request", peer), void();
        const char kind = msg[0];
        const std::string rest = msg.substr(2);
        if (kind == 'L') return login(rest, peer, s);
        const auto sp2 = rest.find(' ');
        const std::string name = rest.substr(0, sp2);
        auto it = members_.find(name);
        if (it == members_.end() || !(it->second == peer)) return;  // not a member: ignore
        if (kind == 'C' && sp2 != std::string::npos) {
            std::printf("%s: %s\n", name.c_str(), rest.substr(sp2 + 1).c_str());
            broadcast(s, name + ": " + rest.substr(sp2 + 1), name);
        } else if (kind == 'Q') {
            members_.erase(it);
            s.sendto("EXIT", peer);
            std::printf("%s left\n", name.c_str());
            broadcast(s, name + " left", name);
        }
    }

    void broadcast(green::DatagramServer& s, const std::string& text, const std::string& except) {
        for (auto& [name, addr] : members_)
            if (name != except) s.sendto(text, addr);
    }

  private:
    void login(const std::string& name, const green::Address& peer, green::DatagramServer& s) {
        if (name.empty() || name.find(' ') != std::string::npos)
            return s.sendto("a name is one word", peer), void();
        if (members_.count(name) || name == "admin")
            return s.sendto("the name " + name + " is taken", peer), void();
        broadcast(s, name + " joined", name);
        members_.emplace(name, peer);
        s.sendto("OK", peer);
        std::printf("%s joined from %s\n", name.c_str(), peer.to_string().c_str());
    }

    std::map<std::string, green::Address> members_;
};

}  // namespace

int main(int argc, char** argv) try {
    example::line_buffered_stdout();
    const green::Address where = example::address_arg(argc, argv, 1, 8888);
    ChatRoom room;
    green::ServerOptions opts;
    opts.spawn_handlers = false;  // the room's events keep the order of the datagrams
    green::DatagramServer server(
        where,
        [&](std::string_view d, const green::Address& p, green::DatagramServer& s) {
            room.handle(d, p, s);
        },
        opts);
    server.start();
    std::printf("chat room on %s\n", server.address().to_string().c_str());

    auto admin = green::spawn([&] {  // stdin -> "admin: ..." to everyone
        std::string line;
        char buf[512];
        for (;;) {
            green::wait_read(STDIN_FILENO);
            const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
            if (n <= 0) return;
            line.append(buf, static_cast<std::size_t>(n));
            for (std::size_t nl; (nl = line.find('\n')) != std::string::npos; line.erase(0, nl + 1))
                if (nl > 0) room.broadcast(server, "admin: " + line.substr(0, nl), "");
        }
    });
    auto on_stop = green::on_signal({SIGINT, SIGTERM}, [&] { server.stop(); });
    server.serve_forever();
    admin.kill();
    std::printf("chat room closed\n");
} catch (const std::exception& e) {
    std::fprintf(stderr, "chat_server: %s\n", e.what());
    return 1;
}
