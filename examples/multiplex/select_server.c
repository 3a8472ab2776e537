/* The seed's select() TCP server: one loop watches the listener and every client with select,
 * accepts new clients and answers each message (upper-cased). Stops after `clients` clients
 * have left when given. usage: select_server [host] [port] [clients]  (default port 8888) */
#include <sys/select.h>

#include "multiplex_common.h"

int main(int argc, char** argv) {
    struct server_args args = parse_args(argc, argv, 8888);
    int listener = listen_on(args.host, args.port);
    printf("listening on port %d\n", bound_port(listener));

    fd_set rlist; /* the seed's rlist: the IO to watch */
    FD_ZERO(&rlist);
    FD_SET(listener, &rlist);
    int maxfd = listener;
    long left = 0, messages = 0;
    while (args.clients == 0 || left < args.clients) {
        fd_set rs = rlist;
        if (select(maxfd + 1, &rs, NULL, NULL, NULL) < 0) {
            if (errno == EINTR) continue;
            perror("select");
            return 1;
        }
        for (int fd = 0; fd <= maxfd; ++fd) {
            if (!FD_ISSET(fd, &rs)) continue;
            if (fd == listener) {
                int c = accept_client(listener);
                if (c < 0) continue;
                if (c >= FD_SETSIZE) { /* select cannot watch it */
                    fprintf(stderr, "descriptor %d is past FD_SETSIZE\n", c);
                    close(c);
                    continue;
                }
                FD_SET(c, &rlist);
                if (c > maxfd) maxfd = c;
            } else if (serve_message(fd)) {
                ++messages;
            } else {
                FD_CLR(fd, &rlist);
                close(fd);
                ++left;
            }
        }
    }
    print_summary(left, messages);
    return 0;
}
