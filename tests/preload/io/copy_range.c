/* copy_file_range between regular files, natively and under the shim: copies at explicit
 * offsets and at the file positions (offsets and positions updated as natively), a short copy
 * at the end of the input, the bytes compared, and the kernel's errors. A copy from a cold
 * input (its pages dropped) runs while a ticker thread ticks: under the shim the copy runs on
 * the offload pool, so the ticker's longest gap is reported (info only: timing). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

#include "../common.h"

#define SIZE (8 << 20)

static char dir[64], in_path[80], out_path[96];

static void result(const char* what, long rc) {
    int e = errno;
    printf("%s: %ld %s\n", what, rc, rc < 0 ? strerror(e) : "");
}

static int same_bytes(int a, off_t at_a, int b, off_t at_b, size_t n) {
    static char x[1 << 16], y[1 << 16];
    while (n > 0) {
        size_t k = n < sizeof x ? n : sizeof x;
        if (pread(a, x, k, at_a) != (ssize_t)k || pread(b, y, k, at_b) != (ssize_t)k) return 0;
        if (memcmp(x, y, k) != 0) return 0;
        n -= k;
        at_a += (off_t)k;
        at_b += (off_t)k;
    }
    return 1;
}

static volatile int stop;
static long max_gap;
static void* ticker(void* arg) {
    (void)arg;
    long last = now_ms();
    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        usleep(1000);
        long now = now_ms();
        if (now - last > max_gap) max_gap = now - last;
        last = now;
    }
    return NULL;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    make_temp_file_path("green_copy_range", dir, in_path);
    snprintf(out_path, sizeof out_path, "%s/out", dir);
    int in = open(in_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    int out = open(out_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(in >= 0 && out >= 0);
    static char block[1 << 16];
    for (int i = 0; i < SIZE / (int)sizeof block; ++i) {
        for (size_t j = 0; j < sizeof block; ++j) block[j] = (char)(i * 31 + j * 7);
        CHECK(write(in, block, sizeof block) == (ssize_t)sizeof block);
    }
    CHECK(fsync(in) == 0);

    /* Explicit offsets: the file positions stay where they were. */
    off64_t oi = 1000, oo = 5;
    result("copy 1 MiB at offsets", copy_file_range(in, &oi, out, &oo, 1 << 20, 0));
    printf("offsets now %lld %lld, positions %lld %lld\n", (long long)oi, (long long)oo,
           (long long)lseek(in, 0, SEEK_CUR), (long long)lseek(out, 0, SEEK_CUR));
    printf("bytes equal: %d\n", same_bytes(in, 1000, out, 5, 1 << 20));

    /* File positions. */
    CHECK(lseek(in, 4096, SEEK_SET) == 4096 && lseek(out, 0, SEEK_SET) == 0);
    result("copy 2 MiB at the positions", copy_file_range(in, NULL, out, NULL, 2 << 20, 0));
    printf("positions now %lld %lld\n", (long long)lseek(in, 0, SEEK_CUR),
           (long long)lseek(out, 0, SEEK_CUR));
    printf("bytes equal: %d\n", same_bytes(in, 4096, out, 0, 2 << 20));

    /* The end of the input: a short copy, then 0. */
    oi = SIZE - 100;
    oo = 0;
    result("copy past the end", copy_file_range(in, &oi, out, &oo, 4096, 0));
    result("copy at the end", copy_file_range(in, &oi, out, &oo, 4096, 0));

    /* A cold input, with a ticker running. */
    CHECK(ftruncate(out, 0) == 0);
    CHECK(posix_fadvise(in, 0, 0, POSIX_FADV_DONTNEED) == 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, ticker, NULL) == 0);
    long copied = 0;
    oi = oo = 0;
    while (copied < SIZE) {
        ssize_t r = copy_file_range(in, &oi, out, &oo, SIZE - copied, 0);
        CHECK(r > 0);
        copied += r;
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    CHECK(pthread_join(t, NULL) == 0);
    printf("cold copy: %ld bytes, equal: %d\n", copied, same_bytes(in, 0, out, 0, SIZE));
    fprintf(stderr, "info: ticker max gap during the cold copy %ld ms\n", max_gap);

    /* Errors, as the kernel reports them. */
    result("bad input fd", copy_file_range(-1, NULL, out, NULL, 10, 0));
    result("bad flags", copy_file_range(in, NULL, out, NULL, 10, 1));
    oi = 0;
    oo = 10;
    result("overlapping ranges in one file", copy_file_range(in, &oi, in, &oo, 100, 0));
    int ro = open(out_path, O_RDONLY);
    CHECK(ro >= 0);
    result("read-only output", copy_file_range(in, NULL, ro, NULL, 10, 0));
    int p[2];
    CHECK(pipe(p) == 0);
    result("pipe output", copy_file_range(in, NULL, p[1], NULL, 10, 0));
    oi = -5;
    result("negative offset", copy_file_range(in, &oi, out, NULL, 10, 0));
    errno = 4321;
    oi = 0;
    oo = 0;
    CHECK(copy_file_range(in, &oi, out, &oo, 10, 0) == 10 && errno == 4321);
    close(p[0]);
    close(p[1]);
    close(ro);
    close(in);
    close(out);
    unlink(out_path);
    remove_temp_file(dir, in_path);
    report_os_threads();
    return 0;
}
