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

#include "../ticker.h"

static int pipe_fds[2];

static const char* const lines[] = {"first line\n", "second line\n", "0123456789", NULL};

int main(void) {
    volatile int line_max = 64; /* not a constant: fgets becomes __fgets_chk */
    volatile size_t block = 10; /* likewise fread becomes __fread_chk */
    pthread_t other;
    ticker_start();

    /* Reads. */
    CHECK(pipe(pipe_fds) == 0);
    FILE* in = fdopen(pipe_fds[0], "r");
    CHECK(in != NULL);
    struct late_feed feed = {pipe_fds[1], lines};
    CHECK(pthread_create(&other, NULL, late_feeder, &feed) == 0);
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
    printf("the writer saw the ticker move: %d of 3 times\n", late_moved);

    /* Writes into a full pipe (256 KiB through a 64 KiB pipe). */
    late_moved = 0;
    CHECK(pipe(pipe_fds) == 0);
    FILE* out = fdopen(pipe_fds[1], "w");
    CHECK(out != NULL);
    CHECK(pthread_create(&other, NULL, late_drain, &pipe_fds[0]) == 0);
    int written = 0;
    for (int i = 0; i < 4096; ++i)
        written += fprintf(out, "line %04d of the fortified writer..%d\n", i, i % 10);
    CHECK(fclose(out) == 0);
    void* total = NULL;
    CHECK(pthread_join(other, &total) == 0);
    close(pipe_fds[0]);
    printf("fprintf wrote %d bytes, the reader got %ld; it saw the ticker move: %d\n", written,
           (long)total, late_moved);

    ticker_finish();
    return 0;
}
