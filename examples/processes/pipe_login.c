/* The seed's Pipe lesson (seed 001): app1 asks app2, in another process, for its login over a
 * duplex pipe (a socketpair, as multiprocessing.Pipe is), and logs in with the answer. The
 * parent forks both apps and waits for them. Plain C; under greenrun each process's blocking
 * reads park a fiber. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* One message: its length, then its bytes (Pipe.send/recv keep message boundaries). */
static void send_msg(int fd, const char* text) {
    unsigned len = (unsigned)strlen(text);
    if (write(fd, &len, sizeof len) != sizeof len || write(fd, text, len) != (ssize_t)len) {
        perror("write");
        exit(1);
    }
}

static char* recv_msg(int fd, char* buf, size_t size) {
    unsigned len = 0;
    if (read(fd, &len, sizeof len) != sizeof len || len >= size) return NULL;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0) return NULL;
        got += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

static void app1(int fd1) {
    char buf[256];
    printf("启动app1, 请登录\n");
    printf("请求app2授权\n");
    send_msg(fd1, "app1 可以用你的账号登录吗? ");
    if (recv_msg(fd1, buf, sizeof buf)) printf("登录成功:  %s\n", buf);
}

static void app2(int fd2) {
    char buf[256];
    if (!recv_msg(fd2, buf, sizeof buf)) return; /* blocks until app1 asks */
    printf("%s\n", buf);
    send_msg(fd2, "('Joy', '123')");
}

static pid_t start(void (*target)(int), int fd) {
    pid_t pid = fork();
    if (pid == 0) {
        target(fd);
        fflush(stdout);
        _exit(0);
    }
    return pid;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fds[2]; /* fd1, fd2 = Pipe(duplex=True) */
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        perror("socketpair");
        return 1;
    }
    pid_t p1 = start(app1, fds[0]);
    pid_t p2 = start(app2, fds[1]);
    int status1 = 0, status2 = 0;
    waitpid(p1, &status1, 0); /* p1.join() */
    waitpid(p2, &status2, 0); /* p2.join() */
    return status1 == 0 && status2 == 0 ? 0 : 1;
}
