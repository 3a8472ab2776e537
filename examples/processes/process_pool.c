/* multiprocessing.Pool's shape (seed 001): a pool of worker processes fed from one task queue
 * (a pipe every worker reads fixed-size tasks from) and answering on one result pipe; map()
 * of a function over 1,000 items returns the results in the items' order, whichever worker
 * computed them. usage: process_pool [workers] [items]   (defaults 4 and 1000) */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* Writes of at most PIPE_BUF bytes are atomic, and every read asks for exactly one record:
 * concurrent workers never see half a task. */
struct task {
    long index; /* -1: no more work, leave */
    long value;
};
struct result {
    long index;
    long value;
    long worker;
};

static long work(long x) { /* the mapped function */
    return x * x;
}

static int read_full(int fd, void* buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char*)buf + got, n - got);
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

static void worker(long id, int tasks, int results) {
    struct task t;
    while (read_full(tasks, &t, sizeof t) == 0 && t.index >= 0) {
        struct result r = {t.index, work(t.value), id};
        if (write(results, &r, sizeof r) != sizeof r) _exit(1);
    }
    _exit(0);
}

int main(int argc, char** argv) {
    long workers = argc > 1 ? atol(argv[1]) : 4, items = argc > 2 ? atol(argv[2]) : 1000;
    if (workers < 1 || items < 0) {
        fprintf(stderr, "usage: %s [workers] [items]\n", argv[0]);
        return 2;
    }
    int tasks[2], results[2];
    if (pipe(tasks) != 0 || pipe(results) != 0) {
        perror("pipe");
        return 1;
    }
    pid_t* pids = calloc((size_t)workers, sizeof *pids);
    for (long i = 0; i < workers; ++i) {
        pids[i] = fork();
        if (pids[i] == 0) {
            close(tasks[1]);
            close(results[0]);
            worker(i, tasks[0], results[1]);
        }
    }
    close(tasks[0]);
    close(results[1]);

    /* Tasks go out while results come back: a reader child so that neither pipe can fill up
     * with both sides waiting. */
    pid_t feeder = fork();
    if (feeder == 0) {
        for (long i = 0; i < items; ++i) {
            struct task t = {i, i};
            if (write(tasks[1], &t, sizeof t) != sizeof t) _exit(1);
        }
        for (long i = 0; i < workers; ++i) { /* pool.close(): one "leave" per worker */
            struct task t = {-1, 0};
            if (write(tasks[1], &t, sizeof t) != sizeof t) _exit(1);
        }
        _exit(0);
    }
    close(tasks[1]);

    long* out = calloc((size_t)items + 1, sizeof *out);
    long* done_by = calloc((size_t)workers, sizeof *done_by);
    struct result r;
    long received = 0;
    while (received < items && read_full(results[0], &r, sizeof r) == 0) {
        out[r.index] = r.value;
        ++done_by[r.worker];
        ++received;
    }
    int ok = received == items;
    for (long i = 0; i < workers; ++i) { /* pool.join() */
        int status = 0;
        waitpid(pids[i], &status, 0);
        ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    int status = 0;
    waitpid(feeder, &status, 0);
    ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;

    printf("[");
    for (long i = 0; i < items; ++i) printf(i ? ", %ld" : "%ld", out[i]);
    printf("]\n");
    long busy = 0;
    for (long i = 0; i < workers; ++i) busy += done_by[i] > 0;
    printf("%ld results in order from a pool of %ld processes\n", received, workers);
    fprintf(stderr, "info: %ld of %ld workers took tasks\n", busy, workers);
    free(out);
    free(done_by);
    free(pids);
    return ok ? 0 : 1;
}
