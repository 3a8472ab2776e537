/* SA_RESTART: a thread blocked in read() on a pipe gets a signal (pthread_kill). With a
 * handler installed with SA_RESTART the read goes on and returns the data written later;
 * without it the read fails with EINTR. The same for a sleeping thread: nanosleep never
 * restarts (EINTR with the time left), whatever the flag. */
#include "common_signals.h"

static volatile sig_atomic_t handled;
static int p[2];

static void on_usr2(int sig) {
    (void)sig;
    ++handled;
}

static void* reader(void* arg) {
    (void)arg;
    char c;
    const ssize_t r = read(p[0], &c, 1);
    const int e = errno;
    printf("  read: %d %s\n", (int)r, err_name((int)r, e));
    return NULL;
}

static void* sleeper(void* arg) {
    (void)arg;
    struct timespec ts = {5, 0}, rem = {0, 0};
    const int r = nanosleep(&ts, &rem);
    const int e = errno;
    printf("  nanosleep: %d %s, time left > 4 s: %d\n", r, err_name(r, e), rem.tv_sec >= 4);
    return NULL;
}

static void run(const char* name, int flags) {
    printf("%s\n", name);
    install(SIGUSR2, on_usr2, flags);
    handled = 0;
    CHECK(pipe(p) == 0);
    pthread_t r, s;
    CHECK(pthread_create(&r, NULL, reader, NULL) == 0);
    CHECK(pthread_create(&s, NULL, sleeper, NULL) == 0);
    pause_ms(100);
    CHECK(pthread_kill(r, SIGUSR2) == 0);
    pause_ms(50); /* one at a time: the order of their lines is fixed */
    CHECK(pthread_kill(s, SIGUSR2) == 0);
    pause_ms(100);
    CHECK(write(p[1], "x", 1) == 1);
    CHECK(pthread_join(r, NULL) == 0);
    CHECK(pthread_join(s, NULL) == 0);
    printf("  handler ran %d time(s)\n", (int)handled);
    close(p[0]);
    close(p[1]);
}

int main(void) {
    alarm(20);
    setvbuf(stdout, NULL, _IONBF, 0);
    run("with SA_RESTART", SA_RESTART);
    run("without SA_RESTART", 0);
    return 0;
}
