/* The seed's epoll() TCP server: clients registered edge-triggered (EPOLLET); a message read
 * switches the client to EPOLLOUT, and the answer, once writable, switches it back to EPOLLIN,
 * as the seed does. With edge triggering each client socket is non-blocking and read until
 * EAGAIN. usage: epoll_server [host] [port] [clients]  (default port 6666) */
#include <fcntl.h>
#include <sys/epoll.h>

#include "multiplex_common.h"

/* What a client has said and not yet been answered (the reply waits for EPOLLOUT). */
struct client {
    char pending[4096];
    size_t size;
};

static void watch(int ep, int op, int fd, unsigned events) {
    struct epoll_event ev = {.events = events, .data.fd = fd};
    if (epoll_ctl(ep, op, fd, &ev) != 0) perror("epoll_ctl");
}

int main(int argc, char** argv) {
    struct server_args args = parse_args(argc, argv, 6666);
    int listener = listen_on(args.host, args.port);
    printf("listening on port %d\n", bound_port(listener));

    int ep = epoll_create1(EPOLL_CLOEXEC);
    watch(ep, EPOLL_CTL_ADD, listener, EPOLLIN | EPOLLERR);
    enum { max_fds = 65536 };
    struct client** clients = calloc(max_fds, sizeof *clients); /* by descriptor */
    long left = 0, messages = 0;
    struct epoll_event events[64];
    while (args.clients == 0 || left < args.clients) {
        int n = epoll_wait(ep, events, 64, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            if (fd == listener) {
                int c = accept_client(listener);
                if (c < 0) continue;
                if (c >= max_fds) {
                    close(c);
                    continue;
                }
                fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK);
                clients[c] = calloc(1, sizeof **clients);
                watch(ep, EPOLL_CTL_ADD, c, EPOLLIN | EPOLLERR | EPOLLET);
                continue;
            }
            struct client* cl = clients[fd];
            int gone = 0;
            if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                /* Edge-triggered: read everything there is now. */
                for (;;) {
                    ssize_t r = recv(fd, cl->pending + cl->size, sizeof cl->pending - cl->size, 0);
                    if (r > 0) {
                        take_message(cl->pending + cl->size, (size_t)r);
                        cl->size += (size_t)r;
                        ++messages;
                        if (cl->size == sizeof cl->pending) break;
                        continue;
                    }
                    if (r < 0 && errno == EINTR) continue;
                    if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) gone = 1;
                    break;
                }
                if (!gone && cl->size > 0) watch(ep, EPOLL_CTL_MOD, fd, EPOLLOUT);
            } else if (events[i].events & EPOLLOUT) {
                ssize_t w = send(fd, cl->pending, cl->size, MSG_NOSIGNAL);
                if (w < 0 && errno != EAGAIN && errno != EINTR) {
                    gone = 1;
                } else if (w > 0) {
                    memmove(cl->pending, cl->pending + w, cl->size - (size_t)w);
                    cl->size -= (size_t)w;
                }
                if (!gone && cl->size == 0)
                    watch(ep, EPOLL_CTL_MOD, fd, EPOLLIN | EPOLLERR | EPOLLET);
            }
            if (gone) {
                watch(ep, EPOLL_CTL_DEL, fd, 0);
                close(fd);
                free(cl);
                clients[fd] = NULL;
                ++left;
            }
        }
    }
    free(clients);
    close(ep);
    print_summary(left, messages);
    return 0;
}
