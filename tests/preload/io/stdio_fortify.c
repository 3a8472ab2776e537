/* stdio through the _FORTIFY_SOURCE entry points (this file is compiled with -O2
 * -D_FORTIFY_SOURCE=2, so printf/fprintf become __printf_chk/__fprintf_chk, and fgets/fread
 * with a count the compiler cannot bound become __fgets_chk/__fread_chk): reads of a pipe
 * whose writer writes only after a ticker thread has moved on, and fprintf into a full pipe
 * whose reader drains only after the ticker has moved on. Under the shim, a fortified call that
 * blocked the hub would stop the ticker, and the other side would never go on. Natively and
 * under the shim the output is the same. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>

#include "../common.h"

static volatile long ticks;
static volatile int stop;

static void* ticker(void* arg) {
    (void)arg;
    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        usleep(5 * 1000);
        __atomic_add_fetch(&ticks, 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

/* Waits (sleeping) until the ticker has moved 3 ticks past `from`: 1 when it did, 0 when it
 * did not within 5 s (a safety net against a hang, not a speed bound). */
static int ticker_moved(long from) {
    for (int i = 0; i < 1000; ++i) {
        if (__atomic_load_n(&ticks, __ATOMIC_ACQUIRE) >= from + 3) return 1;
        usleep(5 * 1000);
    }
    return 0;
}

static int pipe_fds[2];
static int moved_count;

static void* late_writer(void* arg) {
    (void)arg;
    const char* lines[] = {"first line\n", "second line\n", "0123456789"};
    for (int i = 0; i < 3; ++i) {
        moved_count += ticker_moved(__atomic_load_n(&ticks, __ATOMIC_ACQUIRE));
        CHECK(write(pipe_fds[1], lines[i], strlen(lines[i])) == (ssize_t)strlen(lines[i]));
    }
    close(pipe_fds[1]);
    return NULL;
}

static void* late_reader(void* arg) {
    (void)arg;
    moved_count += ticker_moved(__atomic_load_n(&ticks, __ATOMIC_ACQUIRE));
    char buf[4096];
    long total = 0;
    ssize_t n;
    while ((n = read(pipe_fds[0], buf, sizeof buf)) > 0) total += n;
    return (void*)total;
}

int main(void) {
    volatile int line_max = 64; /* not a constant: fgets becomes __fgets_chk */
    volatile size_t block = 10; /* likewise fread becomes __fread_chk */
    pthread_t tick, other;
    CHECK(pthread_create(&tick, NULL, ticker, NULL) == 0);

    /* Reads. */
    CHECK(pipe(pipe_fds) == 0);
    FILE* in = fdopen(pipe_fds[0], "r");
    CHECK(in != NULL);
    CHECK(pthread_create(&other, NULL, late_writer, NULL) == 0);
    char line[64], data[16] = {0};
    for (int i = 0; i < 2; ++i) {
        CHECK(fgets(line, line_max, in) != NULL);
        printf("fgets: %s", line);
    }
    size_t got = fread(data, 1, block, in);
    printf("fread: %zu '%s'\n", got, data);
    got = fread(data, 1, block, in);
    printf("fread at the end: %zu eof %d\n", got, feof(in) != 0);
    CHECK(pthread_join(other, NULL) == 0);
    fclose(in);
    printf("the writer saw the ticker move: %d of 3 times\n", moved_count);

    /* Writes into a full pipe (256 KiB through a 64 KiB pipe). */
    moved_count = 0;
    CHECK(pipe(pipe_fds) == 0);
    FILE* out = fdopen(pipe_fds[1], "w");
    CHECK(out != NULL);
    CHECK(pthread_create(&other, NULL, late_reader, NULL) == 0);
    int written = 0;
    for (int i = 0; i < 4096; ++i)
        written += fprintf(out, "line %04d of the fortified writer..%d\n", i, i % 10);
    CHECK(fclose(out) == 0);
    void* total = NULL;
    CHECK(pthread_join(other, &total) == 0);
    close(pipe_fds[0]);
    printf("fprintf wrote %d bytes, the reader got %ld; it saw the ticker move: %d\n", written,
           (long)total, moved_count);

    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    CHECK(pthread_join(tick, NULL) == 0);
    return 0;
}
