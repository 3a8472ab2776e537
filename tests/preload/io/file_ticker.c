/* A ticker thread keeps its 5 ms cadence while another thread reads a 32 MiB file that is not
 * in the page cache with one read(2), then with one pread(2): the ticker must tick during each
 * read that takes 20 ms or more (a read that blocked the process's only thread would stop it).
 * The longest gap and the read times go to stderr as info lines. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "../common.h"

#define SIZE (32 << 20)

static volatile int g_reading, g_stop;
static volatile long g_ticks_during, g_max_gap;

static void* ticker(void* arg) {
    (void)arg;
    long last = now_ms();
    while (!g_stop) {
        usleep(5000);
        long now = now_ms();
        if (g_reading) {
            ++g_ticks_during;
            if (now - last > g_max_gap) g_max_gap = now - last;
        }
        last = now;
    }
    return NULL;
}

static const char* g_path;
static char* g_buf;

static void* reader(void* arg) {
    int positional = arg != NULL;
    int fd = open(g_path, O_RDONLY);
    CHECK(fd >= 0);
    CHECK(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
    g_ticks_during = 0;
    usleep(20000);
    long t0 = now_ms();
    g_reading = 1;
    ssize_t n = positional ? read(fd, g_buf, SIZE) : pread(fd, g_buf, SIZE, 0);
    g_reading = 0;
    long took = now_ms() - t0;
    /* A read too quick for a 5 ms ticker (a fast disk) proves nothing either way. */
    int ticked = g_ticks_during >= 1 || took < 20;
    unsigned sum = 0;
    for (ssize_t i = 0; i < n; i += 4096) sum = sum * 31 + (unsigned char)g_buf[i];
    printf("%s: bytes=%zd sum=%08x position=%ld ticked=%s\n", positional ? "read" : "pread", n, sum,
           (long)lseek(fd, 0, SEEK_CUR), ticked ? "yes" : "no");
    fprintf(stderr, "info: %s_ms=%ld ticks=%ld\n", positional ? "read" : "pread", took,
            g_ticks_during);
    close(fd);
    return NULL;
}

int main(void) {
    char dir[64], path[80];
    make_temp_file_path("file_ticker", dir, path);
    g_path = path;
    g_buf = malloc(SIZE);
    for (int i = 0; i < SIZE; ++i) g_buf[i] = (char)(i / 4096 * 13 + i);
    int w = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(w >= 0 && write(w, g_buf, SIZE) == SIZE && fsync(w) == 0);
    close(w);
    memset(g_buf, 0, SIZE);

    pthread_t t, r;
    CHECK(pthread_create(&t, NULL, ticker, NULL) == 0);
    for (int positional = 1; positional >= 0; --positional) {
        CHECK(pthread_create(&r, NULL, reader, positional ? (void*)1 : NULL) == 0);
        pthread_join(r, NULL);
    }
    g_stop = 1;
    pthread_join(t, NULL);
    fprintf(stderr, "info: max_gap_ms=%ld\n", g_max_gap);
    remove_temp_file(dir, path);
    return 0;
}
