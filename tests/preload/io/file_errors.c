/* Bad input to the file hooks, from a thread: each call must fail with the native errno. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../common.h"

#define SHOW(what, call)                                                        \
    do {                                                                        \
        errno = 0;                                                              \
        long r_ = (long)(call);                                                 \
        printf("%-28s -> %ld %s\n", what, r_, r_ < 0 ? strerror(errno) : "ok"); \
    } while (0)

static void* run(void* arg) {
    const char* path = arg;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    SHOW("write", write(fd, "0123456789", 10));
    int ro = open(path, O_RDONLY);
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    char buf[16];
    struct iovec v = {buf, sizeof buf};
    off_t bad = -1, past = 1000;
    SHOW("sendfile invalid offset", sendfile(sv[0], fd, &bad, 4));
    SHOW("sendfile offset past end", sendfile(sv[0], fd, &past, 4));
    SHOW("sendfile from a socket", sendfile(sv[0], sv[1], NULL, 4));
    SHOW("sendfile to read-only file", sendfile(ro, fd, NULL, 4));
    SHOW("sendfile ok", sendfile(sv[0], ro, NULL, 4));
    SHOW("pread negative offset", pread(fd, buf, 4, -5));
    SHOW("preadv offset -1", preadv(fd, &v, 1, -1));
    SHOW("preadv2 offset -2", preadv2(fd, &v, 1, -2, 0));
    SHOW("write to read-only fd", write(ro, "x", 1));
    SHOW("pwrite to read-only fd", pwrite(ro, "x", 1, 0));
    SHOW("splice bad fd", splice(777, NULL, sv[0], NULL, 4, 0));
    close(ro);
    SHOW("read closed fd", read(ro, buf, 4));
    SHOW("pread closed fd", pread(ro, buf, 4, 0));
    SHOW("fsync closed fd", fsync(ro));
    SHOW("fdatasync ok", fdatasync(fd));
    SHOW("read at end", read(fd, buf, 4));
    close(fd);
    close(sv[0]);
    close(sv[1]);
    return NULL;
}

int main(void) {
    char dir[64], path[80];
    make_temp_file_path("file_errors", dir, path);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, run, path) == 0);
    pthread_join(t, NULL);
    remove_temp_file(dir, path);
    return 0;
}
