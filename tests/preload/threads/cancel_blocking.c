/* pthread_cancel of a thread blocked in each call that POSIX makes a cancellation point and the
 * shim makes cooperative: the thread has a cleanup handler pushed and blocks; main cancels and
 * joins, and must get PTHREAD_CANCELED with the handler run. Then the asynchronous type, a
 * cancellation held back by PTHREAD_CANCEL_DISABLE until the thread enables it again, and one
 * that is already pending when the thread blocks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../common.h"

static int rpipe[2];                 /* never written: reads block */
static int wpipe[2];                 /* filled: writes block */
static int rsock[2];                 /* never written: receives block */
static int wsock[2];                 /* filled: sends block */
static int listener;                 /* nobody connects: accept blocks */
static struct sockaddr_in full_addr; /* accept queue full: connect blocks */
static int epfd;                     /* watches rpipe[0] */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sem_t sem;

static char buf[65536];

static void block_read(void) {
    (void)!read(rpipe[0], buf, 1);
}
static void block_readv(void) {
    struct iovec v = {buf, 1};
    (void)!readv(rpipe[0], &v, 1);
}
static void block_write(void) {
    (void)!write(wpipe[1], buf, sizeof buf);
}
static void block_writev(void) {
    struct iovec v = {buf, sizeof buf};
    (void)!writev(wpipe[1], &v, 1);
}
static void block_recv(void) {
    (void)!recv(rsock[0], buf, 1, 0);
}
static void block_recvfrom(void) {
    (void)!recvfrom(rsock[0], buf, 1, 0, NULL, NULL);
}
static void block_recvmsg(void) {
    struct iovec v = {buf, 1};
    struct msghdr m = {0};
    m.msg_iov = &v;
    m.msg_iovlen = 1;
    (void)!recvmsg(rsock[0], &m, 0);
}
static void block_send(void) {
    (void)!send(wsock[0], buf, sizeof buf, 0);
}
static void block_sendto(void) {
    (void)!sendto(wsock[0], buf, sizeof buf, 0, NULL, 0);
}
static void block_sendmsg(void) {
    struct iovec v = {buf, sizeof buf};
    struct msghdr m = {0};
    m.msg_iov = &v;
    m.msg_iovlen = 1;
    (void)!sendmsg(wsock[0], &m, 0);
}
static void block_accept(void) {
    (void)!accept(listener, NULL, NULL);
}
static void block_accept4(void) {
    (void)!accept4(listener, NULL, NULL, SOCK_CLOEXEC);
}
static int connecting = -1;
static void close_connecting(void* arg) {
    (void)arg;
    close(connecting);
}
static void block_connect(void) {
    connecting = socket(AF_INET, SOCK_STREAM, 0);
    pthread_cleanup_push(close_connecting, NULL);
    (void)!connect(connecting, (struct sockaddr*)&full_addr, sizeof full_addr);
    pthread_cleanup_pop(1);
}
static void block_poll(void) {
    struct pollfd p = {rpipe[0], POLLIN, 0};
    (void)!poll(&p, 1, -1);
}
static void block_poll_none(void) {
    (void)!poll(NULL, 0, -1);
}
static void block_ppoll(void) {
    struct pollfd p = {rpipe[0], POLLIN, 0};
    (void)!ppoll(&p, 1, NULL, NULL);
}
static void block_select(void) {
    fd_set r;
    FD_ZERO(&r);
    FD_SET(rpipe[0], &r);
    (void)!select(rpipe[0] + 1, &r, NULL, NULL, NULL);
}
static void block_pselect(void) {
    fd_set r;
    FD_ZERO(&r);
    FD_SET(rpipe[0], &r);
    (void)!pselect(rpipe[0] + 1, &r, NULL, NULL, NULL, NULL);
}
static void block_epoll_wait(void) {
    struct epoll_event e;
    (void)!epoll_wait(epfd, &e, 1, -1);
}
static void block_epoll_pwait(void) {
    struct epoll_event e;
    (void)!epoll_pwait(epfd, &e, 1, -1, NULL);
}
static void block_sleep(void) {
    (void)!sleep(100);
}
static void block_usleep(void) {
    (void)!usleep(10 * 1000 * 1000);
}
static void block_nanosleep(void) {
    struct timespec ts = {100, 0};
    (void)!nanosleep(&ts, NULL);
}
static void block_clock_nanosleep(void) {
    struct timespec ts = {100, 0};
    (void)!clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
}
static void block_clock_nanosleep_abs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 100;
    (void)!clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
}
static void unlock_mu(void* arg) {
    (void)arg;
    pthread_mutex_unlock(&mu);
}
static void block_cond_wait(void) {
    pthread_mutex_lock(&mu);
    pthread_cleanup_push(unlock_mu, NULL);
    for (;;) pthread_cond_wait(&cv, &mu);
    pthread_cleanup_pop(1);
}
static void block_sem_wait(void) {
    (void)!sem_wait(&sem);
}
static void block_sigwait(void) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2); /* blocked in every thread: nobody sends it */
    int sig;
    (void)!sigwait(&s, &sig);
}
static void block_sigwaitinfo(void) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    (void)!sigwaitinfo(&s, NULL);
}
static void block_sigtimedwait(void) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    struct timespec ts = {100, 0};
    (void)!sigtimedwait(&s, NULL, &ts);
}
static void block_sigsuspend(void) {
    sigset_t s;
    sigemptyset(&s);
    (void)!sigsuspend(&s);
}
static void block_pause(void) {
    (void)!pause();
}
/* No cancellation point at all: only the asynchronous type reaches it. */
static void block_yield_loop(void) {
    for (;;) sched_yield();
}

struct op {
    const char* name;
    void (*block)(void);
};
static const struct op yield_loop = {"sched_yield loop", block_yield_loop};
static const struct op ops[] = {
    {"read", block_read},
    {"readv", block_readv},
    {"write", block_write},
    {"writev", block_writev},
    {"recv", block_recv},
    {"recvfrom", block_recvfrom},
    {"recvmsg", block_recvmsg},
    {"send", block_send},
    {"sendto", block_sendto},
    {"sendmsg", block_sendmsg},
    {"accept", block_accept},
    {"accept4", block_accept4},
    {"connect", block_connect},
    {"poll", block_poll},
    {"poll (no fds)", block_poll_none},
    {"ppoll", block_ppoll},
    {"select", block_select},
    {"pselect", block_pselect},
    {"epoll_wait", block_epoll_wait},
    {"epoll_pwait", block_epoll_pwait},
    {"sleep", block_sleep},
    {"usleep", block_usleep},
    {"nanosleep", block_nanosleep},
    {"clock_nanosleep", block_clock_nanosleep},
    {"clock_nanosleep abs", block_clock_nanosleep_abs},
    {"pthread_cond_wait", block_cond_wait},
    {"sem_wait", block_sem_wait},
    {"sigwait", block_sigwait},
    {"sigwaitinfo", block_sigwaitinfo},
    {"sigtimedwait", block_sigtimedwait},
    {"sigsuspend", block_sigsuspend},
    {"pause", block_pause},
};

enum Mode { DEFERRED, ASYNC, DISABLED_THEN_READ, ASYNC_DISABLED, PENDING_AT_ENTRY };
struct job {
    const struct op* op;
    enum Mode mode;
};

static volatile int entered, cleaned, after;

static void cleanup(void* arg) {
    (void)arg;
    cleaned = 1;
}

static void* body(void* arg) {
    struct job* j = arg;
    pthread_cleanup_push(cleanup, NULL);
    if (j->mode == ASYNC || j->mode == ASYNC_DISABLED)
        CHECK(pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL) == 0);
    if (j->mode == DISABLED_THEN_READ || j->mode == ASYNC_DISABLED) {
        CHECK(pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL) == 0);
        entered = 1;
        usleep(60 * 1000); /* cancelled meanwhile: not acted upon */
        after = 1;
        CHECK(pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL) == 0);
        after = 2; /* deferred: still running here */
    } else if (j->mode == PENDING_AT_ENTRY) {
        CHECK(pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL) == 0);
        entered = 1;
        while (!after) usleep(1000); /* main cancels, then sets `after` */
        CHECK(pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL) == 0);
    } else {
        entered = 1;
    }
    j->op->block();
    pthread_cleanup_pop(0);
    return (void*)"returned";
}

static void run(const struct op* op, enum Mode mode, const char* label) {
    struct job j = {op, mode};
    entered = cleaned = after = 0;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, body, &j) == 0);
    while (!entered) usleep(1000);
    usleep(20 * 1000); /* let it block */
    CHECK(pthread_cancel(t) == 0);
    if (mode == PENDING_AT_ENTRY) after = 1;
    void* ret;
    CHECK(pthread_join(t, &ret) == 0);
    printf("%-22s %-20s %s, cleanup %s, got past the disabled part: %d\n", op->name, label,
           ret == PTHREAD_CANCELED ? "canceled" : (char*)ret, cleaned ? "ran" : "did not run",
           after);
}

static void make_full_listener(void) {
    /* A listener with a full accept queue: a further connect's SYN is dropped and it waits. */
    int l = listen_loopback(0, &full_addr);
    for (int i = 0; i < 4; ++i) {
        int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        CHECK(c >= 0);
        (void)!connect(c, (struct sockaddr*)&full_addr, sizeof full_addr);
    }
    usleep(50 * 1000);
    (void)l;
}

static void fill(int fd, int is_socket) {
    int fl = fcntl(fd, F_GETFL);
    CHECK(fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0);
    for (;;) {
        ssize_t n =
            is_socket ? send(fd, buf, sizeof buf, MSG_DONTWAIT) : write(fd, buf, sizeof buf);
        if (n < 0) {
            CHECK(errno == EAGAIN);
            break;
        }
    }
    CHECK(fcntl(fd, F_SETFL, fl) == 0);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    CHECK(pipe(rpipe) == 0 && pipe(wpipe) == 0);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, rsock) == 0);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, wsock) == 0);
    fill(wpipe[1], 0);
    fill(wsock[0], 1);
    struct sockaddr_in a;
    listener = listen_loopback(8, &a);
    make_full_listener();
    epfd = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    CHECK(epoll_ctl(epfd, EPOLL_CTL_ADD, rpipe[0], &ev) == 0);
    CHECK(sem_init(&sem, 0, 0) == 0);
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    CHECK(pthread_sigmask(SIG_BLOCK, &usr2, NULL) == 0); /* inherited by every thread */

    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; ++i) run(&ops[i], DEFERRED, "deferred");
    run(&ops[0], ASYNC, "asynchronous");
    run(&ops[20], ASYNC, "asynchronous");
    run(&yield_loop, ASYNC, "asynchronous");
    run(&ops[0], DISABLED_THEN_READ, "disabled, enabled");
    run(&ops[14], DISABLED_THEN_READ, "disabled, enabled");
    run(&ops[0], ASYNC_DISABLED, "async, disabled");
    run(&ops[0], PENDING_AT_ENTRY, "pending at entry");
    run(&ops[21], PENDING_AT_ENTRY, "pending at entry");
    run(&ops[27], PENDING_AT_ENTRY, "pending at entry");
    run(&ops[30], PENDING_AT_ENTRY, "pending at entry");
    return 0;
}
