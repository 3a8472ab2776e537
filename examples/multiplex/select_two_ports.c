/* The seed's improved select() server on two ports (example two of its IO-multiplexing
 * lesson): both listeners and every client in the read list; a client that said something
 * goes into the write list and gets "ok" once writable; an empty read ("空消息") closes it.
 * It prints what the seed prints, a separator after each readable socket.
 * usage: select_two_ports [host] [port1] [port2] [clients]  (defaults 60000 60001; clients:
 * stop once that many have left, 0: never) */
#include <sys/select.h>

#include "multiplex_common.h"

static const char separator[] = "----------------------------分割线-----------------------------";

int main(int argc, char** argv) {
    const char* host = argc > 1 ? argv[1] : "127.0.0.1";
    int port1 = argc > 2 ? atoi(argv[2]) : 60000, port2 = argc > 3 ? atoi(argv[3]) : 60001;
    long clients = argc > 4 ? atol(argv[4]) : 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int sk1 = listen_on(host, port1), sk2 = listen_on(host, port2);
    printf("listening on ports %d and %d\n", bound_port(sk1), bound_port(sk2));

    fd_set inputs, w_inputs;
    FD_ZERO(&inputs);
    FD_ZERO(&w_inputs);
    FD_SET(sk1, &inputs);
    FD_SET(sk2, &inputs);
    int maxfd = sk1 > sk2 ? sk1 : sk2;
    long left = 0;
    while (clients == 0 || left < clients) {
        fd_set r = inputs, w = w_inputs, e = inputs;
        struct timeval timeout = {0, 100000};
        if (select(maxfd + 1, &r, &w, &e, &timeout) < 0) {
            if (errno == EINTR) continue;
            perror("select");
            return 1;
        }
        for (int fd = 0; fd <= maxfd; ++fd) {
            if (!FD_ISSET(fd, &r)) continue;
            if (fd == sk1 || fd == sk2) {
                printf("新连接： ('%s', %d)\n", host, bound_port(fd));
                int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
                if (c >= 0 && c < FD_SETSIZE) {
                    FD_SET(c, &inputs);
                    if (c > maxfd) maxfd = c;
                } else if (c >= 0) {
                    close(c);
                }
            } else {
                char data[1024];
                ssize_t n = recv(fd, data, sizeof data, 0);
                if (n > 0) {
                    printf("%.*s\n", (int)n, data);
                    FD_SET(fd, &w_inputs); /* answered once writable */
                } else {
                    printf("空消息\n");
                    close(fd);
                    FD_CLR(fd, &inputs);
                    FD_CLR(fd, &w_inputs);
                    ++left;
                }
            }
            printf("%s\n", separator);
        }
        for (int fd = 0; fd <= maxfd; ++fd) {
            if (!FD_ISSET(fd, &w) || !FD_ISSET(fd, &w_inputs)) continue;
            send_all(fd, "ok", 2);
            FD_CLR(fd, &w_inputs);
        }
    }
    printf("served %ld clients\n", left);
    return 0;
}
