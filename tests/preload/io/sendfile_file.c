/* sendfile and splice from a cold regular file (its pages dropped with posix_fadvise before each
 * transfer), natively and under the shim: into a pipe at an explicit offset, into a stream
 * socket at the file position, into a regular file, and splice into a pipe; counts bigger than
 * the file, offsets and file positions after, the bytes compared; then the kernel's errors
 * (EINVAL, EBADF) and the calls that move nothing. A ticker thread ticks meanwhile: under the
 * shim a cold transfer runs on the offload pool (its tick count is info only: timing). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#include "../ticker.h"

#define SIZE (6 << 20)

static char dir[64], path[80], out_path[96];

static unsigned long fnv(unsigned long h, const unsigned char* p, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211UL;
    return h;
}

/* The checksum of the file's bytes [from, from + n). */
static unsigned long expected(int fd, off_t from, size_t n) {
    static unsigned char buf[1 << 16];
    unsigned long h = 14695981039346656037UL;
    while (n > 0) {
        size_t k = n < sizeof buf ? n : sizeof buf;
        CHECK(pread(fd, buf, k, from) == (ssize_t)k);
        h = fnv(h, buf, k);
        n -= k;
        from += (off_t)k;
    }
    return h;
}

static void make_cold(int fd) {
    CHECK(fsync(fd) == 0);
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
}

/* A reader thread: drains fd to its end, checksums what came. */
struct drain {
    int fd;
    long total;
    unsigned long sum;
};

static void* drain(void* p) {
    struct drain* d = p;
    static unsigned char buf[1 << 16];
    d->sum = 14695981039346656037UL;
    ssize_t n;
    while ((n = read(d->fd, buf, sizeof buf)) > 0) {
        d->total += n;
        d->sum = fnv(d->sum, buf, (size_t)n);
    }
    return NULL;
}

/* A pipe (or a stream socket pair) whose read end r a drain thread reads; the caller transfers
 * into w, then finish_drain closes it and joins the thread. */
struct drained {
    int w, r;
    struct drain d;
    pthread_t t;
};

static void start_drain(struct drained* x, int socket) {
    int fds[2];
    CHECK((socket ? socketpair(AF_UNIX, SOCK_STREAM, 0, fds) : pipe(fds)) == 0);
    x->r = socket ? fds[1] : fds[0];
    x->w = socket ? fds[0] : fds[1];
    x->d = (struct drain){x->r, 0, 0};
    CHECK(pthread_create(&x->t, NULL, drain, &x->d) == 0);
}

static void finish_drain(struct drained* x) {
    close(x->w);
    CHECK(pthread_join(x->t, NULL) == 0);
    close(x->r);
}

static void report(const char* what, long sent, const struct drain* d, unsigned long want) {
    printf("%s: sent %ld, received %ld, bytes %s\n", what, sent, d->total,
           d->sum == want ? "equal" : "DIFFER");
}

/* sendfile into a pipe from offset 1000 with a count bigger than the file, until it says 0. */
static void to_pipe(int in) {
    struct drained x;
    start_drain(&x, 0);
    make_cold(in);
    long t0 = ticks_now();
    off_t off = 1000;
    long sent = 0;
    ssize_t r;
    while ((r = sendfile(x.w, in, &off, SIZE)) > 0) sent += r;
    int e = errno;
    fprintf(stderr, "info: %ld ticks during sendfile to a pipe\n", ticks_now() - t0);
    finish_drain(&x);
    printf("sendfile to a pipe ended with %zd %s; offset %lld, file position %lld\n", r,
           r < 0 ? strerror(e) : "", (long long)off, (long long)lseek(in, 0, SEEK_CUR));
    report("sendfile to a pipe", sent, &x.d, expected(in, 1000, SIZE - 1000));
}

/* sendfile into a stream socket at the file position (4096), a count bigger than the file. */
static void to_socket(int in) {
    struct drained x;
    start_drain(&x, 1);
    CHECK(lseek(in, 4096, SEEK_SET) == 4096);
    make_cold(in);
    long t0 = ticks_now();
    long sent = 0;
    ssize_t r;
    while ((r = sendfile(x.w, in, NULL, SIZE)) > 0) sent += r;
    fprintf(stderr, "info: %ld ticks during sendfile to a socket\n", ticks_now() - t0);
    finish_drain(&x);
    printf("sendfile to a socket ended with %zd; file position %lld\n", r,
           (long long)lseek(in, 0, SEEK_CUR));
    report("sendfile to a socket", sent, &x.d, expected(in, 4096, SIZE - 4096));
    CHECK(lseek(in, 0, SEEK_SET) == 0);
}

/* sendfile into a regular file: one call moves everything up to the end of the input. */
static void to_file(int in) {
    int out = open(out_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(out >= 0);
    make_cold(in);
    off_t off = 12345;
    ssize_t r = sendfile(out, in, &off, 2 * SIZE);
    printf("sendfile to a file: %zd, offset %lld, output position %lld\n", r, (long long)off,
           (long long)lseek(out, 0, SEEK_CUR));
    printf("sendfile to a file: bytes %s\n",
           r > 0 && expected(out, 0, (size_t)r) == expected(in, 12345, (size_t)r) ? "equal"
                                                                                  : "DIFFER");
    make_cold(in);
    CHECK(lseek(in, SIZE - 100, SEEK_SET) == SIZE - 100);
    r = sendfile(out, in, NULL, 1000);
    printf("sendfile to a file at the position, 100 before the end: %zd, position %lld\n", r,
           (long long)lseek(in, 0, SEEK_CUR));
    CHECK(lseek(in, 0, SEEK_SET) == 0);
    close(out);
}

/* splice from the file into a pipe at an offset, until it says 0. */
static void splice_to_pipe(int in) {
    struct drained x;
    start_drain(&x, 0);
    make_cold(in);
    loff_t off = 777;
    long sent = 0;
    ssize_t r;
    while ((r = splice(in, &off, x.w, NULL, 1 << 20, 0)) > 0) sent += r;
    finish_drain(&x);
    printf("splice to a pipe ended with %zd; offset %lld, file position %lld\n", r, (long long)off,
           (long long)lseek(in, 0, SEEK_CUR));
    report("splice to a pipe", sent, &x.d, expected(in, 777, SIZE - 777));
}

static void result(const char* what, long rc) {
    int e = errno;
    printf("%s: %ld %s\n", what, rc, rc < 0 ? strerror(e) : "");
}

static void errors(int in) {
    int p[2];
    CHECK(pipe(p) == 0);
    int out = open(out_path, O_RDWR | O_TRUNC);
    int ro = open(out_path, O_RDONLY);
    int wo = open(path, O_WRONLY);
    CHECK(out >= 0 && ro >= 0 && wo >= 0);
    off_t off = -1;
    result("sendfile, negative offset, to a pipe", sendfile(p[1], in, &off, 10));
    off = -1;
    result("sendfile, negative offset, to a file", sendfile(out, in, &off, 10));
    result("sendfile to -1", sendfile(-1, in, NULL, 10));
    result("sendfile from -1, to a pipe", sendfile(p[1], -1, NULL, 10));
    result("sendfile from -1, to a file", sendfile(out, -1, NULL, 10));
    result("sendfile from a write-only file", sendfile(p[1], wo, NULL, 10));
    result("sendfile to a read-only file", sendfile(ro, in, NULL, 10));
    result("sendfile to the pipe's read end", sendfile(p[0], in, NULL, 10));
    off = SIZE;
    result("sendfile at the end of the file", sendfile(p[1], in, &off, 10));
    off = 2 * SIZE;
    result("sendfile past the end of the file, to a file", sendfile(out, in, &off, 10));
    printf("offset after: %lld\n", (long long)off);
    off = 5;
    result("sendfile of 0 bytes", sendfile(p[1], in, &off, 0));
    loff_t lo = -5;
    result("splice, negative offset", splice(in, &lo, p[1], NULL, 10, 0));
    lo = 0;
    result("splice between two files", splice(in, &lo, out, NULL, 10, 0));
    result("splice from -1", splice(-1, NULL, p[1], NULL, 10, 0));
    close(p[0]);
    close(p[1]);
    close(out);
    close(ro);
    close(wo);
}

int main(void) {
    alarm(100); /* a hang ends here, not at the test's timeout */
    setvbuf(stdout, NULL, _IOLBF, 0);
    make_temp_file_path("green_sendfile_file", dir, path);
    snprintf(out_path, sizeof out_path, "%s/out", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    static unsigned char block[1 << 16];
    for (int b = 0; b < SIZE / (int)sizeof block; ++b) {
        for (size_t i = 0; i < sizeof block; ++i)
            block[i] = (unsigned char)(i * 7 + b * 13 + (i >> 9));
        CHECK(write(fd, block, sizeof block) == (ssize_t)sizeof block);
    }
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    ticker_start();
    to_pipe(fd);
    to_socket(fd);
    to_file(fd);
    splice_to_pipe(fd);
    errors(fd);
    ticker_finish();
    close(fd);
    unlink(out_path);
    remove_temp_file(dir, path);
    return 0;
}
