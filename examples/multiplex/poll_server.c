/* The seed's poll() TCP server: the listener and the clients in one pollfd array (the seed's
 * fdmap), POLLIN|POLLERR on each; a client that ends is unregistered and closed.
 * usage: poll_server [host] [port] [clients]  (default port 4444) */
#include <poll.h>

#include "multiplex_common.h"

int main(int argc, char** argv) {
    struct server_args args = parse_args(argc, argv, 4444);
    int listener = listen_on(args.host, args.port);
    printf("listening on port %d\n", bound_port(listener));

    size_t count = 1, capacity = 64;
    struct pollfd* fds = malloc(capacity * sizeof *fds);
    fds[0] = (struct pollfd){.fd = listener, .events = POLLIN | POLLERR};
    long left = 0, messages = 0;
    while (args.clients == 0 || left < args.clients) {
        if (poll(fds, count, -1) < 0) {
            if (errno == EINTR) continue;
            perror("poll");
            return 1;
        }
        const size_t polled = count; /* clients accepted now wait for the next poll */
        for (size_t i = 0; i < polled; ++i) {
            if (!fds[i].revents) continue;
            if (fds[i].fd == listener) {
                int c = accept_client(listener);
                if (c < 0) continue;
                if (count == capacity) fds = realloc(fds, (capacity *= 2) * sizeof *fds);
                fds[count++] = (struct pollfd){.fd = c, .events = POLLIN | POLLERR};
            } else if (serve_message(fds[i].fd)) {
                ++messages;
            } else {
                close(fds[i].fd);
                fds[i].fd = -1; /* unregistered below */
                ++left;
            }
        }
        size_t kept = 0;
        for (size_t i = 0; i < count; ++i)
            if (fds[i].fd >= 0) fds[kept++] = fds[i];
        count = kept;
    }
    free(fds);
    print_summary(left, messages);
    return 0;
}
