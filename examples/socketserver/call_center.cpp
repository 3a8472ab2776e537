// The 10086 hotline handler (see call_center.hpp).
#include "call_center.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string_view>

namespace socketserver {

namespace {

bool send_all(int fd, std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        text.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace

void call_center(int fd, const std::string& peer) {
    std::printf("%s connected\n", peer.c_str());
    if (!send_all(fd, "欢迎致电10086，请输入1XXX，0转人工服务。")) return;
    char buf[1024];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // the caller hung up
        const std::string_view data(buf, static_cast<std::size_t>(n));
        if (data == "exit") break;
        if (!send_all(fd, data == "0" ? "您的通话可能会被录音。。。" : "请重新输入。")) break;
    }
    std::printf("%s hung up\n", peer.c_str());
}

}  // namespace socketserver
