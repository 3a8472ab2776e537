// Resolution of libc's functions behind the hooks, with a re-entrancy guard, and the eager pass
// that fills every I/O hook's slot before main (constructor priority 101 runs before ordinary
// static initialisers, including those of the runtime objects in the preload library).
#include "real_symbols.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace green::hooks {

namespace {
// initial-exec: a dynamic TLS access could itself call malloc on a thread's first use.
thread_local bool t_resolving __attribute__((tls_model("initial-exec"))) = false;
}  // namespace

void* next_symbol(const char* name) noexcept {
    if (t_resolving) return nullptr;
    t_resolving = true;
    void* p = ::dlsym(RTLD_NEXT, name);
    t_resolving = false;
    return p;
}

void* next_symbol_versioned(const char* name, const char* version) noexcept {
    if (t_resolving) return nullptr;
    t_resolving = true;
    void* p = ::dlvsym(RTLD_NEXT, name, version);
    t_resolving = false;
    return p;
}

namespace {

__attribute__((constructor(101))) void resolve_io_symbols() {
    (void)GREEN_REAL(sleep);
    (void)GREEN_REAL(usleep);
    (void)GREEN_REAL(nanosleep);
    (void)GREEN_REAL(clock_nanosleep);
    (void)GREEN_REAL(socket);
    (void)GREEN_REAL(socketpair);
    (void)GREEN_REAL(pipe);
    (void)GREEN_REAL(pipe2);
    (void)GREEN_REAL(connect);
    (void)GREEN_REAL(accept);
    (void)GREEN_REAL(accept4);
    (void)GREEN_REAL(read);
    (void)GREEN_REAL(write);
    (void)GREEN_REAL(readv);
    (void)GREEN_REAL(writev);
    (void)GREEN_REAL(recv);
    (void)GREEN_REAL(recvfrom);
    (void)GREEN_REAL(recvmsg);
    (void)GREEN_REAL(send);
    (void)GREEN_REAL(sendto);
    (void)GREEN_REAL(sendmsg);
    (void)GREEN_REAL(close);
    (void)GREEN_REAL(fclose);
    (void)GREEN_REAL(dup);
    (void)GREEN_REAL(dup2);
    (void)GREEN_REAL(dup3);
    (void)GREEN_REAL(fcntl);
    (void)GREEN_REAL(fcntl64);
    (void)GREEN_REAL(ioctl);
    (void)GREEN_REAL(setsockopt);
    (void)GREEN_REAL(getsockopt);
    (void)GREEN_REAL(poll);
    (void)GREEN_REAL(ppoll);
    (void)GREEN_REAL(select);
    (void)GREEN_REAL(pselect);
    (void)GREEN_REAL(epoll_wait);
    (void)GREEN_REAL(epoll_pwait);
    (void)GREEN_REAL(epoll_pwait2);
    (void)GREEN_REAL(getaddrinfo);
    (void)GREEN_REAL(getnameinfo);
    (void)GREEN_REAL(gethostbyname);
    (void)GREEN_REAL(gethostbyname2);
    (void)GREEN_REAL(gethostbyname_r);
    (void)GREEN_REAL(gethostbyname2_r);
    (void)GREEN_REAL(close_range);
    (void)GREEN_REAL(closefrom);
    (void)GREEN_REAL(waitpid);
    (void)GREEN_REAL(wait4);
    (void)GREEN_REAL(waitid);
    (void)GREEN_REAL(flock);
    (void)GREEN_REAL(lockf);
    (void)GREEN_REAL(lockf64);
}

// The thread hooks' libc functions too: a program's malloc may lock a mutex or use a key, and
// resolving one of them inside that malloc would run dlsym inside it.
__attribute__((constructor(101))) void resolve_thread_symbols() {
    (void)GREEN_REAL(pthread_mutex_lock);
    (void)GREEN_REAL(pthread_mutex_trylock);
    (void)GREEN_REAL(pthread_mutex_timedlock);
    (void)GREEN_REAL(pthread_mutex_clocklock);
    (void)GREEN_REAL(pthread_mutex_unlock);
    (void)GREEN_REAL(pthread_mutex_init);
    (void)GREEN_REAL(pthread_mutex_destroy);
    (void)GREEN_REAL(pthread_mutex_consistent);
    (void)GREEN_REAL(pthread_cond_wait);
    (void)GREEN_REAL(pthread_cond_signal);
    (void)GREEN_REAL(pthread_cond_broadcast);
    (void)GREEN_REAL(pthread_rwlock_rdlock);
    (void)GREEN_REAL(pthread_rwlock_wrlock);
    (void)GREEN_REAL(pthread_rwlock_unlock);
    (void)GREEN_REAL(sem_wait);
    (void)GREEN_REAL(sem_post);
    (void)GREEN_REAL(pthread_once);
    (void)GREEN_REAL(pthread_key_create);
    (void)GREEN_REAL(pthread_getspecific);
    (void)GREEN_REAL(pthread_setspecific);
    (void)GREEN_REAL(pthread_self);
    (void)GREEN_REAL(sched_yield);
}

}  // namespace

}  // namespace green::hooks
