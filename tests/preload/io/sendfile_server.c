/* A thread-per-connection file server that answers with sendfile(2) on blocking sockets, and
 * its clients as threads. Test mode (no arguments): one slow client (reads 64 KiB, then
 * sleeps 15 ms) and one fast client fetch the same 4 MiB file; the fast one must finish while
 * the slow one is still reading (a sendfile that blocked the whole process's only thread would
 * hold it back). Bench mode ("bench CLIENTS MIB"): that many fast clients at once; stderr gets
 * the throughput and the OS thread count as info lines. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "../common.h"

static int g_file;
static size_t g_size;
static struct sockaddr_in g_addr;
static volatile int g_slow_done;

static void* serve(void* arg) {
    int c = (int)(intptr_t)arg;
    char req;
    if (read(c, &req, 1) == 1) {
        off_t off = 0;
        while ((size_t)off < g_size) {
            ssize_t n = sendfile(c, g_file, &off, g_size - (size_t)off);
            if (n <= 0) break;
        }
    }
    close(c);
    return NULL;
}

static void* acceptor(void* arg) {
    int l = (int)(intptr_t)arg;
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0) return NULL;
        pthread_t t;
        CHECK(pthread_create(&t, NULL, serve, (void*)(intptr_t)c) == 0);
        pthread_detach(t);
    }
}

struct client {
    int slow;
    size_t got;
    uint32_t sum;
    int finished_before_slow;
};

static void* fetch(void* arg) {
    struct client* cl = arg;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(connect(s, (struct sockaddr*)&g_addr, sizeof g_addr) == 0);
    CHECK(write(s, "g", 1) == 1);
    static __thread char buf[65536];
    for (;;) {
        ssize_t n = read(s, buf, sizeof buf);
        if (n <= 0) break;
        for (ssize_t i = 0; i < n; ++i) cl->sum = cl->sum * 31 + (unsigned char)buf[i];
        cl->got += (size_t)n;
        if (cl->slow) usleep(15000);
    }
    close(s);
    if (cl->slow)
        g_slow_done = 1;
    else
        cl->finished_before_slow = !g_slow_done;
    return NULL;
}

int main(int argc, char** argv) {
    int bench = argc == 4 && strcmp(argv[1], "bench") == 0;
    int clients = bench ? atoi(argv[2]) : 2;
    g_size = (size_t)(bench ? atoi(argv[3]) : 4) << 20;
    char dir[64], path[80];
    make_temp_file_path("sendfile_server", dir, path);
    int w = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(w >= 0);
    char* chunk = malloc(1 << 20);
    for (size_t i = 0; i < g_size; i += 1 << 20) {
        for (int j = 0; j < 1 << 20; ++j) chunk[j] = (char)('a' + (i / 4096 + j * 7) % 26);
        CHECK(write(w, chunk, 1 << 20) == 1 << 20);
    }
    close(w);
    free(chunk);
    g_file = open(path, O_RDONLY);
    CHECK(g_file >= 0);

    int l = listen_loopback(128, &g_addr);
    pthread_t acc;
    CHECK(pthread_create(&acc, NULL, acceptor, (void*)(intptr_t)l) == 0);
    pthread_detach(acc);

    struct client* cl = calloc((size_t)clients, sizeof *cl);
    pthread_t* th = calloc((size_t)clients, sizeof *th);
    if (!bench) cl[0].slow = 1;
    long start = now_ms();
    for (int i = 0; i < clients; ++i) CHECK(pthread_create(&th[i], NULL, fetch, &cl[i]) == 0);
    for (int i = 0; i < clients; ++i) pthread_join(th[i], NULL);
    long ms = now_ms() - start;
    int same = 1;
    for (int i = 1; i < clients; ++i) same &= cl[i].sum == cl[0].sum && cl[i].got == cl[0].got;
    if (bench) {
        printf("clients=%d bytes_each=%zu all_same=%d\n", clients, cl[0].got, same);
        fprintf(stderr, "info: elapsed_ms=%ld\n", ms);
        fprintf(stderr, "info: mib_per_s=%.0f\n",
                ms > 0 ? (double)clients * (double)g_size / 1048576.0 * 1000.0 / (double)ms : 0.0);
    } else {
        printf("slow: bytes=%zu sum=%08x\n", cl[0].got, cl[0].sum);
        printf("fast: bytes=%zu sum=%08x\n", cl[1].got, cl[1].sum);
        printf("fast finished while slow still reading: %s\n",
               cl[1].finished_before_slow ? "yes" : "no");
    }
    report_os_threads();
    close(l);
    remove_temp_file(dir, path);
    return 0;
}
