/* A thread-per-connection file server that answers with sendfile(2) on blocking sockets, and
 * its clients as threads. Test mode (no arguments): one slow client (reads 64 KiB, then
 * sleeps 15 ms) and one fast client fetch the same 4 MiB file; the fast one must finish while
 * the slow one is still reading (a sendfile that blocked the whole process's only thread would
 * hold it back). Bench mode ("bench CLIENTS MIB"): that many fast clients at once, in a child
 * process that runs natively (LD_PRELOAD and GREEN_* taken out of its environment), so that
 * only the server differs between a native run and one under the shim; stderr gets the
 * throughput, the OS thread count at the end and the most OS threads seen while the clients
 * ran (/proc/self/task, every 2 ms) as info lines. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/sendfile.h>
#include <sys/wait.h>
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

/* The bench's client process: CLIENTS fast clients of the server on PORT; exits 0 when each got
 * the same MIB MiB. */
static int run_clients(int port, int clients) {
    g_addr.sin_family = AF_INET;
    g_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_addr.sin_port = htons((uint16_t)port);
    struct client* cl = calloc((size_t)clients, sizeof *cl);
    pthread_t* th = calloc((size_t)clients, sizeof *th);
    for (int i = 0; i < clients; ++i) CHECK(pthread_create(&th[i], NULL, fetch, &cl[i]) == 0);
    for (int i = 0; i < clients; ++i) pthread_join(th[i], NULL);
    int same = 1;
    for (int i = 0; i < clients; ++i) same &= cl[i].sum == cl[0].sum && cl[i].got == g_size;
    return same ? 0 : 1;
}

extern char** environ;

/* Starts this program as the client process: environ without LD_PRELOAD and GREEN_*. */
static pid_t spawn_clients(int clients) {
    size_t n = 0;
    while (environ[n]) ++n;
    char** env = calloc(n + 1, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; ++i)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0 && strncmp(environ[i], "GREEN_", 6) != 0)
            env[k++] = environ[i];
    char port[16], count[16], mib[16];
    snprintf(port, sizeof port, "%d", ntohs(g_addr.sin_port));
    snprintf(count, sizeof count, "%d", clients);
    snprintf(mib, sizeof mib, "%zu", g_size >> 20);
    char* args[] = {"sendfile_server", "clients", port, count, mib, NULL};
    pid_t pid;
    CHECK(posix_spawn(&pid, "/proc/self/exe", NULL, NULL, args, env) == 0);
    free(env);
    return pid;
}

static volatile int g_sampling;
static int g_peak_threads;

static void* sample_threads(void* arg) {
    (void)arg;
    while (__atomic_load_n(&g_sampling, __ATOMIC_ACQUIRE)) {
        int n = os_threads();
        if (n > g_peak_threads) g_peak_threads = n;
        usleep(2000);
    }
    return NULL;
}

int main(int argc, char** argv) {
    if (argc == 5 && strcmp(argv[1], "clients") == 0) {
        g_size = (size_t)atoi(argv[4]) << 20;
        return run_clients(atoi(argv[2]), atoi(argv[3]));
    }
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
    pthread_t sampler;
    if (bench) {
        g_sampling = 1;
        CHECK(pthread_create(&sampler, NULL, sample_threads, NULL) == 0);
    }
    long start = now_ms();
    int same = 1;
    if (bench) {
        int status = 0;
        CHECK(waitpid(spawn_clients(clients), &status, 0) > 0);
        same = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    } else {
        for (int i = 0; i < clients; ++i) CHECK(pthread_create(&th[i], NULL, fetch, &cl[i]) == 0);
        for (int i = 0; i < clients; ++i) pthread_join(th[i], NULL);
    }
    long ms = now_ms() - start;
    if (bench) {
        __atomic_store_n(&g_sampling, 0, __ATOMIC_RELEASE);
        CHECK(pthread_join(sampler, NULL) == 0);
    }
    if (bench) {
        printf("clients=%d bytes_each=%zu all_same=%d\n", clients, g_size, same);
        fprintf(stderr, "info: elapsed_ms=%ld\n", ms);
        fprintf(stderr, "info: mib_per_s=%.0f\n",
                ms > 0 ? (double)clients * (double)g_size / 1048576.0 * 1000.0 / (double)ms : 0.0);
        fprintf(stderr, "info: peak_os_threads=%d\n", g_peak_threads);
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
